"""Period arithmetic behind :func:`billing_nb.contract.refund_options` (pure).

``period_invoice`` finds the paid invoice that bought each item's current period (its
non-proration line whose ``period.start`` is the item's ``current_period_start``);
``unused_time`` prorates what each item paid to the second from the case's "now" and
caps the total at what the invoice and its charge still refund; ``cheaper_price`` finds
a downgrade target (same product, interval and currency, lower unit amount).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .actions_objects import (invoice_charge, line_is_proration, line_price, line_subscription_item, obj_id,
                              refundable, subscription_invoices)
from .money import prorate
from .snapshot import CaseSnapshot

if TYPE_CHECKING:
    from .contract import ContractShape, ItemShape

__all__ = ["period_invoice", "unused_time", "cheaper_price"]


def period_invoice(snapshot: CaseSnapshot, shape: ContractShape) -> tuple[dict[str, Any] | None, dict[str, int]]:
    """The latest paid invoice that bought the current period, and what it paid per item id."""
    starts = {i.item_id: i.period_start for i in shape.items}
    prices = {i.price: i.item_id for i in shape.items}
    for inv in reversed(subscription_invoices(snapshot, shape.subscription_id)):
        if inv.get("status") != "paid":
            continue
        paid: dict[str, int] = {}
        for line in ((inv.get("lines") or {}).get("data") or []):
            item = line_subscription_item(line) or prices.get(line_price(line) or "")
            period = line.get("period") or {}
            if item in starts and not line_is_proration(line) and int(period.get("start") or -1) == starts[item]:
                discounts = sum(int(d.get("amount") or 0) for d in (line.get("discount_amounts") or []))
                paid[item] = paid.get(item, 0) + int(line.get("amount") or 0) - discounts
        if paid:
            return inv, paid
    return None, {}


def unused_time(snapshot: CaseSnapshot, shape: ContractShape) -> tuple[int, dict[str, Any], dict[str, Any] | None,
                                                                   dict[str, Any] | None]:
    inv, paid = period_invoice(snapshot, shape)
    if inv is None:
        return 0, {}, None, None
    now = snapshot.now_ts
    per_item: dict[str, int] = {}
    for item in shape.items:
        if item.item_id in paid and item.period_end > item.period_start:
            per_item[item.item_id] = prorate(paid[item.item_id], item.period_start, item.period_end, now)
    total = sum(per_item.values())
    charge = invoice_charge(snapshot, inv)
    remaining = int(inv.get("amount_paid") or 0) - int(inv.get("post_payment_credit_notes_amount") or 0)
    if charge is not None:
        remaining = min(remaining, refundable(charge))
    details = {
        "now": now, "period_start": shape.period_start, "period_end": shape.period_end,
        "unused_seconds": max(0, (shape.period_end or now) - max(now, shape.period_start or now)),
        "period_seconds": (shape.period_end or 0) - (shape.period_start or 0),
        "paid_for_period": sum(paid.values()), "per_item": per_item, "remaining_refundable": remaining,
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
