"""State evidence: disputes by status, seat holders under any key, seat changes, balance, refunds."""

from __future__ import annotations

from billing_nb.analysis.classify import Bucket, classify
from billing_nb.analysis.identify import identify
from billing_nb.analysis.state import read_state
from tests.fixtures import builders as b
from tests.fixtures.corpus import snapshot_for


def test_a_lost_dispute_is_never_described_as_no_disputed_payments() -> None:
    snap = snapshot_for({"preset": "dispute", "status": "lost", "reason": "fraudulent"})
    c = classify(snap, identify(snap), "Please refund me")
    text = " ".join(c.evidence)
    assert "no failed, duplicate or disputed payments" not in text and "no disputes" not in text
    assert "is lost" in text and "bank returned the money" in text
    assert c.suggested is Bucket.UNCLEAR  # nothing left to refund


def test_a_won_dispute_is_evidence_only() -> None:
    snap = snapshot_for({"preset": "dispute", "status": "won", "reason": "product_not_received"})
    c = classify(snap, identify(snap), "The exports have been broken since Monday")
    assert c.suggested is Bucket.PRODUCT_FAILURE
    assert any("is won" in e for e in c.evidence)


def test_seat_holders_under_any_metadata_key_make_a_team() -> None:
    for key, people in (("assigned_to", ["ana@acme.test", "ben@acme.test"]), ("seat_holder_name", ["Carla", "Dev"]),
                        ("licensee", ["x1", "x2"]), ("notes", ["ana@acme.test", "ben@acme.test"])):
        snap = snapshot_for({"preset": "duplicate", "gap_min": 3, "users": people, "user_key": key})
        c = classify(snap, identify(snap), "why two charges?")
        assert c.suggested is Bucket.TEAM_SEATS, key
        assert any("2 different users/seats" in e for e in c.evidence)


def test_unrelated_metadata_does_not_make_a_team() -> None:
    snap = snapshot_for({"preset": "duplicate", "gap_min": 3, "users": ["web", "ios"], "user_key": "source"})
    assert classify(snap, identify(snap), "charged twice").suggested is Bucket.DUPLICATE_SUBSCRIPTION


def test_deliberate_quantity_change_is_read_from_events_and_proration_lines() -> None:
    snap = snapshot_for({"preset": "seats", "quantity": 8, "from_quantity": 5, "per_seat": True})
    state = read_state(snap, identify(snap))
    assert [(q.old, q.new) for q in state.seats_raised] == [(5, 8)]
    cust = b.customer()
    sub = b.subscription(cust, quantity=8)
    inv = b.invoice(sub, billing_reason="subscription_update", amount=4500, proration=True)
    line = inv["lines"]["data"][0]
    credit = {**line, "id": "il_credit", "amount": -7500, "quantity": 5}
    inv["lines"]["data"] = [credit, {**line, "amount": 12000, "quantity": 8}]
    snap2 = b.snapshot([cust], subscriptions=[sub], invoices=[inv])
    assert [(q.old, q.new) for q in read_state(snap2, identify(snap2)).quantity_changes] == [(5, 8)]


def test_balance_refunds_and_credit_notes_are_weighed() -> None:
    cust = b.customer()
    cust["balance"] = -1500
    sub = b.subscription(cust)
    invoices, charges = b.paid_history(cust, sub)
    refund = {"id": "re_1", "object": "refund", "charge": charges[0]["id"], "amount": 2000, "currency": "usd",
              "status": "succeeded", "reason": "requested_by_customer", "created": charges[0]["created"] + 100}
    note = {"id": "cn_1", "object": "credit_note", "invoice": invoices[1]["id"], "total": 500, "currency": "usd",
            "status": "issued", "reason": "order_change", "created": invoices[1]["created"] + 100}
    snap = b.snapshot([cust], subscriptions=[sub], invoices=invoices, charges=charges, refunds=[refund],
                      credit_notes=[note])
    c = classify(snap, identify(snap), "Please refund my last payment")
    text = " | ".join(c.evidence)
    assert "credit balance of $15.00 USD" in text
    assert "earlier refund re_1 of $20.00 USD" in text and "credit note cn_1 of $5.00 USD" in text
