"""Subscriptions and subscription items: create, retrieve, list, update, cancel.

The HTTP side only: parameter checks (:mod:`.subscription_params`) and object shapes. Billing
(invoices, payments, prorations, renewals) is the engine's (:mod:`billing_nb.sandbox.engine`).
"""

from __future__ import annotations

import copy
from typing import Any

from ..engine import clock as ek
from ..engine import core as en
from ..engine import discounts as ed
from ..engine import phases as eph
from ..engine.pricing import in_currency, is_metered, line_amount
from ..engine.prorate import Change, apply_changes, cancel_credits, first_partial
from ..engine.render import with_includables
from ..errors import ApiError, invalid, missing
from ..filters import range_filter
from ..listing import list_object, list_page
from ..params import Params
from ..routing import Ctx, route
from ..store import Obj
from .subscription_changes import move_trial, pause_param, schedule_cancel, undone_unless_paid
from .subscription_params import (PAYMENT_BEHAVIORS, PRORATION, STATUSES, anchor_param, billing_mode_param, build_item,
                                  cancel_at_param, cancellation_param, collection_param, create_anchor_param, check_intervals,
                                  default_tax_rates_param, find_item, item_changes, pm_for, price_param)

__all__ = ["build_item", "find_item", "item_changes"]


@route("POST", "/v1/subscriptions", accepts=("customer", "items", "trial_period_days", "trial_end", "payment_behavior",
                                            "default_payment_method", "metadata", "cancel_at_period_end", "cancel_at",
                                            "billing_mode", "discounts", "description", "billing_cycle_anchor",
                                            "proration_behavior", "collection_method", "days_until_due",
                                            "default_tax_rates", "currency"))
