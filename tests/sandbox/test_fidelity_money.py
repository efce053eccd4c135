"""Money-moving behaviours, each as Stripe's API reference documents it (page named per test).

Subscription cancellation in all its forms and its effect on pending prorations and open
invoices; credit notes' pre-/post-payment split on open and paid invoices and their effect on
the customer balance (with balance transactions); customer deletion.
"""

from __future__ import annotations

import pytest
import stripe

from test_b_support import DAY, T0, advance, clock, customer, invoices, price, set_card, subscribe, utc


def _pending(client: stripe.StripeClient, cus_id: str) -> list[stripe.InvoiceItem]:
    return list(client.v1.invoice_items.list(params={"customer": cus_id, "pending": True}).data)


def _upgraded(client: stripe.StripeClient) -> tuple[stripe.Customer, stripe.Subscription, str]:
    """A monthly subscription 10 days in, upgraded with prorations left pending."""
    ck = clock(client)
    cus = customer(client, ck.id)
    sub = subscribe(client, cus.id, (price(client, 3000).id, 1))
    advance(client, ck.id, T0 + 10 * DAY)
    client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": sub["items"].data[0].id, "price": price(client, 6000).id}],
        "proration_behavior": "create_prorations"})
    assert len(_pending(client, cus.id)) == 2  # credit for the old price, charge for the new
    return cus, sub, ck.id


