"""How values read on a page: money in its currency, dates as dates, ids as Dashboard links.

Every view formats through here, so a table never shows ``{'value': 20000, 'currency':
'usd'}``, ``NaN``, an ISO timestamp or a pandas index. Money is :meth:`Money.format`'s short
form (one formatter for the package); everything that came from Stripe or a complaint is
escaped by :func:`billing_nb.records.markup.escape_html` before it is put in HTML. The report
notebooks show their DataFrames through :func:`frame_html` (:func:`use_for_frames`).
"""

from __future__ import annotations

import html
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from ..money import Money
from ..records.markup import dates_in_words, escape_html, math_inert_html, math_inert_md

__all__ = ["esc", "words", "money", "money_of", "day", "days", "dashboard_url", "link", "table_html", "cell", "frame_html",
           "use_for_frames", "markdown", "DASH"]

DASH = "—"
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
    return escape_html(value)


def words(value: Any) -> str:
    """Text we wrote for case.json (an anomaly's detail, evidence, an explanation) for a page:
    its ISO dates as ``4 Nov 2026`` (:func:`dates_in_words`), escaped."""
    return esc(dates_in_words(value) if value is not None else None)


def money(amount: int | None, currency: str | None) -> str:
    """``20000, "usd"`` -> ``$200.00``; currencies without a symbol keep their code (``1,200 CHF``)."""
    if amount is None:
        return DASH
    return Money(int(amount), (currency or "usd").lower()).format(code=False)


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
    text = f"<code>{escape_html(label or obj_id)}</code>"
    url = dashboard_url(obj_id, test_mode=test_mode)
    if url is None:
        return text
    return f'<a href="{escape_html(url)}" target="_blank" rel="noopener" title="{escape_html(obj_id)}">{text}</a>'


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


_ISO = re.compile(r"^\d{4}-\d\d-\d\d(?:[T ](\d\d:\d\d)(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?$")
_OBJECT_ID = re.compile(r"^(?:cus|sub|in|ch|py|pi|re|cn|dp|du|prod|price|cs|bpc|evt|clock)_[A-Za-z0-9]{6,}$")
_AMOUNT = re.compile(r"^-?\D{0,3}\d[\d,]*(?:\.\d+)?%?(?: [A-Z]{3})?$")


def cell(value: Any, *, test_mode: bool = True) -> str:
    """One table cell for people: money in its currency, dates as dates, ids as links, a dash
    for nothing (None, NaN, NaT), yes/no for flags; anything else escaped."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return DASH
    if isinstance(value, Money):
        return money_of(value)
    if isinstance(value, Mapping) and {"value", "currency"} <= set(value):  # pyright: ignore[reportUnknownArgumentType]
        return money_of(value)  # pyright: ignore[reportUnknownArgumentType]
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "yes" if value else "no"
    if isinstance(value, float) and math.isinf(value):
        return esc(value)
    if isinstance(value, datetime):
        return day(value) + (f" {value.astimezone(UTC):%H:%M}" if value.hour or value.minute else "")
    if isinstance(value, date):
        return f"{value.day} {value:%b %Y}"
    if isinstance(value, str):
        text = value.strip()
        found = _ISO.match(text)
        if found:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            return day(when) + (f" {when.astimezone(UTC):%H:%M}" if found.group(1) else "")
        if _OBJECT_ID.match(text):
            return link(text, test_mode=test_mode)
    return esc(value)


def _header(name: Any) -> str:
    """``case_id`` -> ``Case id``; a header someone already wrote for people stays as it is."""
    text = str(name)
    if text == text.lower():
        text = text.replace("_", " ").strip().capitalize()
    return escape_html(text)


def frame_html(frame: pd.DataFrame, *, test_mode: bool | None = None) -> str:
    """A DataFrame as a styled table for people (:func:`table_html`): no index, every cell
    through :func:`cell`, ``X_minor`` columns left out beside their formatted ``X``."""
    if test_mode is None:
        test_mode = not os.environ.get("STRIPE_API_KEY", "").startswith(("sk_live", "rk_live"))
    if frame.empty:
        return "<p><i>Nothing to show.</i></p>"
    columns = [c for c in frame.columns
               if not (str(c).endswith("_minor") and str(c)[: -len("_minor")] in map(str, frame.columns))]
    headers = {c: _header(c) for c in columns}
    rows = [{headers[c]: cell(v, test_mode=test_mode) for c, v in zip(columns, values, strict=True)}
            for values in frame[columns].itertuples(index=False, name=None)]
    numeric = [headers[c] for c in columns
               if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
               or all(v == DASH or _AMOUNT.match(html.unescape(v)) for v in (r[headers[c]] for r in rows))]
    return math_inert_html(table_html(rows, list(headers.values()), numeric=numeric, keep_empty=True))


def use_for_frames(*, test_mode: bool | None = None) -> None:
    """In a report's kernel: every DataFrame a cell returns renders through :func:`frame_html`
    (the text form stays pandas'); outside IPython this does nothing."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the notebook extra
        return
    shell = get_ipython()
    if shell is None:
        return
    formatter: Any = shell.display_formatter.formatters["text/html"]  # pyright: ignore[reportOptionalMemberAccess, reportAttributeAccessIssue]
    formatter.for_type(pd.DataFrame, lambda frame: frame_html(frame, test_mode=test_mode))  # pyright: ignore[reportUnknownMemberType]


def markdown(text: str) -> Any:
    """A report's markdown (its foreign text already escaped: records.markup) for a cell, shown
    as written: no ``$...$`` typeset as math, like the case's handoff cell (:func:`math_inert_md`)."""
    from IPython.display import Markdown

    return Markdown(math_inert_md(text))
