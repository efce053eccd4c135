"""Subscription schedules (``/v1/subscription_schedules``): create, retrieve, list, update,
cancel, release; the object in the shape of API version 2026-10-28.endive (stripe-python's
``SubscriptionSchedule``).

What the sandbox implements: a schedule made ``from_subscription`` (one phase, the
subscription's current period; "other parameters (such as phase values) cannot be set", API
reference, Create a schedule), or for a ``customer`` with ``phases`` starting now (it creates the
subscription at once); a future ``start_date`` is refused as not implemented. Each phase ends at
its ``end_date`` or after its ``duration`` (one interval of its first price when it has neither).
Phase transitions and ``end_behavior`` run in simulated time (:mod:`..engine.phases`).
"""

from __future__ import annotations

import copy
from typing import Any

from ..engine import clock as ek
from ..engine import core as en
from ..engine import phases as eph
from ..engine.prorate import cancel_credits
from ..errors import invalid
from ..filters import range_filter
from ..listing import list_page
from ..params import Params
from ..routing import Ctx, route
from ..store import Obj, Store
from .subscription_params import PRORATION, price_param
from .subscriptions import create_subscription

BASE = "/v1/subscription_schedules"
END_BEHAVIORS = ("cancel", "release")


def _default_settings(sub: Obj | None) -> Obj:
    return {
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": "automatic", "billing_thresholds": None,
        "collection_method": (sub or {}).get("collection_method") or "charge_automatically",
        "default_payment_method": (sub or {}).get("default_payment_method"), "description": None,
        "invoice_settings": {"account_tax_ids": None, "custom_fields": None,
                             "days_until_due": (sub or {}).get("days_until_due"), "description": None,
                             "footer": None, "issuer": {"type": "self"}},
        "on_behalf_of": None, "transfer_data": None,
    }


def _phase(currency: str, start: int, end: int, items: list[tuple[str, int]], *,
           proration: str = "create_prorations", metadata: dict[str, str] | None = None) -> Obj:
    return {
        "add_invoice_items": [], "application_fee_percent": None, "automatic_tax": None,
        "billing_cycle_anchor": None, "billing_thresholds": None, "collection_method": None, "currency": currency,
        "default_payment_method": None, "default_tax_rates": [], "description": None, "discounts": [],
        "end_date": end, "invoice_settings": None,
        "items": [{"billing_thresholds": None, "discounts": [], "metadata": {}, "plan": price, "price": price,
                   "quantity": qty, "tax_rates": []} for price, qty in items],
        "metadata": dict(metadata or {}), "on_behalf_of": None, "proration_behavior": proration,
        "start_date": start, "transfer_data": None, "trial": None, "trial_end": None,
    }


def _phases_param(st: Store, raw: list[Any], start: int, currency: str | None) -> list[Obj]:
    """Decode ``phases[n][...]``: items, ``end_date`` or ``duration``, ``proration_behavior``, ``metadata``;
    each phase starts where the one before ended (``phases[0][start_date]`` may restate the first start)."""
    if not raw:
        raise invalid("Missing required param: phases.", "phases", "parameter_missing")
    out: list[Obj] = []
    at = start
    for n, node in enumerate(raw):
        pp = Params(node if isinstance(node, dict) else {}, prefix=f"phases[{n}][")
        pp.allow("items", "end_date", "duration", "proration_behavior", "metadata", "start_date")
        if pp.has("start_date"):
            given = pp.str("start_date")
            if (given == "now" and n > 0) or (given != "now" and pp.int("start_date") != at):
                raise invalid("The end_date of one phase must equal the start_date of the next; the sandbox takes "
                              "phases[0][start_date] only as the current phase's start.", f"phases[{n}][start_date]")
        items: list[tuple[str, int]] = []
        prices = []
        for k, item in enumerate(pp.list("items")):
            ip = Params(item if isinstance(item, dict) else {}, prefix=f"phases[{n}][items][{k}][")
            ip.allow("price", "quantity")
            price = price_param(st, ip.req("price"), f"phases[{n}][items][{k}][price]")
            prices.append(price)
            items.append((str(price["id"]), ip.int("quantity", 1) or 1))
        if not items:
            raise invalid("Missing required param: items.", f"phases[{n}][items]", "parameter_missing")
        if len({en.interval_of(p) for p in prices}) > 1 or len({p["currency"] for p in prices}) > 1:
            raise invalid("Currency and interval fields must match across all plans on this subscription. "
                          "Found mismatch in interval field.", f"phases[{n}][items]")
        cur = str(prices[0]["currency"])
        if currency is not None and cur != currency:
            raise invalid(f"The phase currency {cur} does not match the subscription's currency {currency}.",
                          f"phases[{n}][items]")
        duration = pp.sub("duration")
        if pp.has("end_date") and duration is not None:
            raise invalid("You may only specify one of these parameters: duration, end_date.", f"phases[{n}][end_date]")
        if duration is not None:
            duration.allow("interval", "interval_count")
            interval = duration.enum("interval", ("day", "week", "month", "year"))
            if interval is None:
                raise invalid("Missing required param: interval.", f"phases[{n}][duration][interval]", "parameter_missing")
            end = en.add_interval(at, interval, duration.int("interval_count", 1) or 1)
        elif pp.has("end_date"):
            end = int(pp.int("end_date") or 0)
        else:
            end = en.add_interval(at, *en.interval_of(prices[0]))
        if end <= at:
            raise invalid("A phase's end_date must be after its start_date.", f"phases[{n}][end_date]")
        proration = pp.enum("proration_behavior", PRORATION, "create_prorations") or "create_prorations"
        out.append(_phase(cur, at, end, items, proration=proration,
                          metadata=pp.metadata() if pp.has("metadata") else None))
        at = end
    return out


