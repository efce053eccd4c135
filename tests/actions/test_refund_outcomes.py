"""A refund is booked by the status Stripe gives it, and a refund Stripe failed later is neither
done nor retried under its key (Stripe answers the same key with the same failed refund).

The sandbox's refund test cards (docs.stripe.com/testing, "Refunds"): ``pm_card_refundFail``
refunds succeed, then fail a day later; ``pm_card_pendingRefund`` refunds stay pending a day.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import stripe

from billing_nb.actions import idempotency_key, revenue_impact
from billing_nb.actions.ledger import Ledger
from billing_nb.analysis.classify import Bucket
from test_actions_exec import DAY, T0, advance, case, customer, refund_action, refunds_of, run

pytestmark = pytest.mark.sandbox


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger.in_dir(tmp_path)


def test_refund_that_failed_later_is_not_done_not_counted_and_not_retried(
        client: stripe.StripeClient, ledger: Ledger, tmp_path: Path) -> None:
    cus, clock = customer(client, "pm_card_refundFail")
    snap, p, d = case(client, cus, Bucket.PRODUCT_FAILURE)
    rid = refund_action(p)
    charge = rid.split(":")[1]
    first = run(p, [rid], "case-1", client, ledger, snap, d)
    assert [(e.status, e.stripe_status) for e in first] == [("succeeded", "succeeded")]
    assert revenue_impact(p, first, snap)["refunded"]["value"] == p.get(rid).amount.amount
    advance(client, clock, T0 + 6 * DAY)  # the card refund fails a day after it was made
    assert client.v1.refunds.retrieve(first[0].stripe_object).status == "failed"
    key = idempotency_key(p.get(rid), "case-2")
    for case_id, led in (("case-2", ledger), ("case-3", Ledger(tmp_path / "lost.sqlite3"))):
        again = run(p, [rid], case_id, client, led, snap, d)
        assert [(e.status, e.stripe_object, e.stripe_status) for e in again] == [
            ("refund_failed", first[0].stripe_object, "failed")]
        assert again[0].idempotency_key == key and f"{rid}#2" in str(again[0].error)
        assert revenue_impact(p, again, snap)["refunded"]["value"] == 0
    assert len(refunds_of(client, charge)) == 1  # the same key was not sent again
    # a re-run whose new plan no longer holds the approval: the ledger's "done" gives way to Stripe's failure
    snap2, p2, d2 = case(client, cus, Bucket.PRODUCT_FAILURE)
    later = run(p2, [rid], "case-4", client, ledger, snap2, d2)
    assert [(e.status, e.stripe_status) for e in later] == [("refund_failed", "failed")]
    assert revenue_impact(p2, later, snap2)["refunded"]["value"] == 0
    # the new remedy is a new effect with its own key
    remedy = run(p, [f"{rid}#2"], "case-5", client, ledger, snap, d)
    assert remedy[0].status == "succeeded" and remedy[0].idempotency_key != key
    assert len(refunds_of(client, charge)) == 2


def test_pending_refund_is_booked_pending_not_refunded(client: stripe.StripeClient, ledger: Ledger) -> None:
    cus, _ = customer(client, "pm_card_pendingRefund")
    snap, p, d = case(client, cus, Bucket.PRODUCT_FAILURE)
    rid = refund_action(p)
    done = run(p, [rid], "case-p", client, ledger, snap, d)
    assert [(e.status, e.stripe_status) for e in done] == [("succeeded", "pending")]
    assert done[0].as_case_json()["stripe_status"] == "pending"
    impact = revenue_impact(p, done, snap)
    amount = p.get(rid).amount.amount
    assert impact["refunded"]["value"] == 0 and impact["refund_pending"] == {"value": amount, "currency": "usd"}
