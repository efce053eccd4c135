"""Pure plan tests: each bucket's plan, in reversible-first order, on hand-built snapshots."""

from __future__ import annotations

from typing import Any

import pytest
from test_actions_snapshots import DAY, T0, YEAR_END, Builder, annual_case, price

from billing_nb.actions import Plan, idempotency_key, plan
from billing_nb.analysis.classify import Bucket, Decision
from billing_nb.analysis.contract import all_refund_options, contract_shapes
from billing_nb.exceptions import UnknownActionError
from billing_nb.analysis.identify import Anomaly, IdentitySummary
from billing_nb.reading.snapshot import CaseSnapshot


def decision(bucket: Bucket | None) -> Decision:
    return Decision(suggested=bucket or Bucket.UNCLEAR, bucket=bucket, confirmed_by="parameter" if bucket else None,
                    confidence=0.9, evidence=())


def summary(snap: CaseSnapshot, *anomalies: tuple[str, tuple[str, ...]]) -> IdentitySummary:
    return IdentitySummary(customer_id=snap.primary_customer_id, email_masked="j***@example.com",
                           other_customer_ids=[], subscriptions=[], invoices=[], charges=[], refunds=[], disputes=[],
                           anomalies=[Anomaly(kind, objs, kind) for kind, objs in anomalies])


def make_plan(snap: CaseSnapshot, bucket: Bucket | None, *anomalies: tuple[str, tuple[str, ...]],
              **kw: Any) -> Plan:
    shapes = contract_shapes(snap)
    options = all_refund_options(snap, shapes)  # as a Case computes them
    return plan(snap, summary(snap, *anomalies), decision(bucket), shapes, options, **kw)


def assert_ordered(p: Plan) -> None:
    keys = [(a.step, not a.reversible) for a in p.actions]
    assert keys == sorted(keys), p.ids


def duplicate_case() -> tuple[Builder, dict[str, Any], dict[str, Any]]:
    b = Builder()
    pr = price("price_pro", 2000)
    old = b.subscription("sub_old", pr, start=T0, created=T0 - 200 * DAY)
    b.invoice(old, 2000, start=T0 - 30 * DAY, end=T0)
    b.invoice(old, 2000, start=T0, end=T0 + 30 * DAY)
    new = b.subscription("sub_new", pr, start=T0 + 2 * DAY, end=T0 + 32 * DAY, created=T0 + 2 * DAY)
    inv = b.invoice(new, 2000, start=T0 + 2 * DAY, end=T0 + 32 * DAY, reason="subscription_create")
    return b, new, inv


def test_pending_plans_nothing() -> None:
    b, _, _ = annual_case(T0)
    p = make_plan(b.snapshot(T0 + 10 * DAY), None)
    assert p.actions == [] and "Pending" in p.notes[0]


def test_duplicate_cancels_newer_and_refunds_only_its_charge() -> None:
    b, new, inv = duplicate_case()
    snap = b.snapshot(T0 + 5 * DAY)
    p = make_plan(snap, Bucket.DUPLICATE_SUBSCRIPTION, ("duplicate_active_subscription", ("sub_old", "sub_new")))
    charge = b.charge_of(inv)["id"]
    assert p.ids == ["cancel:sub_new:now", f"refund:{charge}:2000", "document:cus_A"]
    assert p.get(f"refund:{charge}:2000").params["reason"] == "duplicate"
    assert any("Keep sub_old" in n for n in p.notes)
    assert_ordered(p)


def test_duplicate_with_disputed_charge_never_refunds_it() -> None:
    b, new, inv = duplicate_case()
    dispute = b.dispute(b.charge_of(inv))
    p = make_plan(b.snapshot(T0 + 5 * DAY), Bucket.DUPLICATE_SUBSCRIPTION,
                  ("duplicate_active_subscription", ("sub_old", "sub_new")))
    assert p.ids == ["cancel:sub_new:now", "document:cus_A"]
    assert any(dispute["id"] in n and "never refunded" in n for n in p.notes)


