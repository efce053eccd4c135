"""Subscription schedules in time: a phase's items applied to its subscription, the move to
the next phase at a phase's end, and the schedule's ``end_behavior`` after the last one.

Stripe's guide, Subscription schedules: "When a phase starts, Stripe updates the subscription
based on the next phase's attributes"; "A subscription schedule is completed after the last phase
is finished. When this happens, the subscription is released from the schedule"; with
``end_behavior=cancel`` the schedule "cancel[s] the underlying subscription" (API reference,
Subscription Schedule object, ``end_behavior``). Run by :mod:`.clock` at each phase's end,
before the subscription's own renewal at the same second, so a renewal at a phase boundary bills
the new phase's prices and quantities.
"""

from __future__ import annotations

import copy
from typing import Any

from . import core as en
from .prorate import Change, apply_changes
from ..store import Obj, Store

__all__ = ["KIND", "OPEN", "current_index", "phase_items", "apply_phase", "sync", "due", "transition", "end_schedule"]

KIND = "subscription_schedule"
#: Statuses in which a schedule still drives its subscription (API reference: a schedule "can
#: only be canceled/released if its status is not_started or active").
OPEN = ("not_started", "active")


def current_index(sched: Obj, at: int) -> int | None:
    """The phase in force at ``at`` (start <= at < end), or None."""
    for n, phase in enumerate(sched.get("phases") or []):
        if int(phase["start_date"]) <= at < int(phase["end_date"]):
            return n
    return None


def phase_items(phase: Obj) -> list[tuple[str, int]]:
    """(price id, quantity) of each item of a phase."""
    return [(str(i["price"]), int(i.get("quantity") or 1)) for i in phase.get("items") or []]


def apply_phase(store: Store, sched: Obj, sub: Obj, phase: Obj, at: int, behavior: str) -> None:
    """Make the subscription's items the phase's: same price -> its quantity, a price the phase
    lacks -> deleted, a new price -> added; prorated per ``behavior`` at ``at``. The phase's
    metadata updates the subscription's ("Metadata on a schedule's phase will update the
    underlying subscription's metadata when the phase is entered", Phase.metadata)."""
    wanted = phase_items(phase)
    items = list(sub["items"]["data"])
    changes: list[Change] = []
    used: set[str] = set()
    for price_id, qty in wanted:
        price = store.get("price", price_id)
        item = next((i for i in items if i["price"]["id"] == price_id and i["id"] not in used), None)
        if item is not None:
            used.add(item["id"])
            if int(item.get("quantity") or 1) != qty:
                changes.append(Change(item, price, qty))
        else:
            changes.append(Change(None, price, qty))
    changes += [Change(i, None, 0) for i in items if i["id"] not in used]
    if changes:
        start, end = en.period_of(sub)
        if not start <= at < end:  # a boundary: the renewal bills the new items in full
            behavior = "none"
        apply_changes(store, sub, changes, behavior, at)
    if phase.get("metadata"):
        sub["metadata"] = {**sub["metadata"], **phase["metadata"]}


def sync(store: Store, sched: Obj) -> None:
    """``current_phase`` from the phases, and the subscription's ``cancel_at`` from an
    ``end_behavior=cancel`` (the schedule's end), cleared when the schedule no longer cancels."""
    sub = store.maybe("subscription", sched.get("subscription"))
    now = store.now(sched["customer"])
    n = current_index(sched, now) if sched["status"] == "active" else None
    phases = sched.get("phases") or []
    sched["current_phase"] = ({"end_date": phases[n]["end_date"], "start_date": phases[n]["start_date"]}
                              if n is not None else None)
    if sub is None or sub["status"] in ("canceled", "incomplete_expired"):
        return
    if sched["status"] == "active" and sched["end_behavior"] == "cancel" and phases:
        sub["cancel_at"], sub["_cancel_by_schedule"] = int(phases[-1]["end_date"]), True
    elif sub.get("_cancel_by_schedule"):
        sub["cancel_at"], sub["_cancel_by_schedule"] = None, False


def due(sched: Obj) -> int | None:
    """When the schedule next acts: its current phase's end."""
    if sched.get("status") != "active" or not sched.get("current_phase"):
        return None
    return int(sched["current_phase"]["end_date"])


def end_schedule(store: Store, sched: Obj, status: str, at: int) -> None:
    """The schedule stops driving its subscription: ``canceled``, ``released`` or ``completed``."""
    previous = {"status": sched["status"]}
    sched["status"] = status
    sched["current_phase"] = None
    sub = store.maybe("subscription", sched.get("subscription"))
    if status == "canceled":
        sched["canceled_at"] = at
    elif status == "released":
        sched.update(released_at=at, released_subscription=sched.get("subscription"), subscription=None)
    else:
        sched["completed_at"] = at
    if sub is not None and sub.get("schedule") == sched["id"] and status != "canceled":
        sub["schedule"] = None  # released from the schedule: it bills on as it is
        if sub.get("_cancel_by_schedule") and sub["status"] in en.LIVE:
            sub["cancel_at"], sub["_cancel_by_schedule"] = None, False
    store.emit(f"subscription_schedule.{status}", sched, previous=previous)


def transition(store: Store, sched: Obj) -> None:
    """The current phase ended: enter the next one, or end the schedule per ``end_behavior``."""
    at = int(sched["current_phase"]["end_date"])
    sub = store.get("subscription", sched["subscription"])
    phases = sched["phases"]
    n = next((k for k, ph in enumerate(phases) if int(ph["start_date"]) == at), None)
    if n is None:
        if sched["end_behavior"] == "cancel" and sub["status"] in en.LIVE:
            en.cancel_subscription(store, sub, at=at, reason="cancellation_requested", keep_canceled_at=True)
        end_schedule(store, sched, "completed", at)
        return
    previous: dict[str, Any] = {"items": copy.deepcopy(sub["items"])}
    apply_phase(store, sched, sub, phases[n], at, str(phases[n].get("proration_behavior") or "create_prorations"))
    sched["current_phase"] = {"end_date": phases[n]["end_date"], "start_date": phases[n]["start_date"]}
    store.emit("customer.subscription.updated", sub, previous=previous)
    store.emit("subscription_schedule.updated", sched)