def test_cancel_now_without_prorate_or_invoice_now_leaves_pending_prorations(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/subscriptions/cancel (current versions): "Any pending invoice items that
    # you've created are still charged at the end of the period, unless manually deleted ...
    # pending prorations are removed if invoice_now and prorate are both set to true"; with both
    # false they stay pending, and no final invoice is made.
    cus, sub, _ = _upgraded(client)
    manual = client.v1.invoice_items.create(params={"customer": cus.id, "amount": 400, "currency": "usd"})
    prorations = {ii.id for ii in _pending(client, cus.id)} - {manual.id}
    done = client.v1.subscriptions.cancel(sub.id, params={"prorate": False, "invoice_now": False})
    assert done.status == "canceled"
    assert {ii.id for ii in _pending(client, cus.id)} == prorations | {manual.id} and len(prorations) == 2
    assert len(invoices(client, sub.id)) == 1  # no final invoice


def test_cancel_now_with_invoice_now_bills_pending_prorations_and_prorate_credits(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/subscriptions/cancel: prorate "Will generate a proration invoice item that
    # credits remaining unused time until the subscription period end"; invoice_now "Will generate
    # a final invoice that invoices for ... new/pending proration invoice items".
    cus, sub, _ = _upgraded(client)
    client.v1.subscriptions.cancel(sub.id, params={"prorate": True, "invoice_now": True})
    assert _pending(client, cus.id) == []
    final = invoices(client, sub.id)[-1]
    assert final.billing_reason == "subscription_update"
    amounts = sorted(line.amount for line in final.lines.data)
    assert len(amounts) == 3 and sum(1 for a in amounts if a < 0) == 2  # two credits (old + new price), one charge
    # 21 unused days of 31 on the old $30 price are credited; the new price's charge and credit cancel out.
    assert final.total == sum(amounts) == -round(3000 * 21 / 31)
    assert client.v1.customers.retrieve(cus.id).balance == final.total  # a negative invoice credits the balance


def test_cancel_with_prorate_only_leaves_the_credit_pending(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/subscriptions/cancel: prorate creates a proration item; without
    # invoice_now no final invoice is made, so it stays pending for the customer's next invoice.
    cus, sub, _ = _upgraded(client)
    client.v1.subscriptions.cancel(sub.id, params={"prorate": True})
    pending = _pending(client, cus.id)
    assert len(pending) == 3 and all(ii.proration for ii in pending)
    assert len(invoices(client, sub.id)) == 1


def test_cancellation_stops_collection_of_the_customers_open_invoices(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/subscriptions/cancel: "upon subscription cancellation, Stripe stops
    # automatic collection of all finalized invoices for the customer".
    ck = clock(client)
    cus = customer(client, ck.id)
    sub = subscribe(client, cus.id, (price(client, 2000).id, 1))
    set_card(client, cus.id, "pm_card_chargeCustomerFail")
    advance(client, ck.id, utc(2026, 2, 15, 13))
    failed = invoices(client, sub.id)[-1]
    assert failed.status == "open" and failed.next_payment_attempt is not None and failed.auto_advance
    client.v1.subscriptions.cancel(sub.id)
    after = client.v1.invoices.retrieve(failed.id)
    assert (after.status, after.auto_advance, after.next_payment_attempt) == ("open", False, None)


def test_cancel_at_period_end_and_cancel_at_special_values(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/subscriptions/update: cancel_at_period_end; cancel_at accepts
    # min_period_end / max_period_end, which "resolve to timestamps immediately"
    # (docs.stripe.com/changelog/basil/2025-07-30/cancel-at-enums); "" clears a scheduled cancel.
    ck = clock(client)
    cus = customer(client, ck.id)
    sub = subscribe(client, cus.id, (price(client, 1000).id, 1))
    end = sub["items"].data[0].current_period_end
    at_end = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert (at_end.cancel_at_period_end, at_end.cancel_at, at_end.status) == (True, end, "active")
    for special in ("min_period_end", "max_period_end"):
        got = client.v1.subscriptions.update(sub.id, params={"cancel_at": special})  # type: ignore[typeddict-item]
        assert (got.cancel_at, got.cancel_at_period_end) == (end, False)
    cleared = client.v1.subscriptions.update(sub.id, params={"cancel_at": ""})
    assert (cleared.cancel_at, cleared.canceled_at) == (None, None)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.update(sub.id, params={"cancel_at": end, "cancel_at_period_end": True})
    client.v1.subscriptions.update(sub.id, params={"cancel_at": end})
    advance(client, ck.id, end + DAY)
    ended = client.v1.subscriptions.retrieve(sub.id)
    assert (ended.status, ended.ended_at) == ("canceled", end)


def test_cancel_at_inside_the_period_prorates_only_when_prorations_are_on(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/subscriptions/update, cancel_at: "If set to a date before the current
    # period ends, this will cause a proration if prorations have been enabled using
    # proration_behavior."
    for behavior, credits in (("none", 0), ("create_prorations", 1)):
        ck = clock(client)
        cus = customer(client, ck.id)
        sub = subscribe(client, cus.id, (price(client, 3100, "month").id, 1))
        client.v1.subscriptions.update(sub.id, params={"cancel_at": T0 + 10 * DAY,
                                                       "proration_behavior": behavior})  # type: ignore[typeddict-item]
        pending = _pending(client, cus.id)
        assert len(pending) == credits
        if credits:
            assert pending[0].amount < 0 and pending[0].proration


def test_credit_note_on_an_open_invoice_is_pre_payment(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/credit_notes/create: a credit note "will first reduce the invoice's
    # amount_remaining (and amount_due), but not below zero" (pre_payment_amount).
    cus = customer(client, pm=None)
    inv = client.v1.invoices.create(params={"customer": cus.id})
    client.v1.invoice_items.create(params={"customer": cus.id, "invoice": inv.id, "amount": 5000, "currency": "usd"})
    inv = client.v1.invoices.finalize_invoice(inv.id)
    cn = client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 1200})
    assert (cn.type, cn.pre_payment_amount, cn.post_payment_amount) == ("pre_payment", 1200, 0)
    after = client.v1.invoices.retrieve(inv.id)
    assert (after.amount_remaining, after.pre_payment_credit_notes_amount) == (3800, 1200)
    with pytest.raises(stripe.InvalidRequestError):  # nothing post-payment to refund or credit
        client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 500, "credit_amount": 500})


def test_credit_note_beyond_amount_remaining_is_mixed_and_must_split_the_excess(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/credit_notes/create: "The excess amount is indicated by
    # post_payment_amount ... The sum of refunds, customer balance credits, and outside of Stripe
    # credits must equal the post_payment_amount" (type mixed: changelog 2025-05-28.basil).
    cus = customer(client, pm=None, balance=-1000)  # a credit of $10 the invoice uses up front
    inv = client.v1.invoices.create(params={"customer": cus.id})
    client.v1.invoice_items.create(params={"customer": cus.id, "invoice": inv.id, "amount": 4000, "currency": "usd"})
    inv = client.v1.invoices.finalize_invoice(inv.id)
    assert inv.amount_remaining == 3000
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 4000})
    cn = client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 4000, "credit_amount": 600,
                                               "out_of_band_amount": 400, "effective_at": inv.created + 60})
    assert (cn.type, cn.pre_payment_amount, cn.post_payment_amount) == ("mixed", 3000, 1000)
    assert (cn.out_of_band_amount, cn.effective_at) == (400, inv.created + 60)
    assert client.v1.invoices.retrieve(inv.id).status == "paid"


