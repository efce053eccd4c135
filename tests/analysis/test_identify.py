"""identify(): summary rows, frames, billing_state and every anomaly kind, on hand-built snapshots."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from billing_nb.analysis.identify import ANOMALY_KINDS, identify
from tests.fixtures import builders as b
from tests.fixtures.builders import DAY, NOW


def healthy() -> b.CaseSnapshot:
    cust = b.customer(default_pm="pm_card_visa_1")
    sub = b.subscription(cust, default_pm="pm_card_visa_1")
    invoices, charges = b.paid_history(cust, sub)
    return b.snapshot([cust], subscriptions=[sub], invoices=invoices, charges=charges,
                      products=[b.product()], portal_configurations=[b.portal_config()])


def test_healthy_customer_has_no_anomalies_and_a_full_summary() -> None:
    snap = healthy()
    s = identify(snap)
    assert s.anomalies == []
    assert s.customer_id == snap.primary_customer_id
    assert s.email_masked == "j***@example.com"
    assert len(s.active_subscriptions) == 1
    row = s.subscriptions[0]
    assert (row.price, row.product, row.interval, row.quantity, row.unit_amount) == ("price_pro_monthly", "prod_pro", "month", 1, 2000)
    assert row.current_period_end > row.current_period_start > 0  # read from the item (current API)
    # invoice -> subscription via parent, invoice -> payment intent -> charge via payments
    inv = s.invoices[0]
    assert inv.subscription == row.id and inv.payment_intent and inv.charge
    assert {c.invoice for c in s.charges} == {i.id for i in s.invoices}


def test_old_invoice_shape_is_read_too() -> None:
    snap = healthy()
    for inv in snap.of("invoices"):
        inv["subscription"] = inv.pop("parent")["subscription_details"]["subscription"]
        inv["payment_intent"] = inv.pop("payments")["data"][0]["payment"]["payment_intent"]
    s = identify(snap)
    assert all(i.subscription and i.payment_intent for i in s.invoices)


def test_frames_and_billing_state() -> None:
    s = identify(healthy())
    frames = s.frames()
    assert set(frames) == {"customers", "subscriptions", "invoices", "charges", "refunds", "disputes", "anomalies"}
    assert all(isinstance(f, pd.DataFrame) for f in frames.values())
    subs = frames["subscriptions"]
    assert subs.loc[0, "amount"] == "$20.00 USD"
    created = subs.loc[0, "created"]
    assert isinstance(created, datetime) and created.utcoffset() is not None and created.utcoffset().total_seconds() == 0
    assert "jane.doe@example.com" not in frames["customers"].to_string()
    state = s.billing_state()
    assert set(state) == {"subscriptions", "invoices", "anomalies", "credits", "truncated", "disputes", "one_off_charges"}
    assert set(state["subscriptions"][0]) == {"id", "status", "price", "product", "interval", "quantity",
                                              "current_period_end", "cancel_at_period_end", "per_seat", "unit_amount",
                                              "interval_count", "pause_collection", "schedule"}
    assert set(state["invoices"][0]) == {"id", "status", "billing_reason", "subscription", "amount_due", "amount_paid",
                                         "currency", "created", "attempt_count", "total", "paid_from_balance",
                                         "tax", "tax_name", "collection_method", "due_date", "paid_off_stripe"}


def test_duplicate_active_subscription_on_one_customer() -> None:
    cust = b.customer()
    s1 = b.subscription(cust, created=NOW - 18 * DAY)
    s2 = b.subscription(cust, created=NOW - 18 * DAY + 420)
    s3 = b.subscription(cust, b.price("price_other", "prod_other"), created=NOW - 5 * DAY)  # other product: fine
    found = identify(b.snapshot([cust], subscriptions=[s1, s2, s3])).anomalies_of("duplicate_active_subscription")
    assert len(found) == 1
    assert set(found[0].objects) == {s1["id"], s2["id"]}
    assert "7 min apart" in found[0].detail


def test_duplicate_across_customer_objects_sharing_an_email() -> None:
    c1, c2 = b.customer(created=NOW - 90 * DAY), b.customer(created=NOW - 30 * DAY)
    s1, s2 = b.subscription(c1, created=NOW - 90 * DAY), b.subscription(c2, created=NOW - 30 * DAY)
    s = identify(b.snapshot([c1, c2], subscriptions=[s1, s2]))
    assert s.anomaly_kinds() == ["duplicate_active_subscription", "duplicate_customer"]
    assert s.anomalies_of("duplicate_customer")[0].objects == (c1["id"], c2["id"])
    assert s.other_customer_ids == [c2["id"]]


def test_canceled_or_incomplete_second_subscription_is_not_a_duplicate() -> None:
    cust = b.customer()
    subs = [b.subscription(cust), b.subscription(cust, status="canceled"), b.subscription(cust, status="incomplete_expired")]
    assert "duplicate_active_subscription" not in identify(b.snapshot([cust], subscriptions=subs)).anomaly_kinds()


def test_failed_renewal_and_past_due() -> None:
    cust = b.customer()
    sub = b.subscription(cust, status="past_due")
    invoices, charges = b.paid_history(cust, sub, months=4)
    bad = b.invoice(sub, status="open", attempt_count=2, created=NOW - 5 * DAY)
    sub["latest_invoice"] = bad["id"]
    fails = [b.charge(bad, status="failed", failure_code="card_declined", created=NOW - 5 * DAY),
             b.charge(bad, status="failed", failure_code="card_declined", created=NOW - 2 * DAY)]
    s = identify(b.snapshot([cust], subscriptions=[sub], invoices=[*invoices, bad], charges=[*charges, *fails]))
    assert s.anomaly_kinds() == ["failed_renewal", "past_due"]
    renewal = s.anomalies_of("failed_renewal")[0]
    assert renewal.objects[:2] == (bad["id"], sub["id"]) and fails[0]["id"] in renewal.objects
    assert "card_declined" in renewal.detail
    assert s.anomalies_of("past_due")[0].objects == (sub["id"], bad["id"])


def test_failed_first_payment_is_incomplete_checkout_not_failed_renewal() -> None:
    cust = b.customer()
    session = b.checkout_session(cust, status="expired", created=NOW - DAY)
    sub = b.subscription(cust, status="incomplete", created=NOW - DAY + 3600)
    inv = b.invoice(sub, billing_reason="subscription_create", status="open", created=sub["created"])
    ch = b.charge(inv, status="failed", failure_code="card_declined")
    s = identify(b.snapshot([cust], subscriptions=[sub], invoices=[inv], charges=[ch], checkout_sessions=[session]))
    assert s.anomaly_kinds() == ["incomplete_checkout"]
    assert set(s.anomalies[0].objects) == {sub["id"], session["id"]}


def test_abandoned_checkout_followed_by_a_live_subscription_is_not_an_anomaly() -> None:
    cust = b.customer()
    session = b.checkout_session(cust, status="expired", created=NOW - 40 * DAY)
    sub = b.subscription(cust, created=NOW - 39 * DAY)
    assert identify(b.snapshot([cust], subscriptions=[sub], checkout_sessions=[session])).anomalies == []


def test_open_dispute_but_not_a_closed_one() -> None:
    cust = b.customer()
    sub = b.subscription(cust)
    invoices, charges = b.paid_history(cust, sub, months=2)
    open_d, lost = b.dispute(charges[0]), b.dispute(charges[1], status="lost")
    s = identify(b.snapshot([cust], subscriptions=[sub], invoices=invoices, charges=charges, disputes=[open_d, lost]))
    assert s.anomaly_kinds() == ["open_dispute"]
    assert s.anomalies[0].objects == (open_d["id"], charges[0]["id"])
    assert "deadline passed" not in s.anomalies[0].detail
    open_d["evidence_details"]["due_by"] = NOW - DAY
    assert "deadline passed" in identify(b.snapshot([cust], disputes=[open_d])).anomalies[0].detail


def _renewed(cancel_days_after: float, *, via_event: bool) -> b.CaseSnapshot:
    cust = b.customer()
    renewal_at = NOW - 20 * DAY
    requested = int(renewal_at + cancel_days_after * DAY)
    prc = b.price("price_pro_annual", unit_amount=20000, interval="year")
    sub = b.subscription(cust, prc, created=renewal_at - 365 * DAY, period_start=renewal_at, cancel_at_period_end=True,
                         canceled_at=None if via_event else requested)
    first = b.invoice(sub, billing_reason="subscription_create", amount=20000, created=renewal_at - 365 * DAY)
    renewal = b.invoice(sub, amount=20000, created=renewal_at)
    charges = [b.charge(first), b.charge(renewal)]
    events = [b.event("customer.subscription.updated", sub, created=requested, previous={"cancel_at_period_end": False})] if via_event else []
    return b.snapshot([cust], subscriptions=[sub], invoices=[first, renewal], charges=charges, events=events)


@pytest.mark.parametrize("via_event", [True, False])
def test_charged_after_cancel_request(via_event: bool) -> None:
    s = identify(_renewed(2, via_event=via_event))
    assert s.anomaly_kinds() == ["charged_after_cancel_request"]
    assert "2 days later" in s.anomalies[0].detail
    assert len(s.anomalies[0].objects) == 3  # subscription, renewal invoice, its charge


def test_cancel_request_long_after_the_renewal_is_not_an_anomaly() -> None:
    assert identify(_renewed(60, via_event=True)).anomalies == []


def test_subscription_payment_method_stale() -> None:
    cust = b.customer(default_pm="pm_new")
    sub = b.subscription(cust, status="past_due", default_pm="pm_old")
    invoices, charges = b.paid_history(cust, sub, months=3)
    bad = b.invoice(sub, status="open", attempt_count=2, created=NOW - 3 * DAY)
    fail = b.charge(bad, status="failed", pm="pm_old", failure_code="expired_card")
    s = identify(b.snapshot([cust], subscriptions=[sub], invoices=[*invoices, bad], charges=[*charges, fail]))
    assert s.anomaly_kinds() == ["failed_renewal", "past_due", "subscription_payment_method_stale"]
    stale = s.anomalies_of("subscription_payment_method_stale")[0]
    assert stale.objects[:3] == (sub["id"], "pm_old", "pm_new") and fail["id"] in stale.objects


def test_pinned_card_without_failures_is_not_stale() -> None:
    cust = b.customer(default_pm="pm_new")
    sub = b.subscription(cust, default_pm="pm_old")
    invoices, charges = b.paid_history(cust, sub)
    s = identify(b.snapshot([cust], subscriptions=[sub], invoices=invoices, charges=charges))
    assert s.anomalies == []


@pytest.mark.parametrize("how", ["billing_reason", "proration_line"])
def test_proration_invoice(how: str) -> None:
    cust = b.customer()
    sub = b.subscription(cust)
    invoices, charges = b.paid_history(cust, sub, months=2)
    extra = (b.invoice(sub, billing_reason="subscription_update", amount=5400) if how == "billing_reason"
             else b.invoice(sub, billing_reason="manual", amount=5400, proration=True))
    s = identify(b.snapshot([cust], subscriptions=[sub], invoices=[*invoices, extra], charges=charges))
    assert s.anomaly_kinds() == ["proration_invoice"]
    assert s.anomalies[0].objects == (extra["id"],)


def test_every_anomaly_kind_is_covered_and_details_hold_no_pii() -> None:
    tested = {"duplicate_active_subscription", "duplicate_customer", "failed_renewal", "incomplete_checkout", "past_due",
              "invoice_overdue", "open_dispute", "charged_after_cancel_request", "subscription_payment_method_stale", "proration_invoice", "collection_paused",
              "failed_refund"}
    assert tested == set(ANOMALY_KINDS)
    s = identify(_renewed(1, via_event=False))
    for a in s.anomalies:
        assert "@" not in a.detail and "Jane" not in a.detail


# --- adversarial review, session 7: a paused collection is a billing fact (D8b) -------------------
@pytest.mark.parametrize("behavior,resumes", [("void", NOW + 20 * DAY), ("keep_as_draft", None)])
def test_paused_collection_is_in_the_billing_state_and_an_anomaly(behavior: str, resumes: int | None) -> None:
    cust = b.customer()
    sub = b.subscription(cust)
    sub["pause_collection"] = {"behavior": behavior, "resumes_at": resumes}
    invoices, charges = b.paid_history(cust, sub)
    s = identify(b.snapshot([cust], subscriptions=[sub], invoices=invoices, charges=charges, products=[b.product()]))
    assert s.anomaly_kinds() == ["collection_paused"]
    assert s.anomalies[0].objects == (sub["id"],) and behavior in s.anomalies[0].detail
    assert ("resumes 2026-12-10" if resumes else "until resumed by hand") in s.anomalies[0].detail
    row = s.billing_state()["subscriptions"][0]
    assert row["pause_collection"] == {"behavior": behavior, "resumes_at": resumes}
    assert row["per_seat"] is False and row["unit_amount"] == {"value": 2000, "currency": "usd"}


def test_unpaused_subscription_has_no_pause() -> None:
    cust = b.customer()
    sub = b.subscription(cust)
    s = identify(b.snapshot([cust], subscriptions=[sub], products=[b.product()]))
    assert s.billing_state()["subscriptions"][0]["pause_collection"] is None and not s.anomalies
