"""Refunds that settle later, as Stripe's refund test cards make them (docs.stripe.com/testing,
"Refunds"): ``pm_card_refundFail`` (4000000000005126) refunds succeed, then fail; the
``pm_card_pendingRefund`` (4000000000007726) refunds are pending, then succeed. A failed refund
gives its amount back to the charge (``amount_refunded`` drops) and sends the events Stripe sends.
"""

from __future__ import annotations

import stripe
from test_b_support import DAY, T0, advance, clock, customer


def _paid(client: stripe.StripeClient, card: str, amount: int, clock_id: str) -> stripe.Charge:
    cust = customer(client, clock_id, pm=card)
    pi = client.v1.payment_intents.create(params={
        "amount": amount, "currency": "usd", "customer": cust.id,
        "payment_method": cust.invoice_settings.default_payment_method, "confirm": True})  # type: ignore[typeddict-item]
    assert pi.status == "succeeded"
    return client.v1.charges.retrieve(str(pi.latest_charge))


def _events(client: stripe.StripeClient, refund_id: str) -> list[str]:
    return sorted(e.type for e in client.v1.events.list(params={"limit": 100}).data
                  if e.data.object.to_dict().get("id") == refund_id)


def test_refund_of_refund_fail_card_fails_later_and_returns_the_amount(client: stripe.StripeClient) -> None:
    ck = clock(client)
    charge = _paid(client, "pm_card_refundFail", 4000, ck.id)
    refund = client.v1.refunds.create(params={"charge": charge.id, "amount": 2500})
    assert refund.status == "succeeded"  # it starts as succeeded (Stripe's testing docs)
    assert client.v1.charges.retrieve(charge.id).amount_refunded == 2500
    advance(client, ck.id, T0 + 2 * DAY)
    failed = client.v1.refunds.retrieve(refund.id)
    assert failed.status == "failed" and failed.failure_reason == "expired_or_canceled_card"
    assert failed.failure_balance_transaction is not None
    after = client.v1.charges.retrieve(charge.id, params={"expand": ["refunds"]})
    assert after.amount_refunded == 0 and after.refunded is False
    assert [r.status for r in after.refunds.data] == ["failed"]  # type: ignore[union-attr]
    assert _events(client, refund.id) == ["charge.refund.updated", "refund.created", "refund.failed",
                                          "refund.updated"]
    # the amount is refundable again: a new refund (a new effect) is accepted
    again = client.v1.refunds.create(params={"charge": charge.id, "amount": 4000})
    assert again.amount == 4000


def test_refund_of_pending_refund_card_is_pending_until_the_clock_passes(client: stripe.StripeClient) -> None:
    ck = clock(client)
    charge = _paid(client, "pm_card_pendingRefund", 3000, ck.id)
    refund = client.v1.refunds.create(params={"charge": charge.id})
    assert refund.status == "pending"
    assert client.v1.charges.retrieve(charge.id).amount_refunded == 3000
    advance(client, ck.id, T0 + DAY // 2)
    assert client.v1.refunds.retrieve(refund.id).status == "pending"
    advance(client, ck.id, T0 + 2 * DAY)
    assert client.v1.refunds.retrieve(refund.id).status == "succeeded"
    after = client.v1.charges.retrieve(charge.id)
    assert after.amount_refunded == 3000 and after.refunded is True
    assert "charge.refund.updated" in _events(client, refund.id)


def test_ordinary_card_refund_succeeds_at_once_and_stays(client: stripe.StripeClient) -> None:
    ck = clock(client)
    charge = _paid(client, "pm_card_visa", 2000, ck.id)
    refund = client.v1.refunds.create(params={"charge": charge.id})
    advance(client, ck.id, T0 + 3 * DAY)
    assert client.v1.refunds.retrieve(refund.id).status == "succeeded"
    assert client.v1.charges.retrieve(charge.id).amount_refunded == 2000
