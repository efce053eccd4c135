from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from test_actions_snapshots import DAY, T0, YEAR_END, Builder, annual_case, price

from billing_nb.analysis.contract import (contract_shapes, options_frame, previews_needed, refund_options, shapes_frame,
                                 stripe_figures, with_stripe_amounts)
from billing_nb.money import Money

# "Now" is three months and an odd number of seconds after the annual invoice was paid.
NOW = int(datetime(2026, 11, 24, 9, 39, 47, tzinfo=UTC).timestamp())


def expected_unused(paid: int, start: int, end: int, now: int) -> int:
    """Independent of billing_nb.money: Decimal arithmetic, rounded half up once."""
    exact = Decimal(paid) * Decimal(end - now) / Decimal(end - start)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_annual_shape() -> None:
    b, sub, inv = annual_case(NOW)
    (shape,) = contract_shapes(b.snapshot(NOW))
    assert shape.subscription_id == "sub_annual" and shape.is_annual and not shape.is_team
    assert shape.recurring_total == Money(120000, "usd")
    assert shape.mrr == Money(10000, "usd") and shape.arr == Money(120000, "usd")
    assert shape.latest_invoice == inv["id"] and shape.latest_invoice_paid == Money(120000, "usd")
    assert shape.latest_charge == b.charge_of(inv)["id"]
    assert (shape.period_start, shape.period_end) == (T0, YEAR_END)
    js = shape.as_case_json()
    assert js["recurring_total"] == {"value": 120000, "currency": "usd"} and js["interval"] == "year"


def test_annual_unused_time_to_the_cent_and_second() -> None:
    b, sub, inv = annual_case(NOW)
    snap = b.snapshot(NOW)
    (shape,) = contract_shapes(snap)
    opts = {o.kind: o for o in refund_options(snap, shape)}
    line_period = inv["lines"]["data"][0]["period"]
    want = expected_unused(inv["amount_paid"], line_period["start"], line_period["end"], NOW)
    assert want == 89_708  # 120000 * 23_575_375 s / 31_536_000 s = 89708.43 -> $897.08
    assert opts["cancel_now_refund"].amount == Money(want, "usd")
    assert opts["credit_note_unused"].amount == Money(want, "usd")
    assert opts["credit_note_unused"].invoice == inv["id"]
    assert opts["cancel_now_refund"].charge == b.charge_of(inv)["id"]
    assert opts["cancel_at_period_end"].amount == Money(0, "usd")
    assert opts["cancel_now_refund"].details["unused_seconds"] == YEAR_END - NOW
    # one second later is a different amount: to the second, not to the day
    later = refund_options(b.snapshot(NOW + 3600), shape)
    assert {o.kind: o.amount.amount for o in later}["credit_note_unused"] == expected_unused(
        120000, T0, YEAR_END, NOW + 3600)


def test_unused_time_capped_at_remaining_refundable() -> None:
    # the customer's balance paid most of the invoice: the card charge refunds 20,000 at most
    b, sub, inv = annual_case(NOW)
    inv["amount_paid"] = b.charge_of(inv)["amount"] = 20000
    snap = b.snapshot(NOW)
    opts = {o.kind: o for o in refund_options(snap, contract_shapes(snap)[0])}
    assert opts["credit_note_unused"].amount == Money(20000, "usd")
    assert opts["credit_note_unused"].details["capped"] is True


def test_nothing_left_to_refund_once_more_than_the_unused_time_went_back() -> None:
    b, sub, inv = annual_case(NOW)
    b.charge_of(inv)["amount_refunded"] = 100000
    snap = b.snapshot(NOW)
    assert [o.kind for o in refund_options(snap, contract_shapes(snap)[0])] == ["cancel_at_period_end"]


def test_no_refund_option_without_paid_period_and_none_for_canceled() -> None:
    b = Builder()
    sub = b.subscription("sub_m", price("price_m", 2000), start=T0)
    b.invoice(sub, 2000, start=T0, end=T0 + 30 * DAY, status="open", charge_status="failed")
    b.subscription("sub_old", price("price_m", 2000), start=T0 - 90 * DAY, status="canceled")
    snap = b.snapshot(T0 + 10 * DAY)
    shapes = contract_shapes(snap)
    assert [s.subscription_id for s in shapes] == ["sub_m", "sub_old"]
    assert [o.kind for o in refund_options(snap, shapes[0])] == ["cancel_at_period_end"]
    assert refund_options(snap, shapes[1]) == []


