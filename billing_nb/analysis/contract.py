"""The contract shape of each subscription, and exact refund options.

Shown before any action is offered: what the customer bought (interval, seats,
per-item periods, discounts), what the latest invoice paid, and for annual and
prorated states what each way out costs, to the cent and to the second from the
case's "now". Stripe's own figures (previews fetched by ``provider``) sit beside ours;
a mismatch is flagged, never hidden. Which previews to ask for and how to read them
lives in :mod:`billing_nb.analysis.figures`, the terms as data in :mod:`.terms`; everything
here is pure.

Unused time follows Stripe's proration formula per subscription item:
``paid_for_item * (period_end - now) / (period_end - period_start)``, exact to the
second and rounded once per item (half away from zero), where ``paid_for_item`` is the
item's non-proration line on the paid invoice for the current period, net of its
discounts. What already went back against the invoices that paid for the time left
(refunds of their charges, credit notes on them) is subtracted, and the rest is split over
those invoices, newest first, each at most what it still refunds (one credit note or refund
per invoice: ``details["parts"]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..reading.objects import invoice_charge, line_is_proration, obj_id, pending_prorations, subscription_invoices
from .figures import fetch_stripe_figures, previews_needed, stripe_figures, with_stripe_amounts
from .periods import cheaper_price, split_refund, unused_time
from ..money import THREE_DECIMAL_CURRENCIES, Money, round_half_up, stripe_round, unused_fraction
from .charges import one_off_options
from .credits import credits_of
from ..reading.prices import (is_metered, price_terms, recurring_amount, subscription_currency, subscription_discounts,
                              unit_minor)
from .schedules import schedule_shape
from ..reading.rows import paid_off_stripe, price_seat_hint
from ..reading.snapshot import CaseSnapshot, from_ts
from ..reading.taxes import inclusive_percent
from .terms import (LIVE_STATUSES, OPTION_KINDS, ContractShape, ItemShape, RecurringDiscount, RefundOption,
                    recurring_discounts)

if TYPE_CHECKING:  # pandas loads where a frame is built: the runner and the CLI never need it
    import pandas as pd

__all__ = ["ItemShape", "ContractShape", "RefundOption", "contract_shapes", "refund_options", "all_refund_options",
           "balance_part", "billed_from", "refund_since", "unused_option",
           "shapes_frame",
           "options_frame", "previews_needed", "stripe_figures", "fetch_stripe_figures", "with_stripe_amounts", "OPTION_KINDS",
           "LIVE_STATUSES"]

_SEAT_WORDS = ("seat", "user", "member", "licen", "team")


def _per_seat(price: dict[str, Any], quantity: int, product: dict[str, Any]) -> bool:
    """Per seat: a per-unit price that its price or product marks per seat, not merely one
    bought in quantity. Stripe has no per-seat flag (per-seat pricing is a per-unit price with a
    quantity, docs.stripe.com/products-prices/pricing-models), and a quantity of 2 is just as
    well one product bought twice. The marks are the account's own: metadata ``per_seat`` on
    the price or product, "seat" in the price's nickname or lookup key
    (:func:`~billing_nb.reading.rows.price_seat_hint`) or a seat word in the product's
    ``unit_label`` (what one unit is called on receipts and invoices); a product *named* for
    seats, users or a team counts only when bought in quantity (a flat "Team" plan is not)."""
    if is_metered(price):  # usage, not seats (a licensed tiered price is how team plans often price seats)
        return False
    flag = str((product.get("metadata") or {}).get("per_seat", "")).lower() in ("1", "true", "yes")
    label = str(product.get("unit_label") or "").lower()
    name = str(product.get("name") or "").lower()
    return (flag or price_seat_hint(price) or any(w in label for w in _SEAT_WORDS)
            or (quantity > 1 and any(w in name for w in _SEAT_WORDS)))


def _item_shape(snapshot: CaseSnapshot, item: dict[str, Any], sub: dict[str, Any] | None = None) -> ItemShape:
    """The item as billed in the subscription's currency: a multi-currency price bills at that
    currency's option, not at its default ``unit_amount``/``currency`` (reading.prices.in_currency);
    with the inclusive tax of its rates (``sub``'s default ones when it has none)."""
    currency = subscription_currency(sub) if sub is not None else None
    price = item.get("price") or {}
    recurring = price.get("recurring") or {}
    quantity = int(item.get("quantity") or 1)
    product = str(obj_id(price.get("product")) or "")
    terms = price_terms(price, currency)
    return ItemShape(
        item_id=str(item.get("id")), price=str(obj_id(price) or ""), product=product,
        unit_amount=Money(unit_minor(terms, quantity), terms.currency if price.get("currency") else (currency or "usd")),
        interval=str(recurring.get("interval") or "month"), interval_count=int(recurring.get("interval_count") or 1),
        quantity=quantity, per_seat=_per_seat(price, quantity, snapshot.by_id(product) or {}),
        period_start=int(item.get("current_period_start") or 0), period_end=int(item.get("current_period_end") or 0),
        terms=terms,
        inclusive_tax=inclusive_percent(item, sub or {}),
    )


def _shape(snapshot: CaseSnapshot, sub: dict[str, Any]) -> ContractShape:
    items = tuple(_item_shape(snapshot, i, sub) for i in ((sub.get("items") or {}).get("data") or []))
    currency = subscription_currency(sub) or (items[0].unit_amount.currency if items else "usd")
    invoices = subscription_invoices(snapshot, str(sub["id"]))
    latest_id = obj_id(sub.get("latest_invoice")) or (str(invoices[-1]["id"]) if invoices else None)
    latest = snapshot.by_id(latest_id) if latest_id else None
    paid = Money(int(latest.get("amount_paid") or 0), str(latest.get("currency") or currency)) if latest else None
    charge = _last_charge(snapshot, invoices, latest)
    pending = tuple(str(line.get("id")) for inv in invoices if inv.get("status") in ("draft", "open")
                    for line in ((inv.get("lines") or {}).get("data") or []) if line_is_proration(line)) + tuple(
        str(ii.get("id")) for ii in pending_prorations(snapshot, str(sub["id"])))
    prorated = bool(pending) or any(
        line_is_proration(line) for inv in invoices for line in ((inv.get("lines") or {}).get("data") or []))
    customer = snapshot.by_id(str(obj_id(sub.get("customer")))) or {}
    return ContractShape(
        subscription_id=str(sub["id"]), customer=str(obj_id(sub.get("customer")) or ""), status=str(sub.get("status")),
        items=items, trial_end=sub.get("trial_end"),
        discounts=tuple(str(obj_id(d) or d) for d in subscription_discounts(sub, customer)),
        cancel_at_period_end=bool(sub.get("cancel_at_period_end")), cancel_at=sub.get("cancel_at"),
        pending_proration_items=pending, latest_invoice=latest_id, latest_invoice_paid=paid,
        latest_charge=str(charge["id"]) if charge else None,
        customer_balance=Money(int(customer.get("balance") or 0), str(customer.get("currency") or currency)),
        is_annual=any(i.interval == "year" or (i.interval == "month" and i.interval_count >= 12) for i in items),
        is_team=any(i.per_seat and i.quantity > 1 for i in items), is_prorated=prorated, currency=currency,
        recurring_discounts=forever_discounts(snapshot, sub, currency), schedule=schedule_shape(snapshot, sub),
    )


def _charged_nothing_for_a_change(inv: dict[str, Any]) -> bool:
    """A paid invoice of proration lines only that took no money: a mid-period change whose
    credit covered it ($0, or a negative total credited to the balance). It never bought the
    period, so the charge behind the period is on an earlier invoice."""
    lines = (inv.get("lines") or {}).get("data") or []
    return (inv.get("status") == "paid" and int(inv.get("amount_paid") or 0) == 0 and bool(lines)
            and all(line_is_proration(line) for line in lines))


def _last_charge(snapshot: CaseSnapshot, invoices: list[dict[str, Any]],
                 latest: dict[str, Any] | None) -> dict[str, Any] | None:
    """The charge of the subscription's latest invoice, looking past the invoices of a mid-period
    change that charged nothing (a seat decrease with ``always_invoice``): those hid the paid
    invoice of the period, and the case said there was nothing to refund."""
    if latest is None:
        return None
    if not _charged_nothing_for_a_change(latest):
        return invoice_charge(snapshot, latest)
    for inv in reversed(invoices):
        if inv.get("id") == latest.get("id") or _charged_nothing_for_a_change(inv):
            continue
        return invoice_charge(snapshot, inv) if inv.get("status") == "paid" else None
    return None


def billed_discounts(snapshot: CaseSnapshot, sub: dict[str, Any]) -> list[dict[str, Any]]:
    """The discounts the subscription's invoices take (ids looked up in the snapshot): its own,
    else its customer's (:func:`~billing_nb.reading.prices.subscription_discounts`, the rule the
    portfolio and the store apply)."""
    customer = snapshot.by_id(str(obj_id(sub.get("customer")))) or {}
    found = [ref if isinstance(ref, dict) else snapshot.by_id(str(ref)) for ref in subscription_discounts(sub, customer)]
    return [d for d in found if isinstance(d, dict)]


def forever_discounts(snapshot: CaseSnapshot, sub: dict[str, Any], currency: str) -> tuple[RecurringDiscount, ...]:
    """The discounts the subscription bills with (its own, else its customer's) that lower MRR for good."""
    return recurring_discounts(billed_discounts(snapshot, sub), currency, snapshot.now_ts)


def contract_shapes(snapshot: CaseSnapshot) -> list[ContractShape]:
    """One shape per subscription in the snapshot, live ones first, then newest first."""
    subs = sorted(snapshot.of("subscriptions"), key=lambda s: -int(s.get("created") or 0))
    subs.sort(key=lambda s: s.get("status") not in LIVE_STATUSES)
    return [_shape(snapshot, s) for s in subs]


# --- refund options --------------------------------------------------------------------------
def all_refund_options(snapshot: CaseSnapshot, shapes: list[ContractShape]) -> list[RefundOption]:
    """Every shape's refund options, the customer's balance credit netted once across them.

    The balance is one pool for the customer: it is set against the unused time of the
    subscriptions in ``shapes`` order (:func:`contract_shapes`: live ones, newest first,
    where an accidental second purchase sits), each taking what is left of it, so two
    subscriptions never both subtract one credit. The two options of one subscription
    (cancel now, credit note) are alternatives for the same money and net the same part.
    One-off charges (no invoice: a setup fee, a manual charge) come last, one option each
    (:func:`.charges.one_off_options`).
    """
    out: list[RefundOption] = []
    left = credits_of(snapshot).credit_held
    netted_on: str | None = None
    for shape in shapes:
        options, taken = _options(snapshot, shape, left, netted_on)
        out.extend(options)
        if left is not None and taken:
            left = Money(left.amount - taken, left.currency)
            netted_on = netted_on or shape.subscription_id
    return out + one_off_options(snapshot)


def refund_options(snapshot: CaseSnapshot, shape: ContractShape) -> list[RefundOption]:
    """The ways out of one live subscription, each with its exact amount at ``snapshot.now``;
    the balance credit netted as :func:`all_refund_options` nets it across the customer's
    subscriptions (a case with many subscriptions calls that once instead)."""
    left = credits_of(snapshot).credit_held
    netted_on: str | None = None
    for other in contract_shapes(snapshot):
        if left is None or left.amount <= 0 or other.subscription_id == shape.subscription_id:
            break
        taken = _options(snapshot, other, left, netted_on)[1]
        if taken:
            left, netted_on = Money(left.amount - taken, left.currency), netted_on or other.subscription_id
    return _options(snapshot, shape, left, netted_on)[0]


def _options(snapshot: CaseSnapshot, shape: ContractShape, held: Money | None,
             netted_on: str | None) -> tuple[list[RefundOption], int]:
    """One shape's options with ``held`` (what is left of the balance credit) netted, and
    the part of the credit they took; ``netted_on``: where an earlier part of it was netted."""
    if shape.status not in LIVE_STATUSES or not shape.items:
        return [], 0
    cur, now = shape.currency, snapshot.now_ts
    end = shape.period_end or now
    out: list[RefundOption] = []
    if not shape.cancel_at_period_end:
        out.append(RefundOption(
            "cancel_at_period_end", shape.subscription_id, Money(0, cur), None, None,
            f"Cancel at period end ({from_ts(end):%Y-%m-%d %H:%M:%S} UTC): no refund, access kept until then.",
            details={"access_until": end}))
    amount, details, inv, charge = unused_time(snapshot, shape)
    held, from_returned = _held_beyond_returned(held, details, cur)
    amount, less = _less_given_back(held, netted_on, amount, cur, details)
    parts = split_refund(amount, details.get("invoices") or [], cur)
    if inv is not None and parts and _all_off_stripe(snapshot, parts):
        out.append(_out_of_band_option(shape, parts, details, less))
    elif inv is not None and parts and not any(int(p["amount"]) for p in parts):
        out.append(_balance_credit_option(shape, parts, details, less))
    elif inv is not None and parts:
        details["parts"] = parts
        amount = sum(p["amount"] for p in parts)
        less += _balance_share(parts, details, cur)
        first = parts[0]
        left = _left_clause(details, cur, less + _balance_paid_clause(details, cur))
        paid = ", ".join(f"{Money(i['paid'], cur)} paid on {i['invoice']}" for i in reversed(details["invoices"]))
        split = ""
        if len(parts) > 1:
            split = ("; refunded in parts, each on the invoice that paid it and its charge (newest first, each "
                     "at most what it still refunds): " + ", ".join(f"{Money(p['amount'], cur)} on {p['invoice']}"
                                                                   for p in parts))
        out.append(RefundOption(
            "cancel_now_refund", shape.subscription_id, Money(amount, cur), str(first["invoice"]),
            str(first["charge"]) if first.get("charge") else None,
            f"Cancel now and refund the unused time: {left}; {paid}{split}.", details=details))
        back = sum(int(p.get("to_balance") or 0) for p in parts)
        credit = (f"; with credit_amount {Money(back, cur)} back to the customer's credit balance, which paid "
                  "that part" if back else "")
        note = (f"Credit note on paid invoice {first['invoice']} with refund_amount = unused time ({left}){credit}"
                if len(parts) == 1 else
                "Credit notes with refund_amount on paid invoices "
                + ", ".join(f"{p['invoice']} ({Money(p['amount'], cur)})" for p in parts)
                + f" = unused time ({left}; {paid}){credit}")
        out.append(RefundOption(
            "credit_note_unused", shape.subscription_id, Money(amount, cur), str(first["invoice"]),
            str(first["charge"]) if first.get("charge") else None, note + ".", details=details))
    downgrade: dict[str, Any] = {}
    credit = 0
    for item in shape.items:
        price = cheaper_price(snapshot, item)
        if price is None or item.period_end <= item.period_start:
            continue
        # Stripe applies the subscription's discounts (its own, else its customer's) when it
        # computes prorations (docs.stripe.com/billing/subscriptions/coupons): both sides at the
        # share of the price the forever percentages leave
        factor = shape.percent_factor(item)
        left = unused_fraction(item.period_start, item.period_end, now)
        old = round_half_up(item.amount_at(item.quantity) * factor * left)
        new = round_half_up(recurring_amount(price, item.quantity, cur) * factor * left)
        downgrade[item.item_id] = {"from_price": item.price, "to_price": str(price["id"]), "credit": old, "debit": new}
        credit += old - new
    credit = stripe_round(credit, cur)
    if downgrade:
        out.append(RefundOption(
            "downgrade_prorations", shape.subscription_id, Money(credit, cur), None, None,
            "Downgrade to " + ", ".join(d["to_price"] for d in downgrade.values())
            + " with prorations: unused time at the old price minus the rest of the period at the new one, "
            "credited to the next invoice (not refunded to the card).",
            details={"items": downgrade, "now": now}))
    return out, int(details.get("credit_held") or 0) + from_returned


def _left_clause(details: dict[str, Any], cur: str, less: str) -> str:
    """What an unused-time option says of the period: the seconds left, what went back already, ``less``."""
    return (f"{details['unused_seconds']} of {details['period_seconds']} seconds of the period remain"
            + _returned_clause(details, cur) + less)


def _balance_credit_option(shape: ContractShape, parts: list[dict[str, Any]], details: dict[str, Any],
                           less: str) -> RefundOption:
    """The unused time of a period the customer's credit balance paid in full (``amount_paid`` 0: no
    card was charged): no refund can return it, so a credit note's ``credit_amount`` puts it back on the
    balance, which "will be automatically applied to their next invoice when it's finalized"
    (docs.stripe.com/api/credit_notes/create). Each part at most what the balance paid of its invoice
    less what credit notes already credited there (:func:`.periods.unused_time`)."""
    cur = shape.currency
    details["parts"] = parts
    back = sum(int(p.get("to_balance") or 0) for p in parts)
    details["to_balance"] = back
    paid = ", ".join(f"{Money(i['paid_from_balance'], cur)} of {i['invoice']} paid from the balance"
                     for i in reversed(details["invoices"]))
    notes = ", ".join(f"{p['invoice']} (credit_amount {Money(int(p['to_balance']), cur)})" for p in parts)
    left = _left_clause(details, cur, less)
    first = parts[0]
    return RefundOption(
        "credit_balance_unused", shape.subscription_id, Money(back, cur), str(first["invoice"]), None,
        f"Cancel now and credit the unused time ({left}) to the customer's account balance: the balance paid "
        f"the period ({paid}), no card was charged, so nothing is refunded; a credit note with credit_amount "
        f"(no refund_amount) on {notes} credits {Money(back, cur)} back to the balance, which pays the next "
        "invoices.", details=details)


def _all_off_stripe(snapshot: CaseSnapshot, parts: list[dict[str, Any]]) -> bool:
    """Whether every part of the money back is on an invoice paid outside Stripe (``amount_paid_off_stripe``,
    e.g. a bank transfer marked ``paid_out_of_band``): no charge holds it, so no refund can return it."""
    return all(not p.get("charge") and not int(p.get("to_balance") or 0) and int(p["amount"]) > 0
               and paid_off_stripe(snapshot.by_id(str(p["invoice"])) or {}) > 0 for p in parts)


def _out_of_band_option(shape: ContractShape, parts: list[dict[str, Any]], details: dict[str, Any],
                        less: str) -> RefundOption:
    """The unused time of a period paid outside Stripe (an invoice the customer paid by bank transfer,
    marked paid out of band): no charge exists to refund, so the credit note records the money going
    back outside Stripe with ``out_of_band_amount`` ("Outside of Stripe credit: record the amount that
    is or will be credited outside of Stripe", API reference, Create a credit note), and the team
    returns it by bank transfer or as agreed. Each part at most what its invoice was paid
    (``amount_paid`` less what credit notes gave back: :func:`.periods.unused_time`)."""
    cur = shape.currency
    details["parts"] = [{**p, "out_of_band": int(p["amount"])} for p in parts]
    details["out_of_band"] = sum(int(p["amount"]) for p in parts)
    amount = details["out_of_band"]
    paid = ", ".join(f"{Money(i['paid'], cur)} paid on {i['invoice']} outside Stripe"
                     for i in reversed(details["invoices"]))
    notes = ", ".join(f"{p['invoice']} (out_of_band_amount {Money(int(p['amount']), cur)})" for p in parts)
    left = _left_clause(details, cur, less)
    first = parts[0]
    return RefundOption(
        "out_of_band_unused", shape.subscription_id, Money(amount, cur), str(first["invoice"]), None,
        f"Cancel now and give back the unused time ({left}) outside Stripe: the invoice was paid outside "
        f"Stripe ({paid}), no charge exists to refund; a credit note with out_of_band_amount on {notes} "
        f"records {Money(amount, cur)} going back, and the team returns it by bank transfer or as agreed.",
        details=details)


def unused_option(options: list[RefundOption], subscription_id: str) -> RefundOption | None:
    """``subscription_id``'s unused-time money back on credit notes: ``credit_note_unused`` (refunded
    to the card, the balance's share credited), or ``credit_balance_unused`` when the credit balance paid
    the period in full (all of it credited to the balance)."""
    return next((o for o in options if o.subscription_id == subscription_id
                 and o.kind in ("credit_note_unused", "credit_balance_unused")), None)


def billed_from(snapshot: CaseSnapshot, shape: ContractShape, since: int) -> int:
    """From when on ``shape`` (the plan a customer switched to) billed the time after ``since`` (the
    switch): the earliest moment at or after it that a paid, charged line of its invoices covers;
    now when none does (a trial, nothing paid yet). Only from then are the old plan's days paid twice."""
    now = snapshot.now_ts
    starts = [max(since, int((line.get("period") or {}).get("start") or 0))
              for inv in subscription_invoices(snapshot, shape.subscription_id) if inv.get("status") == "paid"
              for line in ((inv.get("lines") or {}).get("data") or [])
              if int(line.get("amount") or 0) > 0 and int((line.get("period") or {}).get("end") or 0) > since]
    return min([now, *starts])


def refund_since(snapshot: CaseSnapshot, shape: ContractShape, option: RefundOption,
                 since: int) -> tuple[list[dict[str, Any]], int]:
    """``option`` (the unused-time refund of ``shape`` at now) counted from ``since`` instead: every
    paid line of the old plan still running at ``since`` counts for its share after it (the period
    running at the switch from then on, and each renewal since in full), the same arithmetic as
    :func:`.periods.unused_time` at ``since``; less what already went back against those invoices and
    the balance credit the option netted; capped per invoice at what it still refunds and split over
    them newest first (card and balance shares). A period cut at today, or at the latest renewal,
    would keep the days between the switch and it, paid on both plans. Returns the parts and the value
    added to the refund from today."""
    if since >= snapshot.now_ts or not option.details.get("invoices"):
        return list(option.details.get("parts") or []), 0
    amount, then, _, _ = unused_time(snapshot, shape, since)
    held = int(option.details.get("credit_held") or 0)  # the balance credit netted once, as the option did
    total = stripe_round(max(0, amount - held), shape.currency)
    before = sum(int(p["amount"]) + int(p.get("to_balance") or 0) for p in option.details.get("parts") or [])
    parts = split_refund(total, then.get("invoices") or [], shape.currency)
    return parts, max(0, sum(int(p["amount"]) + int(p.get("to_balance") or 0) for p in parts) - before)


def balance_part(option: RefundOption | None, invoice: str) -> Money | None:
    """What ``option`` gives back to the customer's credit balance on ``invoice``: the share of the
    unused time the balance paid (``details["parts"][].to_balance``), returned as the credit note's
    ``credit_amount`` beside its card refund. None when the balance paid nothing of it."""
    if option is None:
        return None
    back = sum(int(p.get("to_balance") or 0) for p in option.details.get("parts") or [] if p.get("invoice") == invoice)
    return Money(back, option.amount.currency) if back > 0 else None


def _balance_share(parts: list[dict[str, Any]], details: dict[str, Any], currency: str) -> str:
    """The part of the unused time the customer's credit balance paid (an invoice with
    ``amount_paid`` below its total, :func:`~billing_nb.reading.rows.paid_from_balance`): it is
    not refunded to the card but goes back to the balance (a credit note's ``credit_amount``).
    Sets ``details["to_balance"]``; returns the explanation's clause ("" when none)."""
    back = sum(int(p.get("to_balance") or 0) for p in parts)
    if back <= 0:
        return ""
    details["to_balance"] = back
    return (f"; {Money(back, currency)} of it was paid from the customer's credit balance, so it goes back to the "
            "balance (credit note credit_amount), not to the card")


def _held_beyond_returned(held: Money | None, details: dict[str, Any], currency: str) -> tuple[Money | None, int]:
    """The balance credit less what the period's own invoices put there: credit notes on them
    (already subtracted as returned against the period, :func:`.periods.unused_time`) and the
    credit of a negative proration invoice (a seat decrease invoiced at once: its lines are
    already in the unused time). A credit is subtracted once. Returns the rest and the part set
    aside."""
    mine = int(details.get("returned_to_balance") or 0) + int(details.get("prorations_to_balance") or 0)
    if held is None or held.currency != currency or mine <= 0 or held.amount <= 0:
        return held, 0
    aside = min(mine, held.amount)
    details["credit_held_from_returned"] = aside
    return Money(held.amount - aside, currency), aside


def _balance_paid_clause(details: dict[str, Any], currency: str) -> str:
    """"; $50.00 USD of it was paid from the customer's credit balance..." when the balance paid part of
    the period and so capped the refund below the unused value; "" otherwise."""
    part = int(details.get("paid_from_balance") or 0)
    if part <= 0 or not details.get("capped"):
        return ""
    return (f"; {Money(part, currency)} of the period was paid from the customer's credit balance, not charged "
            f"to the card: the unused value is {Money(int(details.get('unused_value') or 0), currency)}, but a "
            "refund to the card returns at most what the card paid")


def _returned_clause(details: dict[str, Any], currency: str) -> str:
    """", less what already went back against the period's invoices (which credit notes and
    refunds)"; "" when nothing did. The unused value before it stays in ``details["unused_value"]``."""
    returned = details.get("returned") or []
    if not returned:
        return ""
    several = len(returned) > 1

    def what(r: dict[str, Any]) -> str:
        named = [f"credit note {c}" for c in r["credit_notes"]] + [f"refund {x}" for x in r["refunds"]]
        amount = f"{Money(int(r['amount']), currency)} " if several else ""
        return f"{amount}on {r['invoice']}" + (f" ({', '.join(named)})" if named else "")
    return (f": {Money(int(details['unused_value']), currency)} unused, less {Money(int(details['already_returned']), currency)}"
            f" already given back against this period ({'; '.join(what(r) for r in returned)})")


def _less_given_back(held: Money | None, netted_on: str | None, amount: int, currency: str,
                     details: dict[str, Any]) -> tuple[int, str]:
    """The unused time less the credit the customer already holds on their balance (in this
    currency), rounded as Stripe accepts the currency (three-decimal: a multiple of 10).

    What the period's invoices already refunded or credited is out already (:func:`unused_time`
    subtracts it); this takes off the balance credit given elsewhere, so a
    customer holding a 15.00 credit is not refunded the whole unused time on top. Returns the
    amount and a clause for the explanation ("" when nothing was subtracted).
    """
    less = ""
    if held is not None and held.currency == currency and amount > 0 and held.amount > 0:
        taken = min(held.amount, amount)
        details["before_credit_held"] = amount
        details["credit_held"] = taken
        amount -= taken
        whole = "the" if taken == held.amount and not netted_on else f"{Money(taken, currency)} of the"
        less = f", less {whole} {held} credit the customer already holds on their balance"
        if netted_on:
            less += f" (what is left of it after {netted_on}'s options: a balance is netted once)"
        elif taken < held.amount:
            less += f" (the other {Money(held.amount - taken, currency)} of it is netted on the next subscription)"
    elif netted_on is not None and amount > 0:
        less = f" (the customer's balance credit is netted on {netted_on}'s options, not here)"
    rounded = stripe_round(amount, currency)
    if rounded != amount:
        details["rounded_from"] = amount
        step = 10 if currency.lower() in THREE_DECIMAL_CURRENCIES else 100
        less += f" (rounded down to {Money(rounded, currency)}: Stripe takes {currency.upper()} amounts in multiples of {step})"
    return rounded, less


# --- display -------------------------------------------------------------------------------
def _iso(value: int | None) -> str:
    when = from_ts(value) if value else None
    return when.isoformat() if when else ""


def shapes_frame(shapes: list[ContractShape]) -> pd.DataFrame:
    import pandas as pd

    rows = [{
        "subscription": s.subscription_id, "status": s.status,
        "items": ", ".join(f"{i.price} × {i.quantity}" for i in s.items),
        "interval": ", ".join(sorted({f"{i.interval_count} {i.interval}" for i in s.items})),
        "per_seat": any(i.per_seat for i in s.items), "period_start": _iso(s.period_start),
        "period_end": _iso(s.period_end), "recurring_total": s.recurring_total.format(), "mrr": s.mrr.format(),
        "latest_invoice": s.latest_invoice or "",
        "latest_paid": s.latest_invoice_paid.format() if s.latest_invoice_paid else "",
        "balance": s.customer_balance.format(), "annual": s.is_annual, "team": s.is_team, "prorated": s.is_prorated,
        "trial_end": _iso(s.trial_end), "discounts": ", ".join(s.discounts),
        "cancel_at_period_end": s.cancel_at_period_end, "cancel_at": _iso(s.cancel_at),
    } for s in shapes]
    return pd.DataFrame(rows, columns=list(rows[0]) if rows else ["subscription", "status"])


def options_frame(options: list[RefundOption]) -> pd.DataFrame:
    import pandas as pd

    rows = [{
        "kind": o.kind, "subscription": o.subscription_id, "amount": o.amount.format(),
        "stripe": Money(o.stripe_amount, o.amount.currency).format() if o.stripe_amount is not None else "",
        "check": ("MISMATCH" if o.mismatch else "matches Stripe") if o.stripe_amount is not None else "not previewed",
        "mismatch": o.mismatch, "invoice": o.invoice or "", "charge": o.charge or "", "explanation": o.explanation,
    } for o in options]
    return pd.DataFrame(rows, columns=list(rows[0]) if rows else ["kind", "subscription", "amount"])
