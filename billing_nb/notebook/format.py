"""How values read on a page: money in its currency, dates as dates, ids as Dashboard links.

Every view formats through here, so a table never shows ``{'value': 20000, 'currency':
'usd'}``, ``NaN``, an ISO timestamp or a pandas index. Everything that came from Stripe
or a complaint is escaped with :func:`html.escape` before it is put in HTML.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ..money import Money

__all__ = ["esc", "money", "money_of", "day", "days", "dashboard_url", "link", "table_html", "DASH"]

DASH = "—"
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}
#: Dashboard paths by id prefix (https://docs.stripe.com/dashboard/basics).
_PATHS = {
    "cus": "customers", "sub": "subscriptions", "in": "invoices", "ch": "payments", "py": "payments",
    "pi": "payments", "re": "refunds", "cn": "credit_notes", "dp": "disputes", "du": "disputes",
    "prod": "products", "price": "prices", "cs": "checkout/sessions", "bpc": "settings/billing/portal",
    "evt": "events", "clock": "test-clocks",
}


def esc(value: Any) -> str:
    """Text for HTML: escaped, None as a dash."""
    if value is None or value == "":
        return DASH
    return html.escape(str(value))


def money(amount: int | None, currency: str | None) -> str:
    """``20000, "usd"`` -> ``$200.00``; currencies without a symbol keep their code (``1,200 CHF``)."""
    if amount is None:
        return DASH
    m = Money(int(amount), (currency or "usd").lower())
    sign = "-" if m.amount < 0 else ""
    units = abs(m.amount)
    if m.exponent:
        major, minor = divmod(units, 10**m.exponent)
        body = f"{major:,}.{minor:0{m.exponent}d}"
    else:
        body = f"{units:,}"
    symbol = _SYMBOLS.get(m.currency)
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {m.currency.upper()}"


def money_of(value: Money | Mapping[str, Any] | None) -> str:
    """A :class:`Money` or case.json's ``{"value": .., "currency": ..}`` as text."""
    if value is None:
        return DASH
    if isinstance(value, Money):
        return money(value.amount, value.currency)
    return money(int(value["value"]), str(value["currency"]))


def day(value: int | float | str | datetime | None) -> str:
    """Unix seconds, an ISO string or a datetime -> ``18 Aug 2027`` (UTC)."""
    if value is None or value == "" or value == 0:
        return DASH
    if isinstance(value, datetime):
        dt = value.astimezone(UTC)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        dt = datetime.fromtimestamp(int(value), tz=UTC)
    else:
        dt = datetime.fromisoformat(str(value)).astimezone(UTC)
    return f"{dt.day} {dt:%b %Y}"


def days(seconds: int) -> str:
    """A duration in days for people: ``271 days`` (one decimal under ten days)."""
    d = seconds / 86400
    if d < 10 and abs(d - round(d)) > 0.05:
        return f"{d:.1f} days"
    n = round(d)
    return f"{n} day" if n == 1 else f"{n} days"


def dashboard_url(obj_id: str, *, test_mode: bool = True) -> str | None:
    """The Stripe Dashboard page of an object (``/test/`` for test keys); None when it has none."""
    prefix = obj_id.split("_", 1)[0] if "_" in obj_id else ""
    path = _PATHS.get(prefix)
    if not path:
        return None
    return f"https://dashboard.stripe.com/{'test/' if test_mode else ''}{path}/{obj_id}"


def link(obj_id: str | None, *, test_mode: bool = True, label: str | None = None) -> str:
    """An id (escaped, monospace) linked to its Dashboard page."""
    if not obj_id:
        return DASH
    text = f"<code>{html.escape(label or obj_id)}</code>"
    url = dashboard_url(obj_id, test_mode=test_mode)
    if url is None:
        return text
    return f'<a href="{html.escape(url)}" target="_blank" rel="noopener" title="{html.escape(obj_id)}">{text}</a>'


_TABLE_STYLES: Any = [
    {"selector": "", "props": "border-collapse: collapse; margin: 0.4em 0 1em; font-size: 0.95em;"},
    {"selector": "th", "props": "text-align: left; padding: 4px 10px; border-bottom: 2px solid #999; "
                                "background: #f4f4f6; white-space: nowrap;"},
    {"selector": "td", "props": "text-align: left; padding: 4px 10px; border-bottom: 1px solid #ddd; "
                                "vertical-align: top;"},
]


def table_html(rows: Sequence[Mapping[str, str]], columns: Iterable[str] | None = None,
               *, numeric: Iterable[str] = (), nowrap: Iterable[str] = (), keep_empty: bool = False) -> str:
    """Rows of already-escaped HTML cells as a styled table: no index column, no NaN.

    ``numeric`` columns (amounts) are right-aligned; they and ``nowrap`` columns (dates)
    never wrap. Columns empty in every row are left out (unless ``keep_empty``), and a wide
    table scrolls sideways instead of being clipped. Cells must be made with :func:`esc`,
    :func:`money`, :func:`link`...: nothing here escapes again, so links survive.
    """
    cols = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    if not keep_empty and rows:
        cols = [c for c in cols if any(row.get(c, DASH) not in (DASH, "") for row in rows)] or cols
    frame = pd.DataFrame([{c: row.get(c, DASH) for c in cols} for row in rows], columns=cols).fillna(DASH)
    styler = frame.style.hide(axis="index").set_table_styles(_TABLE_STYLES)  # pyright: ignore[reportUnknownMemberType]
    right = [c for c in numeric if c in cols]
    if right:
        styler = styler.set_properties(subset=right, **{"text-align": "right", "white-space": "nowrap"})  # pyright: ignore[reportUnknownMemberType]
    keep = [c for c in nowrap if c in cols]
    if keep:
        styler = styler.set_properties(subset=keep, **{"white-space": "nowrap"})  # pyright: ignore[reportUnknownMemberType]
    body = str(styler.to_html())  # pyright: ignore[reportUnknownMemberType]
    return f'<div class="bnb-table" style="overflow-x:auto; max-width:100%;">{body}</div>'
