"""Adversarial review, session 7: plans that moved the wrong money or the wrong subscription.

Each test builds the tester's reproduction as a hand-made snapshot (see test_actions_snapshots).
"""

from __future__ import annotations

from typing import Any

import pytest
from test_actions_plan import decision, duplicate_case, make_plan, summary
from test_actions_snapshots import DAY, T0, YEAR_END, Builder, price

from billing_nb.actions import plan
from billing_nb.actions.executor import validate
from billing_nb.analysis.contract import all_refund_options, contract_shapes, refund_options, with_stripe_amounts
from billing_nb.analysis.classify import Bucket
from billing_nb.exceptions import ActionRefusedError

DUP = Bucket.DUPLICATE_SUBSCRIPTION


def two_products() -> tuple[Builder, dict[str, Any], dict[str, Any]]:
    """Personal Pro ($15/mo) and a Storage Add-on ($5/mo): two purchases, one charge each this month."""
    b = Builder()
    pro = b.subscription("sub_pro", price("price_pro", 1500, product="prod_pro"), start=T0, created=T0 - 90 * DAY)
    pro_inv = b.invoice(pro, 1500, start=T0, end=T0 + 30 * DAY)
    storage = b.subscription("sub_storage", price("price_storage", 500, product="prod_storage"), start=T0 + DAY,
                             end=T0 + 31 * DAY, created=T0 - 20 * DAY)
    storage_inv = b.invoice(storage, 500, start=T0 + DAY, end=T0 + 31 * DAY, created=T0 + DAY)
    return b, pro_inv, storage_inv


# --- D1: a duplicate is one product bought twice ---------------------------------------------
def test_a_forced_duplicate_bucket_never_cancels_a_different_product() -> None:
    """Before: cancel:sub_storage:now ("duplicates sub_pro") and its $5 refunded."""
    b, _, _ = two_products()
    snap = b.snapshot(T0 + 5 * DAY)
    for anomalies in ((), (("duplicate_active_subscription", ("sub_pro", "sub_storage")),)):
        p = make_plan(snap, DUP, *anomalies, complaint="I was charged twice this month")
        assert not [a for a in p.actions if a.kind.value in ("cancel", "refund", "credit_note", "void")], p.ids
        assert any("contradicts the evidence" in n and "different products" in n for n in p.notes), p.notes


def test_a_duplicate_pair_is_found_beside_another_product() -> None:
    """Pro bought twice and a Storage add-on: only the Pro pair is a duplicate."""
    b, new, inv = duplicate_case()
    storage = b.subscription("sub_storage", price("price_storage", 500, product="prod_storage"), start=T0,
                             created=T0 + 3 * DAY)
    b.invoice(storage, 500, start=T0, end=T0 + 30 * DAY)
    p = make_plan(b.snapshot(T0 + 5 * DAY), DUP)
    assert [a.id for a in p.actions if a.kind.value == "cancel"] == ["cancel:sub_new:now"]
    assert [a.target for a in p.actions if a.kind.value == "refund"] == [b.charge_of(inv)["id"]]


# --- D11: the duplicate's money back needs its cancel ----------------------------------------
def test_the_duplicate_refund_requires_its_cancel() -> None:
    """Before: refund:<ch>:2000 alone executed while the duplicate stayed active and renewed."""
    b, _, inv = duplicate_case()
    snap = b.snapshot(T0 + 5 * DAY)
    p = make_plan(snap, DUP, ("duplicate_active_subscription", ("sub_old", "sub_new")))
    refund = f"refund:{b.charge_of(inv)['id']}:2000"
    assert p.get(refund).requires == ("cancel:sub_new:now",)
    with pytest.raises(ActionRefusedError, match="requires cancel:sub_new:now"):
        validate(p, [refund], decision(DUP), snap)
    with pytest.raises(ActionRefusedError, match="requires cancel:sub_new:now"):  # a named part too
        validate(p, [f"refund:{b.charge_of(inv)['id']}:1000"], decision(DUP), snap)
    assert [a.id for a in validate(p, [refund, "cancel:sub_new:now"], decision(DUP), snap)] == \
        ["cancel:sub_new:now", refund]
    assert validate(p, [refund], decision(DUP), snap, done={"cancel:sub_new:now"})  # cancelled in an earlier run


# --- D2: monthly and annual of one product is a plan switch ----------------------------------
def switch_case() -> tuple[Builder, dict[str, Any], dict[str, Any]]:
    """Pro monthly since long ago; Pro annual bought a week ago; the monthly renewed after it."""
    b = Builder()
    monthly = b.subscription("sub_monthly", price("price_pm", 1500), start=T0 + 8 * DAY, end=T0 + 38 * DAY,
                             created=T0 - 200 * DAY)
    b.invoice(monthly, 1500, start=T0 - 22 * DAY, end=T0 + 8 * DAY, created=T0 - 22 * DAY)
    annual = b.subscription("sub_annual", price("price_py", 15000, "year"), start=T0, end=YEAR_END, created=T0)
    b.invoice(annual, 15000, start=T0, end=YEAR_END, reason="subscription_create")
    after = b.invoice(monthly, 1500, start=T0 + 8 * DAY, end=T0 + 38 * DAY, created=T0 + 8 * DAY)
    return b, annual, after


