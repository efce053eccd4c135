"""Refund options net what already went back against the period (M1, session 7).

An earlier partial refund of the period's charge, or a credit note on its invoice, is money the
customer already has: the unused-time refund is the unused value less it, each credit counted
once (a credit note's refund is also on the charge; its balance part may still be on the
balance). A refund of an older period's invoice gave back time that is over and is not netted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from test_actions_snapshots import DAY, T0, YEAR_END, Builder, annual_case, price

from billing_nb.analysis.contract import contract_shapes, refund_options, with_stripe_amounts
from billing_nb.money import Money

NOW = int(datetime(2026, 11, 24, 9, 39, 47, tzinfo=UTC).timestamp())
UNUSED = 89_708  # 120000 * (YEAR_END - NOW) / year, see test_contract


def _options(b: Builder, now: int = NOW) -> dict[str, Any]:
    snap = b.snapshot(now)
    shape = next(s for s in contract_shapes(snap) if s.status == "active")
    return {o.kind: o for o in refund_options(snap, shape)}


def _refund(b: Builder, charge: dict[str, Any], amount: int, rid: str) -> dict[str, Any]:
    charge["amount_refunded"] = int(charge.get("amount_refunded") or 0) + amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    return b.add("refunds", {"id": rid, "object": "refund", "charge": charge["id"], "amount": amount,
                             "currency": "usd", "status": "succeeded", "created": NOW - 10 * DAY})


def _credit_note(b: Builder, inv: dict[str, Any], amount: int, *, refund: str | None = None, refunded: int = 0,
                 to_balance: int = 0, out_of_band: int = 0) -> dict[str, Any]:
    inv["post_payment_credit_notes_amount"] += amount
    return b.add("credit_notes", {
        "id": b.nid("cn"), "object": "credit_note", "invoice": inv["id"], "amount": amount, "currency": "usd",
        "post_payment_amount": amount, "pre_payment_amount": 0, "status": "issued", "created": NOW - 5 * DAY,
        "refunds": [{"refund": refund, "amount_refunded": refunded, "type": "refund"}] if refund else [],
        "customer_balance_transaction": "cbtxn_1" if to_balance else None,
        "out_of_band_amount": out_of_band or None})


def test_an_earlier_partial_refund_of_the_period_charge_is_subtracted() -> None:
    b, sub, inv = annual_case(NOW)
    _refund(b, b.charge_of(inv), 20000, "re_earlier")
    opts = _options(b)
    for kind in ("cancel_now_refund", "credit_note_unused"):
        opt = opts[kind]
        assert opt.amount == Money(UNUSED - 20000, "usd")
        assert opt.details["unused_value"] == UNUSED and opt.details["already_returned"] == 20000
        assert "re_earlier" in opt.explanation and "$200.00" in opt.explanation and "$897.08" in opt.explanation
    # Stripe's cancel preview knows nothing of the refund: like for like, no mismatch
    filled = with_stripe_amounts(list(opts.values()), {"credit_note_unused:sub_annual": UNUSED})
    assert not next(o for o in filled if o.kind == "credit_note_unused").mismatch


def test_a_credit_note_refund_is_subtracted_once_not_again_as_its_charge_refund() -> None:
    b, sub, inv = annual_case(NOW)
    refund = _refund(b, b.charge_of(inv), 10000, "re_by_note")
    note = _credit_note(b, inv, 10000, refund=refund["id"], refunded=10000)
    opt = _options(b)["credit_note_unused"]
    assert opt.amount == Money(UNUSED - 10000, "usd")
    assert note["id"] in opt.explanation and "re_by_note" not in opt.explanation


def test_a_credit_note_and_a_direct_refund_both_count() -> None:
    b, sub, inv = annual_case(NOW)
    refund = _refund(b, b.charge_of(inv), 10000, "re_by_note")
    _credit_note(b, inv, 10000, refund=refund["id"], refunded=10000)
    _refund(b, b.charge_of(inv), 5000, "re_direct")
    _credit_note(b, inv, 3000, out_of_band=3000)
    opt = _options(b)["cancel_now_refund"]
    assert opt.amount == Money(UNUSED - 18000, "usd") and opt.details["already_returned"] == 18000


def test_a_credit_note_to_the_balance_is_not_netted_again_as_balance_credit() -> None:
    b, sub, inv = annual_case(NOW)
    _credit_note(b, inv, 5000, to_balance=5000)
    b.objects["customers"][0]["balance"] = -5000  # the credit note's credit, still unused
    opt = _options(b)["credit_note_unused"]
    assert opt.amount == Money(UNUSED - 5000, "usd")
    # a further 1,500 of balance credit from elsewhere is netted as before
    b.objects["customers"][0]["balance"] = -6500
    assert _options(b)["credit_note_unused"].amount == Money(UNUSED - 6500, "usd")


def test_a_refund_of_an_older_period_does_not_reduce_this_periods_unused_time() -> None:
    b = Builder()
    sub = b.subscription("sub_annual", price("price_year", 120000, "year"), start=T0, end=YEAR_END)
    old = b.invoice(sub, 120000, start=T0 - 365 * DAY, end=T0, reason="subscription_create")
    b.invoice(sub, 120000, start=T0, end=YEAR_END)
    _refund(b, b.charge_of(old), 30000, "re_last_year")
    opt = _options(b)["credit_note_unused"]
    assert opt.amount == Money(UNUSED, "usd") and opt.details["already_returned"] == 0
    assert "re_last_year" not in opt.explanation
