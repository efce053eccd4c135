"""Invoices in the engine: skeleton, lines, totals with the customer balance,
finalization, and one payment attempt through a PaymentIntent and a Charge.

Subscription status consequences live in :mod:`engine`; this module only moves money
and invoice state, so manual invoices and subscription invoices share it.
"""

from __future__ import annotations

import copy

from . import discounts as ed
from . import pricing as ep
from . import taxes as et
from .objects import (card_error_body, new_charge, new_dispute, new_invoice_payment,
                             new_payment_intent, product_name)
from ..store import Obj, Store

__all__ = [
    "new_invoice", "period_line", "line_from_item", "set_lines", "finalize", "attempt_payment",
    "default_pm_id", "invoice_charge", "apply_balance", "intent_for", "mark_paid", "charge_intent", "LINES_SHOWN",
    "record_balance",
]

LINES_SHOWN = 10  # Stripe embeds the first 10 lines; the rest through GET .../lines


def new_invoice(store: Store, customer_id: str, *, billing_reason: str, subscription: Obj | None = None,
                period_start: int | None = None, period_end: int | None = None, currency: str = "usd",
                description: str | None = None, metadata: dict[str, str] | None = None,
                auto_advance: bool = True, insert: bool = True, proration_date: int | None = None) -> Obj:
    """A draft invoice with no lines (``insert=False`` for previews)."""
    cust = store.get("customer", customer_id, "customer")
    now = store.now(customer_id)
    iid = store.new_id("in") if insert else "upcoming_" + store.new_id("in")
    parent = None
    if subscription is not None:
        parent = {"quote_details": None, "type": "subscription_details",
                  "subscription_details": {"metadata": dict(subscription.get("metadata") or {}),
                                           "subscription": subscription["id"]}}
        if proration_date is not None:  # "only set for upcoming invoices that preview prorations"
            parent["subscription_details"]["subscription_proration_date"] = proration_date
    default_rates = copy.deepcopy(subscription.get("default_tax_rates") or []) if subscription is not None else []
    inv: Obj = {
        "id": iid, "object": "invoice", "account_country": "US", "account_name": "billing-nb sandbox",
        "account_tax_ids": None, "amount_due": 0, "amount_overpaid": 0, "amount_paid": 0,
        "amount_remaining": 0, "amount_shipping": 0, "application": None, "attempt_count": 0,
        "attempted": False, "auto_advance": auto_advance,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None, "provider": None, "status": None},
        "automatically_finalizes_at": None, "billing_reason": billing_reason,
        "collection_method": "charge_automatically", "created": now, "currency": currency,
        "custom_fields": None, "customer": customer_id, "customer_account": None,
        "customer_address": cust.get("address"), "customer_email": cust.get("email"),
        "customer_name": cust.get("name"), "customer_phone": cust.get("phone"), "customer_shipping": None,
        "customer_tax_exempt": cust.get("tax_exempt", "none"), "customer_tax_ids": [],
        "default_payment_method": None, "default_source": None, "default_tax_rates": default_rates,
        "description": description, "discounts": [], "due_date": None, "effective_at": None,
        "ending_balance": None, "footer": None, "from_invoice": None, "hosted_invoice_url": None,
        "invoice_pdf": None, "issuer": {"type": "self"}, "last_finalization_error": None,
        "latest_revision": None,
        "lines": {"object": "list", "data": [], "has_more": False, "url": f"/v1/invoices/{iid}/lines"},
        "livemode": False, "metadata": dict(metadata or {}), "next_payment_attempt": None, "number": None,
        "on_behalf_of": None, "parent": parent,
        "payment_settings": {"default_mandate": None, "payment_method_options": None, "payment_method_types": None},
        "period_end": period_end if period_end is not None else now,
        "period_start": period_start if period_start is not None else now,
        "post_payment_credit_notes_amount": 0, "pre_payment_credit_notes_amount": 0, "receipt_number": None,
        "rendering": None, "shipping_cost": None, "shipping_details": None, "starting_balance": 0,
        "statement_descriptor": None, "status": "draft",
        "status_transitions": {"finalized_at": None, "marked_uncollectible_at": None, "paid_at": None, "voided_at": None},
        "subtotal": 0, "subtotal_excluding_tax": 0, "test_clock": cust.get("test_clock"), "total": 0,
        "total_discount_amounts": [], "total_excluding_tax": 0, "total_pretax_credit_amounts": [],
        "total_taxes": [], "webhooks_delivered_at": None,
        "_lines": [], "_payments": [], "_pi": None,
    }
    if insert:
        store.insert(inv)
    return inv


