"""Prorations and subscription changes, and the invoice preview that shows them.

Stripe prorates to the second: for each changed item, a credit line for the unused
time on the old price and quantity, and a debit line for the remaining time on the new,
each ``amount * (period_end - proration_date) / (period_end - period_start)`` rounded
once (:func:`billing_nb.money.prorate`). A change of billing interval resets the
billing cycle to now and invoices at once. The same functions build the preview,
with nothing inserted, so ``create_preview`` matches what the update then bills.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from fractions import Fraction

from . import core as en
from . import discounts as ed
from . import invoices as ei
from . import pricing as ep
from .objects import fmt_date, plan_of, product_name
from ..store import Obj, Store

__all__ = ["first_partial", "Change", "build_item", "new_invoiceitem", "proration_items", "apply_changes", "cancel_credits", "preview"]


def _prorate(amount: int, period_start: int, period_end: int, at: int) -> int:
    """Stripe's proration, ``amount * (end - at) / (end - start)`` exact to the second, rounded
    once, halves away from zero (the sandbox keeps its own arithmetic: it imports nothing else)."""
    if period_end <= period_start:
        raise ValueError("period_end must be after period_start")
    at = min(max(at, period_start), period_end)
    exact = Fraction(amount * (period_end - at), period_end - period_start)
    whole, rest = divmod(abs(exact.numerator), exact.denominator)
    whole += 1 if 2 * rest >= exact.denominator else 0
    return whole if exact >= 0 else -whole


def build_item(store: Store, sub: Obj, price: Obj, qty: int, metadata: dict[str, str],
               tax_rates: list[Obj] | None = None) -> Obj:
    """A new subscription item on ``sub`` for ``price`` x ``qty``, in the subscription's period."""
    start, end = en.period_of(sub) if sub["items"]["data"] else (0, 0)
    return {
        "id": store.new_id("si", 14), "object": "subscription_item", "billing_thresholds": None,
        "created": store.now(sub["customer"]), "current_period_end": end, "current_period_start": start,
        "discounts": [], "metadata": metadata, "plan": plan_of(price), "price": copy.deepcopy(price),
        "quantity": qty, "subscription": sub["id"], "tax_rates": copy.deepcopy(tax_rates or []),
        "_currency": sub.get("currency"),  # what it bills in: a multi-currency price's option (pricing.in_currency)
    }


@dataclass
class Change:
    """One item's change: ``item`` None for a new item; ``new_price`` None when deleted."""

    item: Obj | None
    new_price: Obj | None
    new_qty: int
    metadata: dict[str, str] | None = None
    tax_rates: list[Obj] | None = None  # items[n][tax_rates] when given


