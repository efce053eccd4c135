"""After a mid-term upgrade the period is paid by two invoices (M2, session 7): the unused time
is Stripe's (old price's credit + new price's rest), split into one part per invoice, newest
first, each at most what that invoice and its charge still refund."""

from __future__ import annotations

from typing import Any

from test_actions_snapshots import DAY, T0, YEAR_END, Builder, price

from billing_nb.analysis.contract import contract_shapes, refund_options
from fractions import Fraction

from billing_nb.money import Money, prorate, round_half_up

UPGRADE = T0 + 30 * DAY
NOW = T0 + 100 * DAY


def _line(sub: dict[str, Any], lid: str, amount: int, start: int, proration: bool) -> dict[str, Any]:
    item = sub["items"]["data"][0]
    return {"id": lid, "object": "line_item", "amount": amount, "currency": "usd", "quantity": 1,
            "period": {"start": start, "end": YEAR_END}, "discount_amounts": [],
            "pricing": {"type": "price_details", "price_details": {"price": item["price"]["id"]}},
            "parent": {"type": "subscription_item_details", "subscription_item_details": {
                "subscription": sub["id"], "subscription_item": item["id"], "proration": proration}}}


def upgraded() -> tuple[Builder, dict[str, Any], dict[str, Any], int]:
    b = Builder()
    sub = b.subscription("sub_up", price("price_big", 120000, "year"), start=T0, end=YEAR_END)
    first = b.invoice(sub, 60000, start=T0, end=YEAR_END, reason="subscription_create")
    credit = -prorate(60000, T0, YEAR_END, UPGRADE)
    charge = prorate(120000, T0, YEAR_END, UPGRADE)
    upg = b.invoice(sub, credit + charge, start=UPGRADE, end=YEAR_END, created=UPGRADE,
                    reason="subscription_update", lines=[_line(sub, "il_credit", credit, UPGRADE, True),
                                                        _line(sub, "il_new", charge, UPGRADE, True)])
    return b, first, upg, credit + charge


def unused(upg_paid_lines: tuple[int, int]) -> int:
    """The running lines' unused parts, exact, rounded once: what the invoices actually charged."""
    credit, charge = upg_paid_lines
    left = Fraction(YEAR_END - NOW)
    return round_half_up(60000 * left / (YEAR_END - T0) + (credit + charge) * left / (YEAR_END - UPGRADE))


def lines_of(upg: dict[str, Any]) -> tuple[int, int]:
    a, c = upg["lines"]["data"]
    return int(a["amount"]), int(c["amount"])


def test_the_unused_time_after_an_upgrade_is_refunded_in_one_part_per_invoice() -> None:
    b, first, upg, upg_paid = upgraded()
    snap = b.snapshot(NOW)
    opts = {o.kind: o for o in refund_options(snap, contract_shapes(snap)[0])}
    want = unused(lines_of(upg))  # the unused time at the new price, within a cent of prorating it
    assert abs(want - prorate(120000, T0, YEAR_END, NOW)) <= 1
    for kind in ("cancel_now_refund", "credit_note_unused"):
        opt = opts[kind]
        assert opt.amount == Money(want, "usd") and want > 60000
        assert opt.details["parts"] == [
            {"invoice": upg["id"], "charge": b.charge_of(upg)["id"], "amount": upg_paid, "paid": upg_paid},
            {"invoice": first["id"], "charge": b.charge_of(first)["id"], "amount": want - upg_paid, "paid": 60000}]
        assert opt.invoice == upg["id"] and opt.charge == b.charge_of(upg)["id"]
        assert f"$600.00 USD paid on {first['id']}" in opt.explanation
        assert f"{Money(upg_paid, 'usd')} paid on {upg['id']}" in opt.explanation
    assert not opts["credit_note_unused"].details["capped"]


def test_a_refund_on_the_upgrade_charge_is_subtracted_and_the_parts_respect_each_invoice() -> None:
    b, first, upg, upg_paid = upgraded()
    b.charge_of(upg)["amount_refunded"] = upg_paid - 1000  # most of the upgrade charge went back already
    b.add("refunds", {"id": "re_upg", "object": "refund", "charge": b.charge_of(upg)["id"],
                      "amount": upg_paid - 1000, "currency": "usd", "status": "succeeded", "created": NOW - DAY})
    snap = b.snapshot(NOW)
    opt = next(o for o in refund_options(snap, contract_shapes(snap)[0]) if o.kind == "credit_note_unused")
    want = unused(lines_of(upg)) - (upg_paid - 1000)
    assert opt.amount == Money(want, "usd")
    assert [(p["invoice"], p["amount"]) for p in opt.details["parts"]] == [(upg["id"], 1000), (first["id"], want - 1000)]


def test_the_plan_gives_back_each_part_on_its_own_invoice_with_the_cancel() -> None:
    """The planner's side of the split (session 7): a product failure on the upgraded annual plan
    plans one credit note per paid invoice of the period, each requiring the cancel; before, the
    upgrade invoice's charge matched no option and nothing was refunded at all."""
    from test_actions_plan import make_plan

    from billing_nb.analysis.classify import Bucket

    b, first, upg, upg_paid = upgraded()
    snap = b.snapshot(NOW)
    p = make_plan(snap, Bucket.PRODUCT_FAILURE, complaint="It has been broken for weeks, refund the rest of my year")
    notes = [a for a in p.actions if a.kind.value == "credit_note"]
    want = unused(lines_of(upg))
    assert {(a.target, a.amount.amount) for a in notes if a.amount} == {(upg["id"], upg_paid),
                                                                        (first["id"], want - upg_paid)}
    assert all(a.requires == ("cancel:sub_up:now",) for a in notes)
    assert len({a.exclusive for a in notes}) == len(notes)  # parts are approved together, not alternatives
    assert "cancel:sub_up:now" in p.ids
