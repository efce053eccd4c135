"""Payments, refunds and disputes through the official SDK against the sandbox.

Refund refusals are part of the toolkit's safety model, so they must be refused the
way Stripe refuses them: the SDK's InvalidRequestError with Stripe's code and message.
"""

from __future__ import annotations

import pytest
import stripe
from shapes import assert_shape
from test_b_support import customer, price, subscribe


def _paid_charge(client: stripe.StripeClient, amount: int = 5000, card: str = "pm_card_visa") -> stripe.Charge:
    cust = customer(client, pm=card)
    pi = client.v1.payment_intents.create(params={
        "amount": amount, "currency": "usd", "customer": cust.id,
        "payment_method": cust.invoice_settings.default_payment_method, "confirm": True})  # type: ignore[typeddict-item]
    assert pi.status == "succeeded"
    return client.v1.charges.retrieve(str(pi.latest_charge))


def test_one_idempotency_key_creates_one_refund(client: stripe.StripeClient) -> None:
    charge = _paid_charge(client)
    opts = {"idempotency_key": "refund-once-b1"}
    first = client.v1.refunds.create(params={"charge": charge.id, "amount": 1000}, options=opts)  # type: ignore[arg-type]
    again = client.v1.refunds.create(params={"charge": charge.id, "amount": 1000}, options=opts)  # type: ignore[arg-type]
    assert first.id == again.id
    assert [r.id for r in client.v1.refunds.list(params={"charge": charge.id}).data] == [first.id]
    assert client.v1.charges.retrieve(charge.id).amount_refunded == 1000
    with pytest.raises(stripe.IdempotencyError):
        client.v1.refunds.create(params={"charge": charge.id, "amount": 900}, options=opts)  # type: ignore[arg-type]


def test_refund_too_large_is_refused_with_stripes_message(client: stripe.StripeClient) -> None:
    charge = _paid_charge(client, 2500)
    client.v1.refunds.create(params={"charge": charge.id, "amount": 1500})
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 1001})
    assert err.value.code == "amount_too_large"
    assert err.value.param == "amount"
    assert err.value.user_message == "Refund amount ($10.01) is greater than unrefunded amount on charge ($10.00)"
    assert err.value.http_status == 400


def test_refund_of_fully_refunded_charge_is_refused(client: stripe.StripeClient) -> None:
    charge = _paid_charge(client, 1200)
    refund = client.v1.refunds.create(params={"payment_intent": str(charge.payment_intent),
                                              "reason": "requested_by_customer", "metadata": {"case": "c1"}})
    assert refund.amount == 1200 and refund.reason == "requested_by_customer" and refund.metadata.to_dict() == {"case": "c1"}
    after = client.v1.charges.retrieve(charge.id)
    assert after.refunded is True and after.amount_refunded == 1200
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create(params={"charge": charge.id})
    assert err.value.code == "charge_already_refunded"
    assert err.value.user_message == f"Charge {charge.id} has already been refunded."


def test_refund_reason_outside_stripes_enum_is_refused(client: stripe.StripeClient) -> None:
    charge = _paid_charge(client, 800)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create(params={"charge": charge.id, "reason": "customer_unhappy"})  # type: ignore[typeddict-item]
    assert err.value.param == "reason"


def test_dispute_opens_after_create_dispute_card_and_blocks_refunds(client: stripe.StripeClient) -> None:
    charge = _paid_charge(client, 3000, card="pm_card_createDispute")
    assert charge.disputed is True and charge.status == "succeeded"
    disputes = client.v1.disputes.list(params={"charge": charge.id}).data
    assert len(disputes) == 1
    dispute = client.v1.disputes.retrieve(disputes[0].id)
    assert dispute.status == "needs_response" and dispute.amount == 3000 and dispute.charge == charge.id
    assert_shape(dispute.to_dict(), stripe.Dispute)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 100})
    assert err.value.code == "charge_disputed"


def test_declined_confirmation_leaves_intent_requiring_payment_method(client: stripe.StripeClient) -> None:
    cust = customer(client, pm=None)
    pi = client.v1.payment_intents.create(params={"amount": 1999, "currency": "usd", "customer": cust.id})
    with pytest.raises(stripe.CardError) as err:
        client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_chargeDeclined"})
    assert err.value.code == "card_declined"
    again = client.v1.payment_intents.retrieve(pi.id)
    assert again.status == "requires_payment_method"
    assert again.last_payment_error is not None
    assert again.last_payment_error.code == "card_declined"
    assert again.last_payment_error.decline_code == "generic_decline"
    assert again.last_payment_error.message == "Your card was declined."
    failed = client.v1.charges.list(params={"payment_intent": pi.id}).data
    assert [c.status for c in failed] == ["failed"]
    assert_shape(again.to_dict(), stripe.PaymentIntent)
    assert_shape(failed[0].to_dict(), stripe.Charge)


def test_lists_filter_by_customer_and_shapes(client: stripe.StripeClient) -> None:
    cust = customer(client)
    sub = subscribe(client, cust.id, (price(client, 1500).id, 1))
    pis = client.v1.payment_intents.list(params={"customer": cust.id}).data
    charges = client.v1.charges.list(params={"customer": cust.id}).data
    assert len(pis) == 1 and len(charges) == 1 and charges[0].payment_intent == pis[0].id
    assert sub.status == "active"
    refund = client.v1.refunds.create(params={"charge": charges[0].id, "amount": 500})
    with_refunds = client.v1.charges.retrieve(charges[0].id, params={"expand": ["refunds"]})
    assert [r.id for r in with_refunds.refunds.data] == [refund.id]  # type: ignore[union-attr]
    for obj, cls in ((pis[0], stripe.PaymentIntent), (with_refunds, stripe.Charge), (refund, stripe.Refund)):
        assert_shape(obj.to_dict(), cls)