def test_team_keeps_seats_and_offers_quantity_change_only() -> None:
    b = Builder()
    sub = b.subscription("sub_team", price("price_seat", 1500, product="prod_team", nickname="Team seat"), start=T0, quantity=5)
    b.invoice(sub, 7500, start=T0, end=T0 + 30 * DAY)
    item = sub["items"]["data"][0]
    proration = [
        {"id": "il_p1", "amount": -2000, "quantity": 3, "period": {"start": T0 + 9 * DAY, "end": T0 + 30 * DAY},
         "parent": {"subscription_item_details": {"subscription_item": item["id"], "proration": True}}},
        {"id": "il_p2", "amount": 3500, "quantity": 5, "period": {"start": T0 + 9 * DAY, "end": T0 + 30 * DAY},
         "parent": {"subscription_item_details": {"subscription_item": item["id"], "proration": True}}}]
    b.invoice(sub, 1500, start=T0 + 9 * DAY, end=T0 + 30 * DAY, created=T0 + 9 * DAY,
              reason="subscription_update", lines=proration)
    # the customer says two seats are unused: back to the count before the last change
    p = make_plan(b.snapshot(T0 + 10 * DAY), Bucket.TEAM_SEATS, complaint="Two of our seats are unused, please reduce")
    assert p.ids == ["quantity:sub_team:3", "document:cus_A"]
    assert "unused" in p.get("quantity:sub_team:3").why
    assert all(a.kind.value not in ("cancel", "refund", "credit_note") for a in p.actions)
    assert make_plan(b.snapshot(T0 + 10 * DAY), Bucket.TEAM_SEATS, seats=4).ids[0] == "quantity:sub_team:4"
    # issue 12: a team that went from 3 to 5 seats on purpose is not offered a reduction back to 3
    for complaint in ("", "We added two seats for new hires, can you explain the invoice?"):
        kept = make_plan(b.snapshot(T0 + 10 * DAY), Bucket.TEAM_SEATS, complaint=complaint)
        assert not [a for a in kept.actions if a.kind.value == "quantity"], (complaint, kept.ids)
        assert any("deliberate increase" in n for n in kept.notes)


def test_team_without_history_asks_for_the_count() -> None:
    b = Builder()
    sub = b.subscription("sub_team", price("price_seat", 1500, nickname="Team seat"), start=T0, quantity=5)
    b.invoice(sub, 7500, start=T0, end=T0 + 30 * DAY)
    p = make_plan(b.snapshot(T0 + 10 * DAY), Bucket.TEAM_SEATS)
    assert p.ids == ["document:cus_A"] and any("ask the customer" in n for n in p.notes)


def failed_case(*, newer_card: bool) -> tuple[Builder, dict[str, Any]]:
    b = Builder()
    b.card("pm_old", created=T0 - 300 * DAY, exp_year=2026)
    if newer_card:
        b.card("pm_new", created=T0 + 3 * DAY)
    sub = b.subscription("sub_m", price("price_pro", 2000), start=T0, status="past_due")
    b.invoice(sub, 2000, start=T0 - 30 * DAY, end=T0)
    inv = b.invoice(sub, 2000, start=T0, end=T0 + 30 * DAY, status="open", charge_status="failed", attempt_count=3)
    return b, inv


def test_failed_payment_portal_default_pm_retry_never_refund() -> None:
    b, inv = failed_case(newer_card=True)
    p = make_plan(b.snapshot(T0 + 5 * DAY), Bucket.FAILED_PAYMENT, ("failed_renewal", ("sub_m", inv["id"])))
    assert p.ids == ["portal:cus_A:payment_method_update", "default_pm:sub_m:pm_new", f"retry:{inv['id']}",
                     "document:cus_A"]
    assert not any(a.kind.value in ("refund", "credit_note") for a in p.actions)
    assert_ordered(p)
    b2, inv2 = failed_case(newer_card=False)
    assert make_plan(b2.snapshot(T0 + 5 * DAY), Bucket.FAILED_PAYMENT).ids == [
        "portal:cus_A:payment_method_update", f"retry:{inv2['id']}", "document:cus_A"]


def test_missing_self_serve_portal_when_allowed_else_cancel_at_period_end() -> None:
    b, sub, inv = annual_case(T0)
    b.portal(cancel=True)
    p = make_plan(b.snapshot(T0 + 10 * DAY), Bucket.MISSING_SELF_SERVE)
    assert p.ids == ["portal:cus_A:subscription_cancel", "document:cus_A"]
    assert p.actions[0].params["subscription"] == "sub_annual"
    b2, _, _ = annual_case(T0)
    b2.portal(cancel=False)
    p2 = make_plan(b2.snapshot(T0 + 10 * DAY), Bucket.MISSING_SELF_SERVE)
    assert p2.ids == ["cancel:sub_annual:at_period_end", "document:cus_A"]
    assert p2.actions[0].reversible and any("does not let customers cancel" in n for n in p2.notes)


