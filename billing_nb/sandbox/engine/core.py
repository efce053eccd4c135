"""The sandbox's billing engine: subscription invoices, collection, renewal, dunning,
cancellation; :mod:`.clock` runs all of it in simulated (or wall-clock) time.

A renewal invoice is created as a ``draft`` at the period end and finalized and charged an
hour later (:data:`AUTO_FINALIZE`), as Stripe does for automatically collected invoices.

Rules follow Stripe's documented behaviour: periods are anchored on
``billing_cycle_anchor`` (month ends clamp, as Stripe does for the 31st); a failed
first payment leaves the subscription ``incomplete`` until it expires 23 hours later;
a failed renewal makes it ``past_due`` and is retried per ``store.settings["retry_days"]``
(days after the previous attempt), after which ``store.settings["after_retries"]``
("unpaid" or "canceled") applies; ``cancel_at_period_end`` ends it at the period end.
Every timestamp comes from ``store.now(customer)``, so a test clock drives it all.
"""

from __future__ import annotations

import copy

import calendar
import datetime as dt
from typing import Any

from . import discounts as ed
from . import invoices as ei
from .pricing import is_metered
from .schedule import paused
from ..store import Obj, Store

__all__ = [
    "add_interval", "interval_of", "period_of", "set_period", "pending_items", "invoice_subscription",
    "collect", "start_subscription", "renew", "retry_invoice", "cancel_subscription",
    "expire_incomplete", "auto_finalize", "subscription_of", "INCOMPLETE_TTL", "AUTO_FINALIZE", "TRIAL_WILL_END",
    "LIVE",
]

INCOMPLETE_TTL = 23 * 3600  # Stripe expires an unpaid first invoice's subscription after 23h
AUTO_FINALIZE = 3600  # a draft with auto_advance finalizes an hour after it was created
TRIAL_WILL_END = 3 * 86400  # the trial_will_end event comes three days before the trial ends
LIVE = ("active", "past_due", "trialing", "unpaid")


def add_interval(anchor: int, interval: str, count: int) -> int:
    """``anchor`` plus ``count`` intervals; months keep the anchor's day, clamped to month end."""
    if interval == "day":
        return anchor + count * 86400
    if interval == "week":
        return anchor + count * 7 * 86400
    months = count * (12 if interval == "year" else 1)
    base = dt.datetime.fromtimestamp(anchor, dt.timezone.utc)
    total = base.month - 1 + months
    year, month = base.year + total // 12, total % 12 + 1
    day = min(base.day, calendar.monthrange(year, month)[1])
    return int(base.replace(year=year, month=month, day=day).timestamp())


def interval_of(price: Obj) -> tuple[str, int]:
    rec = price.get("recurring") or {}
    return str(rec.get("interval", "month")), int(rec.get("interval_count") or 1)


def period_of(sub: Obj) -> tuple[int, int]:
    """The current period (all items share it; it lives on the items in this API)."""
    first = sub["items"]["data"][0]
    return int(first["current_period_start"]), int(first["current_period_end"])


def set_period(sub: Obj) -> None:
    """Write period number ``_cycle`` (anchored at ``_anchor``) onto every item."""
    interval, count = sub["_interval"]
    start = add_interval(sub["_anchor"], interval, count * sub["_cycle"])
    end = add_interval(sub["_anchor"], interval, count * (sub["_cycle"] + 1))
    for item in sub["items"]["data"]:
        item["current_period_start"], item["current_period_end"] = start, end