def test_team_seats_and_downgrade_prorations() -> None:
    b = Builder()
    cheap = price("price_team_basic", 1000, product="prod_team")
    b.subscription("sub_other", cheap, start=T0 - 60 * DAY, status="canceled")
    sub = b.subscription("sub_team", price("price_team", 1500, product="prod_team", nickname="Team seat"), start=T0,
                         quantity=5)
    b.invoice(sub, 7500, start=T0, end=T0 + 30 * DAY)
    now = T0 + 12 * DAY + 7
    snap = b.snapshot(now)
    shape = next(s for s in contract_shapes(snap) if s.subscription_id == "sub_team")
    assert shape.is_team and shape.items[0].per_seat and shape.recurring_total == Money(7500, "usd")
    opts = {o.kind: o for o in refund_options(snap, shape)}
    end = T0 + 30 * DAY
    want = expected_unused(7500, T0, end, now) - expected_unused(5000, T0, end, now)
    assert opts["downgrade_prorations"].amount == Money(want, "usd")
    assert opts["downgrade_prorations"].details["items"]["si_team"]["to_price"] == "price_team_basic"


def test_a_quantity_alone_is_not_per_seat() -> None:
    """Five of an unmarked product is five of it, not five seats; the price's or product's own
    mark (metadata, nickname, unit_label, a team product bought in quantity) makes it per seat."""
    b = Builder()
    sub = b.subscription("sub_x", price("price_x", 1500, product="prod_x"), start=T0, quantity=2)
    b.invoice(sub, 3000, start=T0, end=T0 + 30 * DAY)
    b.add("products", {"id": "prod_x", "object": "product", "name": "Pro", "metadata": {}, "unit_label": None})
    (shape,) = contract_shapes(b.snapshot(T0 + DAY))
    assert not shape.items[0].per_seat and not shape.is_team
    for mark in ({"unit_label": "seat"}, {"name": "Team"}, {"metadata": {"per_seat": "true"}}):
        b.objects["products"][0].update(mark)
        (shape,) = contract_shapes(b.snapshot(T0 + DAY))
        assert shape.items[0].per_seat and shape.is_team, mark
        b.objects["products"][0].update({"name": "Pro", "metadata": {}, "unit_label": None})
    sub["items"]["data"][0]["quantity"] = 1
    b.objects["products"][0]["name"] = "Team"  # a flat team plan bought once: not per seat
    assert not contract_shapes(b.snapshot(T0 + DAY))[0].items[0].per_seat


def test_previews_and_stripe_figures_flag_mismatch() -> None:
    b, sub, inv = annual_case(NOW)
    snap = b.snapshot(NOW)
    opts = refund_options(snap, contract_shapes(snap)[0])
    reqs = previews_needed(opts)
    assert len(reqs) == 1 and reqs[0]["call"] == "preview_invoice"
    assert reqs[0]["args"]["params"]["subscription_details"] == {
        "cancel_now": True, "proration_behavior": "create_prorations", "proration_date": NOW}
    assert sorted(reqs[0]["keys"]) == ["cancel_now_refund:sub_annual", "credit_note_unused:sub_annual"]
    preview = {"lines": {"data": [
        {"amount": -89708, "parent": {"subscription_item_details": {"proration": True}}},
        {"amount": 120000, "parent": {"subscription_item_details": {"proration": False}}}]}}
    figures = stripe_figures(reqs[0], preview)
    filled = with_stripe_amounts(opts, figures)
    by_kind = {o.kind: o for o in filled}
    assert by_kind["credit_note_unused"].stripe_amount == 89708 and not by_kind["credit_note_unused"].mismatch
    assert by_kind["cancel_at_period_end"].stripe_amount is None
    off = with_stripe_amounts(opts, {"credit_note_unused:sub_annual": 89707})
    frame = options_frame(off)
    row = frame[frame.kind == "credit_note_unused"].iloc[0]
    assert bool(row["mismatch"]) and row["check"] == "MISMATCH" and row["amount"] == "$897.08 USD"


def test_frames() -> None:
    b, sub, inv = annual_case(NOW)
    snap = b.snapshot(NOW)
    shapes = contract_shapes(snap)
    frame = shapes_frame(shapes)
    assert frame.iloc[0]["recurring_total"] == "$1,200.00 USD" and bool(frame.iloc[0]["annual"])
    assert shapes_frame([]).empty and options_frame([]).empty