def test_product_failure_monthly_refunds_the_affected_charge() -> None:
    b = Builder()
    sub = b.subscription("sub_m", price("price_pro", 2000), start=T0)
    b.invoice(sub, 2000, start=T0 - 30 * DAY, end=T0, created=T0 - 30 * DAY)
    inv = b.invoice(sub, 2000, start=T0, end=T0 + 30 * DAY)
    p = make_plan(b.snapshot(T0 + 3 * DAY), Bucket.PRODUCT_FAILURE)
    assert p.ids == [f"refund:{b.charge_of(inv)['id']}:2000", "document:cus_A"]


def test_product_failure_annual_credit_note_for_unused_time() -> None:
    now = T0 + 92 * DAY
    b, sub, inv = annual_case(now)
    p = make_plan(b.snapshot(now), Bucket.PRODUCT_FAILURE)
    unused = round(120000 * (YEAR_END - now) / (YEAR_END - T0))
    assert p.ids == ["cancel:sub_annual:now", f"credit_note:{inv['id']}:{unused}", "document:cus_A"]
    note = p.get(f"credit_note:{inv['id']}:{unused}")
    assert note.moves_money and not note.reversible and note.params["reason"] == "product_unsatisfactory"
    js = note.as_case_json()
    assert js["amount"] == {"value": unused, "currency": "usd"} and js["step"] == 3


def test_unclear_plans_nothing_money_moving() -> None:
    b, sub, inv = annual_case(T0)
    b.portal(cancel=True)
    p = make_plan(b.snapshot(T0 + 10 * DAY), Bucket.UNCLEAR,
                  ("charged_after_cancel_request", ("sub_annual", inv["id"])))
    assert p.ids == ["portal:cus_A:home", "document:cus_A"]
    assert not any(a.moves_money for a in p.actions)


def test_charged_after_cancel_request_on_annual_offers_full_or_unused_credit_note() -> None:
    b = Builder()
    sub = b.subscription("sub_y", price("price_year", 120000, "year"), start=T0, end=YEAR_END)
    b.invoice(sub, 120000, start=T0 - 365 * DAY, end=T0, created=T0 - 365 * DAY, reason="subscription_create")
    renewal = b.invoice(sub, 120000, start=T0, end=YEAR_END)
    now = T0 + 20 * DAY
    p = make_plan(b.snapshot(now), Bucket.MISSING_SELF_SERVE,
                  ("charged_after_cancel_request", ("sub_y", renewal["id"])))
    unused = round(120000 * (YEAR_END - now) / (YEAR_END - T0))
    assert p.ids == ["cancel:sub_y:at_period_end", "cancel:sub_y:now", f"credit_note:{renewal['id']}:120000",
                     f"credit_note:{renewal['id']}:{unused}", "document:cus_A"]
    assert p.actions[2].exclusive == p.actions[3].exclusive
    assert p.actions[0].exclusive == p.actions[1].exclusive == "cancel:sub_y"  # alternatives: approve one
    assert any("Approve one credit note" in n for n in p.notes)


def test_plan_get_and_keys() -> None:
    p = Plan([])
    with pytest.raises(UnknownActionError, match="refund:ch_X:1"):
        p.get("refund:ch_X:1")
    from dataclasses import replace

    from billing_nb.actions import catalogue as cat
    from billing_nb.money import Money

    refund = cat.refund("ch_1", Money(100, "usd"), "duplicate", "test")
    key = idempotency_key(refund, "case-1")
    # the effect's key: the same from any case (the case id only travels in metadata)
    assert key == idempotency_key(refund, "case-2") and key.startswith("bnb-") and len(key) == 36
    assert key != idempotency_key(cat.refund("ch_1", Money(101, "usd"), "duplicate", "test"), "case-1")
    assert key != idempotency_key(cat.refund("ch_2", Money(100, "usd"), "duplicate", "test"), "case-1")
    assert key != idempotency_key(replace(refund, id=refund.id + "#2"), "case-1")  # a deliberate second one
    assert "refund:ch_1:100#2" in refund.preview  # the preview says how to ask for a second one
    note = cat.credit_note("in_1", Money(100, "usd"), "duplicate", "test", "ch_1")
    assert idempotency_key(note, "a") == idempotency_key(note, "b") != key
    now, later = cat.cancel_now("sub_1", "test"), cat.cancel_at_period_end("sub_1", None)
    assert idempotency_key(now, "a") == idempotency_key(now, "b") != idempotency_key(later, "a")
    portal = cat.portal("cus_1", "home")  # not money: each case's own session
    assert idempotency_key(portal, "a") != idempotency_key(portal, "b")


