"""Changes to a subscription that a subscription schedule manages go through the schedule.

Why: "When a phase starts, Stripe updates the subscription based on the next phase's attributes"
(Stripe's guide, Subscription schedules), so a seat or price change made on the subscription
itself is undone at the next phase; and Stripe refuses a cancellation change on such a
subscription outright: "The subscription is managed by the subscription schedule `sub_sched_…`,
and updating any cancelation behavior directly is not allowed. Please update the schedule instead."
So, for a subscription whose schedule is ``not_started`` or ``active``:

- cancel now -> cancel the schedule: it "Cancels a subscription schedule and its associated
  subscription immediately" (API reference, Cancel a schedule; ``prorate=false, invoice_now=false``
  as for a direct cancel: money back is its own action), leaving no schedule to bill on;
- cancel at period end -> update the schedule: its phases end with the current period (later
  phases dropped) and ``end_behavior=cancel`` ("cancel will end the subscription schedule and
  cancel the underlying subscription", Subscription Schedule object);
- a seat change -> update the schedule's current phase (applied now, with prorations: "If the
  update changes the billing configuration ... of the current phase, indicates how prorations from
  this change should be handled", Update a schedule) and the later phases that carry today's seat
  count forward; a later phase with another count (a ramp, a contracted step) keeps it.

Pure: rewrites planned actions from the snapshot; the writes are :mod:`.writer`'s.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from . import catalogue as cat
from .model import Action, ActionKind
from ..analysis.schedules import OPEN, schedule_of
from ..money import Money
from ..reading.snapshot import CaseSnapshot

__all__ = ["through_schedules", "phases_seen", "managing_schedule"]


def managing_schedule(snapshot: CaseSnapshot, sub_id: str) -> dict[str, Any] | None:
    """The open schedule (not_started / active) that manages subscription ``sub_id``, if any."""
    sub = snapshot.by_id(sub_id)
    if sub is None or not sub.get("schedule"):
        return None
    sched = schedule_of(snapshot, sub)
    if sched is None:  # named but not read: treat as managing (the direct change would be undone)
        return {"id": str(sub["schedule"]), "status": "unknown", "phases": []}
    return sched if sched.get("status") in OPEN else None


def _from_now(sched: dict[str, Any], now: int) -> list[dict[str, Any]]:
    """The phases from the one in force at ``now`` on (past ones may be omitted in an update)."""
    phases = list(sched.get("phases") or [])
    first = next((n for n, p in enumerate(phases) if int(p["start_date"]) <= now < int(p["end_date"])), None)
    return phases[first:] if first is not None else [p for p in phases if int(p["start_date"]) > now]


def _items(phase: dict[str, Any]) -> list[tuple[str, int]]:
    return [(str(i["price"]["id"] if isinstance(i.get("price"), dict) else i["price"]), int(i.get("quantity") or 1))
            for i in phase.get("items") or []]


def phases_seen(sched: dict[str, Any], start: int) -> list[list[Any]]:
    """What the phases from ``start`` on were: ``[start, end, [[price, quantity], ...]]`` each; a
    schedule whose phases differ at execution was changed since the snapshot."""
    return [[int(p["start_date"]), int(p["end_date"]), [list(i) for i in _items(p)]]
            for p in sched.get("phases") or [] if int(p["end_date"]) > start]


def _param(start: int, end: int, items: list[tuple[str, int]]) -> dict[str, Any]:
    return {"start_date": start, "end_date": end, "items": [{"price": p, "quantity": q} for p, q in items]}


def _routed(snapshot: CaseSnapshot, action: Action, sched: dict[str, Any]) -> Action | str:
    """The schedule's version of ``action``, or why it cannot be made (a one-line refusal)."""
    sid, sub_id, now = str(sched["id"]), action.target, snapshot.now_ts
    if sched.get("status") == "unknown":
        return (f"{action.id}: {sub_id} is managed by subscription schedule {sid}, which the snapshot did not "
                "read; a direct change would be undone by its next phase: re-read the case")
    phases = _from_now(sched, now)
    if not phases or int(phases[0]["start_date"]) > now:
        return (f"{action.id}: subscription schedule {sid} of {sub_id} has no phase in force now; change the "
                "schedule in the Dashboard")
    seen = phases_seen(sched, now)
    current = phases[0]
    start = int(current["start_date"])
    if action.kind is ActionKind.CANCEL and action.params.get("mode") == "now":
        return cat.schedule_cancel_now(sid, sub_id, seen, str(action.params.get("feedback") or "other"))
    if action.kind is ActionKind.CANCEL:
        sub = snapshot.by_id(sub_id) or {}
        items = ((sub.get("items") or {}).get("data") or [])
        period_end = max((int(i.get("current_period_end") or 0) for i in items), default=0) or int(current["end_date"])
        dropped = [p for p in phases if int(p["start_date"]) >= period_end]
        params = [_param(start, period_end, _items(current))]
        return cat.schedule_cancel_at_period_end(sid, sub_id, period_end, params, seen, len(dropped))
    if action.kind is ActionKind.QUANTITY:
        item_id, new, old = str(action.params["item"]), int(action.params["quantity"]), int(action.params["old"])
        sub = snapshot.by_id(sub_id) or {}
        item = next((i for i in ((sub.get("items") or {}).get("data") or []) if i.get("id") == item_id), {})
        price = item.get("price") or {}
        price_id = str(price.get("id") if isinstance(price, dict) else price)
        now_items = _items(current)
        if (price_id, old) not in now_items:
            return (f"{action.id}: schedule {sid}'s current phase does not bill {price_id} × {old}; change the "
                    "schedule in the Dashboard")
        out, kept = [], []
        for n, phase in enumerate(phases):
            items = _items(phase)
            if n == 0 or (price_id, old) in items:
                items = [(p, new if p == price_id and q == old else q) for p, q in items]
            elif any(p == price_id for p, _ in items):
                kept.append(int(phase["start_date"]))
            out.append(_param(int(phase["start_date"]), int(phase["end_date"]), items))
        unit = Money(int(price.get("unit_amount") or 0), str(price.get("currency") or "usd")) \
            if isinstance(price, dict) else action.amount or Money(0, "usd")
        return cat.schedule_seats(sid, sub_id, item_id, price_id, new, old, unit, out, seen, kept,
                                  copies=action.params.get("proration") == "none")
    return action


