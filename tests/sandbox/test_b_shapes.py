"""Every object kind the billing engine returns, checked against the SDK's typed classes
(deep: nested objects, list pages, expanded fields)."""

from __future__ import annotations

import stripe
from shapes import assert_shape
from test_b_support import DAY, T0, advance, clock, customer, price, subscribe


def test_billing_objects_match_the_sdk_classes(client: stripe.StripeClient) -> None:
    ck = clock(client)
    cust = customer(client, ck.id)
    seat, addon = price(client, 1000, name="Seat"), price(client, 300, name="Add-on")
    sub = subscribe(client, cust.id, (seat.id, 3), (addon.id, 1), metadata={"team": "t1"})
    assert sub.metadata.to_dict() == {"team": "t1"} and len(sub["items"].data) == 2
    advance(client, ck.id, T0 + 5 * DAY)
    client.v1.subscriptions.update(sub.id, params={"items": [{"id": sub["items"].data[0].id, "quantity": 4}]})
    manual = client.v1.invoice_items.create(params={"customer": cust.id, "amount": 250, "currency": "usd",
                                                     "description": "Setup fee"})
    items = client.v1.subscription_items.list(params={"subscription": sub.id}).data
    full = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice.payments", "customer"]})
    inv = client.v1.invoices.retrieve(str(sub.latest_invoice), params={"expand": ["payments"]})
    lines = client.v1.invoices.line_items.list(inv.id).data
    payment = client.v1.invoice_payments.retrieve(inv.payments.data[0].id)  # type: ignore[union-attr]
    pi = client.v1.payment_intents.retrieve(str(payment.payment.payment_intent))
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    refund = client.v1.refunds.create(params={"charge": charge.id, "amount": 100})
    cn = client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 200, "credit_amount": 200})
    preview = client.v1.invoices.create_preview(params={"customer": cust.id, "subscription": sub.id})
    listed = client.v1.invoices.list(params={"customer": cust.id, "expand": ["data.payments"]}).data
    checks = [
        (full, stripe.Subscription), (items[0], stripe.SubscriptionItem), (inv, stripe.Invoice),
        (lines[0], stripe.InvoiceLineItem), (payment, stripe.InvoicePayment), (pi, stripe.PaymentIntent),
        (charge, stripe.Charge), (refund, stripe.Refund), (cn, stripe.CreditNote), (manual, stripe.InvoiceItem),
        (preview, stripe.Invoice), (listed[0], stripe.Invoice),
        (client.v1.test_helpers.test_clocks.retrieve(ck.id), stripe.test_helpers.TestClock),
    ]
    for obj, cls in checks:
        assert_shape(obj.to_dict(), cls)
    assert "payments" not in client.v1.invoices.retrieve(inv.id).to_dict()  # includable only
    assert "current_period_end" not in full.to_dict()  # lives on the items in this API version
    assert {ln.amount for ln in preview.lines.data} >= {250, 4000, 300}
