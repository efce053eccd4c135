"""Subscriptions and subscription items: create, retrieve, list, update, cancel.

The HTTP side only: parameter checks (:mod:`.subscription_params`) and object shapes. Billing
(invoices, payments, prorations, renewals) is the engine's (:mod:`billing_nb.sandbox.engine`).
"""

from __future__ import annotations

import copy
from typing import Any

from ..engine import core as en
from ..engine import discounts as ed
from ..engine.prorate import Change, apply_changes, cancel_credits
from ..engine.render import with_includables
from ..errors import ApiError, invalid, missing
from ..listing import created_filter, list_object, list_page
from ..params import Params
from ..routing import Ctx, route
from ..store import Obj
from .subscription_params import (IGNORED, PAYMENT_BEHAVIORS, PRORATION, STATUSES, billing_mode_param, build_item,
                                  cancellation_param, check_intervals, find_item, item_changes, pm_for, price_param)

__all__ = ["build_item", "find_item", "item_changes"]


@route("POST", "/v1/subscriptions")
def create_subscription(ctx: Ctx, p: Params) -> Obj:
    p.allow("customer", "items", "trial_period_days", "trial_end", "payment_behavior", "default_payment_method",
            "metadata", "proration_behavior", "cancel_at_period_end", "cancel_at", "billing_mode", "discounts", *IGNORED)
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
    changes = item_changes(st, sub, raw_items)
    prices = [ch.new_price for ch in changes if ch.new_price is not None]
    check_intervals(prices)
    sub["currency"] = prices[0]["currency"]
    sub["_interval"] = list(en.interval_of(prices[0]))
    trial_days = p.int("trial_period_days")
    trial_end = p.str("trial_end")
    end_of_trial = None
    if trial_days:
        end_of_trial = now + trial_days * 86400
    elif trial_end and trial_end != "now":
        end_of_trial = int(trial_end)
    sub["_anchor"], sub["_cycle"] = (end_of_trial, -1) if end_of_trial else (now, 0)
    for ch in changes:
        assert ch.new_price is not None
        sub["items"]["data"].append(build_item(st, sub, ch.new_price, ch.new_qty, ch.metadata or {}))
    if end_of_trial:
        sub.update(status="trialing", trial_start=now, trial_end=end_of_trial, billing_cycle_anchor=end_of_trial)
        for item in sub["items"]["data"]:
            item["current_period_start"], item["current_period_end"] = now, end_of_trial
    else:
        en.set_period(sub)
    total = sum(int(ch.new_price["unit_amount"] or 0) * ch.new_qty for ch in changes if ch.new_price)
    has_pm = bool(sub["default_payment_method"] or (cust.get("invoice_settings") or {}).get("default_payment_method"))
    if not end_of_trial and total > 0 and not has_pm and behavior in ("allow_incomplete", "error_if_incomplete"):
        raise invalid("This customer has no attached payment source or default payment method. Please consider "
                      "adding a default payment method. For more information, visit "
                      "https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority.",
                      code="resource_missing")
    sub["discounts"] = ed.discounts_param(st, p, sub) or []
    st.insert(sub)
    if p.bool("cancel_at_period_end"):
        sub["cancel_at_period_end"] = True
        sub["cancel_at"] = en.period_of(sub)[1]
    inv, err = en.start_subscription(st, sub, behavior)
    if err is not None and behavior == "error_if_incomplete":
        st.objects["subscription"].pop(sid, None)
        st.objects["invoice"].pop(inv["id"], None)
        ed.unredeem(st, sub["discounts"])
        raise ApiError(402, err["message"], type="card_error", code=err["code"], decline_code=err["decline_code"],
                       extra={"charge": err["charge"]})
    st.emit("customer.subscription.created", sub)
    return with_includables(st, sub, p.expand())


@route("GET", "/v1/subscriptions/{sid}")
def retrieve_subscription(ctx: Ctx, p: Params, sid: str) -> Obj:
    p.allow()
    sub = ctx.store.get("subscription", sid)
    en.catch_up(ctx.store, sub["customer"])
    return with_includables(ctx.store, sub, p.expand())


@route("GET", "/v1/subscriptions")
def list_subscriptions(ctx: Ctx, p: Params) -> Obj:
    p.allow("customer", "price", "status", "created", "limit", "starting_after", "ending_before", "test_clock",
            "collection_method", "current_period_end", "current_period_start", "automatic_tax")
    customer, price, clock = p.str("customer"), p.str("price"), p.str("test_clock")
    status = p.enum("status", STATUSES)
    keep = created_filter(p)
    en.catch_up(ctx.store, customer)

    def wanted(s: Obj) -> bool:
        if status is None:  # Stripe: "all subscriptions that have not been canceled"
            return bool(s["status"] != "canceled")
        if status == "all":
            return True
        if status == "ended":
            return s["status"] in ("canceled", "incomplete_expired")
        return bool(s["status"] == status)

    page = list_page(p, ctx.store, "subscription", lambda s: (clock is None or s.get("test_clock") == clock)
                     and (price is None or any(i["price"]["id"] == price for i in s["items"]["data"]))
                     and wanted(s) and keep(s), "/v1/subscriptions", customer=customer)
    return with_includables(ctx.store, page, p.expand())


