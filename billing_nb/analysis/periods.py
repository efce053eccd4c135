"""Period arithmetic behind :func:`billing_nb.analysis.contract.refund_options` (pure).

``period_invoice`` finds the paid invoice that bought each item's current period (its
non-proration line whose ``period.start`` is the item's ``current_period_start``);
``unused_time`` prorates every paid line still running to the second from the case's
"now", takes off what already went back against the invoices that paid for it, and caps the
total at what those invoices and their charges still refund (``split_refund`` spreads it over
them, newest first); ``cheaper_price`` finds
a downgrade target (same product, interval and currency, lower unit amount).
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..reading.rows import paid_from_balance
from ..reading.objects import (invoice_charge, line_is_proration, line_price, line_subscription_item, obj_id,
                              pending_prorations, refundable, subscription_invoices)
from ..money import round_half_up, stripe_round
from ..reading.prices import in_currency, is_metered, option_missing, recurring_amount, tiers_missing
from .credits import returned_on
from ..reading.snapshot import CaseSnapshot
from ..reading.taxes import line_paid, line_taxes

if TYPE_CHECKING:
    from .terms import ContractShape, ItemShape

__all__ = ["period_invoice", "unused_time", "split_refund", "cheaper_price"]


def _line_item(line: dict[str, Any], shape: ContractShape) -> str | None:
    item = line_subscription_item(line)
    if item is None:
        item = next((i.item_id for i in shape.items if i.price == line_price(line)), None)
    return item if any(i.item_id == item for i in shape.items) else None


def _net(line: dict[str, Any]) -> int:
    """What the line charged: net of its discounts, with its tax (the customer paid that too)."""
    return line_paid(line)


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


def _running(snapshot: CaseSnapshot, shape: ContractShape, now: int) -> list[tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]]:
    """The paid invoices with a line of the shape's items still running at ``now``, oldest
    first, each with those lines (proration lines too): the invoices that paid for the time left."""
    out = []
    metered = {i.item_id for i in shape.items if i.metered}  # usage billed in arrears: no unused time
    for inv in subscription_invoices(snapshot, shape.subscription_id):
        if inv.get("status") != "paid":
            continue
        lines = []
        for line in ((inv.get("lines") or {}).get("data") or []):
            item = _line_item(line, shape)
            period = line.get("period") or {}
            start, end = int(period.get("start") or 0), int(period.get("end") or 0)
            if item is not None and end > start and end > now and item not in metered:
                lines.append((item, line))
        if lines:
            out.append((inv, lines))
    return out


def _unused_exact(running: list[tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]],
                  now: int) -> tuple[dict[str, Fraction], int]:
    """Per item: the exact unused part of every running line; and what those lines charged."""
    exact: dict[str, Fraction] = {}
    paid_for_period = 0
    for _inv, lines in running:
        for item, line in lines:
            period = line.get("period") or {}
            start, end = int(period.get("start") or 0), int(period.get("end") or 0)
            paid_for_period += _net(line)
            exact[item] = exact.get(item, Fraction(0)) + _net(line) * Fraction(end - max(now, start), end - start)
    return exact, paid_for_period


def _pending_part(snapshot: CaseSnapshot, shape: ContractShape, now: int,
                  exact: dict[str, Fraction]) -> tuple[list[dict[str, Any]], int]:
    """The subscription's pending proration items (a change made with ``create_prorations``, not
    yet invoiced) and their net amount (negative: a credit the customer is owed).

    Each is a running line of its item like an invoiced proration: its share left joins
    ``exact``, so the unused time is at the price and quantity now in force. Its whole amount is
    owed besides: the cancel Stripe previews invoices it with the unused-time credit, and the
    toolkit's cancel deletes it (a pending item is "still charged at the end of the period,
    unless manually deleted", docs.stripe.com/api/subscriptions/cancel), so the refund carries it."""
    pending = pending_prorations(snapshot, shape.subscription_id)
    items = {i.item_id for i in shape.items}
    owed = 0
    for ii in pending:
        owed += int(ii.get("amount") or 0)
        item = obj_id(((ii.get("parent") or {}).get("subscription_details") or {}).get("subscription_item")) \
            or obj_id(ii.get("subscription_item"))
        period = ii.get("period") or {}
        start, end = int(period.get("start") or 0), int(period.get("end") or 0)
        if item in items and end > start and end > now:
            exact[str(item)] = exact.get(str(item), Fraction(0)) + int(ii.get("amount") or 0) * Fraction(
                end - max(now, start), end - start)
    return pending, owed


