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
