"""Prorations to the second, checked against an independent computation, and
``create_preview`` against what the update then really invoices."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import stripe
from shapes import assert_shape
from test_b_support import DAY, T0, advance, clock, customer, invoices, price, subscribe, utc


def share(amount: int, start: int, end: int, at: int) -> int:
    """Stripe's formula, written independently of billing_nb.money: amount × remaining/period."""
    exact = Decimal(amount) * Decimal(end - at) / Decimal(end - start)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _annual(client: stripe.StripeClient) -> tuple[str, stripe.Subscription, stripe.Price]:
    ck = clock(client)
    cust = customer(client, ck.id)
    basic = price(client, 12000, "year", "Basic")
    sub = subscribe(client, cust.id, (basic.id, 1))
    return ck.id, sub, price(client, 29900, "year", "Premium")


def test_annual_upgrade_mid_year_prorates_to_the_cent(client: stripe.StripeClient) -> None:
    ck, sub, premium = _annual(client)
    at = utc(2026, 4, 20, 9) + 1234  # an odd second, months into the year
    advance(client, ck, at)
    item = sub["items"].data[0]
    start, end = item.current_period_start, item.current_period_end
    assert (start, end) == (T0, utc(2027, 1, 15))
    upd = client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": item.id, "price": premium.id}], "proration_behavior": "always_invoice"})
    assert upd["items"].data[0].id == item.id and upd["items"].data[0].price.id == premium.id
    inv = client.v1.invoices.retrieve(str(upd.latest_invoice))
    credit, debit = -share(12000, start, end, at), share(29900, start, end, at)
    assert inv.billing_reason == "subscription_update" and inv.status == "paid"
    assert [ln.amount for ln in inv.lines.data] == [credit, debit]
    assert inv.total == inv.amount_paid == credit + debit
    unused, remaining = inv.lines.data
    assert unused.description == "Unused time on Basic after 20 Apr 2026"
    assert remaining.description == "Remaining time on Premium after 20 Apr 2026"
    for line in inv.lines.data:
        details = line.parent.subscription_item_details  # type: ignore[union-attr]
        assert line.parent.type == "subscription_item_details"  # type: ignore[union-attr]
        assert details.proration is True and details.subscription_item == item.id  # type: ignore[union-attr]
        assert (line.period.start, line.period.end) == (at, end)
        assert_shape(line.to_dict(), stripe.InvoiceLineItem)
    first = invoices(client, sub.id)[0]
    credited = unused.parent.subscription_item_details.proration_details.credited_items  # type: ignore[union-attr]
    assert credited.invoice == first.id and credited.invoice_line_items == [first.lines.data[0].id]  # type: ignore[union-attr]
    assert upd["items"].data[0].current_period_end == end  # same interval: the cycle is kept
    assert_shape(inv.to_dict(), stripe.Invoice)


def test_create_preview_matches_the_update_invoice(client: stripe.StripeClient) -> None:
    ck, sub, premium = _annual(client)
    advance(client, ck, utc(2026, 7, 3, 17))
    at = utc(2026, 7, 3, 17) - 77
    item_id = sub["items"].data[0].id
    change = {"items": [{"id": item_id, "price": premium.id}], "proration_behavior": "always_invoice",
              "proration_date": at}
    preview = client.v1.invoices.create_preview(params={"subscription": sub.id, "subscription_details": change})  # type: ignore[typeddict-item]
    upd = client.v1.subscriptions.update(sub.id, params=change)  # type: ignore[arg-type]
    real = client.v1.invoices.retrieve(str(upd.latest_invoice))
    assert [(ln.amount, ln.description, ln.period.start) for ln in preview.lines.data] == \
        [(ln.amount, ln.description, ln.period.start) for ln in real.lines.data]
    assert preview.total == real.total and preview.amount_due == real.amount_due
    assert preview.parent.subscription_details.subscription_proration_date == at  # type: ignore[union-attr]
    assert_shape(preview.to_dict(), stripe.Invoice)


