"""Credit notes on paid invoices: refund the unused part of an annual plan, never more
than the invoice, and credit the customer balance when asked to."""

from __future__ import annotations

import pytest
import stripe
from shapes import assert_shape
from test_b_support import advance, clock, customer, invoices, price, subscribe, utc


def _paid_annual(client: stripe.StripeClient, amount: int = 24000) -> tuple[stripe.Invoice, stripe.Charge]:
    ck = clock(client)
    cust = customer(client, ck.id)
    sub = subscribe(client, cust.id, (price(client, amount, "year", "Annual").id, 1))
    advance(client, ck.id, utc(2026, 4, 15))
    inv = invoices(client, sub.id)[0]
    charge = client.v1.charges.list(params={"customer": cust.id}).data[0]
    return inv, charge


def test_refund_amount_refunds_the_invoice_charge(client: stripe.StripeClient) -> None:
    inv, charge = _paid_annual(client)
    line = inv.lines.data[0]
    params = {"invoice": inv.id, "lines": [{"type": "invoice_line_item", "invoice_line_item": line.id, "amount": 18000}],
              "refund_amount": 18000, "reason": "order_change", "memo": "unused 9 months"}
    preview = client.v1.credit_notes.preview(params=params)  # type: ignore[arg-type]
    cn = client.v1.credit_notes.create(params=params)  # type: ignore[arg-type]
    assert preview.total == cn.total == 18000 and cn.type == "post_payment" and cn.status == "issued"
    assert cn.reason == "order_change" and cn.lines.data[0].invoice_line_item == line.id
    refund = client.v1.refunds.retrieve(str(cn.refunds[0].refund))
    assert refund.charge == charge.id and refund.amount == 18000
    assert client.v1.charges.retrieve(charge.id).amount_refunded == 18000
    assert client.v1.invoices.retrieve(inv.id).post_payment_credit_notes_amount == 18000
    assert [c.id for c in client.v1.credit_notes.list(params={"invoice": inv.id}).data] == [cn.id]
    assert_shape(cn.to_dict(), stripe.CreditNote)
    assert_shape(preview.to_dict(), stripe.CreditNote)
    assert_shape(refund.to_dict(), stripe.Refund)


def test_credit_notes_cannot_exceed_the_invoice(client: stripe.StripeClient) -> None:
    inv, _charge = _paid_annual(client, 12000)
    client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 10000, "refund_amount": 10000})
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 2001, "refund_amount": 2001})
    assert err.value.param == "amount"
    with pytest.raises(stripe.InvalidRequestError):  # the three parts must add up to the total
        client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 2000, "refund_amount": 1500})
    last = client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 2000, "refund_amount": 2000})
    assert last.number.endswith("-CN-02")


def test_credit_amount_goes_to_the_balance_and_void_reverses_it(client: stripe.StripeClient) -> None:
    inv, _charge = _paid_annual(client, 6000)
    cn = client.v1.credit_notes.create(params={"invoice": inv.id, "credit_amount": 2500})
    assert cn.total == 2500 and cn.customer_balance_transaction is not None
    cust = str(inv.customer)
    assert client.v1.customers.retrieve(cust).balance == -2500
    voided = client.v1.credit_notes.void_credit_note(cn.id)
    assert voided.status == "void"
    assert client.v1.customers.retrieve(cust).balance == 0
    assert [c.id for c in client.v1.credit_notes.list(params={"customer": cust}).data] == [cn.id]


def test_custom_line_and_refunded_charge_limits(client: stripe.StripeClient) -> None:
    inv, charge = _paid_annual(client, 5000)
    client.v1.refunds.create(params={"charge": charge.id, "amount": 4000})
    with pytest.raises(stripe.InvalidRequestError) as err:  # only $10.00 is left to refund on the charge
        client.v1.credit_notes.create(params={
            "invoice": inv.id, "lines": [{"type": "custom_line_item", "description": "Outage", "unit_amount": 1500}],
            "refund_amount": 1500})
    assert err.value.code == "amount_too_large"
    cn = client.v1.credit_notes.create(params={
        "invoice": inv.id, "lines": [{"type": "custom_line_item", "description": "Outage", "unit_amount": 500,
                                      "quantity": 2}], "refund_amount": 1000})
    assert cn.total == 1000 and cn.lines.data[0].type == "custom_line_item"
    assert client.v1.charges.retrieve(charge.id).refunded is True