def _decimal(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    text = f"{float(value):.12f}".rstrip("0")
    return text.rstrip(".")


def new_invoiceitem(store: Store, *, customer: str, amount: int, currency: str, description: str | None,
                    period: tuple[int, int], price: Obj | None = None, quantity: int = 1, proration: bool = False,
                    sub_id: str | None = None, si_id: str | None = None, credited: Obj | None = None,
                    insert: bool = True, invoice: str | None = None, metadata: dict[str, str] | None = None,
                    unit_decimal: str | None = None, tax_rates: list[Obj] | None = None) -> Obj:
    """An ``invoiceitem`` in the current shape (``parent``, ``pricing``, ``proration_details``)."""
    cust = store.get("customer", customer, "customer")
    ii: Obj = {
        "id": store.new_id("ii"), "object": "invoiceitem", "amount": amount, "currency": currency,
        "customer": customer, "customer_account": None, "date": store.now(customer), "description": description,
        "discountable": not proration, "discounts": [], "invoice": invoice, "livemode": False,
        "metadata": dict(metadata or {}), "net_amount": amount,
        "parent": ({"subscription_details": {"subscription": sub_id, "subscription_item": si_id},
                    "type": "subscription_details"} if sub_id else None),
        "period": {"end": period[1], "start": period[0]},
        "pricing": ({"price_details": {"price": price["id"], "product": price.get("product")},
                     "type": "price_details", "unit_amount_decimal": unit_decimal} if price else None),
        "proration": proration,
        "quantity": quantity, "quantity_decimal": str(quantity), "tax_rates": copy.deepcopy(tax_rates or []),
        "test_clock": cust.get("test_clock"),
    }
    if proration:  # a proration's details; other items have none
        ii["proration_details"] = {
            "credited_items": ({"invoice_item": None, "invoice_line_item_details": credited,
                                "type": "invoice_line_items"} if credited else None),
            "discount_amounts": []}
    if insert:
        store.insert(ii)
        store.emit("invoiceitem.created", ii)
    return ii


def _label(store: Store, price: Obj, qty: int) -> str:
    name = product_name(store, price)
    return name if qty == 1 else f"{qty} × {name}"


def _billed_net(store: Store, item: Obj, full: int) -> int:
    """``full`` less the discounts on the line that billed ``item``'s period at that amount."""
    billed = item.get("_billed") or {}
    inv = store.maybe("invoice", billed.get("invoice"))
    ids = set(billed.get("invoice_line_items") or [])
    for line in (inv or {}).get("_lines") or []:
        if line["id"] in ids and int(line["amount"]) == full:
            return full - sum(int(d["amount"]) for d in line.get("discount_amounts") or [])
    return full


def _prorated_item(store: Store, sub: Obj, item: Obj, price: Obj, qty: int, at: int, sign: int,
                   insert: bool) -> Obj | None:
    if ep.is_metered(price):  # usage is billed in arrears: no unused time to credit, none to charge ahead
        return None
    price = ep.in_currency(price, sub.get("currency"))  # a multi-currency price: the subscription currency's option
    start, end = en.period_of(sub)
    full = ep.line_amount(price, qty)
    if sign < 0:  # credit what was debited: the billed line net of its discounts
        full = _billed_net(store, item, full)
    else:  # proration_discounts "included": the debit is net of the percent-off discounts in force
        full = ed.percent_net(store, sub, full, price.get("product"), at)
    amount = sign * _prorate(full, start, end, at)
    if amount == 0:
        return None
    word = "Unused" if sign < 0 else "Remaining"
    unit = Fraction(amount, qty) if qty else Fraction(0)
    return new_invoiceitem(
        store, customer=sub["customer"], amount=amount, currency=price["currency"],
        description=f"{word} time on {_label(store, price, qty)} after {fmt_date(at)}",
        period=(at, end), price=price, quantity=qty, proration=True, sub_id=sub["id"], si_id=item["id"],
        credited=copy.deepcopy(item.get("_billed")) if sign < 0 else None, insert=insert,
        unit_decimal=_decimal(unit), tax_rates=_proration_rates(item, sign))


def _proration_rates(item: Obj, sign: int) -> list[Obj]:
    """A proration carries the item's own tax rates, as its period line did (the subscription's
    default ones reach it through the invoice); prorations are made before a change lands, so a
    credit has the rates the old period was billed with."""
    return list(item.get("tax_rates") or [])


def proration_items(store: Store, sub: Obj, changes: list[Change], at: int, *, insert: bool) -> list[Obj]:
    """Credit and debit items for ``changes`` at ``at`` (same billing interval)."""
    out: list[Obj] = []
    for ch in changes:
        old_price = ch.item["price"] if ch.item else None
        old_qty = int(ch.item["quantity"] or 1) if ch.item else 0
        same = old_price is not None and ch.new_price is not None and ch.new_price["id"] == old_price["id"] \
            and ch.new_qty == old_qty
        if same:
            continue
        target = ch.item or {"id": "si_pending"}
        if old_price is not None:
            credit = _prorated_item(store, sub, target, old_price, old_qty, at, -1, insert)
            out += [credit] if credit else []
        if ch.new_price is not None:
            debit = _prorated_item(store, sub, target, ch.new_price, ch.new_qty, at, 1, insert)
            out += [debit] if debit else []
    return out


def _interval_changes(sub: Obj, changes: list[Change]) -> bool:
    current = sub["_interval"]
    return any(ch.new_price is not None and en.interval_of(ch.new_price) != tuple(current) for ch in changes)


def _apply_items(store: Store, sub: Obj, changes: list[Change]) -> None:
    """Write the changes onto the subscription's items (new items get ``si_`` ids)."""

    data = sub["items"]["data"]
    for ch in changes:
        if ch.item is None and ch.new_price is not None:
            data.append(build_item(store, sub, ch.new_price, ch.new_qty, ch.metadata or {}, ch.tax_rates))
        elif ch.item is not None and ch.new_price is None:
            data.remove(ch.item)
        elif ch.item is not None and ch.new_price is not None:
            if ch.tax_rates is not None:
                ch.item["tax_rates"] = copy.deepcopy(ch.tax_rates)
            ch.item["price"] = copy.deepcopy(ch.new_price)
            from .objects import plan_of

            ch.item["plan"] = plan_of(ch.new_price)
            ch.item["quantity"] = ch.new_qty
            if ch.metadata is not None:
                ch.item["metadata"] = ch.metadata


def apply_changes(store: Store, sub: Obj, changes: list[Change], behavior: str, at: int, *,
                  reset_anchor: bool = False) -> Obj | None:
    """Apply item changes with Stripe's proration behaviour; returns an invoice if one
    was created now (``always_invoice``, a billing interval change or ``reset_anchor``).

    A new interval, or ``billing_cycle_anchor[type]=now``, restarts the cycle at ``at``: the
    unused time of every current item is credited (unless ``proration_behavior=none``) and a
    full new period is invoiced at once (Billing docs, "Set the subscription billing renewal
    date": resetting the anchor to now; "Change subscriptions": interval changes)."""
    prorating = behavior != "none" and sub["status"] in ("active", "past_due")
    if reset_anchor or _interval_changes(sub, changes):
        if prorating:
            for item in list(sub["items"]["data"]):
                _prorated_item(store, sub, item, item["price"], int(item["quantity"] or 1), at, -1, True)
        _apply_items(store, sub, changes)
        sub["_interval"] = list(en.interval_of(sub["items"]["data"][0]["price"]))
        sub["_anchor"], sub["_cycle"], sub["billing_cycle_anchor"] = at, 0, at
        en.set_period(sub)
        inv = en.invoice_subscription(store, sub, "subscription_update", period_lines=True)
        en.collect(store, inv)
        return inv
    if prorating:
        items = proration_items(store, sub, changes, at, insert=True)
        _apply_items(store, sub, changes)
        for ii in items:  # new items are only known after _apply_items
            sd = ii["parent"]["subscription_details"]
            if sd["subscription_item"] == "si_pending":
                match = [i for i in sub["items"]["data"] if i["price"]["id"] == ii["pricing"]["price_details"]["price"]]
                sd["subscription_item"] = match[-1]["id"] if match else None
    else:
        _apply_items(store, sub, changes)
    start, end = en.period_of(sub)
    for item in sub["items"]["data"]:
        item["current_period_start"], item["current_period_end"] = start, end
    if behavior == "always_invoice" and en.pending_items(store, sub["customer"], sub["id"]):
        inv = en.invoice_subscription(store, sub, "subscription_update", period_lines=False)
        en.collect(store, inv)
        return inv
    return None


def first_partial(store: Store, sub: Obj, now: int, anchor: int) -> None:
    """A create-time ``billing_cycle_anchor``: each item's time from ``now`` to the anchor, as a
    pending proration of the full period that ends at the anchor (Billing docs, "Set the
    subscription billing renewal date": the first invoice is prorated up to the anchor)."""
    interval, count = sub["_interval"]
    items = sub["items"]["data"]
    for item in items:  # the period the partial one is part of (period_of reads the first item)
        item["current_period_start"] = en.add_interval(anchor, interval, -count)
    for item in items:
        _prorated_item(store, sub, item, item["price"], int(item["quantity"] or 1), now, 1, True)
    for item in items:
        item["current_period_start"] = now


def cancel_credits(store: Store, sub: Obj, at: int) -> list[Obj]:
    """Credits for the unused time of every item (``prorate=true`` on cancel)."""
    return proration_items(store, sub, [Change(item=i, new_price=None, new_qty=0) for i in sub["items"]["data"]],
                           at, insert=True)


def preview(store: Store, sub: Obj | None, customer_id: str, changes: list[Change], behavior: str, at: int,
            *, cancel_now: bool = False) -> Obj:
    """The invoice Stripe would show for these changes, built without side effects."""
    pending = en.pending_items(store, customer_id, sub["id"] if sub else None)
    if sub is None:
        inv = ei.new_invoice(store, customer_id, billing_reason="upcoming", insert=False)
        ei.set_lines(inv, [ei.line_from_item(store, inv["id"], ii, preview=True) for ii in pending])
        ei.apply_balance(store, inv, False)
        return inv
    work = copy.deepcopy(sub)
    prorating = behavior != "none" and sub["status"] in ("active", "past_due")
    new_items: list[Obj] = []
    if cancel_now:
        if prorating:
            new_items = proration_items(store, work, [Change(i, None, 0) for i in work["items"]["data"]], at, insert=False)
        reason, period_lines, immediate = "subscription_update", False, True
    elif _interval_changes(work, changes):
        if prorating:
            new_items = [x for ch in changes if ch.item is not None for x in [_prorated_item(
                store, work, ch.item, ch.item["price"], int(ch.item["quantity"] or 1), at, -1, False)] if x]
        reason, period_lines, immediate = "subscription_update", True, True
    else:
        if prorating:
            new_items = proration_items(store, work, changes, at, insert=False)
        immediate = behavior == "always_invoice"
        reason, period_lines = ("subscription_update", False) if immediate else ("upcoming", True)
    work_changes = _rebind(work, changes)
    if not cancel_now:
        _apply_items_preview(store, work, work_changes)
    start, end = en.period_of(work)
    if period_lines and not immediate:
        work["_cycle"] += 1
        en.set_period(work)
    elif period_lines:
        work["_interval"] = list(en.interval_of(work["items"]["data"][0]["price"]))
        work["_anchor"], work["_cycle"] = at, 0
        en.set_period(work)
    inv_period = (start, end) if not immediate else (at, at)
    inv = ei.new_invoice(store, customer_id, billing_reason=reason, subscription=work, insert=False,
                         period_start=inv_period[0], period_end=inv_period[1], currency=work["currency"],
                         proration_date=at)
    lines = [ei.line_from_item(store, inv["id"], ii, preview=True) for ii in pending + new_items]
    if period_lines:
        lines += [ei.period_line(store, inv["id"], work["id"], item, item["current_period_start"],
                                 item["current_period_end"], preview=True) for item in work["items"]["data"]]
    ei.set_lines(inv, lines, store, ed.active(store, work, at if immediate else end))
    inv["created"] = at if immediate else end
    ei.apply_balance(store, inv, False)
    return inv


def _rebind(work: Obj, changes: list[Change]) -> list[Change]:
    """Point changes at the copied subscription's items."""
    by_id = {i["id"]: i for i in work["items"]["data"]}
    return [Change(by_id.get(ch.item["id"]) if ch.item else None, ch.new_price, ch.new_qty, ch.metadata, ch.tax_rates)
            for ch in changes]


def _apply_items_preview(store: Store, work: Obj, changes: list[Change]) -> None:
    data = work["items"]["data"]
    for ch in changes:
        if ch.item is None and ch.new_price is not None:
            start, end = en.period_of(work)
            data.append({"id": "si_preview", "price": copy.deepcopy(ch.new_price), "quantity": ch.new_qty,
                         "current_period_start": start, "current_period_end": end,
                         "tax_rates": copy.deepcopy(ch.tax_rates or [])})
        elif ch.item is not None and ch.new_price is None:
            data.remove(ch.item)
        elif ch.item is not None and ch.new_price is not None:
            ch.item["price"], ch.item["quantity"] = copy.deepcopy(ch.new_price), ch.new_qty
            if ch.tax_rates is not None:
                ch.item["tax_rates"] = copy.deepcopy(ch.tax_rates)
