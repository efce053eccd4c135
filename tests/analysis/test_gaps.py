"""gaps.find_gaps: each gap kind from hand-built snapshots, relevance rules, and the demo stories."""

from __future__ import annotations

import json
from typing import Any

import pytest

from billing_nb.reading.waves import build_snapshot
from billing_nb.analysis.classify import Bucket, Decision
from billing_nb.analysis.gaps import GAP_KINDS, ProductGap, find_gaps
from billing_nb.analysis.identify import identify
from billing_nb.reading.masking import mask_text
from billing_nb.reading.snapshot import CaseSnapshot
from tests.fixtures import builders as b
from tests.fixtures.builders import DAY, NOW


def decision(bucket: Bucket | None, suggested: Bucket = Bucket.UNCLEAR) -> Decision:
    return Decision(suggested=bucket or suggested, bucket=bucket, confirmed_by="parameter" if bucket else None,
                    confidence=0.9, evidence=())


def gaps_of(snap: CaseSnapshot, bucket: Bucket | None, complaint: str = "") -> dict[str, ProductGap]:
    found = find_gaps(snap, identify(snap), decision(bucket), complaint)
    assert len({g.kind for g in found}) == len(found)
    assert all(g.kind in GAP_KINDS and g.severity in ("low", "medium", "high") and g.evidence for g in found)
    return {g.kind: g for g in found}


def portal(*, cancel: bool = True, update: bool = True, pm: bool = True, invoices: bool = True,
           products: list[str] | None = None) -> dict[str, Any]:
    conf = b.portal_config(cancel=cancel, update=update)
    conf["features"]["payment_method_update"]["enabled"] = pm
    conf["features"]["invoice_history"]["enabled"] = invoices
    conf["features"]["subscription_update"].update(default_allowed_updates=["price", "quantity"],
                                                   products=[{"product": p, "prices": []} for p in products or ["prod_pro"]])
    return conf


def healthy(conf: dict[str, Any] | None = None, **extra: list[dict[str, Any]]) -> CaseSnapshot:
    cust = b.customer(default_pm="pm_card_visa_1")
    sub = b.subscription(cust, default_pm="pm_card_visa_1")
    invoices, charges = b.paid_history(cust, sub)
    return b.snapshot([cust], subscriptions=[sub], invoices=invoices, charges=charges, products=[b.product()],
                      portal_configurations=[conf] if conf else [], **extra)


def test_healthy_case_with_full_portal_has_no_gaps() -> None:
    assert gaps_of(healthy(portal()), Bucket.UNCLEAR, "please refund my last payment") == {}


def test_no_portal_configuration() -> None:
    gaps = gaps_of(healthy(), Bucket.UNCLEAR)
    assert list(gaps) == ["no_portal_configuration"]
    assert gaps["no_portal_configuration"].severity == "high"
    inactive = portal()
    inactive["active"] = False
    gap = gaps_of(healthy(inactive), Bucket.UNCLEAR)["no_portal_configuration"]
    assert inactive["id"] in gap.evidence[0]


@pytest.mark.parametrize(("complaint", "bucket", "expected"), [
    ("I can't find how to cancel my subscription", Bucket.MISSING_SELF_SERVE, {"portal_missing_cancellation", "no_cancellation_path"}),
    ("There is no cancel button anywhere", Bucket.UNCLEAR, {"portal_missing_cancellation", "no_cancellation_path"}),
    ("please cancel it", Bucket.MISSING_SELF_SERVE, {"portal_missing_cancellation", "no_cancellation_path"}),
    # a request to cancel in a product-failure case is not a complaint about self-serve cancelling
    # (its product issue is logged as the product_bug item, for the product team)
    ("The import never worked. Please cancel and refund.", Bucket.PRODUCT_FAILURE, {"product_bug"}),
    ("I was charged twice", Bucket.DUPLICATE_SUBSCRIPTION, set()),
])
def test_cancellation_gaps_only_when_relevant(complaint: str, bucket: Bucket, expected: set[str]) -> None:
    snap = healthy(portal(cancel=False))
    gaps = gaps_of(snap, bucket, complaint)
    assert set(gaps) == expected
    if "no_cancellation_path" in expected:
        assert any(snap.of("portal_configurations")[0]["id"] in line for line in gaps["portal_missing_cancellation"].evidence)
        assert gaps["no_cancellation_path"].severity == "high"


