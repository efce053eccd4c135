"""Session 8 (decisions and follow-ups): the tester's reproductions, rebuilt through the SDK.

N5: a complaint that says the customer keeps the service, in any words, gets no cancel (money back
on an annual plan as a credit note share); one that mixes a cancel of the duplicate with a keep
cancels only the duplicate. N4: an N-way duplicate's follow-up counts N; a partial approval's says
what remains. N8: a complaint naming a product the customer does not have refunds no other plan.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios import World, money_actions, run

DAY = 86400
T0 = 1_780_000_000


def _annual(w: World, email: str) -> tuple[str, str]:
    clock = w.clock(T0)
    cus = w.customer(email, clock=clock)
    sub = w.subscribe(cus, w.price(w.product(), 120000, "year"))
    w.advance(clock, T0 + 92 * DAY)
    return cus, sub.id


# --- N5 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("complaint", [
    "The exports have been broken for a month and I want some money back. I still want to use it though.",
    "Sync is broken, refund part of it please. I'm not leaving, I love the rest of the app.",
    "Reports fail every night. Give me something back, but I want to continue with the service.",
    "La sincronización no funciona. Quiero algo de dinero de vuelta, pero quiero seguir usándolo.",
])
def test_an_annual_product_failure_the_customer_stays_on_is_not_cancelled(
        w: World, tmp_path: Path, complaint: str) -> None:
    """Before: cancel:sub:now with the unused time on a credit note (the keep was not read)."""
    cus, sub = _annual(w, "keeps.annual@example.com")
    _, rec = run(cus, tmp_path, bucket="product_failure", complaint=complaint)
    assert not [a for a in rec["plan"] if a["kind"] == "cancel"], [a["id"] for a in rec["plan"]]
    money = money_actions(rec)
    assert [a["kind"] for a in money] == ["credit_note"] and money[0]["requires"] == [], money
    assert 0 < money[0]["amount"]["value"] < 120000
    assert "canceling your subscription" not in rec["followup"] and "stays active" in rec["followup"]


@pytest.mark.parametrize("complaint", [
    "The renewal surprised me. I'm not leaving, I just want to understand it.",
    "Please don't cancel, I'm staying. Nobody told me it would renew.",
    "It renewed without a reminder, but I still want to use it.",
])
def test_a_self_serve_complaint_that_stays_cancels_nothing(w: World, tmp_path: Path, complaint: str) -> None:
    """Before: the customer was sent the cancel flow, or cancelled at period end for them."""
    cus = w.customer("keeps.selfserve@example.com")
    w.subscribe(cus, w.price(w.product(), 1500))
    w.c.v1.billing_portal.configurations.create({
        "features": {"subscription_cancel": {"enabled": True, "mode": "at_period_end"},
                     "invoice_history": {"enabled": True}, "payment_method_update": {"enabled": True}},
        "business_profile": {"headline": "Billing"}})
    _, rec = run(cus, tmp_path, bucket="missing_self_serve", complaint=complaint)
    ids = [a["id"] for a in rec["plan"]]
    assert not [i for i in ids if i.startswith("cancel") or i.endswith(":subscription_cancel")], ids
    assert not money_actions(rec)
    assert "canceling your subscription" not in rec["followup"].lower()


def test_cancel_the_duplicate_but_keep_the_main_one(w: World, tmp_path: Path) -> None:
    clock = w.clock(T0)
    cus = w.customer("keeps.main@example.com", clock=clock)
    price = w.price(w.product(), 2500)
    main = w.subscribe(cus, price)
    w.advance(clock, T0 + 120)
    dup = w.subscribe(cus, price)
    _, rec = run(cus, tmp_path, bucket="duplicate_subscription",
                 complaint="I was charged twice. Cancel the duplicate but I still want to use the main one.")
    cancels = [a["id"] for a in rec["plan"] if a["kind"] == "cancel"]
    assert cancels == [f"cancel:{dup.id}:now"], cancels
    assert f"cancel:{main.id}" not in str(rec["plan"])


# --- N4 ------------------------------------------------------------------------------------------
def _three_way(w: World, email: str) -> tuple[str, list[str]]:
    clock = w.clock(T0)
    cus = w.customer(email, clock=clock)
    price = w.price(w.product(), 1900)
    subs = []
    for n in range(3):
        subs.append(w.subscribe(cus, price).id)
        w.advance(clock, T0 + 60 * (n + 1))
    return cus, subs


def test_a_three_way_duplicate_is_counted_as_three(w: World, tmp_path: Path) -> None:
    """Before: "billed twice ... two subscriptions to the same plan" for three."""
    cus, subs = _three_way(w, "three.way@example.com")
    _, rec = run(cus, tmp_path, bucket="duplicate_subscription", complaint="I was charged three times this month")
    text = rec["followup"]
    assert "three times" in text and "three subscriptions to the same plan" in text, text
    assert "twice" not in text and "two subscriptions" not in text and "either subscription" not in text, text
    assert "two extra subscriptions" in text, text  # the plan ends two of the three
    assert "Nothing else is needed" in text  # the whole plan leaves one


def test_a_partial_approval_says_what_remains(w: World, tmp_path: Path) -> None:
    """Before: "Your remaining subscription carries on as normal. Nothing else is needed from you." with two
    of the three still live after only one extra was cancelled and refunded."""
    cus, subs = _three_way(w, "three.partial@example.com")
    case, rec = run(cus, tmp_path, bucket="duplicate_subscription", complaint="I was charged three times")
    cancels = [a for a in rec["plan"] if a["kind"] == "cancel"]
    assert len(cancels) == 2, rec["plan"]
    first = cancels[0]
    refund = next(a for a in rec["plan"] if a["kind"] == "refund" and first["id"] in a["requires"])
    results = case.execute([first["id"], refund["id"]], "parameter")
    assert [r.status for r in results] == ["succeeded", "succeeded"]
    text = case.record()["followup"]
    assert "Nothing else is needed" not in text and "remaining subscription" not in text, text
    assert "Two subscriptions to the same plan are still active" in text, text
    assert "the other one" in text and "$19.00" in text, text
    assert "canceled the extra subscription" in text, text


# --- N8 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("complaint", "named"), [
    ("The Analytics add-on has been broken for weeks, please refund my Analytics add-on", "analytics add-on"),
    ("My Enterprise plan does not work at all. Refund it.", "enterprise plan"),
    ("El complemento Insights no funciona, quiero un reembolso de mi complemento Insights", "complemento insights"),
])
def test_a_refund_for_a_product_the_customer_does_not_have_refunds_no_other_plan(
        w: World, tmp_path: Path, complaint: str, named: str) -> None:
    """Before: the Pro plan's charge was refunded for a complaint about a product not on the account."""
    w.product("Analytics")  # in the catalogue, never bought by this customer
    cus = w.customer("unheld.product@example.com")
    w.subscribe(cus, w.price(w.product("Pro"), 2900))
    _, rec = run(cus, tmp_path, bucket="product_failure", complaint=complaint)
    assert money_actions(rec) == [], rec["plan"]
    assert any(f'"{named}", which is not on the account' in n for n in rec["plan_notes"]), rec["plan_notes"]
    assert any("not on the account" in a for a in rec["classification"]["against"]), rec["classification"]
    text = rec["followup"]
    assert f"You mentioned your {named}, but I can't find it on your account" in text, text
    assert "Pro" in text and "refunding" not in text, text


def test_a_refund_naming_the_plan_the_customer_has_still_refunds_it(w: World, tmp_path: Path) -> None:
    cus = w.customer("held.product@example.com")
    w.subscribe(cus, w.price(w.product("Pro"), 2900))
    _, rec = run(cus, tmp_path, bucket="product_failure", complaint="My Pro plan has been broken for weeks, refund it")
    assert [a["amount"]["value"] for a in money_actions(rec)] == [2900], rec["plan"]
    assert "can't find it on your account" not in rec["followup"]


def test_a_renewal_refund_for_a_product_not_on_the_account_is_not_offered(w: World, tmp_path: Path) -> None:
    clock = w.clock(T0)
    cus = w.customer("unheld.renewal@example.com", clock=clock)
    w.subscribe(cus, w.price(w.product("Pro"), 2900))
    w.advance(clock, T0 + 31 * DAY)
    _, rec = run(cus, tmp_path, bucket="missing_self_serve",
                 complaint="I couldn't find how to cancel and it renewed. Refund my Analytics add-on renewal")
    assert money_actions(rec) == [], rec["plan"]
    assert "can't find it on your account" in rec["followup"]