def _pricing(price: Obj, unit_decimal: str | None) -> Obj:
    return {"price_details": {"price": price["id"], "product": price.get("product")},
            "type": "price_details", "unit_amount_decimal": unit_decimal}


def period_line(store: Store, inv_id: str, sub_id: str, item: Obj, start: int, end: int,
                *, trial: bool = False, preview: bool = False) -> Obj:
    """The line that bills one subscription item for one period (or its trial), under the
    price's own model (:mod:`.pricing`: decimal, package, volume or graduated tiers). A metered
    item bills its usage over ``start``-``end`` in arrears: the sandbox records no meter events,
    so its usage is 0. A multi-currency price bills at the subscription currency's option."""
    price = ep.in_currency(item["price"], item.get("_currency"))
    metered = ep.is_metered(price)
    qty = 0 if metered else int(item.get("quantity") or 1)
    amount = 0 if trial else ep.line_amount(price, qty)
    name = product_name(store, price)
    if trial:
        desc = f"Trial period for {name}"
    else:
        rec = price.get("recurring") or {}
        from .objects import fmt_amount
        every = rec.get("interval", "month") if rec.get("interval_count", 1) == 1 else f"{rec['interval_count']} {rec['interval']}s"
        if price.get("billing_scheme") == "tiered":
            desc = f"{qty} × {name} (Tier pricing / {every})"
        else:
            desc = f"{qty} × {name} (at {fmt_amount(ep.line_amount(price, 1), price['currency'])} / {every})"
    return _line(store, inv_id, amount, price["currency"], desc, start, end, qty, sub_id,
                 {"invoice_item": None, "proration": False, "proration_details": {"credited_items": None},
                  "subscription": sub_id, "subscription_item": item["id"]},
                 _pricing(price, "0" if trial else ep.unit_decimal(price, qty)), preview, discountable=True,
                 tax_rates=item.get("tax_rates"))


def _line(store: Store, inv_id: str, amount: int, currency: str, desc: str | None, start: int, end: int,
          qty: int, sub_id: str | None, sid: Obj | None, pricing: Obj | None, preview: bool,
          discountable: bool, iid_details: Obj | None = None, metadata: dict[str, str] | None = None,
          tax_rates: list[Obj] | None = None) -> Obj:
    parent: Obj = {"invoice_item_details": iid_details, "subscription_item_details": sid,
                   "type": "subscription_item_details" if sid else "invoice_item_details"}
    return {
        "id": ("il_tmp_" if preview else "il_") + Store.new_id("x", 24)[2:], "object": "line_item",
        "amount": amount, "currency": currency, "description": desc, "discount_amounts": [],
        "discountable": discountable, "discounts": [], "invoice": inv_id, "livemode": False,
        "metadata": dict(metadata or {}), "parent": parent, "period": {"end": end, "start": start},
        "pretax_credit_amounts": [], "pricing": pricing, "quantity": qty, "quantity_decimal": str(qty),
        "subscription": sub_id, "subtotal": amount, "taxes": [],
        "_tax_rates": copy.deepcopy(tax_rates or []),  # the line's own rates (the invoice's default ones else)
    }


def line_from_item(store: Store, inv_id: str, ii: Obj, *, preview: bool = False) -> Obj:
    """An invoice line for a (pending) invoice item, proration or not."""
    sub_d = ((ii.get("parent") or {}).get("subscription_details")) or {}
    sub_id, si_id = sub_d.get("subscription"), sub_d.get("subscription_item")
    credited = ((ii.get("proration_details") or {}).get("credited_items") or {}).get("invoice_line_item_details")
    pdet = {"credited_items": copy.deepcopy(credited)}
    sid = iid = None
    if si_id:
        sid = {"invoice_item": ii["id"], "proration": ii["proration"], "proration_details": pdet,
               "subscription": sub_id, "subscription_item": si_id}
    else:
        iid = {"invoice_item": ii["id"], "proration": ii["proration"], "proration_details": pdet, "subscription": sub_id}
    price_id = ((ii.get("pricing") or {}).get("price_details") or {}).get("price")
    price = store.maybe("price", price_id) if price_id else None
    pricing = _pricing(price, (ii.get("pricing") or {}).get("unit_amount_decimal")) if price else None
    return _line(store, inv_id, ii["amount"], ii["currency"], ii.get("description"), ii["period"]["start"],
                 ii["period"]["end"], ii.get("quantity") or 1, sub_id, sid, pricing, preview,
                 bool(ii.get("discountable")), iid, ii.get("metadata"), ii.get("tax_rates"))