def test_no_cancellation_path_without_portal() -> None:
    gaps = gaps_of(healthy(), Bucket.MISSING_SELF_SERVE, "how do I cancel?")
    assert set(gaps) == {"no_portal_configuration", "no_cancellation_path"}
    assert "no billing portal configuration" in gaps["no_cancellation_path"].evidence[0]


def test_portal_with_cancellation_is_no_gap() -> None:
    assert gaps_of(healthy(portal()), Bucket.MISSING_SELF_SERVE, "I can't cancel") == {}


def test_missing_payment_method_update_for_failed_payments_only() -> None:
    snap = healthy(portal(pm=False))
    assert gaps_of(snap, Bucket.DUPLICATE_SUBSCRIPTION, "charged twice") == {}
    gap = gaps_of(snap, Bucket.FAILED_PAYMENT)["portal_missing_payment_method_update"]
    assert "features.payment_method_update.enabled is false" in gap.evidence[0]
    assert "bucket failed_payment" in gap.evidence[1]
    assert "portal_missing_payment_method_update" in gaps_of(snap, Bucket.UNCLEAR, "my card expired")


def test_missing_invoice_history_for_invoice_complaints() -> None:
    snap = healthy(portal(invoices=False))
    assert gaps_of(snap, Bucket.UNCLEAR, "refund please") == {}
    assert set(gaps_of(snap, Bucket.UNCLEAR, "where are my invoices?")) == {"portal_missing_invoice_history"}


def test_missing_self_serve_without_topic_checks_every_feature() -> None:
    snap = healthy(portal(cancel=False, update=False, pm=False, invoices=False))
    gaps = gaps_of(snap, Bucket.MISSING_SELF_SERVE, "nothing works in the billing page")
    assert set(gaps) == {"portal_missing_cancellation", "portal_missing_payment_method_update",
                         "portal_missing_invoice_history", "portal_missing_plan_switching"}


@pytest.mark.parametrize("complaint", ["I want to upgrade to Pro Plus", "how do I remove two seats?", "switch plans"])
def test_plan_switching_for_plan_complaints(complaint: str) -> None:
    assert set(gaps_of(healthy(portal(update=False)), Bucket.UNCLEAR, complaint)) == {"portal_missing_plan_switching"}
    assert gaps_of(healthy(portal(update=True)), Bucket.UNCLEAR, complaint) == {}
    gap = gaps_of(healthy(portal(update=True, products=["prod_other"])), Bucket.UNCLEAR, complaint)["portal_missing_plan_switching"]
    assert any("prod_pro" in line for line in gap.evidence)


def test_proration_invoice_makes_plan_switching_relevant() -> None:
    cust = b.customer(default_pm="pm_1")
    sub = b.subscription(cust, default_pm="pm_1")
    invoices, charges = b.paid_history(cust, sub)
    prorated = b.invoice(sub, billing_reason="subscription_update", proration=True, amount=1234, created=NOW - 2 * DAY)
    snap = b.snapshot([cust], subscriptions=[sub], invoices=[*invoices, prorated], charges=[*charges, b.charge(prorated)],
                      portal_configurations=[portal(update=False)])
    assert "proration_invoice" in identify(snap).anomaly_kinds()
    gap = gaps_of(snap, Bucket.MISSING_SELF_SERVE, "an extra charge I don't understand")["portal_missing_plan_switching"]
    assert "anomaly proration_invoice" in gap.evidence[-1]