@route("POST", "/v1/subscriptions/{sid}")
def update_subscription(ctx: Ctx, p: Params, sid: str) -> Obj:
    p.allow("items", "proration_behavior", "proration_date", "cancel_at_period_end", "cancel_at",
            "default_payment_method", "metadata", "cancellation_details", "payment_behavior", "trial_end",
            "billing_cycle_anchor", "discounts", *IGNORED)
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
    if p.has("description"):
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
    raw_items = p.list("items")
    if raw_items:
        changes = item_changes(st, sub, raw_items)
        changed = {c.item["id"] for c in changes if c.item is not None}
        check_intervals([i["price"] for i in sub["items"]["data"] if i["id"] not in changed]
                         + [c.new_price for c in changes if c.new_price is not None])
        previous["items"] = copy.deepcopy(sub["items"])
        apply_changes(st, sub, changes, behavior, at)
    if p.has("trial_end") and p.str("trial_end") == "now" and sub["status"] == "trialing":
        for item in sub["items"]["data"]:
            item["current_period_end"] = now
        sub["trial_end"] = now
        en.renew(st, sub)
    if p.has("cancel_at_period_end") or p.has("cancel_at"):
        previous["cancel_at_period_end"] = sub["cancel_at_period_end"]
        previous["cancel_at"] = sub["cancel_at"]
        if p.bool("cancel_at_period_end"):
            sub.update(cancel_at_period_end=True, cancel_at=en.period_of(sub)[1], canceled_at=now)
            sub["cancellation_details"]["reason"] = "cancellation_requested"
        elif p.has("cancel_at") and p.str("cancel_at"):
            sub.update(cancel_at_period_end=False, cancel_at=p.int("cancel_at"), canceled_at=now)
            sub["cancellation_details"]["reason"] = "cancellation_requested"
        else:
            sub.update(cancel_at_period_end=False, cancel_at=None, canceled_at=None)
            sub["cancellation_details"] = {"comment": None, "feedback": None, "reason": None}
    st.emit("customer.subscription.updated", sub, previous=previous)
    return with_includables(st, sub, p.expand())


@route("DELETE", "/v1/subscriptions/{sid}")
def cancel_subscription(ctx: Ctx, p: Params, sid: str) -> Obj:
    p.allow("prorate", "invoice_now", "cancellation_details")
    st = ctx.store
    sub = st.get("subscription", sid)
    if sub["status"] in ("canceled", "incomplete_expired"):
        # Stripe answers a cancel of a canceled subscription as if it no longer existed:
        # 404 "No such subscription" (stripe/stripe-go#1887, maintainer's comment).
        raise missing("subscription", sid)
    details = cancellation_param(p.sub("cancellation_details"), sub["cancellation_details"])
    at = st.now(sub["customer"])
    if p.bool("prorate", False) and sub["status"] in ("active", "past_due"):
        cancel_credits(st, sub, at)
    en.cancel_subscription(st, sub, at=at, reason="cancellation_requested",
                           invoice_now=bool(p.bool("invoice_now", False)),
                           comment=details.get("comment"), feedback=details.get("feedback"))
    return with_includables(st, sub, p.expand())


@route("DELETE", "/v1/subscriptions/{sid}/discount")
def delete_subscription_discount(ctx: Ctx, p: Params, sid: str) -> Obj:
    p.allow()
    st = ctx.store
    sub = st.get("subscription", sid)
    gone = [d for d in (st.maybe("discount", i) for i in sub["discounts"]) if d is not None]
    if not gone:
        raise ApiError(404, f"No active discount for subscription: {sid}", type="invalid_request_error",
                       code="resource_missing")
    ed.replace(st, sub, [])
    st.emit("customer.subscription.updated", sub, previous={"discounts": [d["id"] for d in gone]})
    return {**gone[0], "deleted": True}


@route("GET", "/v1/subscription_items")
def list_subscription_items(ctx: Ctx, p: Params) -> Obj:
    p.allow("subscription", "limit", "starting_after", "ending_before")
    sub = ctx.store.get("subscription", p.req("subscription"), "subscription")
    return list_object(p, list(sub["items"]["data"]), f"/v1/subscription_items?subscription={sub['id']}")


@route("GET", "/v1/subscription_items/{si_id}")
def retrieve_subscription_item(ctx: Ctx, p: Params, si_id: str) -> Obj:
    p.allow()
    return find_item(ctx.store, si_id)[1]


@route("POST", "/v1/subscription_items/{si_id}")
def update_subscription_item(ctx: Ctx, p: Params, si_id: str) -> Obj:
    p.allow("price", "quantity", "metadata", "proration_behavior", "proration_date", "payment_behavior", "off_session")
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
