"""Acceptance on the seeded demo account: each customer's plan is the one the skill would
make, approving it executes exactly those actions, the sandbox shows it, and a re-run
does nothing new."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import stripe

from billing_nb.reading.waves import build_snapshot
from billing_nb.actions import ExecutedAction, Plan, execute, plan, revenue_impact
from billing_nb.analysis.classify import Bucket, Decision
from billing_nb.config import Settings
from billing_nb.analysis.contract import contract_shapes, fetch_stripe_figures, refund_options, with_stripe_amounts
from billing_nb.demo.stories import DemoCustomer
from billing_nb.analysis.identify import identify
from billing_nb.actions.ledger import Ledger
from billing_nb.reading.provider import StripeReader
from billing_nb.demo.seed import seed_demo
from billing_nb.sandbox.server import ThreadedSandbox
from billing_nb.reading.snapshot import CaseSnapshot

pytestmark = pytest.mark.sandbox

#: The plan per story, as action-id patterns in order (X = any id).
EXPECTED = {
    "dup_personal": ["cancel:X:now", "refund:X:2000", "document:X"],
    "dup_customer": ["cancel:X:now", "refund:X:2000", "refund:X:2000", "document:X"],
    "team": ["document:X"],
    "failed_renewal": ["portal:X:payment_method_update", "retry:X", "document:X"],
    "stale_card": ["portal:X:payment_method_update", "default_pm:X:X", "retry:X", "document:X"],
    "incomplete_checkout": ["portal:X:payment_method_update", "document:X"],
    "annual_refund": ["cancel:X:now", "credit_note:X:N", "document:X"],
    "annual_upgrade": ["portal:X:home", "document:X"],
    "cant_cancel": ["cancel:X:at_period_end", "document:X"],
    "product_broken": ["refund:X:2000", "document:X"],
    "disputed": ["document:X"],
    "renewal_regret": ["cancel:X:now", "credit_note:X:20000", "credit_note:X:N", "document:X"],
    "healthy_refund": ["portal:X:home", "document:X"],
}


def matches(pattern: str, action_id: str) -> bool:
    regex = "^" + re.escape(pattern).replace("X", r"[A-Za-z0-9_]+").replace("N", r"\d+") + "$"
    return re.match(regex, action_id) is not None


@dataclass
class Case:
    demo: DemoCustomer
    snapshot: CaseSnapshot
    decision: Decision
    plan: Plan


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[stripe.StripeClient, dict[str, Case]]]:
    with ThreadedSandbox() as sb:
        client = stripe.StripeClient("sk_test_123", base_addresses={"api": sb.url}, max_network_retries=0)
        cases: dict[str, Case] = {}
        for d in seed_demo(client):
            reader = StripeReader(client)
            snap = build_snapshot(reader, d.lookup)
            shapes = contract_shapes(snap)
            options = [o for s in shapes for o in refund_options(snap, s)]
            options = with_stripe_amounts(options, fetch_stripe_figures(reader, options))
            assert not any(o.mismatch for o in options), (d.story, options)
            bucket = Bucket(d.expected_bucket)
            decision = Decision(bucket, bucket, "parameter", 1.0, ())
            cases[d.story] = Case(d, snap, decision, plan(snap, identify(snap), decision, shapes, options))
        yield client, cases


@pytest.mark.parametrize("story", sorted(EXPECTED))
def test_demo_plan_is_the_skills(demo: tuple[stripe.StripeClient, dict[str, Case]], story: str) -> None:
    case = demo[1][story]
    ids = case.plan.ids
    assert len(ids) == len(EXPECTED[story]) and all(matches(p, i) for p, i in zip(EXPECTED[story], ids)), ids
    steps = [(a.step, not a.reversible) for a in case.plan.actions]
    assert steps == sorted(steps)
    if case.decision.bucket in (Bucket.UNCLEAR, Bucket.FAILED_PAYMENT, Bucket.TEAM_SEATS):
        assert not any(a.kind.value in ("refund", "credit_note") for a in case.plan.actions)


def test_dispute_note(demo: tuple[stripe.StripeClient, dict[str, Case]]) -> None:
    notes = demo[1]["disputed"].plan.notes
    assert any("Answer dispute" in n and "never refunded" in n for n in notes)


def approvals(p: Plan) -> list[str]:
    """Everything, taking the first of each group of alternatives."""
    seen: set[str] = set()
    chosen = []
    for a in p.actions:
        if a.exclusive and a.exclusive in seen:
            continue
        if a.exclusive:
            seen.add(a.exclusive)
        chosen.append(a.id)
    return chosen


def check_state(client: stripe.StripeClient, case: Case, done: list[ExecutedAction]) -> None:
    status = {e.action_id: e for e in done}
    for action in case.plan.actions:
        if action.id not in status or status[action.id].status != "succeeded":
            continue
        obj = status[action.id].stripe_object or ""
        kind = action.kind.value
        if kind == "refund":
            refunds = [r for r in client.v1.refunds.list({"charge": action.target}).auto_paging_iter()]
            assert [r.id for r in refunds] == [obj] and refunds[0].amount == action.amount.amount  # type: ignore[union-attr]
        elif kind == "credit_note":
            notes = list(client.v1.credit_notes.list({"invoice": action.target}).auto_paging_iter())
            assert [n.id for n in notes] == [obj] and notes[0].total == action.amount.amount  # type: ignore[union-attr]
        elif kind == "cancel":
            sub = client.v1.subscriptions.retrieve(action.target)
            assert (sub.status == "canceled") if action.params["mode"] == "now" else sub.cancel_at_period_end
            assert sub.metadata["billing_nb_action"] == action.id
        elif kind == "portal":  # on the demo's own configuration, not the account's default
            assert obj.startswith("bps_") and action.params["configuration"] == case.demo.objects["portal_configuration"]
        elif kind == "document":
            assert client.v1.customers.retrieve(action.target).metadata["billing_nb_reason"] == case.decision.bucket


@pytest.mark.parametrize("story", sorted(EXPECTED))
def test_demo_execute_exactly_the_plan_twice(demo: tuple[stripe.StripeClient, dict[str, Case]], story: str,
                                             tmp_path: Path) -> None:
    client, cases = demo
    case = cases[story]
    led = Ledger.in_dir(tmp_path)
    urls: list[tuple[str, str]] = []
    approve = approvals(case.plan)
    kw = dict(client=client, ledger=led, settings=Settings(api_key="sk_test_123"), snapshot=case.snapshot,
              decision=case.decision)
    first = execute(case.plan, approve, case_id=f"demo-{story}", reveal=lambda a, u: urls.append((a, u)), **kw)
    assert [e.action_id for e in first] == approve
    expected_fail = {"failed_renewal": "retry:"}  # the same failing card is still pinned: the retry declines
    for e in first:
        if story in expected_fail and e.action_id.startswith(expected_fail[story]):
            assert e.status == "failed" and e.request_id and "declin" in (e.error or "").lower()
        else:
            assert e.status == "succeeded", e
    check_state(client, case, first)
    portal = [e for e in first if e.action_id.startswith("portal:")]
    assert [a for a, _ in urls] == [e.action_id for e in portal]
    record = repr([e.as_case_json() for e in first]) + repr(led.entries())
    assert not any(u in record for _, u in urls), "a portal URL (a bearer link) was stored"
    again = execute(case.plan, approve, case_id=f"demo-{story}-rerun", **kw)
    for e in again:
        if e.action_id.startswith(("portal:", "document:")) or story in expected_fail:
            continue
        assert e.status == "already_done", e
    check_state(client, case, first)
    impact = revenue_impact(case.plan, first, case.snapshot)
    if story == "annual_refund":
        note = next(a for a in case.plan.actions if a.kind.value == "credit_note")
        # its refund_amount went back to the card: booked as refunded (only balance credit is "credited")
        assert impact["refunded"]["value"] == note.amount.amount  # type: ignore[union-attr]
        assert impact["credited"]["value"] == 0
        assert impact["mrr_change"]["value"] < 0 and impact["arr_change"]["value"] < 0