def unused_time(snapshot: CaseSnapshot, shape: ContractShape, since: int | None = None
                ) -> tuple[int, dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]:
    """Unused paid time at ``snapshot.now``, less what already went back against the period,
    capped at what the period's invoices still refund.

    ``since`` (earlier than now) counts the paid time from then instead: a plan switch whose old
    subscription was never ended paid the days since the switch twice (``details["from"]``).

    Every paid line of the item still running counts for its share left,
    ``amount * (end - max(now, start)) / (end - start)``: a plain period is Stripe's
    formula; after a mid-period change the old price's credit and the new price's charge
    (proration lines, on an invoice of their own with ``always_invoice``) make it the unused
    time at the price now in force. Exact per item, rounded once per item (half away from
    zero): ``details["unused_value"]``, the figure Stripe's cancel preview computes.

    Refunds and credit notes against the invoices that paid for the time left
    (:func:`.credits.returned_on`) are subtracted: the customer already has that money. A refund
    of an older period's invoice is not: it gave back time that is over. ``details["invoices"]``:
    those invoices newest first, with what each paid and still refunds (a refund goes back on
    the charge that paid it, so a period paid by two invoices refunds in two parts; see
    :func:`split_refund`). Returns the amount, the details, and the newest invoice with its charge.
    """
    inv = period_invoice(snapshot, shape)
    if inv is None:
        return 0, {}, None, None
    now = snapshot.now_ts if since is None else min(int(since), snapshot.now_ts)
    running = _running(snapshot, shape, now)
    exact, paid = _unused_exact(running, now)
    pending, owed = _pending_part(snapshot, shape, now, exact)
    per_item = {item: max(0, round_half_up(value)) for item, value in exact.items()}
    total = max(0, sum(per_item.values()) - owed)
    invoices: list[dict[str, Any]] = []
    returned: list[dict[str, Any]] = []
    to_balance = 0
    # a mid-period decrease invoiced at once (``always_invoice``) makes an invoice whose total is
    # negative: Stripe puts that credit on the customer's balance ("If the invoice total is
    # negative, the amount is applied to the customer's credit balance",
    # docs.stripe.com/billing/customer/balance). Its proration lines are running lines above, so
    # the unused time is already net of that credit: it must not be netted a second time.
    from_prorations = sum(-int(i.get("total") or 0) for i, _ in running if int(i.get("total") or 0) < 0)
    for period_inv, _lines in reversed(running):
        charge = invoice_charge(snapshot, period_inv)
        back = returned_on(snapshot, period_inv, charge)
        # what the balance paid goes back to it, less what credit notes already credited there; the
        # card's part less what went back to the card (and any balance credit beyond the balance's part)
        from_balance = max(0, paid_from_balance(period_inv))
        balance_left = max(0, from_balance - back.to_balance)
        card_back = back.total - back.to_balance + max(0, back.to_balance - from_balance)
        left = max(0, int(period_inv.get("amount_paid") or 0) - card_back)
        if charge is not None:
            left = min(left, refundable(charge))
        invoices.append({"invoice": str(period_inv["id"]), "charge": str(charge["id"]) if charge else None,
                         "paid": int(period_inv.get("amount_paid") or 0), "refundable": left,
                         "from_balance": balance_left, "paid_from_balance": from_balance})
        if back.total:
            returned.append({"invoice": back.invoice, "amount": back.total, "credit_notes": list(back.notes),
                             "refunds": list(back.refunds), "credit_noted": back.credit_noted,
                             "refunded": back.refunded})
        to_balance += back.to_balance
    already = sum(r["amount"] for r in returned)
    remaining = sum(i["refundable"] + i["from_balance"] for i in invoices)  # the balance's share goes back to it
    net = max(0, total - already)
    newest = invoices[0] if invoices else {"invoice": inv["id"], "charge": None}
    details = {
        "now": snapshot.now_ts, "from": now, "period_start": shape.period_start, "period_end": shape.period_end,
        "unused_seconds": max(0, (shape.period_end or now) - max(now, shape.period_start or now)),
        "period_seconds": (shape.period_end or 0) - (shape.period_start or 0),
        "paid_for_period": paid, "per_item": per_item, "unused_value": total,
        "already_returned": already, "returned": returned, "returned_to_balance": to_balance,
        "prorations_to_balance": from_prorations,
        "pending_prorations": [str(ii.get("id")) for ii in pending], "pending_amount": owed,
        "invoices": invoices, "remaining_refundable": remaining, "capped": net > remaining,
        "paid_from_balance": sum(i["paid_from_balance"] for i in invoices),
        "taxed_lines": sum(1 for _inv, lines in running for _item, line in lines if line_taxes(line)),
    }
    newest_inv = snapshot.by_id(str(newest["invoice"])) or inv
    newest_charge = snapshot.by_id(str(newest["charge"])) if newest.get("charge") else None
    return min(net, remaining), details, newest_inv, newest_charge