def test_duplicate_subscriptions_need_a_guard() -> None:
    cust = b.customer(default_pm="pm_1")
    first, second = b.subscription(cust), b.subscription(cust, created=NOW - 100 * DAY + 420)
    session = b.checkout_session(cust, status="complete")
    session["subscription"] = second["id"]
    snap = b.snapshot([cust], subscriptions=[first, second], checkout_sessions=[session], portal_configurations=[portal()])
    gap = gaps_of(snap, Bucket.DUPLICATE_SUBSCRIPTION, "charged twice")["no_duplicate_subscription_guard"]
    text = "\n".join(gap.evidence)
    assert first["id"] in text and second["id"] in text and session["id"] in text and "one-subscription" in text
    assert gap.severity == "high"


def test_duplicate_customers_need_a_guard() -> None:
    one, two = b.customer(), b.customer()
    snap = b.snapshot([one, two], subscriptions=[b.subscription(one), b.subscription(two)], portal_configurations=[portal()])
    gap = gaps_of(snap, Bucket.DUPLICATE_SUBSCRIPTION)["no_duplicate_subscription_guard"]
    assert any(two["id"] in line for line in gap.evidence)


def test_canceled_second_subscription_is_no_duplicate() -> None:
    cust = b.customer()
    snap = b.snapshot([cust], subscriptions=[b.subscription(cust), b.subscription(cust, status="canceled")],
                      portal_configurations=[portal()])
    assert gaps_of(snap, Bucket.UNCLEAR) == {}


def _team(quantity: int) -> CaseSnapshot:
    cust = b.customer(default_pm="pm_1")
    sub = b.subscription(cust, b.price("price_team", "prod_team", unit_amount=1500, per_seat=True), quantity=quantity)
    return b.snapshot([cust], subscriptions=[sub], products=[b.product("prod_team", "Team", per_seat=True)],
                      portal_configurations=[portal(products=["prod_team"])])


def test_seat_explanation_for_seat_complaints_on_seat_prices() -> None:
    gap = gaps_of(_team(5), Bucket.TEAM_SEATS, "Why am I paying for 5 seats?")["no_seat_explanation"]
    assert "5 seats x $15.00 USD per month = $75.00 USD on price_team" in gap.evidence[0]
    assert gaps_of(_team(1), Bucket.TEAM_SEATS, "why seats?") == {}
    assert set(gaps_of(_team(5), Bucket.PRODUCT_FAILURE, "sync broken")) == {"product_bug"}


@pytest.mark.parametrize(("complaint", "found"), [
    ("I keep hitting the rate limit and get 429s", True), ("what are my usage limits?", True),
    ("the export is broken", False),
])
def test_usage_visibility(complaint: str, found: bool) -> None:
    gaps = gaps_of(healthy(portal()), Bucket.PRODUCT_FAILURE, complaint)
    assert ("no_usage_visibility" in gaps) is found


def _failed(*, sub_pm: str | None, customer_pm: str, failing_pm: str = "pm_old", attached_at: int | None = None,
            paid_later: bool = False) -> CaseSnapshot:
    cust = b.customer(default_pm=customer_pm)
    events = [b.event("payment_method.attached", {"id": "pm_new", "object": "payment_method", "customer": cust["id"]},
                      created=attached_at)] if attached_at else []
    sub = b.subscription(cust, status="past_due", default_pm=sub_pm)
    invoices, charges = b.paid_history(cust, sub, months=4)
    bad = b.invoice(sub, status="paid" if paid_later else "open", attempt_count=3, created=NOW - 5 * DAY)
    fails = [b.charge(bad, status="failed", pm=failing_pm, failure_code="card_declined", created=NOW - 5 * DAY + n * DAY)
             for n in range(3)]
    return b.snapshot([cust], subscriptions=[sub], invoices=[*invoices, bad], charges=[*charges, *fails],
                      events=events, portal_configurations=[portal()])


def test_dunning_when_subscription_still_charges_the_failing_card() -> None:
    snap = _failed(sub_pm="pm_old", customer_pm="pm_new")
    gap = gaps_of(snap, Bucket.FAILED_PAYMENT)["dunning_never_reached_customer"]
    text = "\n".join(gap.evidence)
    assert "still charges pm_old, the payment method that failed" in text and "3 attempts" in text
    assert gap.severity == "high"


