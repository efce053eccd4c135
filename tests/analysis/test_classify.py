"""classify(): one bucket per case from the billing state, the complaint only supporting."""

from __future__ import annotations

import pytest

from billing_nb.analysis.classify import Bucket, Classification, classify, decide, parse_bucket
from billing_nb.exceptions import BadInputError, UnknownBucketError
from billing_nb.analysis.identify import identify
from tests.fixtures import builders as b
from tests.fixtures.builders import DAY, NOW


def run(snap: b.CaseSnapshot, complaint: str = "") -> Classification:
    return classify(snap, identify(snap), complaint)


def healthy(**kw: object) -> b.CaseSnapshot:
    cust = b.customer()
    sub = b.subscription(cust)
    invoices, charges = b.paid_history(cust, sub)
    return b.snapshot([cust], subscriptions=[sub], invoices=invoices, charges=charges, products=[b.product()],
                      portal_configurations=[b.portal_config(**kw)])  # type: ignore[arg-type]


def two_subs(*, gap: int, quantity: int = 1, per_seat: bool = False, sub_meta: list[dict[str, str]] | None = None,
             cust_meta: dict[str, str] | None = None, two_customers: bool = False) -> b.CaseSnapshot:
    c1 = b.customer(metadata=cust_meta)
    c2 = b.customer(metadata=cust_meta) if two_customers else c1
    prc = b.price("price_team", "prod_team", unit_amount=1500, per_seat=per_seat)
    metas = sub_meta or [{}, {}]
    s1 = b.subscription(c1, prc, created=NOW - 20 * DAY, quantity=quantity, metadata=metas[0])
    s2 = b.subscription(c2, prc, created=NOW - 20 * DAY + gap, quantity=quantity, metadata=metas[1])
    customers = [c1, c2] if two_customers else [c1]
    return b.snapshot(customers, subscriptions=[s1, s2], products=[b.product("prod_team", "Team", per_seat=per_seat)])


# --- duplicate vs deliberate multi-seat -------------------------------------------------
def test_two_identical_subscriptions_minutes_apart_are_a_duplicate() -> None:
    c = run(two_subs(gap=420), "I was charged twice for Pro!")
    assert c.suggested is Bucket.DUPLICATE_SUBSCRIPTION
    assert c.confidence >= 0.9
    assert any("7 min apart" in e for e in c.evidence)
    assert any("charged twice" in e for e in c.evidence)


def test_duplicate_across_two_customer_objects() -> None:
    c = run(two_subs(gap=30 * DAY, two_customers=True), "I think I'm paying for Pro twice")
    assert c.suggested is Bucket.DUPLICATE_SUBSCRIPTION
    assert any("separate customer objects" in e for e in c.evidence)
    assert any("duplicate_customer" in e for e in c.evidence)


def test_subscriptions_naming_different_users_are_team_seats() -> None:
    snap = two_subs(gap=300, sub_meta=[{"user": "alice"}, {"user": "bob"}])
    c = run(snap, "why do I pay twice?")
    assert c.suggested is Bucket.TEAM_SEATS
    assert any("2 different users" in e for e in c.evidence)
    assert any("min apart" in a for a in c.against)


def test_per_seat_business_purchase_weeks_apart_is_team_seats() -> None:
    snap = two_subs(gap=21 * DAY, per_seat=True, cust_meta={"company": "Acme"})
    c = run(snap, "")
    assert c.suggested is Bucket.TEAM_SEATS
    assert any("per-seat price" in e for e in c.evidence) and any("business" in e for e in c.evidence)


def test_per_seat_price_minutes_apart_is_still_a_duplicate() -> None:
    c = run(two_subs(gap=120, per_seat=True), "charged twice")
    assert c.suggested is Bucket.DUPLICATE_SUBSCRIPTION
    assert any("per-seat" in a for a in c.against)
    assert c.confidence < 0.95


def test_quantity_five_per_seat_with_a_seat_question_is_team_seats() -> None:
    cust = b.customer(metadata={"company": "Lanternfish"})
    prc = b.price("price_team", "prod_team", unit_amount=1500, per_seat=True)
    sub = b.subscription(cust, prc, quantity=5)
    snap = b.snapshot([cust], subscriptions=[sub], products=[b.product("prod_team", "Team", per_seat=True)])
    c = run(snap, "Why am I paying for 5 seats?")
    assert c.suggested is Bucket.TEAM_SEATS
    assert any("5 x $15.00 USD = $75.00 USD" in e for e in c.evidence)


# --- the healthy subscription never reads as a duplicate --------------------------------
def test_healthy_refund_request_is_unclear() -> None:
    c = run(healthy(), "Please refund my last payment.")
    assert c.suggested is Bucket.UNCLEAR
    assert any("refund is asked without a reason" in a for a in c.against)


