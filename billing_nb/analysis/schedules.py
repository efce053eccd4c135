"""What a subscription schedule will do to a subscription: its coming phases and its end.

Why: an annual contract with a scheduled downgrade, a ramp deal or a schedule that ends the
subscription (``end_behavior=cancel``) renews differently from what the subscription shows today.
Stripe's guide (Subscription schedules): "When a phase starts, Stripe updates the subscription
based on the next phase's attributes", and after the last phase "the subscription is released
from the schedule" (``end_behavior=release``: it bills on as it is) or is canceled
(``end_behavior=cancel``). Today's MRR is today's phase (the subscription's items); the coming
phases are shown beside it, each with its date, prices and quantities. Pure: reads the snapshot's
``subscription_schedules`` (expanded with the subscriptions, :mod:`billing_nb.reading.waves`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..money import Money
from ..reading.objects import obj_id
from ..reading.snapshot import CaseSnapshot, from_ts

__all__ = ["PhaseItem", "Phase", "ScheduleShape", "OPEN", "schedule_of", "schedule_shape"]

#: Schedule statuses in which it still drives its subscription (API reference: only these can be
#: canceled or released).
OPEN = ("not_started", "active")


@dataclass(frozen=True)
class PhaseItem:
    price: str
    quantity: int
    unit_amount: Money | None  # None: the price is not in the snapshot
    interval: str | None = None
    interval_count: int = 1

    def line(self) -> str:
        each = f" at {self.unit_amount}/{self.interval}" if self.unit_amount is not None and self.interval else ""
        return f"{self.price} × {self.quantity}{each}"


@dataclass(frozen=True)
class Phase:
    start: int
    end: int
    items: tuple[PhaseItem, ...]

    @property
    def recurring_total(self) -> Money | None:
        """One full period of this phase (None when a price is not in the snapshot)."""
        if not self.items or any(i.unit_amount is None for i in self.items):
            return None
        cur = self.items[0].unit_amount.currency if self.items[0].unit_amount else "usd"
        return Money(sum(i.unit_amount.amount * i.quantity for i in self.items if i.unit_amount), cur)

    def as_case_json(self) -> dict[str, Any]:
        total = self.recurring_total
        return {"start": self.start, "end": self.end,
                "items": [{"price": i.price, "quantity": i.quantity,
                           "unit_amount": i.unit_amount.as_dict() if i.unit_amount else None,
                           "interval": i.interval, "interval_count": i.interval_count} for i in self.items],
                "recurring_total": total.as_dict() if total else None}


@dataclass(frozen=True)
class ScheduleShape:
    """A schedule that manages a subscription: the phase in force, those to come, and its end."""

    schedule_id: str
    status: str
    end_behavior: str  # release | cancel
    current: Phase | None
    upcoming: tuple[Phase, ...]
    ends_at: int | None  # the last phase's end: the subscription is released or canceled then

    @property
    def managing(self) -> bool:
        """Whether the schedule still drives the subscription (changes go through it)."""
        return self.status in OPEN

    @property
    def cancels(self) -> bool:
        return self.managing and self.end_behavior == "cancel"

    def lines(self) -> list[str]:
        """The schedule in words: each coming phase, then what happens at its end."""
        out = [f"from {_day(p.start)}: " + ", ".join(i.line() for i in p.items) for p in self.upcoming]
        if self.ends_at is not None:
            out.append(f"on {_day(self.ends_at)} the schedule ends and " + (
                "cancels the subscription (end_behavior=cancel): it does not renew" if self.end_behavior == "cancel"
                else "releases the subscription (end_behavior=release): it renews as it is then"))
        return out

    def as_case_json(self) -> dict[str, Any]:
        return {"id": self.schedule_id, "status": self.status, "end_behavior": self.end_behavior,
                "current_phase": self.current.as_case_json() if self.current else None,
                "upcoming_phases": [p.as_case_json() for p in self.upcoming], "ends_at": self.ends_at,
                "summary": self.lines()}


def _day(ts: int) -> str:
    when = from_ts(ts)
    return f"{when:%Y-%m-%d}" if when else "?"


def schedule_of(snapshot: CaseSnapshot, sub: dict[str, Any]) -> dict[str, Any] | None:
    """The schedule object a subscription names (``subscription.schedule``), from the snapshot."""
    ref = sub.get("schedule")
    if isinstance(ref, dict):
        return ref
    sid = obj_id(ref)
    if not sid:
        return None
    return next((s for s in snapshot.of("subscription_schedules") if s.get("id") == sid), None)


def _prices(snapshot: CaseSnapshot, sub: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Price objects the snapshot holds (on the subscriptions' items), by id."""
    out: dict[str, dict[str, Any]] = {}
    for s in snapshot.of("subscriptions"):
        for item in ((s.get("items") or {}).get("data") or []):
            price = item.get("price")
            if isinstance(price, dict) and price.get("id"):
                out.setdefault(str(price["id"]), price)
    return out


def _phase(raw: dict[str, Any], prices: dict[str, dict[str, Any]]) -> Phase:
    items = []
    for item in raw.get("items") or []:
        price_ref = item.get("price")
        price = price_ref if isinstance(price_ref, dict) else prices.get(str(obj_id(price_ref)), {})
        recurring = price.get("recurring") or {}
        amount = price.get("unit_amount")
        items.append(PhaseItem(
            str(obj_id(price_ref) or ""), int(item.get("quantity") or 1),
            Money(int(amount), str(price.get("currency") or raw.get("currency") or "usd")) if amount is not None else None,
            str(recurring["interval"]) if recurring.get("interval") else None, int(recurring.get("interval_count") or 1)))
    return Phase(int(raw.get("start_date") or 0), int(raw.get("end_date") or 0), tuple(items))


def schedule_shape(snapshot: CaseSnapshot, sub: dict[str, Any]) -> ScheduleShape | None:
    """The schedule managing ``sub`` as of ``snapshot.now`` (None when it has none). A phase whose
    price the snapshot lacks keeps its id and quantity (its amount is None)."""
    sched = schedule_of(snapshot, sub)
    if sched is None:
        return None
    now = snapshot.now_ts
    prices = _prices(snapshot, sub)
    phases = [_phase(p, prices) for p in sched.get("phases") or []]
    status = str(sched.get("status") or "")
    current = next((p for p in phases if p.start <= now < p.end), None)
    upcoming = tuple(p for p in phases if p.start > now) if status in OPEN else ()
    ends = max((p.end for p in phases), default=None) if status in OPEN else None
    return ScheduleShape(str(sched.get("id")), status, str(sched.get("end_behavior") or "release"),
                         current, upcoming, ends)
