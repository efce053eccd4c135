"""Period arithmetic behind :func:`billing_nb.analysis.contract.refund_options` (pure).

``period_invoice`` finds the paid invoice that bought each item's current period (its
non-proration line whose ``period.start`` is the item's ``current_period_start``);
``unused_time`` prorates every paid line still running to the second from the case's
"now" and caps the total at what that invoice and its charge still refund; ``cheaper_price`` finds
a downgrade target (same product, interval and currency, lower unit amount).
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..reading.objects import (invoice_charge, line_is_proration, line_price, line_subscription_item, obj_id,
                              invoice_refundable, subscription_invoices)
from ..money import round_half_up
from ..reading.snapshot import CaseSnapshot

if TYPE_CHECKING:
    from .terms import ContractShape, ItemShape

__all__ = ["period_invoice", "unused_time", "cheaper_price"]


def _line_item(line: dict[str, Any], shape: ContractShape) -> str | None:
    item = line_subscription_item(line)
    if item is None:
        item = next((i.item_id for i in shape.items if i.price == line_price(line)), None)
    return item if any(i.item_id == item for i in shape.items) else None


def _net(line: dict[str, Any]) -> int:
    discounts = sum(int(d.get("amount") or 0) for d in (line.get("discount_amounts") or []))
    return int(line.get("amount") or 0) - discounts


def period_invoice(snapshot: CaseSnapshot, shape: ContractShape) -> dict[str, Any] | None:
    """The latest paid invoice whose non-proration line bought an item's current period."""
    starts = {i.item_id: i.period_start for i in shape.items}
    for inv in reversed(subscription_invoices(snapshot, shape.subscription_id)):
        if inv.get("status") != "paid":
            continue
        for line in ((inv.get("lines") or {}).get("data") or []):
            item = _line_item(line, shape)
            start = int((line.get("period") or {}).get("start") or -1)
            if item is not None and not line_is_proration(line) and start == starts[item]:
                return inv
    return None


def _unused_exact(snapshot: CaseSnapshot, shape: ContractShape, now: int) -> tuple[dict[str, Fraction], int]:
    """Per item: the exact unused part of every paid line still running at ``now`` (proration lines too)."""
    exact: dict[str, Fraction] = {}
    paid_for_period = 0
    for inv in subscription_invoices(snapshot, shape.subscription_id):
        if inv.get("status") != "paid":
            continue
        for line in ((inv.get("lines") or {}).get("data") or []):
            item = _line_item(line, shape)
            period = line.get("period") or {}
            start, end = int(period.get("start") or 0), int(period.get("end") or 0)
            if item is None or end <= start or end <= now:
                continue
            paid_for_period += _net(line)
            exact[item] = exact.get(item, Fraction(0)) + _net(line) * Fraction(end - max(now, start), end - start)
    return exact, paid_for_period


def unused_time(snapshot: CaseSnapshot, shape: ContractShape) -> tuple[int, dict[str, Any], dict[str, Any] | None,
                                                                   dict[str, Any] | None]:
    """Unused paid time at ``snapshot.now``, capped at what the period's invoice still refunds.

    Every paid line of the item still running counts for its share left,
    ``amount * (end - max(now, start)) / (end - start)``: a plain period is Stripe's
    formula; after a mid-period change the old price's credit and the new price's charge
    (proration lines) make it the unused time at the price now in force. Exact per item,
    rounded once per item (half away from zero).
    """
    inv = period_invoice(snapshot, shape)
    if inv is None:
        return 0, {}, None, None
    now = snapshot.now_ts
    exact, paid = _unused_exact(snapshot, shape, now)
    per_item = {item: max(0, round_half_up(value)) for item, value in exact.items()}
    total = sum(per_item.values())
    charge = invoice_charge(snapshot, inv)
    remaining = invoice_refundable(inv, charge)
    details = {
        "now": now, "period_start": shape.period_start, "period_end": shape.period_end,
        "unused_seconds": max(0, (shape.period_end or now) - max(now, shape.period_start or now)),
        "period_seconds": (shape.period_end or 0) - (shape.period_start or 0),
        "paid_for_period": paid, "per_item": per_item, "remaining_refundable": remaining,
        "capped": total > remaining,
    }
    return min(total, max(0, remaining)), details, inv, charge


def cheaper_price(snapshot: CaseSnapshot, item: ItemShape) -> dict[str, Any] | None:
    seen: dict[str, dict[str, Any]] = {}
    for sub in snapshot.of("subscriptions"):
        for it in ((sub.get("items") or {}).get("data") or []):
            price = it.get("price") or {}
            if isinstance(price, dict) and price.get("id"):
                seen[str(price["id"])] = price
    for price in snapshot.extra.get("prices", []) or []:
        if isinstance(price, dict) and price.get("id"):
            seen[str(price["id"])] = price

    def fits(p: dict[str, Any]) -> bool:
        rec = p.get("recurring") or {}
        return (obj_id(p.get("product")) == item.product and p.get("active", True) is not False
                and str(p.get("currency")) == item.unit_amount.currency
                and rec.get("interval") == item.interval and int(rec.get("interval_count") or 1) == item.interval_count
                and int(p.get("unit_amount") or 0) < item.unit_amount.amount)
    cheaper = sorted((p for p in seen.values() if fits(p)), key=lambda p: -int(p.get("unit_amount") or 0))
    return cheaper[0] if cheaper else None