def test_charged_twice_complaint_on_a_healthy_subscription_is_not_a_duplicate() -> None:
    c = run(healthy(), "You charged me twice this month, refund one!")
    assert c.suggested is Bucket.UNCLEAR
    assert any("one live subscription per product" in a for a in c.against)


# --- failed payments ------------------------------------------------------------------------
def test_failed_renewal_is_failed_payment_even_with_product_words() -> None:
    cust = b.customer()
    sub = b.subscription(cust, status="past_due")
    bad = b.invoice(sub, status="open", attempt_count=3)
    snap = b.snapshot([cust], subscriptions=[sub], invoices=[bad], charges=[b.charge(bad, status="failed", failure_code="card_declined")])
    c = run(snap, "The app is broken, it locked me out and says my payment failed")
    assert c.suggested is Bucket.FAILED_PAYMENT
    assert any(e.startswith("failed_renewal") for e in c.evidence) and any(e.startswith("past_due") for e in c.evidence)


def test_incomplete_checkout_is_failed_payment() -> None:
    cust = b.customer()
    snap = b.snapshot([cust], checkout_sessions=[b.checkout_session(cust)], subscriptions=[b.subscription(cust, status="incomplete")])
    assert run(snap, "Do I have an account or not?").suggested is Bucket.FAILED_PAYMENT


# --- self-serve, product failure, disputes ---------------------------------------------------
def test_cant_cancel_on_healthy_billing_is_missing_self_serve() -> None:
    c = run(healthy(cancel=False), "I can't find how to cancel my subscription anywhere.")
    assert c.suggested is Bucket.MISSING_SELF_SERVE
    assert any("subscription_cancel disabled" in e for e in c.evidence)


def test_proration_invoice_is_missing_self_serve() -> None:
    snap = healthy()
    sub = snap.of("subscriptions")[0]
    snap.objects["invoices"].append(b.invoice(sub, billing_reason="subscription_update", amount=5400))
    c = run(snap, "I got an extra charge I don't understand; there was no way to see the price first")
    assert c.suggested is Bucket.MISSING_SELF_SERVE
    assert any(e.startswith("proration_invoice") for e in c.evidence)


def test_broken_product_with_refund_is_product_failure() -> None:
    c = run(healthy(), "The sync has been broken for two weeks, every run fails. Please refund that charge.")
    assert c.suggested is Bucket.PRODUCT_FAILURE
    assert any("refund" in e for e in c.evidence)


def test_renewed_then_asked_to_cancel_is_missing_self_serve() -> None:
    cust = b.customer()
    renewal_at = NOW - 20 * DAY
    prc = b.price("price_pro_annual", unit_amount=20000, interval="year")
    sub = b.subscription(cust, prc, created=renewal_at - 365 * DAY, period_start=renewal_at, cancel_at_period_end=True,
                         canceled_at=renewal_at + 2 * DAY)
    inv = b.invoice(sub, amount=20000, created=renewal_at)
    snap = b.snapshot([cust], subscriptions=[sub], invoices=[inv], charges=[b.charge(inv)], portal_configurations=[b.portal_config()])
    c = run(snap, "I meant to cancel before it renewed, there's no cancel button. Can I have the renewal back?")
    assert c.suggested is Bucket.MISSING_SELF_SERVE
    assert any(e.startswith("charged_after_cancel_request") for e in c.evidence)
    assert c.confidence >= 0.85


@pytest.mark.parametrize(("complaint", "bucket"), [
    ("Your product did none of what the site promised, so I asked my bank to reverse the charge", Bucket.PRODUCT_FAILURE),
    ("I disputed it.", Bucket.UNCLEAR),
])
def test_open_dispute_follows_the_reason_and_never_suggests_a_refund(complaint: str, bucket: Bucket) -> None:
    snap = healthy()
    snap.objects["disputes"] = [b.dispute(snap.of("charges")[0])]
    c = run(snap, complaint)
    assert c.suggested is bucket
    assert any("never refunded" in a for a in c.against)


# --- decisions ----------------------------------------------------------------------------
def test_parse_bucket() -> None:
    assert parse_bucket("team_seats") is Bucket.TEAM_SEATS
    assert parse_bucket(" Failed-Payment ") is Bucket.FAILED_PAYMENT
    assert parse_bucket(Bucket.UNCLEAR) is Bucket.UNCLEAR
    assert parse_bucket(None) is None and parse_bucket("") is None
    with pytest.raises(UnknownBucketError, match="duplicate_subscription"):
        parse_bucket("refund")


