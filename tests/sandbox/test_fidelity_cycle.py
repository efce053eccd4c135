"""Billing cycle anchors: reset on update, set at create; each test cites its Stripe doc page."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from test_b_support import DAY, T0, advance, clock, customer, invoices, price, subscribe, utc


def _lines(inv: stripe.Invoice) -> list[tuple[int, bool]]:
    return sorted((int(li.amount), bool(li.parent.subscription_item_details.proration))  # type: ignore[union-attr]
                  for li in inv.lines.data)


def test_billing_cycle_anchor_now_restarts_the_cycle_and_prorates(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/subscriptions/update#update_subscription-billing_cycle_anchor: "Set `type`
    # to `now` to reset the billing cycle anchor to the current time"; proration_behavior "Determines
    # how to handle prorations when the billing cycle changes (e.g., when ... resetting
    # billing_cycle_anchor=now)". docs.stripe.com/billing/subscriptions/billing-cycle: resetting the
    # anchor to now invoices a new full period at once. The object form is the 2026-09-30.endive one
    # (docs.stripe.com/changelog/endive/2026-09-30/polymorphic-billing-cycle-anchor).
    ck = clock(client)
    cus = customer(client, ck.id)
    sub = subscribe(client, cus.id, (price(client, 3100).id, 1))  # Jan 15 -> Feb 15: 31 days
    advance(client, ck.id, T0 + 10 * DAY)
    reset = client.v1.subscriptions.update(sub.id, params={"billing_cycle_anchor": {"type": "now"}})
    assert reset.billing_cycle_anchor == T0 + 10 * DAY
    item = reset["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (T0 + 10 * DAY, utc(2026, 2, 25))
    inv = invoices(client, sub.id)[-1]
    assert inv.billing_reason == "subscription_update" and inv.status == "paid"
    # 21 of 31 days unused: -2100 credited, the new month billed in full
    assert _lines(inv) == [(-2100, True), (3100, False)] and inv.amount_paid == 1000
    # the next renewal follows the new anchor
    advance(client, ck.id, utc(2026, 2, 25, 13))
    last = invoices(client, sub.id)[-1]
    assert last.billing_reason == "subscription_cycle" and last.period_start == T0 + 10 * DAY

    quiet = subscribe(client, customer(client, ck.id).id, (price(client, 3100).id, 1))
    advance(client, ck.id, utc(2026, 3, 1))
    client.v1.subscriptions.update(quiet.id, params={"billing_cycle_anchor": {"type": "now"},
                                                     "proration_behavior": "none"})
    assert _lines(invoices(client, quiet.id)[-1]) == [(3100, False)]  # no credit for the unused time
    unchanged = client.v1.subscriptions.update(quiet.id, params={"billing_cycle_anchor": {"type": "unchanged"}})
    assert unchanged.billing_cycle_anchor == utc(2026, 3, 1)
    for bad in ("now", {"type": "later"}):  # the string form is the pre-endive one
        with pytest.raises(stripe.InvalidRequestError) as err:
            client.v1.subscriptions.update(quiet.id, params={"billing_cycle_anchor": bad})  # type: ignore[typeddict-item]
        assert (err.value.param or "").startswith("billing_cycle_anchor")


def test_create_time_anchor_bills_a_prorated_first_period(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/subscriptions/create#create_subscription-billing_cycle_anchor: "A future
    # timestamp ... to anchor the subscription's billing cycle"; proration_behavior: "Determines how
    # to handle prorations resulting from the billing_cycle_anchor. ... default is create_prorations".
    # docs.stripe.com/payments/checkout/billing-cycle: "If proration_behavior is none, customers
    # receive the initial period up to the first full invoice date for free"; "The anchor must be a
    # future UNIX timestamp before the next natural subscription billing date."
    ck = clock(client)
    p = price(client, 3100)
    anchor = utc(2026, 2, 1, 0)  # Jan 15 12:00 -> Feb 1 00:00 is 16.5 of January's 31 days
    sub = subscribe(client, customer(client, ck.id).id, (p.id, 1), billing_cycle_anchor=anchor)
    assert sub.status == "active" and sub.billing_cycle_anchor == anchor
    item = sub["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (T0, anchor)
    first = invoices(client, sub.id)[0]
    assert first.billing_reason == "subscription_create" and _lines(first) == [(1650, True)]
    assert first.amount_paid == 1650
    free = subscribe(client, customer(client, ck.id).id, (p.id, 1), billing_cycle_anchor=anchor,
                     proration_behavior="none")
    assert invoices(client, free.id)[0].amount_due == 0 and free.status == "active"
    advance(client, ck.id, anchor + 3600)
    renewal = invoices(client, sub.id)[-1]
    assert (renewal.billing_reason, renewal.period_start, renewal.period_end) == ("subscription_cycle", T0, anchor)
    assert renewal.amount_due == 3100
    assert client.v1.subscriptions.retrieve(sub.id)["items"].data[0].current_period_end == utc(2026, 3, 1, 0)
    cus = customer(client, ck.id)
    now = anchor + 3600
    bad: list[dict[str, Any]] = [{"billing_cycle_anchor": now - 60}, {"billing_cycle_anchor": utc(2026, 3, 2)},
                                 {"billing_cycle_anchor": utc(2026, 2, 10), "trial_period_days": 3}]
    for extra in bad:
        with pytest.raises(stripe.InvalidRequestError) as err:
            subscribe(client, cus.id, (p.id, 1), **extra)
        assert err.value.param == "billing_cycle_anchor", extra


def test_payment_behavior_on_update(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/subscriptions/update#update_subscription-payment_behavior: "Use
    # allow_incomplete to transition the subscription to status=past_due if a payment is required but
    # cannot be paid ... This is the default behavior." "Use error_if_incomplete if you want Stripe to
    # return an HTTP 402 status code if a subscription's invoice cannot be paid ... this parameter does
    # not update the subscription and returns an error instead." (The same page: a billing-period
    # change invoices at once; docs.stripe.com/billing/subscriptions/pending-updates lists it.)
    from test_b_support import set_card

    ck = clock(client)
    monthly, yearly = price(client, 1000), price(client, 9000, interval="year")
    subs = []
    for _ in range(2):
        cus = customer(client, ck.id)
        sub = subscribe(client, cus.id, (monthly.id, 1))
        set_card(client, cus.id, "pm_card_chargeCustomerFail")  # attaches, then declines every charge
        subs.append(sub)
    strict, lenient = subs
    change = [{"id": strict["items"].data[0].id, "price": yearly.id}]
    with pytest.raises(stripe.CardError) as err:
        client.v1.subscriptions.update(strict.id, params={"items": change, "payment_behavior": "error_if_incomplete"})
    assert err.value.http_status == 402 and err.value.code == "card_declined"
    kept = client.v1.subscriptions.retrieve(strict.id)
    assert kept.status == "active" and kept["items"].data[0].price.id == monthly.id
    assert [i.billing_reason for i in invoices(client, strict.id)] == ["subscription_create"]
    moved = client.v1.subscriptions.update(lenient.id, params={
        "items": [{"id": lenient["items"].data[0].id, "price": yearly.id}], "payment_behavior": "allow_incomplete"})
    assert moved.status == "past_due" and moved["items"].data[0].price.id == yearly.id
    assert invoices(client, lenient.id)[-1].status == "open"
    for later in ("pending_if_incomplete", "default_incomplete"):  # not implemented: refused, never ignored
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.v1.subscriptions.update(lenient.id, params={"payment_behavior": later})  # type: ignore[typeddict-item]
        assert refused.value.param == "payment_behavior"


def test_send_invoice_subscriptions_wait_for_the_customer(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/subscriptions/create#create_subscription-collection_method: "When sending an
    # invoice, Stripe will email your customer an invoice with payment instructions and mark the
    # subscription as active"; days_until_due "Valid only for subscriptions where collection_method is
    # set to send_invoice". docs.stripe.com/subscriptions/invoices: the first invoice is finalized
    # "one hour later when it's set to send_invoice". docs.stripe.com/api/subscriptions/object
    # #subscription_object-status: a send_invoice subscription "becomes past_due when its invoice is
    # not paid by the due date".
    ck = clock(client)
    cus = customer(client, ck.id, pm=None)  # no card: nothing is charged
    sub = subscribe(client, cus.id, (price(client, 4000).id, 1), collection_method="send_invoice", days_until_due=7)
    assert (sub.status, sub.collection_method, sub.days_until_due) == ("active", "send_invoice", 7)
    first = invoices(client, sub.id)[0]
    assert (first.status, first.collection_method, first.due_date) == ("draft", "send_invoice", T0 + 7 * DAY)
    advance(client, ck.id, T0 + 3600)
    opened = client.v1.invoices.retrieve(first.id)
    assert opened.status == "open" and opened.amount_remaining == 4000 and opened.attempt_count == 0
    assert client.v1.charges.list(params={"customer": cus.id}).data == []
    advance(client, ck.id, T0 + 7 * DAY + 60)
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    client.v1.invoices.pay(first.id, params={"paid_out_of_band": True})
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    back = client.v1.subscriptions.update(sub.id, params={"collection_method": "charge_automatically"})
    assert (back.collection_method, back.days_until_due) == ("charge_automatically", None)
    for bad in ({"days_until_due": 3}, {"collection_method": "send_invoice"}):
        with pytest.raises(stripe.InvalidRequestError) as err:
            subscribe(client, cus.id, (price(client, 4000).id, 1), **bad)
        assert err.value.param == "days_until_due", bad