def create_subscription(ctx: Ctx, p: Params) -> Obj:
    st = ctx.store
    cust = st.get("customer", p.req("customer"), "customer")
    raw_items = p.list("items")
    if not raw_items:
        raise invalid("Missing required param: items.", "items", "parameter_missing")
    behavior = p.enum("payment_behavior", PAYMENT_BEHAVIORS, "allow_incomplete") or "allow_incomplete"
    now = st.now(cust["id"])
    sid = st.new_id("sub")
    sub: Obj = {
        "id": sid, "object": "subscription", "application": None, "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": now, "billing_cycle_anchor_config": None,
        "billing_mode": billing_mode_param(p.sub("billing_mode"), now), "billing_schedules": [],
        "billing_thresholds": None, "cancel_at": None, "cancel_at_period_end": False, "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically", "created": now, "currency": "usd", "customer": cust["id"],
        "customer_account": None, "days_until_due": None,
        "default_payment_method": pm_for(st, p.str("default_payment_method"), cust["id"]),
        "default_source": None, "default_tax_rates": [], "description": p.str("description"), "discounts": [],
        "ended_at": None, "invoice_settings": {"account_tax_ids": None, "custom_fields": None,
                                         "description": None, "footer": None, "issuer": {"type": "self"}},
        "items": {"object": "list", "data": [], "has_more": False,
                  "url": f"/v1/subscription_items?subscription={sid}"},
        "latest_invoice": None, "livemode": False, "managed_payments": None, "metadata": p.metadata(),
        "next_pending_invoice_item_invoice": None, "on_behalf_of": None, "pause_collection": None,
        "payment_settings": {"payment_method_options": None, "payment_method_types": None,
                             "save_default_payment_method": "off"},
        "pending_invoice_item_interval": None, "pending_setup_intent": None, "pending_update": None,
        "schedule": None, "start_date": now, "status": "incomplete", "test_clock": cust.get("test_clock"),
        "transfer_data": None, "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}}, "trial_start": None,
    }
    collection_param(p, sub)
    default_tax_rates_param(st, p, sub)
    changes = item_changes(st, sub, raw_items)
    prices = [ch.new_price for ch in changes if ch.new_price is not None]
    # the subscription's currency (API reference, Create a subscription, ``currency``): the one asked
    # for -- a multi-currency price bills there at its currency option -- else the first price's
    wanted = p.str("currency")
    currency = wanted.lower() if wanted else str(prices[0]["currency"])
    check_intervals(prices, currency)
    sub["currency"] = currency
    sub["_interval"] = list(en.interval_of(prices[0]))
    trial_days = p.int("trial_period_days")
    trial_end = p.str("trial_end")
    anchor = create_anchor_param(p, now, prices[0])
    proration = p.enum("proration_behavior", PRORATION, "create_prorations") or "create_prorations"
    if anchor is not None and (trial_days or trial_end):
        raise invalid("The sandbox does not implement billing_cycle_anchor together with a trial.",
                      "billing_cycle_anchor")
    end_of_trial = None
    if trial_days:
        end_of_trial = now + trial_days * 86400
    elif trial_end and trial_end != "now":
        end_of_trial = int(trial_end)
    sub["_anchor"], sub["_cycle"] = (end_of_trial, -1) if end_of_trial else (anchor, -1) if anchor else (now, 0)
    for ch in changes:
        assert ch.new_price is not None
        sub["items"]["data"].append(build_item(st, sub, ch.new_price, ch.new_qty, ch.metadata or {}, ch.tax_rates))
    if end_of_trial:
        sub.update(status="trialing", trial_start=now, trial_end=end_of_trial, billing_cycle_anchor=end_of_trial)
        for item in sub["items"]["data"]:
            item["current_period_start"], item["current_period_end"] = now, end_of_trial
    elif anchor is not None:  # the first period runs to the anchor; the cycle starts there
        sub["billing_cycle_anchor"] = anchor
        for item in sub["items"]["data"]:
            item["current_period_start"], item["current_period_end"] = now, anchor
    else:
        en.set_period(sub)
    total = sum(line_amount(in_currency(ch.new_price, currency), ch.new_qty) for ch in changes
                if ch.new_price and not is_metered(ch.new_price))
    if anchor is not None and proration == "none":
        total = 0  # the time up to the anchor is free
    has_pm = bool(sub["default_payment_method"] or (cust.get("invoice_settings") or {}).get("default_payment_method"))
    if not end_of_trial and total > 0 and not has_pm and behavior in ("allow_incomplete", "error_if_incomplete") \
            and sub["collection_method"] == "charge_automatically":
        raise invalid("This customer has no attached payment source or default payment method. Please consider "
                      "adding a default payment method. For more information, visit "
                      "https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority.",
                      code="resource_missing")
    sub["discounts"] = ed.discounts_param(st, p, sub) or []
    st.insert(sub)
    if p.bool("cancel_at_period_end") and p.str("cancel_at"):
        raise invalid("You may only specify one of these parameters: cancel_at, cancel_at_period_end.", "cancel_at")
    if p.bool("cancel_at_period_end"):
        sub["cancel_at_period_end"] = True
        sub["cancel_at"] = en.period_of(sub)[1]
    elif p.str("cancel_at"):
        sub["cancel_at"] = cancel_at_param(p, sub)
    events_before = st.mark("event")
    if anchor is not None and proration != "none":
        first_partial(st, sub, now, anchor)
    inv, err = en.start_subscription(st, sub, behavior, period_lines=anchor is None)
    # The first payment's status change is part of the creation: Stripe sends
    # customer.subscription.created with the resulting status, not an update before it
    # (Billing docs, "Using webhooks with subscriptions").
    for evt in st.since("event", events_before):
        if evt["type"] == "customer.subscription.updated" and evt["data"]["object"]["id"] == sid:
            st.pop("event", evt["id"])
    if err is not None and behavior == "error_if_incomplete":
        st.pop("subscription", sid)
        st.pop("invoice", inv["id"])
        ed.unredeem(st, sub["discounts"])
        raise ApiError(402, err["message"], type="card_error", code=err["code"], decline_code=err["decline_code"],
                       extra={"charge": err["charge"]})
    st.emit("customer.subscription.created", sub)
    return with_includables(st, sub, p.expand())


@route("GET", "/v1/subscriptions/{sid}", accepts=())
def retrieve_subscription(ctx: Ctx, p: Params, sid: str) -> Obj:
    sub = ctx.store.get("subscription", sid)
    ek.catch_up(ctx.store, sub["customer"])
    return with_includables(ctx.store, sub, p.expand())


@route("GET", "/v1/subscriptions", accepts=("customer", "price", "status", "created", "limit", "starting_after",
                                           "ending_before", "test_clock", "collection_method", "current_period_end",
                                           "current_period_start", "automatic_tax"))
def list_subscriptions(ctx: Ctx, p: Params) -> Obj:
    customer, price, clock = p.str("customer"), p.str("price"), p.str("test_clock")
    status = p.enum("status", STATUSES)
    method = p.enum("collection_method", ("charge_automatically", "send_invoice"))
    tax = p.sub("automatic_tax")
    if tax is not None:
        tax.allow("enabled")
    tax_enabled = tax.bool("enabled") if tax is not None else None
    created, pstart, pend = range_filter(p), range_filter(p, "current_period_start"), range_filter(p, "current_period_end")

    def keep(s: Obj) -> bool:
        start, end = en.period_of(s)
        return (created(s) and pstart({"current_period_start": start}) and pend({"current_period_end": end})
                and (method is None or s["collection_method"] == method)
                and (tax_enabled is None or s["automatic_tax"]["enabled"] == tax_enabled))

    ek.catch_up(ctx.store, customer)

    def wanted(s: Obj) -> bool:
        if status is None:  # Stripe: "all subscriptions that have not been canceled"
            return bool(s["status"] != "canceled")
        if status == "all":
            return True
        if status == "ended":
            return s["status"] in ("canceled", "incomplete_expired")
        return bool(s["status"] == status)

    # Stripe: "The response will not include subscriptions with test clocks if this and the
    # customer parameter is not set" (https://docs.stripe.com/api/subscriptions/list#list_subscriptions-test_clock)
    page = list_page(p, ctx.store, "subscription", lambda s: (s.get("test_clock") == clock if clock is not None
                                                              else customer is not None or not s.get("test_clock"))
                     and (price is None or any(i["price"]["id"] == price for i in s["items"]["data"]))
                     and wanted(s) and keep(s), "/v1/subscriptions", customer=customer)
    return with_includables(ctx.store, page, p.expand())