def test_decide_pending_and_confirmed() -> None:
    c = run(healthy(), "Please refund")
    pending = decide(c, None, None)
    assert pending.pending and pending.as_case_json()["bucket"] is None and pending.as_case_json()["confirmed_by"] is None
    done = decide(c, "product_failure", "widget")
    data = done.as_case_json()
    assert data == {"suggested": "unclear", "bucket": "product_failure", "confirmed_by": "widget",
                    "confidence": c.confidence, "evidence": list(c.evidence), "against": list(c.against)}
    with pytest.raises(BadInputError):
        decide(c, "unclear", "someone")
    with pytest.raises(UnknownBucketError):
        decide(c, "nope", "parameter")


def test_exactly_one_bucket_and_confidence_in_range() -> None:
    for snap, text in [(healthy(), ""), (two_subs(gap=60), ""), (healthy(), "broken")]:
        c = run(snap, text)
        assert isinstance(c.suggested, Bucket) and 0 <= c.confidence <= 1
        assert sum(1 for v in c.scores.values() if v > 0) == 1


@pytest.mark.parametrize("text, wants", [
    ("I want a refund", True), ("It renewed, I never used it, refund please", True),
    ("I did not get a refund", True),  # still asks for one
    ("I don't want a refund, just cancel it", False), ("not asking for a refund", False),
    ("I'm not looking for a refund", False), ("I do not really want my money back", False),
    ("no refund needed", False),
])
def test_asking_for_money_back_and_refusing_it(text: str, wants: bool) -> None:
    """The planner offers an unwanted renewal back only when the complaint asks for it: a wish
    refused a few words before ("don't want a refund") is not a request."""
    from billing_nb.analysis.lexicon import read_text

    assert ("refund" in read_text(text).flags) is wants


# --- adversarial review, session 7: seat facts outweigh a same-product match (D3) ---------------
def _two_departments(q1: int = 5, q2: int = 3, gap: int = 60) -> b.CaseSnapshot:
    cust = b.customer()
    prc = b.price("price_team", "prod_team", unit_amount=1200, per_seat=True)
    s1 = b.subscription(cust, prc, created=NOW - 20 * DAY, quantity=q1)
    s2 = b.subscription(cust, prc, created=NOW - 20 * DAY + gap, quantity=q2)
    return b.snapshot([cust], subscriptions=[s1, s2], products=[b.product("prod_team", "Team Workspace", per_seat=True)])


@pytest.mark.parametrize("complaint", ["Why are we paying for 8 seats? We have two departments, 5 and 3 people.",
                                       "Why are we billed for 8 seats?", ""])
def test_two_per_seat_subscriptions_with_different_counts_are_team_seats(complaint: str) -> None:
    c = run(_two_departments(), complaint)
    assert c.suggested is Bucket.TEAM_SEATS, (c.evidence, c.against)
    assert any("per-seat price" in e for e in c.evidence) and any("quantity > 1" in e for e in c.evidence)
    assert not any("per-seat" in a for a in c.against)


def test_same_counts_with_a_seat_question_are_team_seats_but_charged_twice_stays_a_duplicate() -> None:
    assert run(_two_departments(4, 4), "Why are we paying for 8 seats? We need both teams.").suggested \
        is Bucket.TEAM_SEATS
    assert run(_two_departments(4, 4), "I was charged twice, same plan bought two times").suggested \
        is Bucket.DUPLICATE_SUBSCRIPTION


# --- a paused collection is evidence, and a "failed payment" complaint on it is answered by it (D8b)
@pytest.mark.parametrize("complaint", ["My renewal failed and now my account is locked", "I paused my subscription last month"])
def test_paused_collection_is_evidence(complaint: str) -> None:
    snap = healthy()
    snap.of("subscriptions")[0]["pause_collection"] = {"behavior": "void", "resumes_at": None}
    c = run(snap, complaint)
    assert any(e.startswith("collection_paused: payment collection paused (behavior void") for e in c.evidence)
    if "failed" in complaint:
        assert c.suggested is not Bucket.FAILED_PAYMENT
        assert any("collection is paused" in a for a in c.against)
        assert not any("no payment failed" in a for a in c.against)


# --- adversarial review, session 7: Japanese complaints (D14) ------------------------------------
@pytest.mark.parametrize(("complaint", "bucket"), [
    ("解約ボタンが見つからず、サブスクリプションをキャンセルできません", Bucket.MISSING_SELF_SERVE),
    ("無料体験のつもりが、いつの間にか自動更新で課金されていました", Bucket.MISSING_SELF_SERVE),
    ("プランの変更がどこでできるのか分からない", Bucket.MISSING_SELF_SERVE),
    ("昨日からアプリが起動しない。何度試しても使えません", Bucket.PRODUCT_FAILURE),
    ("お金を返してほしいです", Bucket.UNCLEAR),
])
@pytest.mark.parametrize("nb", [True, False])
def test_japanese_complaints_are_read(complaint: str, bucket: Bucket, nb: bool) -> None:
    from billing_nb.analysis.textmodel import BlendedModel

    snap = healthy()
    c = classify(snap, identify(snap), complaint, model=BlendedModel(use_nb=nb))
    assert c.suggested is bucket, c.evidence