def _new(st: Store, customer: str, sub: Obj | None, phases: list[Obj], end_behavior: str, metadata: dict[str, str]) -> Obj:
    now = st.now(customer)
    cust = st.get("customer", customer, "customer")
    return {
        "id": st.new_id("sub_sched"), "object": eph.KIND, "application": None,
        "billing_mode": copy.deepcopy(sub["billing_mode"]) if sub else {
            "flexible": {"proration_discounts": "included"}, "type": "flexible", "updated_at": now},
        "canceled_at": None, "completed_at": None, "created": now, "current_phase": None, "customer": customer,
        "customer_account": None, "default_settings": _default_settings(sub), "end_behavior": end_behavior,
        "livemode": False, "metadata": metadata, "pause_schedules": [], "phases": phases, "released_at": None,
        "released_subscription": None, "status": "active", "subscription": sub["id"] if sub else None,
        "test_clock": cust.get("test_clock"),
    }


def _attach(st: Store, sched: Obj, sub: Obj) -> None:
    sub["schedule"] = sched["id"]
    st.insert(sched)
    eph.sync(st, sched)
    st.emit("subscription_schedule.created", sched)
    st.emit("customer.subscription.updated", sub, previous={"schedule": None})


@route("POST", BASE, accepts=("customer", "from_subscription", "phases", "start_date", "end_behavior", "metadata"))
def create_schedule(ctx: Ctx, p: Params) -> Obj:
    st = ctx.store
    if p.has("from_subscription"):
        if any(p.has(k) for k in ("customer", "phases", "start_date", "end_behavior", "metadata")):
            raise invalid("You cannot set `customer`, `phases`, `start_date`, `end_behavior` or `metadata` when "
                          "`from_subscription` is set.", "from_subscription")
        sub = st.get("subscription", p.req("from_subscription"), "from_subscription")
        if sub.get("schedule"):
            raise invalid(f"You cannot migrate a subscription that is already attached to a schedule: "
                          f"`{sub['schedule']}`.", "from_subscription")
        if sub["status"] in ("canceled", "incomplete_expired"):
            raise invalid("You cannot create a subscription schedule from a canceled subscription.", "from_subscription")
        start, end = en.period_of(sub)
        items = [(str(i["price"]["id"]), int(i.get("quantity") or 1)) for i in sub["items"]["data"]]
        sched = _new(st, sub["customer"], sub, [_phase(sub["currency"], start, end, items)], "release", {})
        _attach(st, sched, sub)
        return sched
    customer = p.req("customer")
    st.get("customer", customer, "customer")
    now = st.now(customer)
    start = p.str("start_date") or "now"
    if start != "now" and (p.int("start_date") or 0) > now:
        raise invalid("The sandbox does not implement a schedule that starts in the future (start_date after now).",
                      "start_date")
    if start != "now" and (p.int("start_date") or 0) < now:
        raise invalid("The sandbox does not implement backdated schedules (start_date before now).", "start_date")
    phases = _phases_param(st, p.list("phases"), now, None)
    end_behavior = p.enum("end_behavior", END_BEHAVIORS, "release") or "release"
    first = phases[0]
    created = create_subscription(ctx, Params({"customer": customer, "items": [
        {"price": i["price"], "quantity": str(i["quantity"])} for i in first["items"]]}))
    sub = st.get("subscription", created["id"])
    sched = _new(st, customer, sub, phases, end_behavior, p.metadata())
    _attach(st, sched, sub)
    return sched


def _open(st: Store, sid: str, verb: str) -> Obj:
    sched = st.get(eph.KIND, sid)
    ek.catch_up(st, sched["customer"])
    if sched["status"] not in eph.OPEN:
        raise invalid(f"You cannot {verb} a subscription schedule that is {sched['status']}; only a schedule whose "
                      "status is not_started or active can be.", code="subscription_schedule_invalid_status")
    return sched