@route("POST", "/v1/subscriptions/{sid}", accepts=("items", "proration_behavior", "proration_date", "cancel_at_period_end",
                                                  "cancel_at", "default_payment_method", "metadata",
                                                  "cancellation_details", "trial_end", "billing_cycle_anchor",
                                                  "discounts", "description", "pause_collection", "payment_behavior",
                                                  "collection_method", "days_until_due", "default_tax_rates"))
def update_subscription(ctx: Ctx, p: Params, sid: str) -> Obj:
    """Update a subscription. ``payment_behavior`` (API reference, Update a subscription): with
    ``allow_incomplete`` (the default) the update stands when its invoice can't be paid and the
    subscription goes ``past_due``; with ``error_if_incomplete`` Stripe "does not update the
    subscription and returns an error instead" (402), so every change the request made is undone."""
    st = ctx.store
    st.get("subscription", sid)
    paying = p.enum("payment_behavior", PAYMENT_BEHAVIORS, "allow_incomplete") or "allow_incomplete"
    if paying in ("pending_if_incomplete", "default_incomplete"):
        raise invalid(f"The sandbox does not implement payment_behavior={paying} on updates "
                      "(pending updates, or an update invoice left for its payment intent's confirmation).",
                      "payment_behavior")
    if paying == "error_if_incomplete":
        return undone_unless_paid(st, sid, lambda: _update(ctx, p, sid))
    return _update(ctx, p, sid)


def _update(ctx: Ctx, p: Params, sid: str) -> Obj:
    st = ctx.store
    sub = st.get("subscription", sid)
    previous: dict[str, Any] = {}
    if sub["status"] in ("canceled", "incomplete_expired"):
        extra = set(p.data) - {"metadata", "cancellation_details", "expand"}
        if extra:
            raise invalid("A canceled subscription can only update its cancellation_details and metadata.")
    now = st.now(sub["customer"])
    if p.has("metadata"):
        previous["metadata"] = dict(sub["metadata"])
        sub["metadata"] = p.metadata(sub["metadata"])
    if p.has("collection_method") or p.has("days_until_due"):  # for the invoices to come
        previous.update(collection_method=sub["collection_method"], days_until_due=sub["days_until_due"])
        collection_param(p, sub)
    default_tax_rates_param(st, p, sub, previous)
    if p.has("description"):
        previous["description"] = sub["description"]
        sub["description"] = p.str("description")
    if p.has("default_payment_method"):
        previous["default_payment_method"] = sub["default_payment_method"]
        sub["default_payment_method"] = pm_for(st, p.str("default_payment_method"), sub["customer"])
    if p.has("cancellation_details"):
        sub["cancellation_details"] = cancellation_param(p.sub("cancellation_details"), sub["cancellation_details"])
    discounts = ed.discounts_param(st, p, sub)
    if discounts is not None:
        previous["discounts"] = list(sub["discounts"])
        ed.replace(st, sub, discounts)
    behavior = p.enum("proration_behavior", PRORATION, "create_prorations") or "create_prorations"
    at = p.int("proration_date", now) or now
    reset = anchor_param(p, sub)
    raw_items = p.list("items")
    if raw_items or reset:
        changes = item_changes(st, sub, raw_items) if raw_items else []
        changed = {c.item["id"] for c in changes if c.item is not None}
        check_intervals([i["price"] for i in sub["items"]["data"] if i["id"] not in changed]
                         + [c.new_price for c in changes if c.new_price is not None], str(sub["currency"]))
        previous["items"] = copy.deepcopy(sub["items"])
        if reset:
            previous["billing_cycle_anchor"] = sub["billing_cycle_anchor"]
        apply_changes(st, sub, changes, behavior, at, reset_anchor=reset)
    if p.has("trial_end"):
        move_trial(st, sub, p, now, previous)
    if p.has("pause_collection"):
        previous["pause_collection"] = sub["pause_collection"]
        sub["pause_collection"] = pause_param(p, now)
    if p.has("cancel_at_period_end") or p.has("cancel_at"):
        if sub.get("schedule"):
            raise _managed(sub)
        schedule_cancel(st, sub, p, now, previous, behavior)
    st.emit("customer.subscription.updated", sub, previous=previous)
    return with_includables(st, sub, p.expand())


