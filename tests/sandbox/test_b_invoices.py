"""Manual invoices and invoice items, invoice lifecycle errors, and subscription lists."""

from __future__ import annotations

import pytest
import stripe
from test_b_support import DAY, T0, advance, clock, customer, price, subscribe, utc


def test_manual_invoice_from_pending_items_finalize_pay_and_void(client: stripe.StripeClient) -> None:
    cust = customer(client)
    client.v1.invoice_items.create(params={"customer": cust.id, "amount": 1500, "currency": "usd",
                                            "description": "Consulting"})
    inv = client.v1.invoices.create(params={"customer": cust.id, "pending_invoice_items_behavior": "include"})
    assert inv.status == "draft" and inv.billing_reason == "manual" and inv.total == 1500
    final = client.v1.invoices.finalize_invoice(inv.id)
    assert final.status == "open" and final.number is not None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.finalize_invoice(inv.id)
    paid = client.v1.invoices.pay(inv.id)
    assert paid.status == "paid" and paid.amount_paid == 1500
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.pay(inv.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.void_invoice(inv.id)
    other = client.v1.invoices.create(params={"customer": cust.id})
    client.v1.invoice_items.create(params={"customer": cust.id, "invoice": other.id, "amount": 700, "currency": "usd"})
    client.v1.invoices.finalize_invoice(other.id, params={"auto_advance": False})
    voided = client.v1.invoices.void_invoice(other.id)
    assert voided.status == "void" and voided.status_transitions.voided_at is not None
    statuses = {i.id: i.status for i in client.v1.invoices.list(params={"customer": cust.id}).data}
    assert statuses == {inv.id: "paid", other.id: "void"}
    assert [i.id for i in client.v1.invoices.list(params={"customer": cust.id, "status": "void"}).data] == [other.id]


def test_failed_manual_pay_raises_card_error(client: stripe.StripeClient) -> None:
    cust = customer(client, pm="pm_card_chargeCustomerFail")
    client.v1.invoice_items.create(params={"customer": cust.id, "amount": 900, "currency": "usd"})
    inv = client.v1.invoices.create(params={"customer": cust.id, "pending_invoice_items_behavior": "include"})
    with pytest.raises(stripe.CardError) as err:
        client.v1.invoices.pay(inv.id)
    assert err.value.code == "card_declined"
    again = client.v1.invoices.retrieve(inv.id)
    assert again.status == "open" and again.attempt_count == 1


def test_subscription_list_filters(client: stripe.StripeClient) -> None:
    ck = clock(client)
    cust = customer(client, ck.id)
    monthly, other = price(client, 1000), price(client, 1100)
    a = subscribe(client, cust.id, (monthly.id, 1))
    b = subscribe(client, cust.id, (other.id, 2))
    client.v1.subscriptions.cancel(b.id)
    listed = lambda **kw: [s.id for s in client.v1.subscriptions.list(params={"customer": cust.id, **kw}).data]  # noqa: E731
    assert listed() == [a.id]
    assert listed(status="all") == [b.id, a.id]
    assert listed(status="canceled") == [b.id]
    assert listed(price=other.id, status="all") == [b.id]
    advance(client, ck.id, T0 + 2 * DAY)
    assert client.v1.subscriptions.retrieve(b.id).canceled_at == T0


def test_preview_of_cancel_now_and_of_the_next_renewal(client: stripe.StripeClient) -> None:
    ck = clock(client)
    cust = customer(client, ck.id)
    sub = subscribe(client, cust.id, (price(client, 3000).id, 1))
    advance(client, ck.id, T0 + 15 * DAY)
    nxt = client.v1.invoices.create_preview(params={"customer": cust.id})
    assert nxt.total == 3000 and nxt.lines.data[0].period.start == utc(2026, 2, 15)
    gone = client.v1.invoices.create_preview(params={"subscription": sub.id, "subscription_details": {
        "cancel_now": True, "proration_behavior": "create_prorations"}})
    assert gone.total < 0 and all(ln.parent.subscription_item_details.proration for ln in gone.lines.data)  # type: ignore[union-attr]
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"  # a preview changes nothing