def test_post_payment_credit_note_split_and_balance_transactions(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/credit_notes/create (refund_amount, credit_amount, out_of_band_amount);
    # docs.stripe.com/api/customer_balance_transactions/object: a credit note's credit is a
    # `credit_note` balance transaction; a finalized invoice using the balance, `applied_to_invoice`.
    ck = clock(client)
    cus = customer(client, ck.id)
    sub = subscribe(client, cus.id, (price(client, 9000, "month").id, 1))
    inv = invoices(client, sub.id)[0]
    assert inv.status == "paid"
    preview = client.v1.credit_notes.preview(params={"invoice": inv.id, "amount": 3000, "refund_amount": 1000,
                                                     "credit_amount": 1500, "out_of_band_amount": 500})
    assert preview.type == "post_payment" and preview.post_payment_amount == 3000
    cn = client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 3000, "refund_amount": 1000,
                                               "credit_amount": 1500, "out_of_band_amount": 500})
    assert (cn.type, cn.out_of_band_amount, cn.refunds[0].amount_refunded) == ("post_payment", 500, 1000)
    assert client.v1.customers.retrieve(cus.id).balance == -1500
    [txn] = client.v1.customers.balance_transactions.list(cus.id).data
    assert (txn.id, txn.type, txn.amount, txn.credit_note, txn.ending_balance) == (
        cn.customer_balance_transaction, "credit_note", -1500, cn.id, -1500)
    advance(client, ck.id, utc(2026, 2, 15, 13))
    renewal = invoices(client, sub.id)[-1]
    assert (renewal.starting_balance, renewal.amount_due) == (-1500, 7500)
    applied = [t for t in client.v1.customers.balance_transactions.list(cus.id).data if t.type == "applied_to_invoice"]
    assert [(t.amount, t.invoice, t.ending_balance) for t in applied] == [(1500, renewal.id, 0)]


def test_deleting_a_customer_cancels_its_subscriptions(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/customers/delete: "Also immediately cancels any active subscriptions on
    # the customer"; the deleted customer is still retrievable as {id, object, deleted: true}.
    cus = customer(client)
    sub = subscribe(client, cus.id, (price(client, 1000).id, 1))
    assert client.v1.customers.delete(cus.id).deleted is True
    gone = client.v1.subscriptions.retrieve(sub.id)
    assert (gone.status, gone.cancellation_details.reason) == ("canceled", "cancellation_requested")
    assert client.v1.customers.retrieve(cus.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        subscribe(client, cus.id, (price(client, 1000).id, 1))


def test_account_balance_transactions_list_by_source_type_and_payout(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/balance_transactions/list: filters `source`, `type`, `currency`, `created`
    # and `payout` ("only transactions that were paid out on the specified payout"); the sandbox
    # makes no payouts, so a payout filter matches nothing.
    cus = customer(client)
    sub = subscribe(client, cus.id, (price(client, 4200, "month").id, 1))
    assert invoices(client, sub.id)[0].status == "paid"
    charge = client.v1.charges.list({"customer": cus.id}).data[0].id
    mine = client.v1.balance_transactions.list({"source": charge}).data
    assert [(t.source, t.type, t.amount) for t in mine] == [(charge, "charge", 4200)]
    assert all(t.type == "charge" for t in client.v1.balance_transactions.list({"type": "charge", "limit": 100}).data)
    assert not client.v1.balance_transactions.list({"source": charge, "type": "refund"}).data
    assert not client.v1.balance_transactions.list({"source": charge, "payout": "po_1NoPayoutHere00"}).data
    assert client.v1.balance_transactions.retrieve(mine[0].id).id == mine[0].id