def split_refund(amount: int, invoices: list[dict[str, Any]], currency: str) -> list[dict[str, Any]]:
    """``amount`` across the period's invoices (``details["invoices"]``, newest first), each
    part at most what its invoice still refunds and an amount Stripe accepts in ``currency``:
    one credit note (or refund) per part, on that invoice and its charge."""
    parts: list[dict[str, Any]] = []
    left = amount
    for inv in invoices:
        balance = int(inv.get("from_balance") or 0)  # what the balance paid, less what went back there
        if balance > 0:  # paid partly (or wholly) from the credit balance: the card gets back only its share
            card = int(inv["refundable"])
            whole = min(left, card + balance)
            if whole <= 0:
                continue
            paid = int(inv["paid"])
            share = whole * paid // max(1, paid + int(inv.get("paid_from_balance") or balance))
            to_balance = min(balance, whole - min(card, share))
            take = stripe_round(min(card, whole - to_balance), currency)
            parts.append({"invoice": inv["invoice"], "charge": inv["charge"], "amount": take, "paid": inv["paid"],
                          "to_balance": to_balance})
            left -= take + to_balance
            continue
        take = stripe_round(min(left, int(inv["refundable"])), currency)
        if take <= 0:
            continue
        parts.append({"invoice": inv["invoice"], "charge": inv["charge"], "amount": take, "paid": inv["paid"]})
        left -= take
    return parts


def priced(price: dict[str, Any]) -> bool:
    """A price whose amount can be computed (a tiered one read without its tiers cannot)."""
    return not tiers_missing(price)


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

    cur = item.unit_amount.currency  # the subscription's: a price fits in its default or an option there

    def fits(p: dict[str, Any]) -> bool:
        rec = p.get("recurring") or {}
        return (obj_id(p.get("product")) == item.product and p.get("active", True) is not False
                and str(in_currency(p, cur).get("currency")) == cur and not option_missing(p, cur)
                and rec.get("interval") == item.interval and int(rec.get("interval_count") or 1) == item.interval_count
                and not is_metered(p) and priced(in_currency(p, cur))
                and recurring_amount(p, item.quantity, cur) < item.amount_at(item.quantity))
    # the dearest of the cheaper ones, each at the item's quantity under its own pricing model
    cheaper = sorted((p for p in seen.values() if fits(p)), key=lambda p: -recurring_amount(p, item.quantity, cur))
    return cheaper[0] if cheaper else None