@route("GET", BASE + "/{sid}", accepts=())
def retrieve_schedule(ctx: Ctx, p: Params, sid: str) -> Obj:
    sched = ctx.store.get(eph.KIND, sid)
    ek.catch_up(ctx.store, sched["customer"])
    return sched


@route("GET", BASE, accepts=("customer", "created", "limit", "starting_after", "ending_before", "scheduled"))
def list_schedules(ctx: Ctx, p: Params) -> Obj:
    customer = p.str("customer")
    created = range_filter(p)
    scheduled = p.bool("scheduled")
    ek.catch_up(ctx.store, customer)
    return list_page(p, ctx.store, eph.KIND,
                     lambda s: created(s) and (scheduled is None or (s["status"] == "not_started") == scheduled),
                     BASE, customer=customer)


@route("POST", BASE + "/{sid}", accepts=("phases", "end_behavior", "metadata", "proration_behavior"))
def update_schedule(ctx: Ctx, p: Params, sid: str) -> Obj:
    """Replace the phases from the current one on (past phases may be omitted; the first given is
    the current phase, its ``start_date`` unchanged); a change to the current phase's items applies
    to the subscription now, prorated per ``proration_behavior`` ("If the update changes the billing
    configuration (item price, quantity, etc.) of the current phase, indicates how prorations from
    this change should be handled. The default value is create_prorations", Update a schedule)."""
    st = ctx.store
    sched = _open(st, sid, "update")
    previous: dict[str, Any] = {}
    now = st.now(sched["customer"])
    sub = st.maybe("subscription", sched.get("subscription"))
    if p.has("phases"):
        n = eph.current_index(sched, now)
        if n is None:
            raise invalid("The sandbox found no phase in force now.", "phases")
        current = sched["phases"][n]
        phases = _phases_param(st, p.list("phases"), int(current["start_date"]),
                               str(sub["currency"]) if sub else None)
        previous["phases"] = copy.deepcopy(sched["phases"])
        sched["phases"] = sched["phases"][:n] + phases
        behavior = p.enum("proration_behavior", PRORATION, "create_prorations") or "create_prorations"
        if sub is not None and eph.phase_items(phases[0]) != eph.phase_items(current):
            before = copy.deepcopy(sub["items"])
            eph.apply_phase(st, sched, sub, phases[0], now, behavior)
            st.emit("customer.subscription.updated", sub, previous={"items": before})
    elif p.has("proration_behavior"):
        p.enum("proration_behavior", PRORATION)
    if p.has("end_behavior"):
        previous["end_behavior"] = sched["end_behavior"]
        sched["end_behavior"] = p.enum("end_behavior", END_BEHAVIORS)
    if p.has("metadata"):
        previous["metadata"] = dict(sched["metadata"])
        sched["metadata"] = p.metadata(sched["metadata"])
    eph.sync(st, sched)
    st.emit("subscription_schedule.updated", sched, previous=previous)
    return sched


@route("POST", BASE + "/{sid}/cancel", accepts=("invoice_now", "prorate"))
def cancel_schedule(ctx: Ctx, p: Params, sid: str) -> Obj:
    """"Cancels a subscription schedule and its associated subscription immediately (if the
    subscription schedule has an active subscription)" (API reference, Cancel a schedule);
    ``invoice_now`` and ``prorate`` default to true there."""
    st = ctx.store
    sched = _open(st, sid, "cancel")
    now = st.now(sched["customer"])
    invoice_now, prorate = bool(p.bool("invoice_now", True)), bool(p.bool("prorate", True))
    sub = st.maybe("subscription", sched.get("subscription"))
    if sub is not None and sub["status"] not in ("canceled", "incomplete_expired"):
        if prorate and sub["status"] in ("active", "past_due"):
            cancel_credits(st, sub, now)
        en.cancel_subscription(st, sub, at=now, reason="cancellation_requested", invoice_now=invoice_now)
    eph.end_schedule(st, sched, "canceled", now)
    return sched


@route("POST", BASE + "/{sid}/release", accepts=("preserve_cancel_date",))
def release_schedule(ctx: Ctx, p: Params, sid: str) -> Obj:
    """"Releases the subscription schedule immediately, which will stop scheduling of its phases,
    but leave any existing subscription in place ... releasing it will remove its subscription
    property and set the subscription's ID to the released_subscription property" (API reference,
    Release a schedule); ``preserve_cancel_date`` keeps a cancellation the schedule set."""
    st = ctx.store
    sched = _open(st, sid, "release")
    sub = st.maybe("subscription", sched.get("subscription"))
    if sub is not None and p.bool("preserve_cancel_date"):
        sub["_cancel_by_schedule"] = False
    eph.end_schedule(st, sched, "released", st.now(sched["customer"]))
    if sub is not None:
        st.emit("customer.subscription.updated", sub, previous={"schedule": sched["id"]})
    return sched