@route("DELETE", "/v1/subscriptions/{sid}", accepts=("prorate", "invoice_now", "cancellation_details"))
def cancel_subscription(ctx: Ctx, p: Params, sid: str) -> Obj:
    """Cancel now (API reference, Cancel a subscription). ``prorate`` credits the unused time as a
    pending proration item; ``invoice_now`` bills pending prorations in a final invoice. "Any
    pending invoice items that you've created are still charged at the end of the period, unless
    manually deleted ... pending prorations are removed if invoice_now and prorate are both set
    to true" (the page for current API versions; 2025-04-30.basil said "both set to false"): with
    both false they stay pending for the customer's next invoice. Collection of the customer's
    open invoices stops either way."""
    st = ctx.store
    sub = st.get("subscription", sid)
    if sub["status"] in ("canceled", "incomplete_expired"):
        # Stripe answers a cancel of a canceled subscription as if it no longer existed:
        # 404 "No such subscription" (stripe/stripe-go#1887, maintainer's comment).
        raise missing("subscription", sid)
    details = cancellation_param(p.sub("cancellation_details"), sub["cancellation_details"])
    at = st.now(sub["customer"])
    prorate, invoice_now = bool(p.bool("prorate", False)), bool(p.bool("invoice_now", False))
    if prorate and sub["status"] in ("active", "past_due"):
        cancel_credits(st, sub, at)
    en.cancel_subscription(st, sub, at=at, reason="cancellation_requested", invoice_now=invoice_now,
                           comment=details.get("comment"), feedback=details.get("feedback"))
    sched = st.maybe(eph.KIND, sub.get("schedule"))
    if sched is not None and sched["status"] in eph.OPEN:  # the schedule ends with its subscription
        eph.end_schedule(st, sched, "canceled", at)
    return with_includables(st, sub, p.expand())


def _managed(sub: Obj) -> ApiError:
    """Stripe's refusal of a cancellation change on a subscription a schedule manages (Stripe's
    message, quoted in dust-tt/dust#32051): the schedule's ``end_behavior`` and phases say when it ends."""
    return invalid(f"The subscription is managed by the subscription schedule `{sub['schedule']}`, and updating any "
                   "cancelation behavior directly is not allowed. Please update the schedule instead.")


@route("DELETE", "/v1/subscriptions/{sid}/discount", accepts=())
def delete_subscription_discount(ctx: Ctx, p: Params, sid: str) -> Obj:
    st = ctx.store
    sub = st.get("subscription", sid)
    gone = [d for d in (st.maybe("discount", i) for i in sub["discounts"]) if d is not None]
    if not gone:
        raise ApiError(404, f"No active discount for subscription: {sid}", type="invalid_request_error",
                       code="resource_missing")
    ed.replace(st, sub, [])
    st.emit("customer.subscription.updated", sub, previous={"discounts": [d["id"] for d in gone]})
    return {**gone[0], "deleted": True}


@route("GET", "/v1/subscription_items", accepts=("subscription", "limit", "starting_after", "ending_before"))
def list_subscription_items(ctx: Ctx, p: Params) -> Obj:
    sub = ctx.store.get("subscription", p.req("subscription"), "subscription")
    return list_object(p, list(sub["items"]["data"]), f"/v1/subscription_items?subscription={sub['id']}")


@route("GET", "/v1/subscription_items/{si_id}", accepts=())
def retrieve_subscription_item(ctx: Ctx, p: Params, si_id: str) -> Obj:
    return find_item(ctx.store, si_id)[1]


@route("POST", "/v1/subscription_items/{si_id}", accepts=("price", "quantity", "metadata", "proration_behavior",
                                                          "proration_date"))
def update_subscription_item(ctx: Ctx, p: Params, si_id: str) -> Obj:
    st = ctx.store
    sub, item = find_item(st, si_id)
    price = price_param(st, p.req("price"), "price") if p.has("price") else st.get("price", item["price"]["id"])
    qty = p.int("quantity", int(item["quantity"] or 1)) or 0
    meta = p.metadata(item["metadata"]) if p.has("metadata") else None
    now = st.now(sub["customer"])
    apply_changes(st, sub, [Change(item, price, qty, meta)],
                  p.enum("proration_behavior", PRORATION, "create_prorations") or "create_prorations",
                  p.int("proration_date", now) or now)
    st.emit("customer.subscription.updated", sub)
    return item