def test_create_prorations_wait_for_the_next_invoice_as_pending_items(client: stripe.StripeClient) -> None:
    ck = clock(client)
    cust = customer(client, ck.id)
    seat = price(client, 1000, "month", "Seat")
    sub = subscribe(client, cust.id, (seat.id, 5))
    at = T0 + 10 * DAY
    advance(client, ck.id, at)
    item = sub["items"].data[0]
    details = {"items": [{"id": item.id, "quantity": 7}], "proration_date": at}
    preview = client.v1.invoices.create_preview(params={"subscription": sub.id, "subscription_details": details})  # type: ignore[typeddict-item]
    upd = client.v1.subscriptions.update(sub.id, params=details)  # type: ignore[arg-type]
    assert upd["items"].data[0].quantity == 7 and upd.latest_invoice == sub.latest_invoice
    pending = client.v1.invoice_items.list(params={"customer": cust.id, "pending": True}).data
    start, end = T0, utc(2026, 2, 15)
    assert sorted(ii.amount for ii in pending) == sorted([-share(5000, start, end, at), share(7000, start, end, at)])
    assert all(ii.proration and ii.invoice is None for ii in pending)
    for ii in pending:
        assert_shape(ii.to_dict(), stripe.InvoiceItem)
    assert {ii.description for ii in pending} == {"Unused time on 5 × Seat after 25 Jan 2026",
                                                  "Remaining time on 7 × Seat after 25 Jan 2026"}
    advance(client, ck.id, utc(2026, 2, 15, 13))
    renewal = invoices(client, sub.id)[-1]
    assert renewal.billing_reason == "subscription_cycle" and renewal.status == "paid"
    assert renewal.total == 7000 + sum(ii.amount for ii in pending) == preview.total
    assert sorted(ln.amount for ln in renewal.lines.data) == sorted(ln.amount for ln in preview.lines.data)
    assert client.v1.invoice_items.list(params={"customer": cust.id, "pending": True}).data == []


def test_proration_none_changes_price_without_items(client: stripe.StripeClient) -> None:
    ck = clock(client)
    cust = customer(client, ck.id)
    sub = subscribe(client, cust.id, (price(client, 1000).id, 1))
    advance(client, ck.id, T0 + 3 * DAY)
    client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": sub["items"].data[0].id, "price": price(client, 5000).id}], "proration_behavior": "none"})
    assert client.v1.invoice_items.list(params={"customer": cust.id}).data == []
    advance(client, ck.id, utc(2026, 2, 16))
    assert invoices(client, sub.id)[-1].total == 5000


def test_switching_monthly_to_annual_resets_the_cycle_and_invoices_now(client: stripe.StripeClient) -> None:
    ck = clock(client)
    cust = customer(client, ck.id)
    sub = subscribe(client, cust.id, (price(client, 2000).id, 1))
    at = T0 + 12 * DAY
    advance(client, ck.id, at)
    upd = client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": sub["items"].data[0].id, "price": price(client, 20000, "year").id}]})
    item = upd["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (at, utc(2027, 1, 27))
    assert upd.billing_cycle_anchor == at
    inv = client.v1.invoices.retrieve(str(upd.latest_invoice))
    assert inv.total == 20000 - share(2000, T0, utc(2026, 2, 15), at) and inv.status == "paid"


def test_adding_and_removing_items_prorate_each_side(client: stripe.StripeClient) -> None:
    ck = clock(client)
    cust = customer(client, ck.id)
    base, extra = price(client, 2000, name="Base"), price(client, 600, name="Extra")
    sub = subscribe(client, cust.id, (base.id, 1))
    at = T0 + 7 * DAY
    advance(client, ck.id, at)
    upd = client.v1.subscriptions.update(sub.id, params={"items": [{"price": extra.id, "quantity": 2}],
                                                          "proration_behavior": "always_invoice"})
    added = next(i for i in upd["items"].data if i.price.id == extra.id)
    inv = client.v1.invoices.retrieve(str(upd.latest_invoice))
    end = utc(2026, 2, 15)
    assert [ln.amount for ln in inv.lines.data] == [share(1200, T0, end, at)]
    assert inv.lines.data[0].parent.subscription_item_details.subscription_item == added.id  # type: ignore[union-attr]
    later = at + 3 * DAY
    advance(client, ck.id, later)
    upd = client.v1.subscriptions.update(sub.id, params={"items": [{"id": added.id, "deleted": True}],
                                                          "proration_behavior": "always_invoice"})
    assert [i.price.id for i in upd["items"].data] == [base.id]
    inv = client.v1.invoices.retrieve(str(upd.latest_invoice))
    assert [ln.amount for ln in inv.lines.data] == [-share(1200, T0, end, later)]
    assert inv.status == "paid" and inv.amount_due == 0
    assert client.v1.customers.retrieve(cust.id).balance == inv.total