def test_duplicates_created_in_the_same_second_keep_the_one_bought_first() -> None:
    """A double-clicked checkout makes two subscriptions with one ``created`` second. Stripe
    lists newest first, so the one listed later was bought first: it is kept (it used the
    customer's credit balance, its invoice paid less), the newer one is cancelled and refunded."""
    b = Builder()
    pr = price("price_pro", 2000)
    second = b.subscription("sub_second", pr, start=T0, created=T0)  # listed first: the newer
    first = b.subscription("sub_first", pr, start=T0, created=T0)
    b.invoice(first, 1500, start=T0, end=T0 + 30 * DAY, reason="subscription_create")
    inv = b.invoice(second, 2000, start=T0, end=T0 + 30 * DAY, reason="subscription_create")
    snap = b.snapshot(T0 + DAY)
    for pair in (("sub_first", "sub_second"), ("sub_second", "sub_first")):  # whatever order the anomaly names
        p = make_plan(snap, Bucket.DUPLICATE_SUBSCRIPTION, ("duplicate_active_subscription", pair))
        assert p.ids[:2] == ["cancel:sub_second:now", f"refund:{b.charge_of(inv)['id']}:2000"], p.ids
        assert any("Keep sub_first" in n for n in p.notes)


def _renewed(amount: int, interval: str, days_ago: int) -> tuple[Builder, dict[str, Any], int]:
    b = Builder()
    span = 365 * DAY if interval == "year" else 30 * DAY
    sub = b.subscription("sub_r", price("price_r", amount, interval), start=T0, end=T0 + span)
    b.invoice(sub, amount, start=T0 - span, end=T0, created=T0 - span, reason="subscription_create")
    renewal = b.invoice(sub, amount, start=T0, end=T0 + span)
    return b, renewal, T0 + days_ago * DAY + 3600


@pytest.mark.parametrize("complaint", ["It auto-renewed my yearly plan without a reminder, I want my money back",
                                       "renewed again?? I never use it. Please refund the renewal."])
def test_an_unwanted_annual_renewal_is_offered_back_within_the_window(complaint: str) -> None:
    """"Refund my annual plan" days after it renewed (missing self-serve: they couldn't cancel in
    time): beside the safe cancel at period end, cancel now with the whole renewal or only its
    unused time back, each needing the cancel; the notes name the window."""
    b, renewal, now = _renewed(120000, "year", 3)
    p = make_plan(b.snapshot(now), Bucket.MISSING_SELF_SERVE, complaint=complaint)
    unused = round(120000 * (T0 + 365 * DAY - now) / (365 * DAY))
    assert p.ids == ["cancel:sub_r:at_period_end", "cancel:sub_r:now", f"credit_note:{renewal['id']}:120000",
                     f"credit_note:{renewal['id']}:{unused}", "document:cus_A"]
    full, part = p.actions[2], p.actions[3]
    assert full.requires == part.requires == ("cancel:sub_r:now",) and full.exclusive == part.exclusive
    assert any("3 days ago, within the 14-day renewal refund window" in n for n in p.notes)
    assert_ordered(p)


def test_an_unwanted_monthly_renewal_refunds_its_charge_and_the_window_holds() -> None:
    b, renewal, now = _renewed(2000, "month", 2)
    p = make_plan(b.snapshot(now), Bucket.MISSING_SELF_SERVE, complaint="it renewed before I could cancel, refund it")
    charge = b.charge_of(renewal)["id"]
    assert f"refund:{charge}:2000" in p.ids and p.get(f"refund:{charge}:2000").requires == ("cancel:sub_r:now",)
    # past the window: nothing moves money, the note says how to make an exception
    b, renewal, now = _renewed(120000, "year", 20)
    late = make_plan(b.snapshot(now), Bucket.MISSING_SELF_SERVE, complaint="it renewed, I want a refund")
    assert not [a for a in late.actions if a.moves_money]
    assert any("20 days ago, past the 14-day renewal refund window" in n and "refund:ch_X:AMOUNT" in n
               for n in late.notes)
    # no money asked for (or refused in words): no refund planned
    for words in ("I could not find how to cancel", "I don't want a refund, just cancel it"):
        assert not [a for a in make_plan(b.snapshot(T0 + 2 * DAY), Bucket.MISSING_SELF_SERVE,
                                         complaint=words).actions if a.moves_money], words