def set_lines(inv: Obj, lines: list[Obj], store: Store | None = None, discounts: list[Obj] | None = None) -> None:
    """Replace the lines and recompute subtotal/total, net of ``discounts`` (the
    subscription's, :mod:`engine_discounts`); the balance applies at finalization."""
    inv["_lines"] = lines
    inv["lines"]["data"] = lines[:LINES_SHOWN]
    inv["lines"]["has_more"] = len(lines) > LINES_SHOWN
    subtotal = sum(int(ln["amount"]) for ln in lines)
    inv.update(subtotal=subtotal, subtotal_excluding_tax=subtotal, total=subtotal, total_excluding_tax=subtotal)
    if store is not None and discounts:
        ed.apply(store, inv, discounts)
    et.apply(inv)
    total = int(inv["total"])
    if inv["status"] == "draft":
        inv.update(amount_due=max(total, 0), amount_remaining=max(total, 0))


def record_balance(store: Store, customer: Obj, amount: int, currency: str, type_: str, *, created: int,
           invoice: str | None = None, credit_note: str | None = None, description: str | None = None,
           metadata: dict[str, str] | None = None) -> Obj:
    """Change the customer's balance by ``amount`` and record the transaction."""
    customer["balance"] = int(customer.get("balance") or 0) + amount
    return store.insert({
        "id": store.new_id("cbtxn"), "object": "customer_balance_transaction", "amount": amount, "checkout_session": None,
        "created": created, "credit_note": credit_note, "currency": currency, "customer": customer["id"],
        "customer_account": None, "description": description, "ending_balance": customer["balance"],
        "invoice": invoice, "livemode": False, "metadata": dict(metadata or {}), "type": type_,
    })


def apply_balance(store: Store, inv: Obj, commit: bool) -> None:
    """Apply the customer's balance to a finalizing invoice; on commit the change is recorded as an
    ``applied_to_invoice`` balance transaction (API reference, Customer Balance Transaction object)."""
    cust = store.get("customer", inv["customer"])
    start = int(cust.get("balance") or 0)
    applied = inv["total"] + start
    inv.update(starting_balance=start, amount_due=max(applied, 0), amount_remaining=max(applied, 0),
               ending_balance=min(applied, 0))
    if commit and inv["ending_balance"] != start:
        record_balance(store, cust, int(inv["ending_balance"]) - start, inv["currency"], "applied_to_invoice",
                       created=store.now(cust["id"]), invoice=inv["id"])


def finalize(store: Store, inv: Obj) -> Obj:
    """draft -> open: number, balance applied, payable; a zero amount is paid at once."""
    now = store.now(inv["customer"])
    apply_balance(store, inv, True)
    inv["status"] = "open"
    inv["effective_at"] = now
    inv["status_transitions"]["finalized_at"] = now
    cust = store.get("customer", inv["customer"])
    seq = int(cust.get("next_invoice_sequence") or 1)
    cust["next_invoice_sequence"] = seq + 1
    inv["number"] = f"{cust.get('invoice_prefix') or 'SBX'}-{seq:04d}"
    inv["hosted_invoice_url"] = f"https://invoice.stripe.com/i/acct_sandbox/test_{inv['id']}"
    inv["invoice_pdf"] = inv["hosted_invoice_url"] + "/pdf"
    store.emit("invoice.finalized", inv)
    if inv["amount_due"] == 0:
        mark_paid(store, inv, now)
    return inv


def mark_paid(store: Store, inv: Obj, at: int, amount: int | None = None) -> None:
    paid = inv["amount_due"] if amount is None else amount
    # "Automatic advancement and collection never occur on invoices that are marked uncollectible,
    # void, or paid. For these invoices, auto_advance is always set to false" (Invoicing docs).
    inv.update(status="paid", amount_paid=paid, amount_remaining=0, next_payment_attempt=None, auto_advance=False)
    inv["status_transitions"]["paid_at"] = at
    cust = store.maybe("customer", inv["customer"])
    if cust is not None:
        cust["delinquent"] = False
    store.emit("invoice.paid", inv)
    store.emit("invoice.payment_succeeded", inv)