def through_schedules(snapshot: CaseSnapshot, actions: list[Action]) -> tuple[list[Action], list[str]]:
    """Every cancel and seat change on a schedule-managed subscription rewritten to act through its
    schedule (the ids that required the old action require the new one); the notes say what was
    rerouted or, when the schedule cannot carry it, why the change is not planned."""
    out: list[Action] = []
    notes: list[str] = []
    renamed: dict[str, str] = {}
    for action in actions:
        sched = managing_schedule(snapshot, action.target) if action.kind in (ActionKind.CANCEL,
                                                                              ActionKind.QUANTITY) else None
        if sched is None:
            out.append(action)
            continue
        routed = _routed(snapshot, action, sched)
        if isinstance(routed, str):
            notes.append(f"Not planned: {routed}.")
            renamed[action.id] = ""
            continue
        renamed[action.id] = routed.id
        out.append(replace(routed, why=action.why, requires=action.requires))
        notes.append(f"{action.target} is managed by subscription schedule {routed.target}: {action.id} is planned "
                     f"as {routed.id} (a change made on the subscription itself is undone when the next phase "
                     "starts; Stripe refuses a cancellation change there).")
    fixed: list[Action] = []
    for a in out:
        if not any(r in renamed for r in a.requires):
            fixed.append(a)
            continue
        needs = tuple(dict.fromkeys(renamed.get(r, r) for r in a.requires if renamed.get(r, r)))
        if not needs:  # what it pays for or needs is not planned: neither is it
            notes.append(f"Not planned: {a.id} needs {' or '.join(a.requires)}, which is not planned.")
            continue
        fixed.append(replace(a, requires=needs))
    return fixed, notes