def test_a_switch_to_annual_keeps_the_annual_and_refunds_the_monthly_after_the_switch() -> None:
    """Before: cancel:sub_annual:now and its $150 refunded ("keep the oldest"). Session 9: the monthly's
    paid time from the switch on goes back, the renewal since whole and the 8 of 30 days of the period
    running at the switch (T0 to T0+8, paid on both plans) on the charge that paid them: before, that
    $4.00 was kept."""
    b, _, after = switch_case()
    snap = b.snapshot(T0 + 9 * DAY)
    complaint = "I switched to the annual plan last week but you are still billing me monthly too"
    for anomalies in ((), (("duplicate_active_subscription", ("sub_monthly", "sub_annual")),)):
        p = make_plan(snap, DUP, *anomalies, complaint=complaint)
        charge = b.charge_of(after)["id"]
        first = next(c["id"] for c in snap.of("charges") if c["id"] != charge and c["amount"] == 1500)  # the monthly's
        assert [a.id for a in p.actions if a.moves_money or a.kind.value == "cancel"] == \
            ["cancel:sub_monthly:now", f"refund:{charge}:1500", f"refund:{first}:400"], p.ids
        assert p.get(f"refund:{charge}:1500").requires == ("cancel:sub_monthly:now",)
        assert p.get(f"refund:{first}:400").requires == ("cancel:sub_monthly:now",)
        assert any("Not an accidental duplicate" in n and "Keep sub_annual" in n and "(yearly, $150.00 USD)" in n
                   and "(monthly, $15.00 USD)" in n for n in p.notes), p.notes
    # the complaint names nothing: the newer plan is kept; it names the monthly: that one is kept
    assert "cancel:sub_monthly:now" in make_plan(snap, DUP, complaint="charged twice").ids
    kept = make_plan(snap, DUP, complaint="I moved back to monthly, cancel the yearly one")
    assert "cancel:sub_annual:now" in kept.ids and "cancel:sub_monthly:now" not in kept.ids


# --- D13: one balance credit is netted once ---------------------------------------------------
def test_a_balance_credit_is_netted_once_across_the_subscriptions() -> None:
    """Two duplicate $15 subscriptions and one $10 credit: before, both subscriptions' options
    showed $5 (the credit counted twice) and four "differs from Stripe's $15" notes."""
    b = Builder()
    b.objects["customers"][0]["balance"] = -1000
    pr = price("price_pro", 1500)
    for sid, created in (("sub_old", T0 - 60 * DAY), ("sub_new", T0)):
        sub = b.subscription(sid, pr, start=T0, created=created)
        b.invoice(sub, 1500, start=T0, end=T0 + 30 * DAY)
    snap = b.snapshot(T0)  # the start of the period: the unused time is the whole $15
    shapes = contract_shapes(snap)
    options = all_refund_options(snap, shapes)
    net = {o.subscription_id: o.amount.amount for o in options if o.kind == "cancel_now_refund"}
    assert net == {"sub_new": 500, "sub_old": 1500}, net  # newest first: the credit is netted on sub_new only
    old = next(o for o in options if o.kind == "cancel_now_refund" and o.subscription_id == "sub_old")
    assert "netted on sub_new" in old.explanation
    # the one-shape call agrees with the whole-case one
    for shape in shapes:
        assert refund_options(snap, shape) == [o for o in options if o.subscription_id == shape.subscription_id]
    # Stripe's preview of either cancel is $15 (it knows nothing of the balance): like for like, no mismatch
    priced = with_stripe_amounts(options, {o.key: 1500 for o in options if o.kind != "cancel_at_period_end"})
    assert not [o for o in priced if o.mismatch]
    assert [o for o in with_stripe_amounts(options, {"cancel_now_refund:sub_old": 1400}) if o.mismatch]
    p = plan(snap, summary(snap), decision(DUP), shapes, priced, complaint="charged twice")
    assert not [n for n in p.notes if "differs from Stripe" in n], p.notes
    assert any("netted once, on the unused-time amounts of sub_new" in n for n in p.notes), p.notes


# --- D4: a product failure's money back is for the charge the case is about --------------------
def _named_products(b: Builder) -> None:
    b.add("products", {"id": "prod_pro", "object": "product", "name": "Personal Pro", "metadata": {}})
    b.add("products", {"id": "prod_storage", "object": "product", "name": "Storage Add-on", "metadata": {}})