def test_japanese_negation_follows_the_word() -> None:
    from billing_nb.analysis.lexicon import normalise, read_text

    said = read_text("二重請求されています")
    denied = read_text("二重請求ではありません。両方必要です")
    assert said.words("duplicate_subscription") == ["二重請求"]
    assert denied.words("duplicate_subscription", negated=True) == ["二重請求"] and "deliberate" in denied.flags
    assert normalise("ボタン　ﾎﾞﾀﾝ Ｃａｆé") == "ボタン ボタン cafe"  # kana keep their marks; full width folds


def test_japanese_duplicate_complaint_on_a_duplicate_pair() -> None:
    assert run(two_subs(gap=300), "同じプランに二回課金されました").suggested is Bucket.DUPLICATE_SUBSCRIPTION


# --- quantity 2 on a plan not sold per seat is an accidental duplicate (D9b) --------------------
def test_quantity_two_on_a_personal_plan_with_a_double_charge_complaint_is_a_duplicate() -> None:
    cust = b.customer()
    sub = b.subscription(cust, b.price("price_pro", "prod_pro", unit_amount=1500), quantity=2)
    snap = b.snapshot([cust], subscriptions=[sub], products=[b.product("prod_pro", "Personal Pro")])
    c = run(snap, "I was charged double, $30 instead of $15, I only need one")
    assert c.suggested is Bucket.DUPLICATE_SUBSCRIPTION, (c.evidence, c.against)
    assert any("quantity 2 on Personal Pro, which is not sold per seat: 2 x $15.00 USD = $30.00 USD" in e
               for e in c.evidence)


# --- adversarial review, session 7b: negated words are evidence against their bucket (T1) -------
@pytest.mark.parametrize("complaint", ["not charged twice, just once but the wrong amount",
                                       "I was not billed twice, the price is just wrong"])
def test_negated_words_of_the_suggested_bucket_are_evidence_against_it(complaint: str) -> None:
    c = run(two_subs(gap=60), complaint)  # the billing state says duplicate; the customer denies it
    assert c.suggested is Bucket.DUPLICATE_SUBSCRIPTION
    assert not any("negat" in e for e in c.evidence), c.evidence
    assert any(a.startswith("complaint negates duplicate_subscription words") for a in c.against), c.against
    assert c.confidence < run(two_subs(gap=60), "I was charged twice").confidence


def test_negated_words_of_another_bucket_stay_a_reason_for_this_one() -> None:
    c = run(healthy(), "Nothing is broken, I just want a refund")
    assert c.suggested is Bucket.UNCLEAR
    assert any(e.startswith("complaint negates product_failure words, so not product_failure") for e in c.evidence)
    assert not any("product_failure words" in a for a in c.against)


# --- one product on two intervals is a plan switch, and the evidence says so (T2) ---------------
def test_monthly_and_annual_of_one_product_name_the_switch_in_the_evidence() -> None:
    cust = b.customer()
    monthly = b.price("price_pro_m", "prod_pro", unit_amount=1500)
    annual = b.price("price_pro_y", "prod_pro", unit_amount=15000, interval="year")
    s1 = b.subscription(cust, monthly, created=NOW - 40 * DAY)
    s2 = b.subscription(cust, annual, created=NOW - 5 * DAY)
    c = run(b.snapshot([cust], subscriptions=[s1, s2], products=[b.product()]), "I was charged twice")
    assert c.suggested is Bucket.DUPLICATE_SUBSCRIPTION
    switch = [e for e in c.evidence if e.startswith("one product on different intervals (month and year)")]
    assert switch and "$15.00 USD per month" in switch[0] and "$150.00 USD per year" in switch[0], c.evidence
    assert any("not an accidental second purchase" in a for a in c.against), c.against
    assert "same price on each" not in c.evidence
    same = run(two_subs(gap=60), "I was charged twice")  # one price twice: no switch line
    assert not any("different intervals" in e or "different prices" in e for e in same.evidence + same.against)


# --- a gap of seconds is said in seconds (T5) ---------------------------------------------------
@pytest.mark.parametrize("gap, words", [(0, "created in the same second"), (1, "created 1 second apart"),
                                        (30, "created 30 seconds apart"), (420, "created 7 min apart")])
def test_subscriptions_created_seconds_apart_are_not_a_minute_apart(gap: int, words: str) -> None:
    c = run(two_subs(gap=gap), "I was charged twice")
    assert any(words in e for e in c.evidence), c.evidence
    assert gap >= 60 or not any("min apart" in e for e in c.evidence)
    anomaly = identify(two_subs(gap=gap)).anomalies_of("duplicate_active_subscription")[0]
    assert anomaly.detail.endswith(words), anomaly.detail
