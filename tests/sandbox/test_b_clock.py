"""Test clocks drive renewals, failed renewals, dunning and period-end cancellation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from shapes import assert_shape
from test_b_support import DAY, T0, advance, clock, customer, invoices, price, set_card, subscribe, utc

from billing_nb.sandbox.server import ThreadedSandbox


def test_monthly_subscription_renews_with_paid_invoices(client: stripe.StripeClient) -> None:
    ck = clock(client)
    cust = customer(client, ck.id)
    sub = subscribe(client, cust.id, (price(client, 2000).id, 1))
    assert sub.status == "active" and sub.created == T0
    item = sub["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (T0, utc(2026, 2, 15))
    for month in range(2, 6):  # four advances, one renewal each
        advance(client, ck.id, utc(2026, month, 15, 14))
    rows = invoices(client, sub.id)
    assert [i.billing_reason for i in rows] == ["subscription_create"] + ["subscription_cycle"] * 4
    assert [i.status for i in rows] == ["paid"] * 5 and all(i.amount_paid == 2000 for i in rows)
    assert [i.lines.data[0].period.start for i in rows] == [T0] + [utc(2026, m, 15) for m in range(2, 6)]
    assert [i.created for i in rows[1:]] == [utc(2026, m, 15) for m in range(2, 6)]
    now = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice.payments"]})
    assert now.status == "active"
    assert now["items"].data[0].current_period_end == utc(2026, 6, 15)
    latest = now.latest_invoice
    assert isinstance(latest, stripe.Invoice) and latest.id == rows[-1].id
    payment = latest.payments.data[0]  # type: ignore[union-attr]
    assert payment.status == "paid" and payment.amount_paid == 2000
    assert len(client.v1.charges.list(params={"customer": cust.id}).data) == 5
    assert_shape(now.to_dict(), stripe.Subscription)
    assert_shape(payment.to_dict(), stripe.InvoicePayment)


def test_month_end_anchor_clamps_like_stripe(client: stripe.StripeClient) -> None:
    ck = clock(client, utc(2026, 1, 31))
    sub = subscribe(client, customer(client, ck.id).id, (price(client, 1000).id, 1))
    advance(client, ck.id, utc(2026, 3, 31, 13))
    periods = [i.lines.data[0].period.start for i in invoices(client, sub.id)]
    assert periods == [utc(2026, 1, 31), utc(2026, 2, 28), utc(2026, 3, 31)]


def _failing_renewal(client: stripe.StripeClient) -> tuple[str, str, str]:
    """Three good months, then the card is swapped for one whose charges fail."""
    ck = clock(client)
    cust = customer(client, ck.id)
    sub = subscribe(client, cust.id, (price(client, 3000).id, 1))
    advance(client, ck.id, utc(2026, 3, 20))
    set_card(client, cust.id, "pm_card_chargeCustomerFail")
    advance(client, ck.id, utc(2026, 4, 15, 13))
    return ck.id, cust.id, sub.id


def test_failed_renewal_goes_past_due_then_unpaid_after_retries(client: stripe.StripeClient) -> None:
    ck, cust, sub_id = _failing_renewal(client)
    failed = invoices(client, sub_id)[-1]
    assert [i.status for i in invoices(client, sub_id)] == ["paid"] * 3 + ["open"]
    # the renewal is a draft for an hour, then finalized and charged (docs.stripe.com/invoicing/
    # integration/workflow-transitions: "We wait an hour after ... the invoice.created event before
    # attempting payment"); retries count from that attempt
    assert failed.created == utc(2026, 4, 15) and failed.status_transitions.finalized_at == utc(2026, 4, 15, 13)
    assert failed.attempt_count == 1 and failed.next_payment_attempt == utc(2026, 4, 15, 13) + 3 * DAY
    assert client.v1.subscriptions.retrieve(sub_id).status == "past_due"
    assert client.v1.customers.retrieve(cust).delinquent is True
    advance(client, ck, utc(2026, 4, 19))
    again = client.v1.invoices.retrieve(failed.id)
    assert again.attempt_count == 2 and again.next_payment_attempt == utc(2026, 4, 18, 13) + 5 * DAY
    advance(client, ck, utc(2026, 5, 1))  # retries on Apr 23 and Apr 30: all three retries spent
    final = client.v1.invoices.retrieve(failed.id)
    assert final.status == "open" and final.attempt_count == 4 and final.next_payment_attempt is None
    assert client.v1.subscriptions.retrieve(sub_id).status == "unpaid"
    charges = client.v1.charges.list(params={"customer": cust, "limit": 100}).data
    assert [c.status for c in charges].count("failed") == 4
    failed_charge = next(c for c in charges if c.status == "failed")
    assert failed_charge.failure_code == "card_declined"
    assert_shape(final.to_dict(), stripe.Invoice)


@pytest.fixture()
def cancelling_sandbox() -> Iterator[stripe.StripeClient]:
    """A sandbox of its own whose dunning ends by canceling the subscription."""
    with ThreadedSandbox() as sb:
        sb.store.settings.update(retry_days=[2], after_retries="canceled")
        yield stripe.StripeClient("sk_test_b", base_addresses={"api": sb.url}, max_network_retries=0)


def test_dunning_can_end_in_cancellation(cancelling_sandbox: stripe.StripeClient) -> None:
    client = cancelling_sandbox
    ck, _cust, sub_id = _failing_renewal(client)
    assert client.v1.subscriptions.retrieve(sub_id).status == "past_due"
    advance(client, ck, utc(2026, 4, 18))
    sub = client.v1.subscriptions.retrieve(sub_id)
    assert sub.status == "canceled" and sub.ended_at == utc(2026, 4, 17, 13)
    assert sub.cancellation_details is not None and sub.cancellation_details.reason == "payment_failed"
    assert [s.id for s in client.v1.subscriptions.list(params={"status": "canceled", "test_clock": ck}).data] == [sub_id]
    assert client.v1.subscriptions.list(params={"customer": _cust}).data == []


def test_paying_the_open_invoice_reactivates(client: stripe.StripeClient) -> None:
    _ck, cust, sub_id = _failing_renewal(client)
    open_inv = invoices(client, sub_id)[-1]
    good = client.v1.payment_methods.attach("pm_card_visa", params={"customer": cust})
    paid = client.v1.invoices.pay(open_inv.id, params={"payment_method": good.id})
    assert paid.status == "paid" and paid.amount_paid == 3000
    assert client.v1.subscriptions.retrieve(sub_id).status == "active"
    payments = client.v1.invoice_payments.list(params={"invoice": open_inv.id}).data
    assert [p.status for p in payments] == ["paid"]


def test_cancel_at_period_end_ends_at_the_period_end(client: stripe.StripeClient) -> None:
    ck = clock(client)
    sub = subscribe(client, customer(client, ck.id).id, (price(client, 2000).id, 1))
    advance(client, ck.id, T0 + 10 * DAY)
    upd = client.v1.subscriptions.update(sub.id, params={
        "cancel_at_period_end": True, "cancellation_details": {"comment": "too pricey", "feedback": "too_expensive"}})
    assert upd.cancel_at_period_end is True and upd.status == "active"
    assert upd.cancel_at == utc(2026, 2, 15) and upd.canceled_at == T0 + 10 * DAY
    advance(client, ck.id, utc(2026, 2, 15) - 60)
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    advance(client, ck.id, utc(2026, 3, 20))
    done = client.v1.subscriptions.retrieve(sub.id)
    assert done.status == "canceled" and done.ended_at == utc(2026, 2, 15)
    assert done.cancellation_details.feedback == "too_expensive"  # type: ignore[union-attr]
    assert done.cancellation_details.reason == "cancellation_requested"  # type: ignore[union-attr]
    assert len(invoices(client, sub.id)) == 1  # no renewal invoice


def test_cancel_now_with_proration_credits_the_customer(client: stripe.StripeClient) -> None:
    ck = clock(client)
    cust = customer(client, ck.id)
    sub = subscribe(client, cust.id, (price(client, 3000).id, 1))
    advance(client, ck.id, T0 + 15 * DAY)
    gone = client.v1.subscriptions.cancel(sub.id, params={"prorate": True, "invoice_now": True,
                                                           "cancellation_details": {"comment": "moving"}})
    assert gone.status == "canceled" and gone.ended_at == T0 + 15 * DAY
    final = invoices(client, sub.id)[-1]
    span = utc(2026, 2, 15) - T0
    credit = -round(3000 * (span - 15 * DAY) / span)
    assert final.total == credit and final.amount_due == 0 and final.status == "paid"
    assert client.v1.customers.retrieve(cust.id).balance == credit


def test_declined_first_payment_leaves_subscription_incomplete_then_expired(client: stripe.StripeClient) -> None:
    ck = clock(client)
    cust = customer(client, ck.id, pm="pm_card_chargeCustomerFail")
    sub = subscribe(client, cust.id, (price(client, 2500).id, 1))
    assert sub.status == "incomplete"
    first = client.v1.invoices.retrieve(str(sub.latest_invoice), params={"expand": ["payments.data.payment.payment_intent"]})
    assert first.status == "open" and first.billing_reason == "subscription_create"
    pi = first.payments.data[0].payment.payment_intent  # type: ignore[union-attr]
    assert isinstance(pi, stripe.PaymentIntent) and pi.status == "requires_payment_method"
    assert pi.last_payment_error.decline_code == "generic_decline"  # type: ignore[union-attr]
    advance(client, ck.id, T0 + 23 * 3600 + 1)
    assert client.v1.subscriptions.retrieve(sub.id).status == "incomplete_expired"
    assert client.v1.invoices.retrieve(first.id).status == "void"


def test_default_incomplete_then_confirm_activates(client: stripe.StripeClient) -> None:
    cust = customer(client, pm=None)
    sub = subscribe(client, cust.id, (price(client, 900).id, 2), payment_behavior="default_incomplete")
    assert sub.status == "incomplete"
    pay = client.v1.invoice_payments.list(params={"invoice": str(sub.latest_invoice)}).data[0]
    pi_id = str(pay.payment.payment_intent)
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(pi_id, params={"payment_method": "pm_card_chargeDeclined"})
    assert client.v1.subscriptions.retrieve(sub.id).status == "incomplete"
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": cust.id})
    assert client.v1.payment_intents.confirm(pi_id, params={"payment_method": pm.id}).status == "succeeded"
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    assert client.v1.invoices.retrieve(str(sub.latest_invoice)).amount_paid == 1800


def test_error_if_incomplete_refuses_and_creates_nothing(client: stripe.StripeClient) -> None:
    cust = customer(client, pm="pm_card_chargeCustomerFail")
    with pytest.raises(stripe.CardError) as err:
        subscribe(client, cust.id, (price(client, 700).id, 1), payment_behavior="error_if_incomplete")
    assert err.value.code == "card_declined"
    assert client.v1.subscriptions.list(params={"customer": cust.id, "status": "all"}).data == []


def test_trial_then_first_paid_cycle(client: stripe.StripeClient) -> None:
    ck = clock(client)
    sub = subscribe(client, customer(client, ck.id).id, (price(client, 1200).id, 1), trial_period_days=14)
    assert sub.status == "trialing" and sub.trial_end == T0 + 14 * DAY
    assert invoices(client, sub.id)[0].amount_due == 0
    advance(client, ck.id, T0 + 15 * DAY)
    after = client.v1.subscriptions.retrieve(sub.id)
    assert after.status == "active"
    assert after["items"].data[0].current_period_start == T0 + 14 * DAY
    assert [i.amount_paid for i in invoices(client, sub.id)] == [0, 1200]


def test_clock_objects(client: stripe.StripeClient) -> None:
    ck = clock(client)
    answer = client.v1.test_helpers.test_clocks.advance(ck.id, params={"frozen_time": T0 + DAY})
    assert answer.status == "advancing"
    ready = client.v1.test_helpers.test_clocks.retrieve(ck.id)
    assert ready.status == "ready" and ready.frozen_time == T0 + DAY
    assert ck.id in [c.id for c in client.v1.test_helpers.test_clocks.list(params={"limit": 100}).data]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.test_helpers.test_clocks.advance(ck.id, params={"frozen_time": T0})
    assert_shape(ready.to_dict(), stripe.test_helpers.TestClock)
    assert client.v1.test_helpers.test_clocks.delete(ck.id).deleted is True


def test_wall_clock_customers_catch_up_on_read(client: stripe.StripeClient, sandbox: ThreadedSandbox) -> None:
    """Without a test clock, due work runs when the subscription is next read."""
    cust = customer(client, pm="pm_card_chargeCustomerFail")
    sub = subscribe(client, cust.id, (price(client, 1100).id, 1))
    assert sub.status == "incomplete"
    with sandbox.store.lock:
        sandbox.store.objects["subscription"][sub.id]["created"] -= 24 * 3600  # as if a day had passed
    assert client.v1.subscriptions.retrieve(sub.id).status == "incomplete_expired"


def test_a_reads_catch_up_walks_its_customer_not_the_account(client: stripe.StripeClient,
                                                               sandbox: ThreadedSandbox,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A retrieve or a customer's list catches that customer up through the customer index:
    at 50k subscriptions a full scan per read made every case read cost the account's size.
    The due work is still done (the expiry below)."""
    cust = customer(client, pm="pm_card_chargeCustomerFail")
    sub = subscribe(client, cust.id, (price(client, 1100).id, 1))
    store = sandbox.store
    with store.lock:
        for i in range(300):  # other customers' objects, which the catch-up must not look at
            store.insert({"id": f"sub_other{i}", "object": "subscription", "customer": f"cus_other{i}",
                          "status": "active", "created": 0})
        store.objects["subscription"][sub.id]["created"] -= 24 * 3600
        store.caught_up.clear()
    scanned: list[str] = []
    for name in ("all", "where"):
        real = getattr(store, name)
        monkeypatch.setattr(store, name, lambda kind, *a, _real=real, **k: scanned.append(kind) or _real(kind, *a, **k))
    try:
        assert client.v1.subscriptions.retrieve(sub.id).status == "incomplete_expired"
        assert [s.id for s in client.v1.subscriptions.list(params={"customer": cust.id, "status": "all"}).data] == [sub.id]
        assert "subscription" not in scanned and "invoice" not in scanned, scanned
    finally:
        with store.lock:  # the shared account: item-less stand-ins would break other tests' scans
            for i in range(300):
                store.pop("subscription", f"sub_other{i}")
