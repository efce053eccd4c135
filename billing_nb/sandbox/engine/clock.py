"""Time in the sandbox: what falls due, in time order, as a test clock advances or wall-clock
time passes.

Every renewal, dunning retry, finalization, expiry, trial notice, resumption and refund
settlement of a customer is found by :func:`_next_due` and run at its own simulated moment, so one clock
advance over months behaves like the months passing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .core import (AUTO_FINALIZE, INCOMPLETE_TTL, LIVE, TRIAL_WILL_END, auto_finalize, expire_incomplete,
                   period_of, renew, retry_invoice, subscription_of)
from .schedule import overdue, resume_collection, trial_will_end
from . import phases as eph
from .refunds import refund_due, settle_refund
from ..store import Obj, Store

__all__ = ["advance_clock", "catch_up", "forget_next_due"]

#: ``store.caught_up`` keys of the account-wide catch-up's memo: when anything of the wall-clock
#: customers falls due next, and the store's shape it was computed on.
_NEXT, _SEEN = "*next", "*seen"
_NEVER = 2**62


def _of(store: Store, kind: str, customers: set[str], **equals: object) -> Iterable[Obj]:
    """A kind's objects that may fall due, newest first. One customer (a read's catch-up, a
    clock with one customer) walks that customer's index, so a read costs its customer's
    objects, not the account's; more customers scan the kind, keeping its order, read-only
    (``store.scan``: not recorded as touched for ``--state``; :func:`_run_due` touches what it runs)."""
    if len(customers) == 1:
        (customer,) = customers
        return (o for o in store.newest(kind, customer=customer) if all(o.get(k) == v for k, v in equals.items()))
    return [o for o in reversed(store.scan(kind)) if all(o.get(k) == v for k, v in equals.items())]


def _next_due(store: Store, customers: set[str], to: int) -> tuple[int, int, str, Obj] | None:
    best: tuple[int, int, str, Obj] | None = None

    def consider(t: int, order: int, kind: str, obj: Obj) -> None:
        nonlocal best
        if t <= to and (best is None or (t, order) < (best[0], best[1])):
            best = (t, order, kind, obj)

    for inv in _of(store, "invoice", customers, status="open"):
        if inv["customer"] in customers and inv.get("next_payment_attempt") and inv.get("auto_advance"):
            consider(int(inv["next_payment_attempt"]), 0, "retry", inv)
        if inv["customer"] in customers and inv["collection_method"] == "send_invoice" and inv.get("due_date") \
                and not inv.get("_overdue") and subscription_of(store, inv) is not None:
            consider(int(inv["due_date"]), 0, "overdue", inv)
    for inv in _of(store, "invoice", customers, status="draft"):
        if inv["customer"] in customers and inv.get("auto_advance"):
            consider(int(inv["created"]) + AUTO_FINALIZE, 0, "finalize", inv)
    for sched in _of(store, eph.KIND, customers, status="active"):
        when = eph.due(sched)
        if sched["customer"] in customers and when is not None:
            consider(when, 1, "phase", sched)  # before the renewal at the same second
    for refund in _of(store, "refund", customers):
        when = refund_due(refund)
        if when is not None and refund.get("customer") in customers:
            consider(when, 0, "refund", refund)
    for sub in _of(store, "subscription", customers):
        if sub["customer"] not in customers:
            continue
        if sub["status"] == "incomplete":
            consider(int(sub["created"]) + INCOMPLETE_TTL, 1, "expire", sub)
        elif sub["status"] in LIVE:
            resumes = (sub.get("pause_collection") or {}).get("resumes_at")
            if resumes:
                consider(int(resumes), 1, "resume", sub)
            if sub["status"] == "trialing" and sub.get("trial_end") and not sub.get("_trial_will_end"):
                consider(max(int(sub["trial_end"]) - TRIAL_WILL_END, int(sub["trial_start"] or 0)), 1,
                         "trial_will_end", sub)
            end = period_of(sub)[1]
            if sub.get("cancel_at") is not None:
                end = min(end, int(sub["cancel_at"]))
            consider(end, 2, "cycle", sub)
    return best


#: What each kind of due work runs (``_next_due`` names the kind).
_RUN: dict[str, Callable[[Store, Obj], object]] = {
    "retry": retry_invoice, "overdue": overdue, "finalize": auto_finalize, "expire": expire_incomplete,
    "trial_will_end": trial_will_end, "resume": resume_collection, "cycle": renew,
    "phase": eph.transition, "refund": settle_refund,
}


def _run_due(store: Store, customers: set[str], to: int, clock: Obj | None) -> int:
    """Run everything due by ``to`` in time order; the time the next thing falls due after
    that (:data:`_NEVER` when nothing will). The earliest of all is the earliest of those
    due by ``to`` whenever one is, so one scan answers both."""
    for _ in range(100_000):
        due = _next_due(store, customers, _NEVER)
        if due is None:
            return _NEVER
        when, _order, kind, obj = due
        if when > to:
            return when
        store.caught_up.pop(_NEXT, None)  # what ran may make something else due sooner
        store.touch(obj)  # the scan hands nothing out: what runs is recorded for the journal
        if clock is not None:
            clock["frozen_time"] = max(int(clock["frozen_time"]), when)
        _RUN[kind](store, obj)
    return _NEVER


def advance_clock(store: Store, clock_id: str, to: int) -> Obj:
    """Move a test clock to ``to``, running every due renewal, retry and expiry of the
    clock's customers in time order, each at its own simulated moment."""
    clock = store.get("test_helpers.test_clock", clock_id)
    customers = {c["id"] for c in store.scan("customer") if c.get("test_clock") == clock_id}
    _run_due(store, customers, to, clock)
    clock["frozen_time"] = to
    return clock


def catch_up(store: Store, customer_id: str | None = None) -> None:
    """Run work that wall-clock time has made due (customers without a test clock), so a
    long-running sandbox renews and expires subscriptions as real time passes."""
    now = store.wall_now()
    key = customer_id or "*"
    if store.caught_up.get(key) == now:  # times are whole seconds: nothing more fell due since
        return
    if customer_id is not None:
        cust = store.maybe("customer", customer_id)
        customers = {customer_id} if cust is not None and not cust.get("test_clock") else set()
        if customers:
            _run_due(store, customers, now, None)
        store.caught_up[key] = now
        return
    # the whole account (an unfiltered list): scanning it took 0.35 s at 50k subscriptions, and
    # a sync listing subscriptions paid it on every page; the scan also gives when anything falls
    # due next, and until then, with no write since (forget_next_due) and the same number of
    # objects (an insert straight into the store), nothing can be due
    seen = _shape(store)
    memo = store.caught_up.get(_NEXT)
    if memo is None or now >= memo or store.caught_up.get(_SEEN) != seen:
        customers = {c["id"] for c in store.scan("customer") if not c.get("test_clock")}
        memo = _run_due(store, customers, now, None) if customers else _NEVER
        store.caught_up[_NEXT], store.caught_up[_SEEN] = memo, _shape(store)
    store.caught_up[key] = now


def _shape(store: Store) -> int:
    return hash(tuple(store.count(k) for k in ("customer", "subscription", "invoice", "event")))


def forget_next_due(store: Store) -> None:
    """After a write: the account-wide catch-up scans again (a write can make work due sooner)."""
    store.caught_up.pop(_NEXT, None)
