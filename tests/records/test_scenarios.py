"""Scenarios built through the SDK on a fresh sandbox, the way an outside tester would.

Each test makes its own customers (not the demo stories), runs the case path the CLI runs
(resolve the lookup, ``open_case``, ``confirm``) and checks steps 1-5 on the record.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import stripe

from billing_nb.records.scan import scan

from scenarios import World, kinds, money_actions, plan_kinds, run

DAY = 86400
T0 = 1_780_000_000  # 2026-05-28, a fixed clock start


def _headings_ok(record: dict) -> None:
    text = record["handoff"]
    heads = ["CUSTOMER", "BILLING STATE", "DECISION", "ACTION TAKEN", "FOLLOW-UP", "PRODUCT GAP"]
    positions = [text.index(f"## {h}") for h in heads]
    assert positions == sorted(positions)
    assert record["followup"].strip()


# --- identity and lookups --------------------------------------------------------------------
def test_new_lead_without_email_or_history_is_unclear_with_valid_handoff(w: World, tmp_path: Path) -> None:
    cus = w.customer(None, card=None)
    case, rec = run(cus, tmp_path, bucket="unclear", complaint="I never signed up but you keep emailing me??")
    assert rec["customer"] == {"id": cus, "email": None, "other_customer_ids": []}
    assert rec["classification"]["suggested"] == "unclear"
    state = rec["billing_state"]
    assert {k: state[k] for k in ("subscriptions", "invoices", "anomalies", "truncated", "disputes")} == {
        "subscriptions": [], "invoices": [], "anomalies": [], "truncated": [], "disputes": []}
    assert state["credits"]["refunds"] == [] and state["credits"]["credit_notes"] == []
    assert state["credits"]["credit_held"] is None
    assert money_actions(rec) == [] and rec["contract"] == [] and rec["refund_options"] == []
    _headings_ok(rec)
    assert "No subscriptions." in rec["handoff"] and "No invoices." in rec["handoff"]


def test_lookup_by_payment_intent_and_checkout_session(w: World, tmp_path: Path) -> None:
    from scenarios import resolve

    cus = w.customer("pi.cs@example.com")
    price = w.price(w.product(), 1200)
    w.subscribe(cus, price)
    pi = w.c.v1.payment_intents.list({"customer": cus}).data[0].id
    session = w.c.v1.checkout.sessions.create({
        "mode": "subscription", "customer": cus, "line_items": [{"price": price, "quantity": 1}],
        "success_url": "https://example.com/ok", "cancel_url": "https://example.com/no"})
    assert resolve(pi) == cus
    assert resolve(session.id) == cus
    _, rec = run(pi, tmp_path)
    assert rec["customer"]["id"] == cus and rec["status"] == "pending"


def test_email_lookup_ignores_case(w: World, tmp_path: Path) -> None:
    cus = w.customer("Mixed.Case@Example.com")
    _, rec = run("mixed.case@example.com", tmp_path)
    assert rec["customer"]["id"] == cus
    assert "Mixed.Case@Example.com" not in str(rec)


def test_one_person_on_two_customers_whose_emails_differ_in_case(w: World, tmp_path: Path) -> None:
    clock = w.clock(T0)
    price = w.price(w.product(), 1000)
    first = w.customer("Ann.Lee@example.com", clock=clock)
    w.subscribe(first, price)
    w.advance(clock, T0 + 300)
    second = w.customer("ann.lee@example.com", clock=clock)
    dup = w.subscribe(second, price)
    for lookup in ("ANN.LEE@example.com", first):
        _, rec = run(lookup, tmp_path, bucket="duplicate_subscription", complaint="I pay twice")
        assert {rec["customer"]["id"], *rec["customer"]["other_customer_ids"]} == {first, second}
        assert {"duplicate_customer", "duplicate_active_subscription"} <= set(kinds(rec))
        assert rec["classification"]["suggested"] == "duplicate_subscription"
        assert f"cancel:{dup.id}:now" in [a["id"] for a in rec["plan"]]


def test_lookup_by_invoice_and_charge_ids(w: World, tmp_path: Path) -> None:
    cus = w.customer("ids@example.com")
    w.subscribe(cus, w.price(w.product(), 1000))
    inv = w.c.v1.invoices.list({"customer": cus}).data[0].id
    [charge] = w.charges(cus)
    for lookup, kind in ((inv, "invoice"), (charge.id, "charge")):
        _, rec = run(lookup, tmp_path)
        assert rec["customer"]["id"] == cus and rec["lookup_kind"] == kind


def test_deleted_customer_is_a_clear_error_with_exit_2(w: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from billing_nb.cli import main

    cus = w.customer("gone@example.com")
    w.c.v1.customers.delete(cus)
    code = main(["case", cus, "--out", str(tmp_path / "cases")])
    err = capsys.readouterr().err
    assert code == 2
    assert cus in err and "Traceback" not in err
    assert not list((tmp_path / "cases").rglob("case.json"))


def test_email_with_no_payment_history(w: World, tmp_path: Path) -> None:
    cus = w.customer("quiet@example.com")
    _, rec = run("quiet@example.com", tmp_path, bucket="unclear", complaint="Please refund me")
    assert rec["customer"]["id"] == cus
    assert rec["classification"]["suggested"] == "unclear"
    assert money_actions(rec) == []
    _headings_ok(rec)


# --- duplicates ---------------------------------------------------------------------------------
def test_monthly_and_annual_of_one_product_a_minute_apart_is_a_plan_switch(w: World, tmp_path: Path) -> None:
    """Session 7 (D2): one product on two intervals is a switch whose old subscription was never
    ended, not an accidental duplicate: the newer plan is kept when the complaint names neither
    (before: the annual was cancelled and its $200 refunded, "keep the oldest"); the monthly
    ends and its unused time, paid twice since the annual began, comes back."""
    clock = w.clock(T0)
    cus = w.customer("dup.prices@example.com", clock=clock)
    prod = w.product()
    monthly, annual = w.price(prod, 2000), w.price(prod, 20000, "year")
    first = w.subscribe(cus, monthly)
    w.advance(clock, T0 + 60)
    second = w.subscribe(cus, annual)
    w.advance(clock, T0 + 2 * DAY)
    _, rec = run("dup.prices@example.com", tmp_path, bucket="duplicate_subscription", complaint="charged twice")
    assert "duplicate_active_subscription" in kinds(rec)
    assert rec["classification"]["suggested"] == "duplicate_subscription"
    ids = [a["id"] for a in rec["plan"]]
    assert f"cancel:{first.id}:now" in ids and f"cancel:{second.id}:now" not in ids
    refunds = [a for a in rec["plan"] if a["kind"] == "refund"]
    # the monthly's unused time from the switch (the annual billed from its creation, a minute in: the
    # days since were paid on both plans), no longer from today (session 8)
    from fractions import Fraction

    from billing_nb.money import round_half_up
    item = w.c.v1.subscriptions.retrieve(first.id)["items"]["data"][0]
    start, end = int(item["current_period_start"]), int(item["current_period_end"])
    assert len(refunds) == 1
    assert refunds[0]["amount"]["value"] == round_half_up(2000 * Fraction(end - int(second.created), end - start))
    assert refunds[0]["requires"] == [f"cancel:{first.id}:now"]
    assert any("Not an accidental duplicate" in n for n in rec["plan_notes"])
    # T2: the evidence names the two intervals, the message names both plans and which one ends
    assert any(e.startswith("one product on different intervals (month and year)")
               for e in rec["classification"]["evidence"]), rec["classification"]["evidence"]
    assert any("not an accidental second purchase" in a for a in rec["classification"]["against"])
    assert "same plan" not in rec["followup"] and "your monthly subscription" in rec["followup"], rec["followup"]


def test_two_products_are_not_a_duplicate(w: World, tmp_path: Path) -> None:
    cus = w.customer("two.products@example.com")
    w.subscribe(cus, w.price(w.product("Pro"), 2000))
    w.subscribe(cus, w.price(w.product("Storage"), 500))
    _, rec = run(cus, tmp_path, complaint="I was charged twice this month")
    assert "duplicate_active_subscription" not in kinds(rec)
    assert rec["classification"]["suggested"] != "duplicate_subscription"


def test_two_subscriptions_an_hour_apart_each_charged(w: World, tmp_path: Path) -> None:
    clock = w.clock(T0)
    cus = w.customer("hour.apart@example.com", clock=clock)
    price = w.price(w.product(), 2500)
    first = w.subscribe(cus, price)
    w.advance(clock, T0 + 3600)
    second = w.subscribe(cus, price)
    assert len(w.charges(cus)) == 2
    _, rec = run(cus, tmp_path, bucket="duplicate_subscription", complaint="two charges on my card")
    assert rec["classification"]["suggested"] == "duplicate_subscription"
    assert [a["id"] for a in rec["plan"] if a["kind"] == "cancel"] == [f"cancel:{second.id}:now"]
    refunds = [a for a in rec["plan"] if a["kind"] == "refund"]
    assert [r["amount"]["value"] for r in refunds] == [2500]
    assert first.id in str(rec["plan_notes"])


def test_duplicate_where_one_is_trialing(w: World, tmp_path: Path) -> None:
    clock = w.clock(T0)
    cus = w.customer("trial.dup@example.com", clock=clock)
    price = w.price(w.product(), 3000)
    paid = w.subscribe(cus, price)
    w.advance(clock, T0 + 120)
    trial = w.subscribe(cus, price, trial_period_days=14)
    _, rec = run(cus, tmp_path, bucket="duplicate_subscription")
    assert rec["classification"]["suggested"] == "duplicate_subscription"
    assert f"cancel:{trial.id}:now" in [a["id"] for a in rec["plan"]]
    assert f"cancel:{paid.id}:now" not in [a["id"] for a in rec["plan"]]
    assert not [a for a in rec["plan"] if a["kind"] == "refund"]  # the trial charged nothing


def test_duplicate_where_both_are_past_due(w: World, tmp_path: Path) -> None:
    clock = w.clock(T0)
    cus = w.customer("both.pastdue@example.com", clock=clock)
    price = w.price(w.product(), 1000)
    w.subscribe(cus, price)
    w.advance(clock, T0 + 60)
    w.subscribe(cus, price)
    w.card(cus, "pm_card_chargeCustomerFail")
    w.advance(clock, T0 + 32 * DAY)
    statuses = {s.status for s in w.c.v1.subscriptions.list({"customer": cus}).data}
    assert statuses == {"past_due"}
    _, rec = run(cus, tmp_path, bucket="duplicate_subscription", complaint="charged twice and now failing")
    assert "duplicate_active_subscription" in kinds(rec)
    assert rec["classification"]["suggested"] == "duplicate_subscription"
    cancels = [a for a in rec["plan"] if a["kind"] == "cancel"]
    assert len(cancels) == 1
    for refund in (a for a in rec["plan"] if a["kind"] == "refund"):
        assert refund["amount"]["value"] <= 1000


# --- teams -------------------------------------------------------------------------------------
def test_per_seat_product_quantity_3_is_team_seats(w: World, tmp_path: Path) -> None:
    cus = w.customer("team.lead@example.com", company="Acme")
    seat = w.price(w.product("Team", per_seat="true"), 1500)
    sub = w.subscribe(cus, (seat, 3))
    _, rec = run(cus, tmp_path, bucket="team_seats", complaint="Why am I paying for 3 seats? We only have 2 users")
    assert rec["classification"]["suggested"] == "team_seats"
    [shape] = rec["contract"]
    assert shape["quantity"] == 3 and shape["per_seat"] and shape["is_team"]
    assert not [a for a in rec["plan"] if a["kind"] in ("cancel", "refund", "credit_note")]
    assert sub.id in str(rec["plan"]) + str(rec["plan_notes"])


def test_seat_price_named_by_nickname(w: World, tmp_path: Path) -> None:
    cus = w.customer("nick.seats@example.com")
    seat = w.price(w.product("Workspace"), 900, nickname="Per seat, monthly")
    w.subscribe(cus, (seat, 4))
    _, rec = run(cus, tmp_path, bucket="team_seats", complaint="too many licenses on my bill")
    assert rec["classification"]["suggested"] == "team_seats"
    assert rec["contract"][0]["per_seat"]


def test_base_plus_seats_items_is_team_seats(w: World, tmp_path: Path) -> None:
    cus = w.customer("base.seats@example.com")
    prod = w.product("Business")
    base = w.price(prod, 5000, nickname="Base")
    seats = w.price(w.product("Business seats", per_seat="true"), 1000, nickname="Seat")
    sub = w.subscribe(cus, base, (seats, 5))
    _, rec = run(cus, tmp_path, bucket="team_seats", complaint="why are there 5 users on our invoice")
    assert rec["classification"]["suggested"] == "team_seats"
    [shape] = rec["contract"]
    assert shape["recurring_total"] == {"value": 10000, "currency": "usd"}
    assert shape["is_team"] and shape["per_seat"]
    assert shape["quantity"] == 6
    assert [s["id"] for s in rec["billing_state"]["subscriptions"]] == [sub.id]
    assert not [a for a in rec["plan"] if a["moves_money"]]


def test_team_with_quantity_one(w: World, tmp_path: Path) -> None:
    cus = w.customer("solo.team@example.com")
    seat = w.price(w.product("Team", per_seat="true"), 1500)
    w.subscribe(cus, (seat, 1))
    _, rec = run(cus, tmp_path, bucket="team_seats", complaint="how do I add seats for my team?")
    [shape] = rec["contract"]
    assert shape["quantity"] == 1 and shape["per_seat"] and not shape["is_team"]
    assert not [a for a in rec["plan"] if a["moves_money"]]
    _headings_ok(rec)


# --- failed payments ------------------------------------------------------------------------------
def test_renewal_declined_without_retries_yet(w: World, tmp_path: Path) -> None:
    clock = w.clock(T0)
    cus = w.customer("declined.renewal@example.com", clock=clock)
    sub = w.subscribe(cus, w.price(w.product(), 2000))
    w.card(cus, "pm_card_chargeCustomerFail")  # 4000...0002 cannot be attached at all (Stripe checks it)
    w.advance(clock, T0 + 31 * DAY + 3600)
    _, rec = run(cus, tmp_path, bucket="failed_payment", complaint="my card was declined")
    assert "failed_renewal" in kinds(rec)
    assert rec["classification"]["suggested"] == "failed_payment"
    assert not [a for a in rec["plan"] if a["kind"] in ("refund", "credit_note")]
    assert "portal" in plan_kinds(rec)
    assert sub.id in str(rec["billing_state"])


def test_incomplete_subscription_without_checkout_session(w: World, tmp_path: Path) -> None:
    cus = w.customer("incomplete@example.com", card=None)
    sub = w.subscribe(cus, w.price(w.product(), 2000), payment_behavior="default_incomplete")
    pi = w.c.v1.payment_intents.list({"customer": cus}).data[0]
    with pytest.raises(stripe.CardError):
        w.c.v1.payment_intents.confirm(pi.id, {"payment_method": "pm_card_chargeDeclined"})
    assert w.c.v1.subscriptions.retrieve(sub.id).status == "incomplete"
    _, rec = run(cus, tmp_path, bucket="failed_payment", complaint="signup payment failed")
    assert "incomplete_checkout" in kinds(rec)
    assert rec["classification"]["suggested"] == "failed_payment"
    assert not money_actions(rec)
    assert any(sub.id in n for n in rec["plan_notes"])


def test_unpaid_after_dunning(w: World, tmp_path: Path) -> None:
    clock = w.clock(T0)
    cus = w.customer("unpaid@example.com", clock=clock)
    sub = w.subscribe(cus, w.price(w.product(), 2000))
    w.card(cus, "pm_card_chargeCustomerFail")
    for day in (31, 45, 60, 61):
        w.advance(clock, T0 + day * DAY)
    status = w.c.v1.subscriptions.retrieve(sub.id).status
    _, rec = run(cus, tmp_path, bucket="failed_payment")
    assert rec["classification"]["suggested"] == "failed_payment", status
    assert not [a for a in rec["plan"] if a["kind"] in ("refund", "credit_note")]
    _headings_ok(rec)


def test_canceled_after_payment_failure(w: World, tmp_path: Path) -> None:
    clock = w.clock(T0)
    cus = w.customer("canceled.failure@example.com", clock=clock)
    sub = w.subscribe(cus, w.price(w.product(), 2000))
    w.card(cus, "pm_card_chargeCustomerFail")
    # a day past the renewal: Stripe charges a renewal an hour after making its draft
    # (docs.stripe.com/invoicing/integration/workflow-transitions), so the failure has happened
    w.advance(clock, T0 + 32 * DAY)
    w.c.v1.subscriptions.cancel(sub.id, {"cancellation_details": {"comment": "payment failed"}})
    _, rec = run(cus, tmp_path, bucket="failed_payment", complaint="you cancelled me because my card failed")
    assert rec["classification"]["suggested"] == "failed_payment"
    assert not [a for a in rec["plan"] if a["kind"] in ("refund", "credit_note", "cancel")]
    _headings_ok(rec)


# --- refunds and disputes -------------------------------------------------------------------------
def _refund_values(rec: dict) -> list[int]:
    return [a["amount"]["value"] for a in rec["plan"] if a["kind"] in ("refund", "credit_note")]


def test_partly_refunded_charge_offers_only_what_remains(w: World, tmp_path: Path) -> None:
    cus = w.customer("partly@example.com")
    w.subscribe(cus, w.price(w.product(), 5000))
    [charge] = w.charges(cus)
    w.c.v1.refunds.create({"charge": charge.id, "amount": 1500})
    _, rec = run(cus, tmp_path, bucket="product_failure", complaint="the app is broken, refund please")
    assert rec["classification"]["suggested"] == "product_failure"
    assert _refund_values(rec) == [3500]
    for opt in rec["refund_options"]:
        assert opt["amount"]["value"] <= 3500


def test_fully_refunded_charge_has_nothing_to_refund(w: World, tmp_path: Path) -> None:
    cus = w.customer("full.refund@example.com")
    w.subscribe(cus, w.price(w.product(), 5000))
    [charge] = w.charges(cus)
    w.c.v1.refunds.create({"charge": charge.id})
    _, rec = run(cus, tmp_path, bucket="product_failure", complaint="still broken")
    assert _refund_values(rec) == []
    assert all(o["amount"]["value"] == 0 for o in rec["refund_options"])


def test_disputed_charge_is_never_refunded(w: World, tmp_path: Path) -> None:
    cus = w.customer("dispute@example.com", card="pm_card_createDispute")
    w.subscribe(cus, w.price(w.product(), 4000))
    [charge] = w.charges(cus)
    _, rec = run(cus, tmp_path, bucket="product_failure", complaint="it never worked, I told my bank")
    assert "open_dispute" in kinds(rec)
    assert charge.id not in str([a["target"] for a in money_actions(rec)])
    assert not [a for a in rec["plan"] if a["kind"] in ("refund", "credit_note")]
    assert any("dispute" in n and charge.id in n for n in rec["plan_notes"])


# --- contract shapes --------------------------------------------------------------------------------
def test_trialing_without_charges(w: World, tmp_path: Path) -> None:
    cus = w.customer("trial@example.com")
    sub = w.subscribe(cus, w.price(w.product(), 2000), trial_period_days=14)
    _, rec = run(cus, tmp_path, bucket="product_failure", complaint="the trial is broken, it crashes")
    [shape] = rec["contract"]
    assert shape["status"] == "trialing"
    assert _refund_values(rec) == []
    assert all(o["amount"]["value"] == 0 for o in rec["refund_options"])
    assert sub.id in rec["handoff"]


def test_coupon_refund_is_what_was_paid_not_list_price(w: World, tmp_path: Path) -> None:
    from billing_nb.records.case import open_case

    coupon = w.c.v1.coupons.create({"percent_off": 25, "duration": "forever"})
    cus = w.customer("coupon@example.com")
    sub = w.subscribe(cus, w.price(w.product(), 20000, "year"), discounts=[{"coupon": coupon.id}])
    [charge] = w.charges(cus)
    assert charge.amount == 15000, "the sandbox charges the discounted price"
    case = open_case(case_id="coupon", customer=cus, output_dir=tmp_path / "coupon",
                     complaint="doesn't work, refund my annual plan")
    case.confirm("product_failure", "parameter")
    rec = case.record()
    [shape] = case.shapes
    assert shape.discounts, "the contract shape shows the discount"
    assert rec["contract"][0]["latest_invoice_paid"]["value"] == 15000
    assert [a["kind"] for a in rec["plan"] if a["moves_money"]] == ["credit_note"]
    assert all(0 < v <= 15000 for v in _refund_values(rec)), rec["plan"]
    for opt in rec["refund_options"]:
        assert opt["amount"]["value"] <= 15000
    assert sub.id in str(rec["plan"])


def test_cancel_at_period_end_already_set(w: World, tmp_path: Path) -> None:
    cus = w.customer("leaving@example.com")
    sub = w.subscribe(cus, w.price(w.product(), 2000))
    w.c.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
    _, rec = run(cus, tmp_path, bucket="missing_self_serve", complaint="how do I cancel?")
    assert rec["contract"][0]["cancel_at_period_end"] is True
    assert f"cancel:{sub.id}:at_period_end" not in [a["id"] for a in rec["plan"]]
    assert "cancel_at_period_end" not in [o["kind"] for o in rec["refund_options"]]


def test_cancel_at_set(w: World, tmp_path: Path) -> None:
    cus = w.customer("cancel.at@example.com")
    sub = w.subscribe(cus, w.price(w.product(), 2000))
    when = int(sub["items"].data[0].current_period_end)
    w.c.v1.subscriptions.update(sub.id, {"cancel_at": when})
    case, rec = run(cus, tmp_path, bucket="missing_self_serve", complaint="I can't find how to cancel")
    [shape] = case.shapes
    assert shape.cancel_at == when
    assert f"cancel:{sub.id}:at_period_end" not in [a["id"] for a in rec["plan"]]


def test_quarterly_interval_count_3(w: World, tmp_path: Path) -> None:
    cus = w.customer("quarterly@example.com")
    w.subscribe(cus, w.price(w.product(), 6000, "month", interval_count=3))
    case, rec = run(cus, tmp_path, bucket="product_failure", complaint="broken since day one")
    [shape] = rec["contract"]
    assert shape["interval"] == "month" and shape["interval_count"] == 3 and not shape["is_annual"]
    assert case.shapes[0].mrr.amount == 2000
    assert "3 month" in case.summary.frames()["subscriptions"].iloc[0]["interval"]
    assert _refund_values(rec) == [6000]


def test_eur_amounts_and_refund_currency(w: World, tmp_path: Path) -> None:
    cus = w.customer("euro@example.com")
    w.subscribe(cus, w.price(w.product(), 1999, currency="eur"))
    _, rec = run(cus, tmp_path, bucket="product_failure", complaint="it does not work")
    [refund] = [a for a in rec["plan"] if a["kind"] == "refund"]
    assert refund["amount"] == {"value": 1999, "currency": "eur"}
    assert "€19.99 EUR" in rec["handoff"]
    assert rec["revenue_impact"]["refunded"]["currency"] == "eur"
    assert "USD" not in rec["handoff"]


def test_jpy_zero_decimal(w: World, tmp_path: Path) -> None:
    cus = w.customer("yen@example.com")
    w.subscribe(cus, w.price(w.product(), 1500, currency="jpy"))
    _, rec = run(cus, tmp_path, bucket="product_failure", complaint="it does not work")
    [refund] = [a for a in rec["plan"] if a["kind"] == "refund"]
    assert refund["amount"] == {"value": 1500, "currency": "jpy"}
    assert "¥1,500 JPY" in rec["handoff"]
    assert "¥15.00" not in rec["handoff"] and "USD" not in rec["handoff"]
    assert "¥1,500" in rec["followup"] or "1,500" not in rec["followup"]


# --- complaint text ---------------------------------------------------------------------------------
SECRETS = {
    "email": "jane.roe+billing@example.org",
    "phone": "+1 (415) 555-0199",
    "card": "4242 4242 4242 4242",
    "key": "sk_" "live_51HxYzAbCdEfGhIjKlMnOpQr",
    "rk": "rk_test_51HxYzAbCdEfGhIjKlMnOpQr",
}
LEAKY = (f"Hi, I'm Jane Roe ({SECRETS['email']}, call {SECRETS['phone']}). You charged my card "
         f"{SECRETS['card']} twice! My developer pasted our key {SECRETS['key']} and {SECRETS['rk']} here too.")


@pytest.mark.parametrize("complaint", ["", LEAKY, "x" * 20000 + " charged twice " + LEAKY])
def test_complaint_forms_are_masked_everywhere(w: World, tmp_path: Path, complaint: str) -> None:
    cus = w.customer("jane.roe@example.org", name="Jane Roe", phone="+14155550123")
    w.subscribe(cus, w.price(w.product(), 2000))
    _, rec = run(cus, tmp_path, bucket="unclear", complaint=complaint)
    _headings_ok(rec)
    leaks = scan(tmp_path, known=[*SECRETS.values(), *w.pii])
    assert leaks == [], leaks
    if complaint:
        assert rec["complaint"] and "4242 4242 4242 4242" not in rec["complaint"]


def test_cli_masks_pii_in_notebook_case_json_and_handoff(w: World, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from billing_nb.cli import main

    cus = w.customer("cli.person@example.org", name="Casey Quinn", phone="+14155550177")
    w.subscribe(cus, w.price(w.product(), 2000))
    out = tmp_path / "cases"
    code = main(["case", "CLI.Person@example.org", "--complaint", LEAKY, "--bucket", "unclear", "--json",
                 "--out", str(out)])
    rec = json.loads(capsys.readouterr().out)
    assert code == 0, rec.get("error")
    assert rec["customer"]["id"] == cus and rec["status"] == "done"
    folder = next(out.rglob("case.ipynb")).parent
    assert {p.name for p in folder.iterdir()} >= {"case.ipynb", "case.json", "handoff.md"}
    assert scan(out, known=[*SECRETS.values(), *w.pii, "CLI.Person@example.org"]) == []


# --- approvals --------------------------------------------------------------------------------------
def test_approved_refund_then_rerun_same_case_id_is_refused(w: World, tmp_path: Path) -> None:
    from billing_nb.exceptions import RecordError
    from billing_nb.records.runner import CaseRequest, run_case

    cus = w.customer("rerun@example.com")
    w.subscribe(cus, w.price(w.product(), 2000))
    [charge] = w.charges(cus)
    req = CaseRequest(lookup=cus, complaint="app is broken", bucket="product_failure",
                      approve=(f"refund:{charge.id}:2000",), case_id="scn-rerun")
    first = run_case(req, cases_dir=tmp_path / "cases")
    assert first.exit_code == 0, first.error
    assert [e["status"] for e in first.record["executed"]] == ["succeeded"]
    with pytest.raises(RecordError) as err:
        run_case(req, cases_dir=tmp_path / "cases")
    assert err.value.exit_code == 2
    assert len(w.c.v1.refunds.list({"charge": charge.id}).data) == 1


def _charged_after_cancel_annual(w: World) -> tuple[str, stripe.Subscription]:
    clock = w.clock(T0)
    cus = w.customer("annual.renewed@example.com", clock=clock)
    sub = w.subscribe(cus, w.price(w.product(), 24000, "year"))
    w.advance(clock, T0 + 366 * DAY)
    w.c.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
    w.advance(clock, T0 + 370 * DAY)
    return cus, sub


def test_approving_two_alternatives_is_refused_before_writing(w: World, tmp_path: Path) -> None:
    from billing_nb.exceptions import ActionRefusedError

    cus, sub = _charged_after_cancel_annual(w)
    case, rec = run(cus, tmp_path, bucket="missing_self_serve", complaint="I cancelled right after it renewed")
    assert "charged_after_cancel_request" in kinds(rec)
    notes = [a["id"] for a in rec["plan"] if a["kind"] == "credit_note"]
    assert len(notes) == 2, rec["plan"]
    with pytest.raises(ActionRefusedError):
        case.execute(notes, "parameter")
    assert w.c.v1.credit_notes.list({"customer": cus}).data == []
    assert w.c.v1.subscriptions.retrieve(sub.id).status == "active"


def test_live_key_without_live_flag_refuses_approvals_and_writes_nothing(
        w: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from billing_nb.cli import main

    cus = w.customer("live.key@example.com")
    w.subscribe(cus, w.price(w.product(), 2000))
    [charge] = w.charges(cus)
    monkeypatch.setenv("STRIPE_API_KEY", "sk_live_" + "a" * 24)
    out = tmp_path / "cases"
    code = main(["case", cus, "--bucket", "product_failure", "--approve", f"refund:{charge.id}:2000",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--live" in err
    assert not out.exists() or not list(out.rglob("case.json"))
    assert w.c.v1.refunds.list({"charge": charge.id}).data == []


def test_jpy_annual_unused_time_credit_note_executes_in_yen(w: World, tmp_path: Path) -> None:
    clock = w.clock(T0)
    cus = w.customer("yen.annual@example.com", clock=clock)
    w.subscribe(cus, w.price(w.product(), 12000, "year", currency="jpy"))
    w.advance(clock, T0 + 100 * DAY)
    case, rec = run(cus, tmp_path, bucket="product_failure", complaint="broken, refund the rest of my year")
    unused = 12000 * 265 // 365  # 8712.33... rounds to 8712 yen, no minor unit
    [note] = [a for a in rec["plan"] if a["kind"] == "credit_note"]
    assert note["amount"] == {"value": unused, "currency": "jpy"}
    opt = next(o for o in rec["refund_options"] if o["kind"] == "credit_note_unused")
    assert opt["stripe_amount"] == unused and not opt["mismatch"]
    # the unused-time credit note requires the cancel it pays for (issue 12): approve both
    assert note["requires"] and note["requires"][0].startswith("cancel:")
    results = case.execute([note["requires"][0], note["id"]], "parameter")
    assert [r.status for r in results] == ["succeeded", "succeeded"]
    [cn] = w.c.v1.credit_notes.list({"customer": cus}).data
    assert (cn.currency, cn.amount) == ("jpy", unused)
    rec = case.record()
    # the credit note's refund_amount went to the card: refunded; nothing went to the balance
    assert rec["revenue_impact"]["refunded"] == {"value": unused, "currency": "jpy"}
    assert rec["revenue_impact"]["credited"] == {"value": 0, "currency": "jpy"}
    assert "¥8,712 JPY" in rec["handoff"] and "¥87.12" not in rec["handoff"]
