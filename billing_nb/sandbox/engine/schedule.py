"""Scheduled subscription events that neither bill nor charge: a trial about to end, a paused
collection (and its resumption). Run by :func:`.clock.advance_clock` / :func:`.clock.catch_up`
at their moment; each function names the Stripe doc page it follows.
"""

from __future__ import annotations

from ..store import Obj, Store
from . import invoices as ei

__all__ = ["paused", "resume_collection", "trial_will_end", "overdue"]


def overdue(store: Store, inv: Obj) -> None:
    """A ``send_invoice`` subscription "becomes past_due when its invoice is not paid by the due
    date" (API reference, Subscription object, ``status``); once per invoice."""
    inv["_overdue"] = True
    sub_id = ((inv.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    sub = store.maybe("subscription", sub_id)
    if sub is not None and sub["status"] == "active":
        sub["status"] = "past_due"
        store.emit("customer.subscription.updated", sub, previous={"status": "active"})


def trial_will_end(store: Store, sub: Obj) -> None:
    """``customer.subscription.trial_will_end``: "Occurs three days before a subscription's trial
    period is scheduled to end, or when a trial is ended immediately (using trial_end=now)"
    (API reference, Types of events); once per trial."""
    if not sub.get("_trial_will_end"):
        sub["_trial_will_end"] = True
        store.emit("customer.subscription.trial_will_end", sub)


def paused(store: Store, sub: Obj, inv: Obj) -> bool:
    """Billing docs, "Pause payment collection": the subscription stays active and invoices keep
    coming, but Stripe doesn't collect: ``keep_as_draft`` leaves them drafts, ``mark_uncollectible``
    finalizes and marks them uncollectible, ``void`` finalizes and voids them."""
    pause = sub.get("pause_collection")
    if not pause:
        return False
    inv["auto_advance"] = False
    if pause["behavior"] == "keep_as_draft":
        return True
    ei.finalize(store, inv)
    if inv["status"] != "open":
        return True
    now = store.now(sub["customer"])
    if pause["behavior"] == "void":
        inv.update(status="void", amount_remaining=0, next_payment_attempt=None)
        inv["status_transitions"]["voided_at"] = now
        store.emit("invoice.voided", inv)
    else:
        inv.update(status="uncollectible", next_payment_attempt=None)
        inv["status_transitions"]["marked_uncollectible_at"] = now
        store.emit("invoice.marked_uncollectible", inv)
    return True


def resume_collection(store: Store, sub: Obj) -> None:
    """``pause_collection[resumes_at]`` reached: collection resumes (the pause is cleared)."""
    previous = {"pause_collection": sub.get("pause_collection")}
    sub["pause_collection"] = None
    store.emit("customer.subscription.updated", sub, previous=previous)
