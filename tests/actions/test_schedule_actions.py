"""Subscriptions a subscription schedule manages, end to end through the official SDK against the
sandbox: the case shows the coming phases and the schedule's end; a seat change and a cancel act
through the schedule (a direct change is undone by the next phase, and Stripe refuses a direct
cancellation change); a re-run writes nothing twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from billing_nb.actions import Plan, execute, plan
from billing_nb.actions import catalogue as cat
from billing_nb.actions.schedules import through_schedules
from billing_nb.actions.ledger import Ledger
from billing_nb.analysis.classify import Bucket, Decision
from billing_nb.analysis.contract import contract_shapes, refund_options
from billing_nb.analysis.identify import identify
from billing_nb.config import Settings
from billing_nb.reading.provider import StripeReader
from billing_nb.reading.snapshot import CaseSnapshot
from billing_nb.reading.waves import build_snapshot
from billing_nb.sandbox.server import ThreadedSandbox

pytestmark = pytest.mark.sandbox

T0 = 1787552562  # 2026-08-24T06:22:42Z
DAY = 86400
SETTINGS = Settings(api_key="sk_test_123")


def posts(sb: ThreadedSandbox) -> int:
    return sum(1 for r in sb.store.request_log if r["method"] == "POST")


def advance(c: stripe.StripeClient, clock: str, to: int) -> None:
    at = int(c.v1.test_helpers.test_clocks.retrieve(clock).frozen_time)
    while at < to:
        at = min(to, at + 28 * DAY)
        state = c.v1.test_helpers.test_clocks.advance(clock, {"frozen_time": at})
        while state.status != "ready":
            time.sleep(0.02)
            state = c.v1.test_helpers.test_clocks.retrieve(clock)


def annual(c: stripe.StripeClient, seats: int = 10) -> dict[str, Any]:
    """An annual per-seat subscription, 30 days in, on a test clock."""
    clock = c.v1.test_helpers.test_clocks.create({"frozen_time": T0})
    cus = c.v1.customers.create({"email": f"ramp-{clock.id[-8:].lower()}@example.com", "test_clock": clock.id})
    pm = c.v1.payment_methods.attach("pm_card_visa", {"customer": cus.id})
    c.v1.customers.update(cus.id, {"invoice_settings": {"default_payment_method": pm.id}})
    prod = c.v1.products.create({"name": "Team", "unit_label": "seat"})
    big = c.v1.prices.create({"product": prod.id, "unit_amount": 12000, "currency": "usd",
                              "recurring": {"interval": "year"}})  # type: ignore[typeddict-item]
    small = c.v1.prices.create({"product": prod.id, "unit_amount": 9000, "currency": "usd",
                                "recurring": {"interval": "year"}})  # type: ignore[typeddict-item]
    sub = c.v1.subscriptions.create({"customer": cus.id, "items": [{"price": big.id, "quantity": seats}]})
    advance(c, clock.id, T0 + 30 * DAY)
    return {"clock": clock.id, "customer": cus.id, "sub": sub.id, "big": big.id, "small": small.id,
            "item": sub["items"].data[0].id, "end": int(sub["items"].data[0].current_period_end)}


def schedule(c: stripe.StripeClient, a: dict[str, Any], next_items: list[dict[str, Any]], end_behavior: str) -> str:
    sched = c.v1.subscription_schedules.create({"from_subscription": a["sub"]})
    first = sched.phases[0]
    c.v1.subscription_schedules.update(sched.id, {"end_behavior": end_behavior, "phases": [  # type: ignore[typeddict-item]
        {"items": [{"price": a["big"], "quantity": 10}], "start_date": first.start_date, "end_date": first.end_date},
        {"items": next_items, "duration": {"interval": "year", "interval_count": 1}}]})
    return sched.id


def decided(bucket: Bucket) -> Decision:
    return Decision(suggested=bucket, bucket=bucket, confirmed_by="parameter", confidence=1.0, evidence=())


def case(c: stripe.StripeClient, cus: str, bucket: Bucket, **kw: Any) -> tuple[CaseSnapshot, Plan, Decision]:
    snap = build_snapshot(StripeReader(c), cus)
    shapes = contract_shapes(snap)
    options = [o for s in shapes for o in refund_options(snap, s)]
    d = decided(bucket)
    return snap, plan(snap, identify(snap), d, shapes, options, **kw), d


def run(p: Plan, approve: list[str], case_id: str, c: stripe.StripeClient, led: Ledger, snap: CaseSnapshot,
        d: Decision) -> list[Any]:
    return execute(p, approve, case_id=case_id, client=c, ledger=led, settings=SETTINGS, snapshot=snap, decision=d)


def test_a_scheduled_downgrade_at_renewal_shows_in_the_case(client: stripe.StripeClient) -> None:
    plain = annual(client)
    a = annual(client)
    sid = schedule(client, a, [{"price": a["small"], "quantity": 5}], "cancel")
    snap = build_snapshot(StripeReader(client), a["customer"])
    alone = build_snapshot(StripeReader(client), plain["customer"])
    # read with the subscriptions (expanded), not by an extra request
    assert snap.request_count == alone.request_count and snap.waves == alone.waves
    assert [s["id"] for s in snap.of("subscription_schedules")] == [sid]
    assert snap.by_id(a["sub"])["schedule"] == sid  # type: ignore[index]
    shape = next(s for s in contract_shapes(snap) if s.subscription_id == a["sub"])
    assert shape.mrr.amount == 12000 * 10 // 12  # today's phase
    assert shape.schedule is not None and shape.schedule.managing and shape.schedule.cancels
    (coming,) = shape.schedule.upcoming
    assert (coming.start, [(i.price, i.quantity) for i in coming.items]) == (a["end"], [(a["small"], 5)])
    assert shape.schedule.ends_at == coming.end
    assert any("cancels the subscription" in line for line in shape.schedule.lines())
    state = identify(snap).billing_state()
    row = next(s for s in state["subscriptions"] if s["id"] == a["sub"])
    assert row["schedule"]["end_behavior"] == "cancel"
    assert [(p["start"], p["items"][0]["price"], p["items"][0]["quantity"])
            for p in row["schedule"]["upcoming_phases"]] == [(a["end"], a["small"], 5)]
    assert shape.as_case_json()["schedule"]["upcoming_phases"][0]["start"] == a["end"]
    plain_shape = next(s for s in contract_shapes(alone) if s.subscription_id == plain["sub"])
    assert plain_shape.schedule is None


def test_a_seat_reduction_acts_through_the_schedule_and_survives_the_next_phase(
        sb: ThreadedSandbox, client: stripe.StripeClient, tmp_path: Path) -> None:
    a = annual(client)
    sid = schedule(client, a, [{"price": a["big"], "quantity": 10}], "release")  # the renewal year, 10 seats
    snap, p, d = case(client, a["customer"], Bucket.TEAM_SEATS, seats=6)
    assert not any(x.id.startswith("quantity:") for x in p.actions)
    seats = next(x for x in p.actions if x.id == f"schedule:{sid}:seats:6")
    assert seats.target == sid and "managed by subscription schedule" in " ".join(p.notes)
    ledger = Ledger.in_dir(tmp_path)
    first = run(p, [seats.id], "case-1", client, ledger, snap, d)
    assert [e.status for e in first] == ["succeeded"]
    after = client.v1.subscription_schedules.retrieve(sid)
    assert [[i.quantity for i in ph["items"]] for ph in after.phases] == [[6], [6]]
    assert client.v1.subscriptions.retrieve(a["sub"])["items"].data[0].quantity == 6
    # idempotent: the same approval again, or from a lost ledger, writes nothing
    before = posts(sb)
    assert run(p, [seats.id], "case-1", client, ledger, snap, d)[0].status == "already_done"
    assert run(p, [seats.id], "case-2", client, Ledger(tmp_path / "lost.sqlite3"), snap, d)[0].status == "already_done"
    assert posts(sb) == before
    advance(client, a["clock"], a["end"] + 2 * 3600)
    renewed = client.v1.subscriptions.retrieve(a["sub"])
    assert renewed["items"].data[0].quantity == 6  # the next phase keeps the reduction


def test_a_cancel_leaves_no_schedule_that_bills_on(sb: ThreadedSandbox, client: stripe.StripeClient,
                                                  tmp_path: Path) -> None:
    a = annual(client)
    sid = schedule(client, a, [{"price": a["small"], "quantity": 5}], "release")
    snap, p, d = case(client, a["customer"], Bucket.PRODUCT_FAILURE)
    assert not any(x.id.startswith("cancel:") for x in p.actions)
    cancel = p.get(f"schedule:{sid}:cancel_now")
    money = [x for x in p.actions if x.moves_money]
    assert money and all(cancel.id in x.requires for x in money)  # the refund still needs the cancel
    ledger = Ledger.in_dir(tmp_path)
    done = run(p, [cancel.id, money[0].id], "case-c", client, ledger, snap, d)
    assert [e.status for e in done] == ["succeeded", "succeeded"]
    assert client.v1.subscription_schedules.retrieve(sid).status == "canceled"
    assert client.v1.subscriptions.retrieve(a["sub"]).status == "canceled"
    before = posts(sb)
    assert {e.status for e in run(p, [cancel.id, money[0].id], "case-c", client, ledger, snap, d)} == {"already_done"}
    assert posts(sb) == before
    advance(client, a["clock"], a["end"] + 2 * 3600)
    assert [i.billing_reason for i in client.v1.invoices.list({"subscription": a["sub"]}).data] == ["subscription_create"]


def test_cancel_at_period_end_ends_the_schedule_with_the_period(sb: ThreadedSandbox, client: stripe.StripeClient,
                                                                tmp_path: Path) -> None:
    a = annual(client)
    sid = schedule(client, a, [{"price": a["small"], "quantity": 5}], "release")
    snap = build_snapshot(StripeReader(client), a["customer"])
    d = decided(Bucket.MISSING_SELF_SERVE)
    # what the planner plans when the portal cannot cancel: a cancel at period end, made on the schedule
    routed, notes = through_schedules(snap, [cat.cancel_at_period_end(a["sub"], a["end"], "other")])
    p = Plan(routed, notes)
    action = p.get(f"schedule:{sid}:cancel_at_period_end")
    assert [x.id for x in routed] == [action.id] and action.exclusive == f"cancel:{a['sub']}"
    ledger = Ledger.in_dir(tmp_path)
    assert [e.status for e in run(p, [action.id], "case-e", client, ledger, snap, d)] == ["succeeded"]
    sched = client.v1.subscription_schedules.retrieve(sid)
    assert sched.end_behavior == "cancel" and [ph.end_date for ph in sched.phases] == [a["end"]]
    before = posts(sb)
    assert run(p, [action.id], "case-f", client, Ledger(tmp_path / "lost.sqlite3"), snap, d)[0].status == "already_done"
    assert posts(sb) == before
    advance(client, a["clock"], a["end"] + 2 * 3600)
    sub = client.v1.subscriptions.retrieve(a["sub"])
    assert (sub.status, sub.ended_at) == ("canceled", a["end"])
    assert [i.billing_reason for i in client.v1.invoices.list({"subscription": a["sub"]}).data] == ["subscription_create"]
