"""Currencies as Stripe defines them, balances and credits, on hand-built snapshots.

Stripe's minor units: https://docs.stripe.com/currencies#zero-decimal (JPY, KRW, ... whole units),
#three-decimal (BHD, JOD, KWD, OMR, TND: thousandths, and amounts must be multiples of 10) and
#special-cases (ISK two-decimal in the API with 00 cents). Customer balance (negative: a credit):
https://docs.stripe.com/billing/customer/balance.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from test_actions_snapshots import DAY, T0, YEAR_END, Builder, price

from billing_nb.analysis.contract import contract_shapes, refund_options
from billing_nb.analysis.identify import identify
from billing_nb.money import Money, exponent, stripe_round

NOW = int(datetime(2026, 11, 24, 9, 39, 47, tzinfo=UTC).timestamp())


def recurrency(node: Any, currency: str) -> Any:
    """The builder writes usd everywhere: the same objects in another currency."""
    if isinstance(node, dict):
        return {k: (currency if k == "currency" else recurrency(v, currency)) for k, v in node.items()}
    if isinstance(node, list):
        return [recurrency(v, currency) for v in node]
    return node


def annual(amount: int, currency: str, *, balance: int = 0) -> tuple[Builder, dict[str, Any]]:
    b = Builder()
    sub = b.subscription("sub_annual", price("price_year", amount, "year"), start=T0, end=YEAR_END)
    inv = b.invoice(sub, amount, start=T0, end=YEAR_END, reason="subscription_create")
    b.objects = recurrency(b.objects, currency)
    b.objects["customers"][0]["balance"] = balance
    return b, next(i for i in b.objects["invoices"] if i["id"] == inv["id"])


def unused(paid: int) -> int:
    exact = Decimal(paid) * Decimal(YEAR_END - NOW) / Decimal(YEAR_END - T0)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize(("currency", "digits"), [("usd", 2), ("eur", 2), ("jpy", 0), ("krw", 0), ("ugx", 0),
                                                  ("kwd", 3), ("bhd", 3), ("jod", 3), ("omr", 3), ("tnd", 3),
                                                  ("isk", 2), ("huf", 2), ("twd", 2)])
def test_exponents_are_stripes(currency: str, digits: int) -> None:
    assert exponent(currency) == exponent(currency.upper()) == digits == Money(1, currency).exponent


def test_formatting_jpy_kwd_eur_isk() -> None:
    assert Money(120000, "jpy").format() == "¥120,000 JPY"
    assert Money(1250, "kwd").format() == "1.250 KWD"  # not 12.50: three decimals
    assert Money(-123456, "eur").format() == "-€1,234.56 EUR"
    assert Money(50000, "isk").format() == "500 ISK"  # two-decimal API amount, whole krónur shown
    assert Money(123456, "usd").format(markdown=True) == "\\$1,234.56 USD"


def test_stripe_rounding_is_toward_zero_in_steps_the_currency_allows() -> None:
    assert stripe_round(1234, "kwd") == 1230 and stripe_round(-1239, "kwd") == -1230
    assert stripe_round(1234, "usd") == 1234 and stripe_round(1234, "jpy") == 1234
    assert stripe_round(12345, "isk") == 12300


def test_kwd_refund_options_are_multiples_of_ten_and_never_above_the_exact_figure() -> None:
    b, inv = annual(120000, "kwd")  # 120.000 KWD a year
    snap = b.snapshot(NOW)
    (shape,) = contract_shapes(snap)
    opts = {o.kind: o for o in refund_options(snap, shape)}
    exact = unused(120000)
    for kind in ("cancel_now_refund", "credit_note_unused"):
        amount = opts[kind].amount
        assert amount.currency == "kwd" and amount.amount % 10 == 0
        assert exact - 10 < amount.amount <= exact
    if exact % 10:
        assert "multiples of 10" in opts["cancel_now_refund"].explanation
    assert opts["cancel_now_refund"].amount.format().endswith(" KWD")
    assert f"{exact // 1000}." in opts["cancel_now_refund"].amount.format()  # dinars, not a tenth of them


def test_jpy_refund_option_is_whole_yen_and_exact() -> None:
    b, _ = annual(120000, "jpy")  # ¥120,000 a year
    snap = b.snapshot(NOW)
    (shape,) = contract_shapes(snap)
    opt = next(o for o in refund_options(snap, shape) if o.kind == "cancel_now_refund")
    assert opt.amount == Money(unused(120000), "jpy")
    assert opt.amount.format() == f"¥{unused(120000):,} JPY"


def test_eur_refund_option_exact_to_the_cent() -> None:
    b, _ = annual(99900, "eur")
    snap = b.snapshot(NOW)
    (shape,) = contract_shapes(snap)
    opt = next(o for o in refund_options(snap, shape) if o.kind == "cancel_now_refund")
    assert opt.amount == Money(unused(99900), "eur")


def test_a_customer_billed_in_two_currencies_over_time() -> None:
    """An old EUR monthly plan (canceled), then a USD annual one: each amount in its own currency."""
    b = Builder()
    old = b.subscription("sub_old", price("price_m", 1500, "month"), start=T0 - 60 * DAY, end=T0 - 30 * DAY,
                         status="canceled")
    b.invoice(old, 1500, start=T0 - 60 * DAY, end=T0 - 30 * DAY)
    b.objects = recurrency(b.objects, "eur")
    new = b.subscription("sub_new", price("price_year", 120000, "year"), start=T0, end=YEAR_END)
    b.invoice(new, 120000, start=T0, end=YEAR_END, reason="subscription_create")
    snap = b.snapshot(NOW)
    summary = identify(snap)
    by_currency = {i.currency: i.amount_paid for i in summary.invoices}
    assert by_currency == {"eur": 1500, "usd": 120000}
    frame = summary.frames()["invoices"]
    assert set(frame["amount_paid"]) == {"€15.00 EUR", "$1,200.00 USD"}
    shapes = {s.subscription_id: s for s in contract_shapes(snap)}
    assert shapes["sub_old"].currency == "eur" and shapes["sub_new"].currency == "usd"
    opts = refund_options(snap, shapes["sub_new"])
    assert {o.amount.currency for o in opts} == {"usd"}
    assert next(o for o in opts if o.kind == "cancel_now_refund").amount == Money(unused(120000), "usd")


# --- balances and credits ---------------------------------------------------------------------------
def test_a_balance_credit_is_shown_and_taken_off_the_refund() -> None:
    b, inv = annual(120000, "usd", balance=-1500)  # the customer already holds a $15.00 credit
    snap = b.snapshot(NOW)
    state = identify(snap).billing_state()
    assert state["credits"]["balance"] == {"value": -1500, "currency": "usd"}
    assert state["credits"]["credit_held"] == {"value": 1500, "currency": "usd"}
    (shape,) = contract_shapes(snap)
    assert shape.customer_balance == Money(-1500, "usd")
    opts = {o.kind: o for o in refund_options(snap, shape)}
    for kind in ("cancel_now_refund", "credit_note_unused"):
        assert opts[kind].amount == Money(unused(120000) - 1500, "usd")
        assert "less the $15.00 USD credit the customer already holds" in opts[kind].explanation
        assert opts[kind].details["before_credit_held"] == unused(120000)


def test_a_balance_the_customer_owes_is_not_a_credit() -> None:
    b, _ = annual(120000, "usd", balance=700)  # owes $7.00: nothing to subtract
    snap = b.snapshot(NOW)
    (shape,) = contract_shapes(snap)
    opt = next(o for o in refund_options(snap, shape) if o.kind == "cancel_now_refund")
    assert opt.amount == Money(unused(120000), "usd")
    assert identify(snap).billing_state()["credits"]["credit_held"] is None


def test_refunds_and_credit_notes_already_given_are_in_the_record_and_out_of_the_refund() -> None:
    b, inv = annual(120000, "usd")
    charge = b.charge_of(inv)
    charge["amount_refunded"] = 50000  # a $500.00 goodwill refund already made on that charge
    b.add("refunds", {"id": "re_1", "object": "refund", "charge": charge["id"], "amount": 50000,
                      "currency": "usd", "status": "succeeded", "created": NOW - DAY})
    inv["post_payment_credit_notes_amount"] = 50000
    b.add("credit_notes", {"id": "cn_1", "object": "credit_note", "invoice": inv["id"], "amount": 50000,
                           "currency": "usd", "status": "issued", "created": NOW - DAY,
                           "refunds": [{"refund": "re_1", "amount_refunded": 50000}]})
    snap = b.snapshot(NOW)
    credits = identify(snap).billing_state()["credits"]
    assert credits["refunded"] == [{"value": 50000, "currency": "usd"}]
    assert credits["credited"] == [{"value": 50000, "currency": "usd"}]
    assert credits["refunds"][0]["id"] == "re_1" and credits["credit_notes"][0]["refunded"] == 50000
    (shape,) = contract_shapes(snap)
    opt = next(o for o in refund_options(snap, shape) if o.kind == "cancel_now_refund")
    # the unused time less the $500.00 already back, counted once (the credit note's refund is
    # the charge's refund), not capped at the $700.00 the charge still refunds (session 7, M1)
    assert opt.amount == Money(unused(120000) - 50000, "usd") and opt.details["already_returned"] == 50000


@pytest.mark.parametrize("ours, stripes, mismatch", [
    (Money(20990, "kwd"), 20993, False),  # Stripe's figure, in the multiple of 10 Stripe refunds
    (Money(20980, "kwd"), 20993, True),
    (Money(1499, "usd"), 1999, True),
    (Money(1999, "usd"), 1999, False),
])
def test_a_figure_rounded_only_as_stripe_requires_is_no_mismatch(ours: Money, stripes: int, mismatch: bool) -> None:
    """A KWD refund can only be a multiple of 10 fils: ours is Stripe's preview brought to that,
    and the plan must not tell the analyst to check a difference Stripe itself imposes."""
    from billing_nb.analysis.terms import RefundOption

    assert RefundOption("cancel_now_refund", "sub_1", ours, "in_1", "ch_1", "", stripe_amount=stripes).mismatch is mismatch