def test_dunning_when_customer_default_is_still_the_failing_card() -> None:
    assert "dunning_never_reached_customer" in gaps_of(_failed(sub_pm=None, customer_pm="pm_old"), Bucket.FAILED_PAYMENT)


def test_no_dunning_gap_after_the_card_was_updated_or_the_invoice_paid() -> None:
    assert gaps_of(_failed(sub_pm="pm_new", customer_pm="pm_new"), Bucket.FAILED_PAYMENT) == {}
    assert gaps_of(_failed(sub_pm="pm_old", customer_pm="pm_old", paid_later=True), Bucket.FAILED_PAYMENT) == {}


def test_dunning_by_events_when_the_failing_card_is_unknown() -> None:
    gap = gaps_of(_failed(sub_pm=None, customer_pm="pm_x", failing_pm=""), Bucket.FAILED_PAYMENT)
    assert "no payment-method update" in "\n".join(gap["dunning_never_reached_customer"].evidence)
    before = _failed(sub_pm=None, customer_pm="pm_x", failing_pm="", attached_at=NOW - 30 * DAY)
    assert "dunning_never_reached_customer" in gaps_of(before, Bucket.FAILED_PAYMENT)
    after = _failed(sub_pm=None, customer_pm="pm_x", failing_pm="", attached_at=NOW - DAY)
    assert gaps_of(after, Bucket.FAILED_PAYMENT) == {}


def test_evidence_has_no_pii() -> None:
    snap = _failed(sub_pm="pm_old", customer_pm="pm_new")
    snap.objects["portal_configurations"] = []
    complaint = "I can't cancel, my card failed, rate limits! jane.doe@example.com"
    found = find_gaps(snap, identify(snap), decision(Bucket.MISSING_SELF_SERVE), mask_text(complaint))
    text = json.dumps([g.as_case_json() for g in found])
    assert "jane" not in text.lower() and "Jane Doe" not in text and "415" not in text
    assert [g.kind for g in found] == sorted((g.kind for g in found), key=GAP_KINDS.index)


def test_pending_decision_uses_the_suggestion() -> None:
    snap = healthy(portal(pm=False))
    found = find_gaps(snap, identify(snap), decision(None, suggested=Bucket.FAILED_PAYMENT))
    assert [g.kind for g in found] == ["portal_missing_payment_method_update"]


# --- the demo stories ---------------------------------------------------------------------------------
@pytest.mark.sandbox
def test_demo_stories_gaps_match(demo: Any) -> None:
    from billing_nb.demo.cast import STORIES
    from billing_nb.reading.provider import StripeReader

    reader = StripeReader(demo.client)
    wrong = {}
    for customer in demo.customers:
        spec = STORIES[customer.story]
        snap = build_snapshot(reader, customer.lookup)
        found = find_gaps(snap, identify(snap), decision(Bucket(spec.expected_bucket)), mask_text(spec.complaint))
        kinds = tuple(sorted(g.kind for g in found))
        # issue 12: every product failure also logs its product issue (product_bug), for the product team
        expected = {*spec.expected_gaps, *(("product_bug",) if spec.expected_bucket == "product_failure" else ())}
        if kinds != tuple(sorted(expected)):
            wrong[customer.story] = (kinds, spec.expected_gaps, [g.evidence for g in found])
    assert wrong == {}


def test_portal_in_use_prefers_the_app_configuration_over_the_dashboard_default() -> None:
    from billing_nb.analysis.gaps import portal_in_use

    dashboard = portal(cancel=True)
    app = portal(cancel=False)
    app.update(is_default=False, created=NOW - DAY)
    snap = healthy(dashboard)
    snap.objects["portal_configurations"].append(app)
    assert portal_in_use(snap) is app
    gaps = gaps_of(snap, Bucket.MISSING_SELF_SERVE, "I can't cancel")
    assert set(gaps) == {"portal_missing_cancellation", "no_cancellation_path"}
    assert app["id"] in gaps["portal_missing_cancellation"].evidence[0]
    snap.extra["portal_configuration"] = dashboard["id"]  # the provider knows better
    assert portal_in_use(snap) is dashboard
    app["active"] = False
    del snap.extra["portal_configuration"]
    assert portal_in_use(snap) is dashboard