def default_pm_id(store: Store, inv: Obj) -> str | None:
    """Stripe's order: invoice, then subscription, then customer invoice_settings default."""
    if inv.get("default_payment_method"):
        return str(inv["default_payment_method"])
    sub_id = ((inv.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    sub = store.maybe("subscription", sub_id)
    if sub and sub.get("default_payment_method"):
        return str(sub["default_payment_method"])
    cust = store.maybe("customer", inv["customer"]) or {}
    return (cust.get("invoice_settings") or {}).get("default_payment_method")


def intent_for(store: Store, inv: Obj) -> Obj:
    pi = store.maybe("payment_intent", inv.get("_pi"))
    if pi is None or pi["amount"] != inv["amount_remaining"]:
        desc = {"subscription_create": "Subscription creation"}.get(inv["billing_reason"],
                                                                     "Subscription update" if inv.get("parent") else None)
        pi = new_payment_intent(store, amount=inv["amount_remaining"], currency=inv["currency"],
                                customer=inv["customer"], description=desc, payment_method=None)
        store.emit("payment_intent.created", pi)
        inv["_pi"] = pi["id"]
        pay = new_invoice_payment(store, inv, pi)
        inv["_payments"].append(pay["id"])
    return pi


def attempt_payment(store: Store, inv: Obj, pm_id: str | None = None, *, count: bool = True) -> tuple[bool, Obj | None]:
    """Charge an open invoice once. Returns (paid, the failed charge's error body or None)."""
    now = store.now(inv["customer"])
    pi = intent_for(store, inv)
    if count:
        inv["attempt_count"] += 1
        inv["attempted"] = True
    pm = store.maybe("payment_method", pm_id or default_pm_id(store, inv))
    if pm is None:
        pi["status"] = "requires_payment_method"
        store.emit("invoice.payment_failed", inv)
        return False, None
    ok, err = charge_intent(store, pi, pm)
    if not ok:
        store.emit("invoice.payment_failed", inv)
        return False, err
    for pay_id in inv["_payments"]:
        pay = store.get("invoice_payment", pay_id)
        if pay["payment"].get("payment_intent") == pi["id"]:
            pay.update(status="paid", amount_paid=pi["amount"])
            pay["status_transitions"]["paid_at"] = now
    mark_paid(store, inv, now, pi["amount"])
    return True, None


def charge_intent(store: Store, pi: Obj, pm: Obj) -> tuple[bool, Obj | None]:
    """One charge attempt for a PaymentIntent with ``pm``; a disputing card opens its dispute."""
    from ..resources.payment_methods import charge_outcome

    outcome = charge_outcome(pm)
    charge = new_charge(store, pi, pm, outcome)
    pi["latest_charge"] = charge["id"]
    if charge["status"] != "succeeded":
        err = card_error_body(charge, pm)
        pi.update(status="requires_payment_method", payment_method=None, last_payment_error=err)
        store.emit("charge.failed", charge)
        store.emit("payment_intent.payment_failed", pi)
        cust = store.maybe("customer", pi.get("customer"))
        if cust is not None:
            cust["delinquent"] = True
        return False, err
    pi.update(status="succeeded", amount_received=pi["amount"], payment_method=pm["id"], last_payment_error=None)
    store.emit("charge.succeeded", charge)
    store.emit("payment_intent.succeeded", pi)
    if outcome[0] == "dispute":
        dispute = new_dispute(store, charge)
        charge["disputed"] = True
        store.emit("charge.dispute.created", dispute)
    return True, None


def invoice_charge(store: Store, inv: Obj) -> Obj | None:
    """The successful charge that paid an invoice (through its payments), if any."""
    for pay_id in reversed(inv.get("_payments") or []):
        pay = store.maybe("invoice_payment", pay_id)
        if not pay or pay["status"] != "paid":
            continue
        pi = store.maybe("payment_intent", pay["payment"].get("payment_intent"))
        ch = store.maybe("charge", pi.get("latest_charge")) if pi else None
        if ch and ch["status"] == "succeeded":
            return ch
    return None
