"""Coupons on subscriptions: the discount object, what it takes off invoices and charges,
how long it lasts across renewals on a test clock, redemption limits, prorations, and
credit notes bounded by what the discounted invoice charged."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from shapes import assert_shape
from test_b_support import DAY, T0, advance, clock, customer, invoices, price, subscribe, utc


def _coupon(client: stripe.StripeClient, **params: Any) -> stripe.Coupon:
    return client.v1.coupons.create(params=params)  # type: ignore[arg-type]


def _charges(client: stripe.StripeClient, cust: str) -> list[int]:
    return [c.amount for c in reversed(client.v1.charges.list(params={"customer": cust}).data)]


def _shapes(sub: stripe.Subscription, *invs: stripe.Invoice) -> None:
    assert_shape(sub.to_dict(), stripe.Subscription)
    for inv in invs:
        assert_shape(inv.to_dict(), stripe.Invoice)


def test_percent_off_forever_discounts_every_invoice(client: stripe.StripeClient) -> None:
    coupon = _coupon(client, percent_off=25, duration="forever", name="Quarter off")
    ck = clock(client)
    cust = customer(client, ck.id)
    sub = subscribe(client, cust.id, (price(client, 2000).id, 1), discounts=[{"coupon": coupon.id}],
                    expand=["discounts", "latest_invoice"])
    [disc] = sub.discounts
    assert isinstance(disc, stripe.Discount)
    assert disc.id.startswith("di_") and disc.object == "discount" and disc.source.type == "coupon"
    assert disc.source.coupon == coupon.id and disc.subscription == sub.id and disc.customer == cust.id
    assert disc.start == T0 and disc.end is None and disc.invoice is None and disc.promotion_code is None
    assert_shape(disc.to_dict(), stripe.Discount)
    inv = sub.latest_invoice
    assert isinstance(inv, stripe.Invoice)
    assert (inv.subtotal, inv.total, inv.amount_due, inv.amount_paid) == (2000, 1500, 1500, 1500)
    assert inv.discounts == [disc.id]
    assert [(d.amount, d.discount) for d in inv.total_discount_amounts or []] == [(500, disc.id)]
    line = inv.lines.data[0]
    assert line.amount == 2000 and [(d.amount, d.discount) for d in line.discount_amounts or []] == [(500, disc.id)]
    assert client.v1.coupons.retrieve(coupon.id).times_redeemed == 1
    advance(client, ck.id, utc(2026, 4, 16))
    assert _charges(client, cust.id) == [1500] * 4
    plain = client.v1.subscriptions.retrieve(sub.id)
    assert plain.discounts == [disc.id]
    _shapes(plain, *invoices(client, sub.id))


def test_once_discounts_only_the_first_invoice(client: stripe.StripeClient) -> None:
    coupon = _coupon(client, amount_off=500, currency="usd", duration="once")
    ck = clock(client)
    cust = customer(client, ck.id)
    sub = subscribe(client, cust.id, (price(client, 2000).id, 1), discounts=[{"coupon": coupon.id}])
    assert len(sub.discounts) == 1
    advance(client, ck.id, utc(2026, 3, 16))
    assert _charges(client, cust.id) == [1500, 2000, 2000]
    first, second, _ = invoices(client, sub.id)
    assert first.total_discount_amounts and first.total_discount_amounts[0].amount == 500
    assert second.total_discount_amounts == [] and second.discounts == [] and second.total == 2000
    after = client.v1.subscriptions.retrieve(sub.id)
    assert after.discounts == []
    _shapes(after, first, second)


def test_repeating_lasts_its_months(client: stripe.StripeClient) -> None:
    coupon = _coupon(client, percent_off=50, duration="repeating", duration_in_months=3)
    ck = clock(client)
    cust = customer(client, ck.id)
    sub = subscribe(client, cust.id, (price(client, 1000).id, 1), discounts=[{"coupon": coupon.id}],
                    expand=["discounts"])
    disc = sub.discounts[0]
    assert isinstance(disc, stripe.Discount) and disc.end == utc(2026, 4, 15)
    advance(client, ck.id, utc(2026, 6, 16))
    assert _charges(client, cust.id) == [500, 500, 500, 1000, 1000, 1000]
    after = client.v1.subscriptions.retrieve(sub.id)
    assert after.discounts == []
    _shapes(after, *invoices(client, sub.id))


def test_repeating_on_a_yearly_plan_discounts_the_whole_first_year(client: stripe.StripeClient) -> None:
    coupon = _coupon(client, percent_off=10, duration="repeating", duration_in_months=4)
    ck = clock(client)
    cust = customer(client, ck.id)
    sub = subscribe(client, cust.id, (price(client, 12000, "year").id, 1), discounts=[{"coupon": coupon.id}])
    assert _charges(client, cust.id) == [10800]
    advance(client, ck.id, T0 + 366 * DAY)
    assert _charges(client, cust.id) == [10800, 12000]
    _shapes(client.v1.subscriptions.retrieve(sub.id), *invoices(client, sub.id))


def test_amount_off_is_split_across_lines_and_applies_to_limits_it(client: stripe.StripeClient) -> None:
    a, b = price(client, 3000, name="Seats"), price(client, 1000, name="Storage")
    split = _coupon(client, amount_off=1000, currency="usd", duration="forever")
    cust = customer(client)
    sub = subscribe(client, cust.id, (a.id, 1), (b.id, 1), discounts=[{"coupon": split.id}],
                    expand=["latest_invoice"])
    inv = sub.latest_invoice
    assert isinstance(inv, stripe.Invoice)
    assert inv.total == 3000 and [ln.discount_amounts[0].amount for ln in inv.lines.data if ln.discount_amounts] \
        == [750, 250]
    only = _coupon(client, percent_off=50, duration="forever", applies_to={"products": [str(a.product)]})
    cust2 = customer(client)
    sub2 = subscribe(client, cust2.id, (a.id, 1), (b.id, 1), discounts=[{"coupon": only.id}], expand=["latest_invoice"])
    inv2 = sub2.latest_invoice
    assert isinstance(inv2, stripe.Invoice)
    assert inv2.subtotal == 4000 and inv2.total == 2500
    by_price = {ln.pricing.price_details.price: ln.discount_amounts for ln in inv2.lines.data
                if ln.pricing and ln.pricing.price_details}
    assert by_price[b.id] == [] and by_price[a.id] and by_price[a.id][0].amount == 1500
    _shapes(sub, inv)
    _shapes(sub2, inv2)


def test_amount_off_never_makes_an_invoice_negative(client: stripe.StripeClient) -> None:
    big = _coupon(client, amount_off=5000, currency="usd", duration="forever")
    cust = customer(client)
    sub = subscribe(client, cust.id, (price(client, 2000).id, 1), discounts=[{"coupon": big.id}],
                    expand=["latest_invoice"])
    inv = sub.latest_invoice
    assert isinstance(inv, stripe.Invoice)
    assert inv.total == 0 and inv.status == "paid" and inv.total_discount_amounts
    assert inv.total_discount_amounts[0].amount == 2000
    assert _charges(client, cust.id) == []
    _shapes(sub, inv)


def test_redemption_limits(client: stripe.StripeClient) -> None:
    one = _coupon(client, percent_off=20, duration="forever", max_redemptions=1)
    p = price(client, 1000)
    subscribe(client, customer(client).id, (p.id, 1), discounts=[{"coupon": one.id}])
    spent = client.v1.coupons.retrieve(one.id)
    assert spent.times_redeemed == 1 and spent.valid is False
    with pytest.raises(stripe.InvalidRequestError) as err:
        subscribe(client, customer(client).id, (p.id, 1), discounts=[{"coupon": one.id}])
    assert err.value.code == "coupon_expired" and err.value.param == "discounts[0][coupon]"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        subscribe(client, customer(client).id, (p.id, 1), discounts=[{"coupon": "NOPE"}])
    assert missing.value.code == "resource_missing" and "No such coupon: 'NOPE'" in str(missing.value)
    assert_shape(spent.to_dict(), stripe.Coupon)


def test_failed_create_does_not_count_a_redemption(client: stripe.StripeClient) -> None:
    coupon = _coupon(client, percent_off=10, duration="forever")
    cust = customer(client, pm=None)  # no payment method: the create is refused
    with pytest.raises(stripe.InvalidRequestError):
        subscribe(client, cust.id, (price(client, 1000).id, 1), discounts=[{"coupon": coupon.id}])
    assert client.v1.coupons.retrieve(coupon.id).times_redeemed == 0


def test_update_adds_and_removes_discounts(client: stripe.StripeClient) -> None:
    coupon = _coupon(client, percent_off=50, duration="forever")
    ck = clock(client)
    cust = customer(client, ck.id)
    sub = subscribe(client, cust.id, (price(client, 4000).id, 1))
    upd = client.v1.subscriptions.update(sub.id, params={"discounts": [{"coupon": coupon.id}]})
    [did] = upd.discounts
    preview = client.v1.invoices.create_preview(params={"subscription": sub.id})
    assert preview.total == 2000 and preview.discounts == [did]
    kept = client.v1.subscriptions.update(sub.id, params={"discounts": [{"discount": str(did)}]})
    assert kept.discounts == [did] and client.v1.coupons.retrieve(coupon.id).times_redeemed == 1
    advance(client, ck.id, utc(2026, 2, 16))
    assert _charges(client, cust.id) == [4000, 2000]
    cleared = client.v1.subscriptions.update(sub.id, params={"discounts": ""})
    assert cleared.discounts == []
    assert client.v1.invoices.create_preview(params={"subscription": sub.id}).total == 4000
    _shapes(cleared, preview)


def test_delete_discount_ends_it(client: stripe.StripeClient) -> None:
    coupon = _coupon(client, percent_off=30, duration="forever")
    sub = subscribe(client, customer(client).id, (price(client, 1000).id, 1), discounts=[{"coupon": coupon.id}])
    gone = client.v1.subscriptions.delete_discount(sub.id)
    assert gone.deleted is True and gone.id == sub.discounts[0]
    assert client.v1.subscriptions.retrieve(sub.id).discounts == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.delete_discount(sub.id)


def test_prorations_are_net_of_a_percent_discount(client: stripe.StripeClient) -> None:
    coupon = _coupon(client, percent_off=50, duration="forever")
    ck = clock(client)
    cust = customer(client, ck.id)
    small, big = price(client, 3000), price(client, 6000)
    sub = subscribe(client, cust.id, (small.id, 1), discounts=[{"coupon": coupon.id}])
    advance(client, ck.id, T0 + 10 * DAY)  # a 31-day January: 21 days left
    client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": sub["items"].data[0].id, "price": big.id}], "proration_behavior": "always_invoice"})
    latest = invoices(client, sub.id)[-1]
    amounts = sorted(ln.amount for ln in latest.lines.data)
    assert amounts == [-1016, 2032]  # 1500 and 3000 net, times 21/31
    assert all(not ln.discount_amounts for ln in latest.lines.data) and latest.total == 1016
    _shapes(client.v1.subscriptions.retrieve(sub.id), latest)


def test_credit_note_on_a_discounted_invoice_is_bounded_by_what_was_paid(client: stripe.StripeClient) -> None:
    coupon = _coupon(client, percent_off=25, duration="forever")
    cust = customer(client)
    sub = subscribe(client, cust.id, (price(client, 20000, "year").id, 1), discounts=[{"coupon": coupon.id}],
                    expand=["latest_invoice"])
    inv = sub.latest_invoice
    assert isinstance(inv, stripe.Invoice)
    line = inv.lines.data[0]
    [charge] = client.v1.charges.list(params={"customer": cust.id}).data
    assert charge.amount == 15000
    # A paid invoice's credit note is all post-payment, which must be split into refund, credit
    # and out-of-band parts (docs.stripe.com/api/credit_notes/create), so the preview names one.
    full = {"invoice": inv.id, "refund_amount": 15000,
            "lines": [{"type": "invoice_line_item", "invoice_line_item": line.id}]}
    preview = client.v1.credit_notes.preview(params=full)  # type: ignore[arg-type]
    assert (preview.subtotal, preview.discount_amount, preview.total) == (20000, 5000, 15000)
    assert preview.lines.data[0].amount == 20000 and preview.lines.data[0].discount_amount == 5000
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 15001, "refund_amount": 15001})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"charge": charge.id, "amount": 15001})
    half = {"invoice": inv.id, "refund_amount": 7500, "lines": [
        {"type": "invoice_line_item", "invoice_line_item": line.id, "amount": 10000}]}
    cn = client.v1.credit_notes.create(params=half)  # type: ignore[arg-type]
    assert cn.total == 7500 and cn.discount_amounts[0].amount == 2500 and cn.discount_amounts[0].discount == inv.discounts[0]
    assert client.v1.charges.retrieve(charge.id).amount_refunded == 7500
    assert_shape(preview.to_dict(), stripe.CreditNote)
    assert_shape(cn.to_dict(), stripe.CreditNote)
    _shapes(sub, inv)


def test_expand_discount_through_invoice_amounts(client: stripe.StripeClient) -> None:
    coupon = _coupon(client, percent_off=10, duration="forever")
    sub = subscribe(client, customer(client).id, (price(client, 1000).id, 1), discounts=[{"coupon": coupon.id}])
    inv = client.v1.invoices.retrieve(str(sub.latest_invoice), params={
        "expand": ["discounts", "total_discount_amounts.discount", "lines.data.discount_amounts.discount"]})
    assert isinstance(inv.discounts[0], stripe.Discount)
    tda = inv.total_discount_amounts or []
    assert isinstance(tda[0].discount, stripe.Discount) and tda[0].discount.source.coupon == coupon.id
    assert_shape(inv.to_dict(), stripe.Invoice)
    events = client.v1.events.list(params={"type": "customer.discount.created", "limit": 100}).data
    assert any(e.data.object["subscription"] == sub.id for e in events)


def test_toolkit_contract_shows_the_discount_and_refunds_what_was_paid(client: stripe.StripeClient) -> None:
    from billing_nb.analysis.contract import contract_shapes, refund_options
    from billing_nb.reading.provider import StripeReader
    from billing_nb.reading.waves import build_snapshot

    coupon = _coupon(client, percent_off=25, duration="forever")
    ck = clock(client)
    cust = customer(client, ck.id, email=f"{coupon.id.lower()}@coupon.example.com")
    sub = subscribe(client, cust.id, (price(client, 20000, "year").id, 1), discounts=[{"coupon": coupon.id}])
    advance(client, ck.id, utc(2026, 4, 15))
    snap = build_snapshot(StripeReader(client), cust.id)
    [shape] = contract_shapes(snap)
    assert shape.discounts == tuple(sub.discounts)
    assert shape.latest_invoice_paid is not None and shape.latest_invoice_paid.amount == 15000
    opts = {o.kind: o for o in refund_options(snap, shape)}
    refund = opts["cancel_now_refund"]
    assert refund.details["paid_for_period"] == 15000
    assert 0 < refund.amount.amount < 15000 and refund.amount.amount == opts["credit_note_unused"].amount.amount
