"""An amount the analyst names in the approval (``refund:ch_X:700``): a partial refund the
plan did not propose joins the plan and is guarded like any other; above what was paid it
is refused before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest
import stripe

from billing_nb.actions import Plan, revenue_impact
from billing_nb.actions import catalogue as cat
from billing_nb.actions.amounts import named_amount
from billing_nb.actions.ledger import Ledger
from billing_nb.analysis.classify import Bucket
from billing_nb.exceptions import ActionRefusedError, RefundTooLargeError, StaleTargetError, UnknownActionError
from billing_nb.money import Money
from billing_nb.sandbox.server import ThreadedSandbox
from test_actions_exec import case, client, customer, refund_action, refunds_of, refused, run, sb  # noqa: F401 - fixtures

pytestmark = pytest.mark.sandbox


def test_a_named_partial_refund_lands_once_and_is_counted(sb: ThreadedSandbox, client: stripe.StripeClient,
                                                          tmp_path: Path) -> None:
    ledger = Ledger.in_dir(tmp_path)
    cus, _ = customer(client)  # paid 2000
    snap, p, d = case(client, cus, Bucket.PRODUCT_FAILURE)
    charge = refund_action(p).split(":")[1]
    partial = f"refund:{charge}:700"
    done = run(p, [partial], "case-1", client, ledger, snap, d)
    assert [e.status for e in done] == ["succeeded"]
    assert [r.amount for r in refunds_of(client, charge)] == [700]
    action = p.get(partial)  # it joined the plan: the record and the handoff show it
    assert action.amount == Money(700, "usd") and "the plan proposed $20.00 USD" in action.preview
    assert "$7.00 USD" in action.preview and action.exclusive == f"money:{charge}"
    assert revenue_impact(p, done, snap)["refunded"] == {"value": 700, "currency": "usd"}
    # the same named amount from another case is the same effect: one refund
    snap2, p2, d2 = case(client, cus, Bucket.PRODUCT_FAILURE)
    assert run(p2, [partial], "case-2", client, ledger, snap2, d2)[0].status == "already_done"
    assert len(refunds_of(client, charge)) == 1
    # 1300 remains: 1500 is refused before anything is written, with the remaining amount named
    fresh = Ledger(tmp_path / "other.sqlite")
    refused(sb, fresh, RefundTooLargeError, lambda: run(p2, [f"refund:{charge}:1500"], "case-3", client, fresh, snap2,
                                                        d2), "above what remains refundable")


def test_named_amounts_that_cannot_be(sb: ThreadedSandbox, client: stripe.StripeClient, tmp_path: Path) -> None:
    ledger = Ledger.in_dir(tmp_path)
    cus, _ = customer(client)
    snap, p, d = case(client, cus, Bucket.PRODUCT_FAILURE)
    rid = refund_action(p)
    charge = rid.split(":")[1]
    refused(sb, ledger, RefundTooLargeError, lambda: run(p, [f"refund:{charge}:999999"], "c", client, ledger, snap, d),
            r"\$9,999.99 USD is above what remains refundable")
    refused(sb, ledger, ActionRefusedError, lambda: run(p, [f"refund:{charge}:700", rid], "c", client, ledger, snap, d),
            "alternatives")
    refused(sb, ledger, UnknownActionError, lambda: run(p, ["refund:ch_elsewhere123:700"], "c", client, ledger, snap,
                                                        d), "not in the plan")
    refused(sb, ledger, ActionRefusedError, lambda: run(p, [f"refund:{charge}:0"], "c", client, ledger, snap, d),
            "nothing to refund")
    assert refunds_of(client, charge) == []


def test_three_decimal_amounts_must_be_what_stripe_accepts() -> None:
    plan = Plan([cat.refund("ch_KWD", Money(5000, "kwd"), "requested_by_customer", "test")])
    with pytest.raises(ActionRefusedError, match="multiple of 10"):
        named_amount(plan, "refund:ch_KWD:1234")
    action = named_amount(plan, "refund:ch_KWD:1230")
    assert action is not None and action.amount == Money(1230, "kwd") and action.id == "refund:ch_KWD:1230"
    assert named_amount(plan, "refund:ch_KWD:5000") is None  # proposed already
    assert named_amount(plan, "cancel:sub_X:now") is None



def test_a_named_seat_count_lands_once(sb: ThreadedSandbox, client: stripe.StripeClient, tmp_path: Path) -> None:
    """"Why am I paying for 5 seats?": the planner keeps the seats and says to ask; the count the
    customer gives is approved as ``quantity:SUB:N``, which joins the plan (the note names it),
    changes the one per-seat item, counts the MRR change, and is one write from any case."""
    ledger = Ledger.in_dir(tmp_path)
    cus, _ = customer(client, quantity=5)
    snap, p, d = case(client, cus, Bucket.TEAM_SEATS)
    sub = next(iter(p.seats))
    assert not [a for a in p.actions if a.kind.value == "quantity"]  # nothing proposed ...
    assert any(f"approve quantity:{sub}:N" in n for n in p.notes)  # ... but the way to approve it is named
    done = run(p, [f"quantity:{sub}:2"], "case-1", client, ledger, snap, d)
    assert [e.status for e in done] == ["succeeded"]
    assert [i.quantity for i in client.v1.subscriptions.retrieve(sub).items.data] == [2]
    action = p.get(f"quantity:{sub}:2")
    assert "from 5 to 2 seats" in action.preview and "named in the approval" in action.preview
    assert revenue_impact(p, done, snap)["mrr_change"] == {"value": -6000, "currency": "usd"}
    snap2, p2, d2 = case(client, cus, Bucket.TEAM_SEATS)  # the same count again, from another case: no write
    assert run(p2, [f"quantity:{sub}:2"], "case-2", client, ledger, snap2, d2)[0].status == "already_done"


def test_named_seat_counts_that_cannot_be(sb: ThreadedSandbox, client: stripe.StripeClient, tmp_path: Path) -> None:
    ledger = Ledger.in_dir(tmp_path)
    cus, _ = customer(client, quantity=3)
    snap, p, d = case(client, cus, Bucket.TEAM_SEATS)
    sub = next(iter(p.seats))
    for wanted, why in ((0, "approve its cancel instead"), (3, "already has 3 seats")):
        refused(sb, ledger, ActionRefusedError, lambda w=wanted: run(p, [f"quantity:{sub}:{w}"], "c", client, ledger,
                                                                     snap, d), why)
    refused(sb, ledger, ActionRefusedError, lambda: run(p, [f"quantity:{sub}:1", f"quantity:{sub}:2"], "c", client,
                                                        ledger, snap, d), "alternatives")
    refused(sb, ledger, ActionRefusedError, lambda: run(p, ["quantity:sub_elsewhere1:2"], "c", client, ledger, snap,
                                                        d), "not a live subscription billed per seat")
    # a personal plan (one seat, not marked per seat) has no seat count to change
    solo, _ = customer(client)
    snap3, p3, d3 = case(client, solo, Bucket.TEAM_SEATS)
    solo_sub = next(s["id"] for s in snap3.of("subscriptions") if s["customer"] == solo)
    assert solo_sub not in p3.seats and sub in p3.seats  # (the same email: the other customer's seats are listed)
    refused(sb, ledger, ActionRefusedError, lambda: run(p3, [f"quantity:{solo_sub}:2"], "c", client, ledger, snap3,
                                                        d3), f"{solo_sub} is not a live subscription billed per seat")
    # the count changed since the snapshot: the guard refuses before writing
    client.v1.subscriptions.update(sub, {"items": [{"id": p.seats[sub][0], "quantity": 4}]})
    refused(sb, ledger, StaleTargetError, lambda: run(p, [f"quantity:{sub}:1"], "c", client, ledger, snap, d),
            "seat count changed since the snapshot")