# --- issue 12: a product failure logs a product issue -------------------------------------------
def test_product_failure_logs_a_product_bug_separate_from_operator_gaps() -> None:
    from billing_nb.analysis.classify import decide
    from billing_nb.analysis.gaps import find_gaps
    from billing_nb.analysis.identify import identify as _identify
    from tests.fixtures.corpus import snapshot_for

    snap = snapshot_for({"preset": "healthy", "portal_cancel": False})
    summary = _identify(snap)
    complaint = "The sync feature has not worked since your last update, I can't find how to cancel either"
    c = classify_for_gaps(snap, summary, complaint)
    gaps = find_gaps(snap, summary, decide(c, "product_failure", "parameter"), complaint, recurrence=4)
    bug = next(g for g in gaps if g.kind == "product_bug")
    assert bug.area == "product engineering" and bug.severity == "high"
    assert bug.title == "Product bug: the sync feature"
    assert "since: since your last update" in bug.evidence
    assert "4 product-failure case(s) this month in the casebook, this one included" in bug.evidence
    assert [g.kind for g in gaps if g.kind != "product_bug"]  # the operator-side gap stays its own item
    assert all(g.area == "billing operations" for g in gaps if g.kind != "product_bug")
    # never "none identified" for a product failure, even with no failure words at all
    bare = find_gaps(snap, summary, decide(c, "product_failure", "parameter"), "", recurrence=None)
    assert [g.kind for g in bare] == ["product_bug"] and bare[0].title == "Product bug reported by a customer"
    # other buckets log no product bug
    assert "product_bug" not in [g.kind for g in find_gaps(snap, summary, decide(c, "unclear", "parameter"), complaint)]


def classify_for_gaps(snap, summary, complaint):  # type: ignore[no-untyped-def]
    from billing_nb.analysis.classify import classify

    return classify(snap, summary, complaint)


def _declined_checkout(*, later_live: bool = False) -> CaseSnapshot:
    cust = b.customer()
    sub = b.subscription(cust, status="incomplete", created=NOW - 3 * 3600)
    inv = b.invoice(sub, billing_reason="subscription_create", status="open", created=NOW - 3 * 3600)
    failed = b.charge(inv, status="failed", failure_code="card_declined")
    subs = [sub, *([b.subscription(cust, created=NOW - 3600)] if later_live else [])]
    return b.snapshot([cust], subscriptions=subs, invoices=[inv], charges=[failed],
                      checkout_sessions=[b.checkout_session(cust, created=NOW - 4 * 3600)],
                      portal_configurations=[portal()])


def test_a_declined_first_payment_names_the_way_to_finish_it() -> None:
    """"Do I have an account or not?": the first payment was declined and nothing lets the
    customer pay the same subscription; the gap says when Stripe expires it (23 h) and what
    is owed, from the snapshot's own ids."""
    snap = _declined_checkout()
    gap = gaps_of(snap, Bucket.FAILED_PAYMENT)["checkout_no_way_to_finish"]
    text = "\n".join(gap.evidence)
    sub, inv = snap.of("subscriptions")[0], snap.of("invoices")[0]
    assert f"{sub['id']}: first payment failed (card_declined)" in text
    assert f"unless open invoice {inv['id']} ($20.00 USD) is paid" in text
    assert "checkout session expired" in text and "live subscriptions now: none" in text
    assert "@" not in text  # ids, dates and amounts only
    # pending, the complaint naming the card: still the payment topic
    assert "checkout_no_way_to_finish" in gaps_of(snap, None, "my card was declined at checkout")
    # a later live subscription: the customer got through, no incomplete checkout, no gap
    assert "checkout_no_way_to_finish" not in gaps_of(_declined_checkout(later_live=True), Bucket.FAILED_PAYMENT)
    # another bucket, nothing about payment in the complaint: not this case's gap
    assert "checkout_no_way_to_finish" not in gaps_of(snap, Bucket.TEAM_SEATS, "why 5 seats")