def subscription_of(store: Store, inv: Obj) -> Obj | None:
    sub_id = ((inv.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    return store.maybe("subscription", sub_id)


def pending_items(store: Store, customer_id: str, sub_id: str | None) -> list[Obj]:
    """Invoice items not yet on an invoice, oldest first: a subscription's own plus the
    customer's loose ones (Stripe pulls those into the next invoice, renewals included)."""
    rows = [
        ii for ii in store.where("invoiceitem", customer=customer_id)
        if ii.get("invoice") is None
        and ((ii.get("parent") or {}).get("subscription_details") or {}).get("subscription") in (sub_id, None)
    ]
    return list(reversed(rows))


def invoice_subscription(store: Store, sub: Obj, billing_reason: str, *, period_lines: bool,
                         trial: bool = False, inv_period: tuple[int, int] | None = None,
                         proration_date: int | None = None) -> Obj:
    """A draft invoice for a subscription: its pending items, then (optionally) one line
    per item for the current period. Records which line billed each item's period."""
    cust_id = sub["customer"]
    now = store.now(cust_id)
    start, end = inv_period or (now, now)
    inv = ei.new_invoice(store, cust_id, billing_reason=billing_reason, subscription=sub,
                         period_start=start, period_end=end, currency=sub["currency"],
                         proration_date=proration_date)
    lines = []
    for ii in pending_items(store, cust_id, sub["id"]):
        ii["invoice"] = inv["id"]
        lines.append(ei.line_from_item(store, inv["id"], ii))
    if period_lines:
        for item in sub["items"]["data"]:
            p_start, p_end = item["current_period_start"], item["current_period_end"]
            if is_metered(item["price"]):  # billed in arrears: the usage of the period just ended
                u_start, u_end = inv_period if inv_period is not None else (p_start, p_start)
                lines.append(ei.period_line(store, inv["id"], sub["id"], item, u_start, u_end, trial=trial))
                continue
            line = ei.period_line(store, inv["id"], sub["id"], item, p_start, p_end, trial=trial)
            lines.append(line)
            item["_billed"] = {"invoice": inv["id"], "invoice_line_items": [line["id"]]}
    if sub.get("collection_method") == "send_invoice":  # due days_until_due after it is made
        inv["collection_method"] = "send_invoice"
        inv["due_date"] = inv["created"] + 86400 * int(sub.get("days_until_due") or 0)
    ei.set_lines(inv, lines, store, ed.active(store, sub, now, prune=True))
    ed.consume(store, sub, inv)
    sub["latest_invoice"] = inv["id"]
    store.emit("invoice.created", inv)
    return inv


def _touch(store: Store, sub: Obj, previous: dict[str, Any]) -> None:
    store.emit("customer.subscription.updated", sub, previous=previous)


def _after_attempt(store: Store, inv: Obj, ok: bool, *, schedule: bool) -> None:
    """Subscription consequences of a payment attempt on one of its invoices."""
    sub = subscription_of(store, inv)
    if sub is None:
        return
    if ok:
        others = [i for i in store.where("invoice", status="open") if subscription_of(store, i) is sub]
        if sub["status"] in ("incomplete", "past_due", "unpaid") and not others:
            previous = {"status": sub["status"]}
            sub["status"] = "active"
            _touch(store, sub, previous)
        return
    if inv["billing_reason"] == "subscription_create" or not schedule:
        return
    now = store.now(sub["customer"])
    days = list(store.settings.get("retry_days") or [])
    done = int(inv["attempt_count"])
    if done - 1 < len(days):
        inv["next_payment_attempt"] = now + int(days[done - 1]) * 86400
        if sub["status"] in ("active", "trialing"):
            previous = {"status": sub["status"]}
            sub["status"] = "past_due"
            _touch(store, sub, previous)
        return
    inv["next_payment_attempt"] = None
    if store.settings.get("after_retries") == "canceled":
        cancel_subscription(store, sub, at=now, reason="payment_failed")
    elif sub["status"] != "unpaid":
        previous = {"status": sub["status"]}
        sub["status"] = "unpaid"
        _touch(store, sub, previous)


def collect(store: Store, inv: Obj, pm_id: str | None = None, *, schedule: bool = True,
            count: bool = True) -> tuple[bool, Obj | None]:
    """Finalize a draft if needed, then try to pay; apply the subscription consequences. A
    ``send_invoice`` invoice is only finalized: the customer pays it (API reference, Create a
    subscription: collection_method "When sending an invoice, Stripe will email your customer an
    invoice with payment instructions")."""
    if inv["status"] == "draft":
        ei.finalize(store, inv)
    if inv["status"] != "open" or inv["collection_method"] == "send_invoice":
        return inv["status"] == "paid", None
    ok, err = ei.attempt_payment(store, inv, pm_id, count=count)
    _after_attempt(store, inv, ok, schedule=schedule)
    return ok, err


def start_subscription(store: Store, sub: Obj, payment_behavior: str, *,
                       period_lines: bool = True) -> tuple[Obj, Obj | None]:
    """Bill the first period (or the trial) of a new subscription and set its status;
    ``period_lines=False`` bills only its pending items (a create-time anchor's partial period).

    Returns the invoice and, when the first payment failed, the card error body."""
    trial = sub["status"] == "trialing"
    inv = invoice_subscription(store, sub, "subscription_create", period_lines=period_lines, trial=trial)
    if sub.get("collection_method") == "send_invoice":
        # finalized an hour later (auto_advance) and the subscription active at once
        # (docs.stripe.com/subscriptions/invoices; API reference, collection_method)
        if not trial:
            sub["status"] = "active"
        return inv, None
    ei.finalize(store, inv)
    if inv["status"] == "paid":
        if not trial:
            sub["status"] = "active"
        return inv, None
    sub["status"] = "incomplete"
    if payment_behavior == "default_incomplete":
        ei.intent_for(store, inv)  # the PI the client confirms
        return inv, None
    ok, err = collect(store, inv)
    if ok:
        sub["status"] = "active"
    return inv, err if not ok else None


def renew(store: Store, sub: Obj) -> None:
    """Period end: cancel if asked to, else start the next period and bill it."""
    start, end = period_of(sub)
    cancel_at = sub.get("cancel_at")
    if cancel_at is not None and int(cancel_at) <= end:
        cancel_subscription(store, sub, at=int(cancel_at), reason="cancellation_requested", keep_canceled_at=True)
        return
    # the items as they were: their periods are what a renewal changes (they live on the items)
    previous: dict[str, Any] = {"items": copy.deepcopy(sub.get("items"))}
    if sub["status"] == "trialing":
        previous["status"] = "trialing"
        sub["status"] = "active"
    sub["_cycle"] += 1
    set_period(sub)
    inv = invoice_subscription(store, sub, "subscription_cycle", period_lines=True, inv_period=(start, end))
    _touch(store, sub, previous)
    if paused(store, sub, inv):
        return
    if sub["status"] == "unpaid":  # invoices keep coming, but are not collected
        inv["auto_advance"] = False
        return
    # The renewal stays a draft for an hour, then finalizes and is charged (auto_finalize):
    # "We wait an hour after receiving a successful response to the invoice.created event before
    # attempting payment" (Invoicing docs, "Status transitions and finalization").


def auto_finalize(store: Store, inv: Obj) -> None:
    """A draft with ``auto_advance`` finalizes an hour after creation and, when charged
    automatically, is collected (Invoicing docs, "Automatic invoice advancement": Stripe
    drives the invoice towards payment "including automatically finalizing draft invoices
    after one hour")."""
    if inv["collection_method"] == "charge_automatically":
        collect(store, inv)
    else:
        ei.finalize(store, inv)


def retry_invoice(store: Store, inv: Obj) -> None:
    """A scheduled dunning retry."""
    inv["next_payment_attempt"] = None
    collect(store, inv)


def cancel_subscription(store: Store, sub: Obj, *, at: int, reason: str | None,
                        invoice_now: bool = False, comment: str | None = None, feedback: str | None = None,
                        keep_canceled_at: bool = False) -> Obj | None:
    """End a subscription now (``at``), optionally invoicing pending items (credits for unused
    time, :func:`~.prorate.cancel_credits`, are the caller's first step)."""
    final = None
    if invoice_now and pending_items(store, sub["customer"], sub["id"]):
        final = invoice_subscription(store, sub, "subscription_update", period_lines=False)
        collect(store, final, schedule=False)
    previous = {"status": sub["status"]}
    sub["status"] = "canceled"
    sub["ended_at"] = at
    if not (keep_canceled_at and sub.get("canceled_at")):
        sub["canceled_at"] = at
    details = sub["cancellation_details"]
    details["reason"] = reason
    if comment is not None:
        details["comment"] = comment
    if feedback is not None:
        details["feedback"] = feedback
    # API reference, Cancel a subscription: "By default, upon subscription cancellation, Stripe
    # stops automatic collection of all finalized invoices for the customer" (resumed by setting
    # auto_advance back to true).
    for inv in store.where("invoice", status="open", customer=sub["customer"]):
        if inv.get("auto_advance") or inv.get("next_payment_attempt"):
            inv["auto_advance"] = False
            inv["next_payment_attempt"] = None
            store.emit("invoice.updated", inv, previous={"auto_advance": True})
    store.emit("customer.subscription.deleted", sub, previous=previous)
    return final


def expire_incomplete(store: Store, sub: Obj) -> None:
    """23h after creation an unpaid first invoice voids and the subscription expires."""
    inv = store.maybe("invoice", sub.get("latest_invoice"))
    if inv is not None and inv["status"] == "open":
        inv["status"] = "void"
        inv["status_transitions"]["voided_at"] = store.now(sub["customer"])
        store.emit("invoice.voided", inv)
    previous = {"status": sub["status"]}
    sub["status"] = "incomplete_expired"
    sub["ended_at"] = store.now(sub["customer"])
    store.emit("customer.subscription.deleted", sub, previous=previous)