def test_a_product_failure_refunds_the_looked_up_charge_or_the_named_plan() -> None:
    """Before: a ch_ lookup of the Pro charge planned a refund of the $5 Storage charge (the most
    recent), and refund:<pro ch>:1500 was an UnknownActionError."""
    b, pro_inv, storage_inv = two_products()
    _named_products(b)
    pro, storage = b.charge_of(pro_inv)["id"], b.charge_of(storage_inv)["id"]
    complaint = "The Personal Pro plan has been broken for weeks, refund this charge."
    for looked in (pro, pro_inv["id"], "sub_pro", b.charge_of(pro_inv)["payment_intent"]):
        snap = b.snapshot(T0 + 5 * DAY)
        snap.extra["lookup_object"] = looked
        p = make_plan(snap, Bucket.PRODUCT_FAILURE, complaint="it is broken, refund this charge")
        assert [a.id for a in p.actions if a.moves_money] == [f"refund:{pro}:1500"], (looked, p.ids)
        assert validate(p, [f"refund:{pro}:1500"], decision(Bucket.PRODUCT_FAILURE), snap)
    # by email: the plan the complaint names
    p = make_plan(b.snapshot(T0 + 5 * DAY), Bucket.PRODUCT_FAILURE, complaint=complaint)
    assert [a.id for a in p.actions if a.moves_money] == [f"refund:{pro}:1500"], p.ids
    p = make_plan(b.snapshot(T0 + 5 * DAY), Bucket.PRODUCT_FAILURE, complaint="the storage add-on never syncs")
    assert [a.id for a in p.actions if a.moves_money] == [f"refund:{storage}:500"], p.ids


def test_a_product_failure_naming_no_plan_offers_each_charge_as_an_alternative() -> None:
    b, pro_inv, storage_inv = two_products()
    snap = b.snapshot(T0 + 5 * DAY)
    pro, storage = f"refund:{b.charge_of(pro_inv)['id']}:1500", f"refund:{b.charge_of(storage_inv)['id']}:500"
    p = make_plan(snap, Bucket.PRODUCT_FAILURE, complaint="It has been broken for weeks, refund me.")
    assert [a.id for a in p.actions if a.moves_money] == [storage, pro], p.ids  # the most recent first
    assert p.get(pro).exclusive == p.get(storage).exclusive is not None
    assert any("2 charges could be the one" in n for n in p.notes), p.notes
    assert validate(p, [pro], decision(Bucket.PRODUCT_FAILURE), snap)
    with pytest.raises(ActionRefusedError, match="alternatives"):
        validate(p, [pro, storage], decision(Bucket.PRODUCT_FAILURE), snap)


def test_a_switch_with_nothing_charged_since_refunds_the_old_plans_unused_time() -> None:
    """The annual was bought mid-period of the monthly: the monthly's rest of period is paid twice."""
    b = Builder()
    monthly = b.subscription("sub_monthly", price("price_pm", 1500), start=T0, created=T0 - 200 * DAY)
    inv = b.invoice(monthly, 1500, start=T0, end=T0 + 30 * DAY)
    annual = b.subscription("sub_annual", price("price_py", 15000, "year"), start=T0 + 10 * DAY,
                            end=YEAR_END + 10 * DAY, created=T0 + 10 * DAY)
    b.invoice(annual, 15000, start=T0 + 10 * DAY, end=YEAR_END + 10 * DAY, reason="subscription_create")
    p = make_plan(b.snapshot(T0 + 15 * DAY), DUP, complaint="I switched to the annual plan, still billed monthly")
    # from the switch (the annual billed from T0 + 10 days), not from today: 20 of the month's 30 days
    # were paid on both plans, not only the 15 left (session 8: it was 750, the days since the switch lost)
    refund = f"refund:{b.charge_of(inv)['id']}:1000"
    assert [a.id for a in p.actions if a.moves_money or a.kind.value == "cancel"] == ["cancel:sub_monthly:now", refund]
    assert p.get(refund).requires == ("cancel:sub_monthly:now",)


# --- D12: a monthly renewal charged after the cancel request can be given back ---------------
def test_a_monthly_renewal_charged_after_the_cancel_request_is_offered_back() -> None:
    """Before: a note said "consider refunding that renewal charge (not planned automatically)"
    and refund:<ch>:1500 was an UnknownActionError."""
    b = Builder()
    sub = b.subscription("sub_m", price("price_pro", 1500), start=T0, status="canceled", canceled_at=T0 + DAY)
    b.invoice(sub, 1500, start=T0 - 30 * DAY, end=T0, created=T0 - 30 * DAY, reason="subscription_create")
    renewal = b.invoice(sub, 1500, start=T0, end=T0 + 30 * DAY)
    snap = b.snapshot(T0 + 2 * DAY)
    charge = b.charge_of(renewal)["id"]
    p = make_plan(snap, Bucket.MISSING_SELF_SERVE, ("charged_after_cancel_request", ("sub_m", renewal["id"])),
                  complaint="I emailed you to cancel before the renewal, I want that last charge back.")
    assert f"refund:{charge}:1500" in p.ids and p.get(f"refund:{charge}:1500").requires == ()
    assert validate(p, [f"refund:{charge}:1500"], decision(Bucket.MISSING_SELF_SERVE), snap)
    assert not [n for n in p.notes if "not planned automatically" in n]
    # still live: the refund needs the cancel
    sub["status"] = "active"
    live = make_plan(b.snapshot(T0 + 2 * DAY), Bucket.MISSING_SELF_SERVE,
                     ("charged_after_cancel_request", ("sub_m", renewal["id"])), complaint="refund the renewal")
    assert live.get(f"refund:{charge}:1500").requires == ("cancel:sub_m:now",)
