"""Invoice and subscription lifecycle rules, each citing the Stripe doc page it follows."""

from __future__ import annotations

import pytest
import stripe

from test_b_support import DAY, T0, advance, clock, customer, invoices, price, subscribe, utc


def _events(client: stripe.StripeClient, type_: str, obj_id: str) -> list[stripe.Event]:
    return [e for e in client.v1.events.list(params={"type": type_, "limit": 100}).data
            if e.data.object["id"] == obj_id]


def test_only_one_off_drafts_can_be_deleted_and_deletion_emits_events(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/invoices/delete: "Permanently deletes a one-off invoice draft ... once an
    # invoice has been finalized or if an invoice is for a subscription, it must be voided."
    # docs.stripe.com/api/events/types: invoice.deleted, invoiceitem.deleted.
    cus = customer(client, pm=None)
    draft = client.v1.invoices.create(params={"customer": cus.id})
    item = client.v1.invoice_items.create(params={"customer": cus.id, "amount": 300, "currency": "usd"})
    assert client.v1.invoice_items.delete(item.id).deleted is True
    assert len(_events(client, "invoiceitem.deleted", item.id)) == 1
    assert client.v1.invoices.delete(draft.id).deleted is True
    assert len(_events(client, "invoice.deleted", draft.id)) == 1
    final = client.v1.invoices.create(params={"customer": cus.id})
    client.v1.invoice_items.create(params={"customer": cus.id, "invoice": final.id, "amount": 900, "currency": "usd"})
    client.v1.invoices.finalize_invoice(final.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.delete(final.id)
    sub_cus = customer(client)
    sub = subscribe(client, sub_cus.id, (price(client, 1000).id, 1))
    client.v1.subscriptions.update(sub.id, params={"items": [{"id": sub["items"].data[0].id,
                                                              "price": price(client, 2000).id}]})
    sub_draft = client.v1.invoices.create(params={"customer": sub_cus.id, "subscription": sub.id,
                                                  "pending_invoice_items_behavior": "include"})
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.invoices.delete(sub_draft.id)
    assert err.value.code == "invoice_not_editable"


def test_trial_end_moves_the_trial_and_the_billing_anchor(client: stripe.StripeClient) -> None:
    # docs.stripe.com/billing/subscriptions/trials ("Changing the trial end date") and
    # docs.stripe.com/api/subscriptions/update (trial_end: a timestamp, or "now" to end the trial
    # at once; the billing cycle anchor follows the trial's end).
    ck = clock(client)
    cus = customer(client, ck.id)
    sub = subscribe(client, cus.id, (price(client, 1500).id, 1), trial_period_days=14)
    assert sub.status == "trialing" and sub.trial_end == T0 + 14 * DAY
    moved = client.v1.subscriptions.update(sub.id, params={"trial_end": T0 + 20 * DAY})
    assert (moved.trial_end, moved.billing_cycle_anchor, moved["items"].data[0].current_period_end) == (
        T0 + 20 * DAY, T0 + 20 * DAY, T0 + 20 * DAY)
    prev = _events(client, "customer.subscription.updated", sub.id)[0].data.previous_attributes
    assert prev is not None and prev.to_dict()["trial_end"] == T0 + 14 * DAY
    advance(client, ck.id, T0 + 15 * DAY)
    assert client.v1.subscriptions.retrieve(sub.id).status == "trialing"  # the old end passed quietly
    advance(client, ck.id, T0 + 21 * DAY)
    after = client.v1.subscriptions.retrieve(sub.id)
    paid = invoices(client, sub.id)[-1]
    assert after.status == "active" and paid.billing_reason == "subscription_cycle" and paid.amount_paid == 1500
    with pytest.raises(stripe.InvalidRequestError) as err:  # past: refused
        client.v1.subscriptions.update(sub.id, params={"trial_end": T0})
    assert err.value.param == "trial_end"


def test_trial_end_now_starts_the_paid_period_at_once(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/subscriptions/update: trial_end "The special value now can be provided
    # to end the customer's trial immediately."
    ck = clock(client)
    cus = customer(client, ck.id)
    sub = subscribe(client, cus.id, (price(client, 1500).id, 1), trial_period_days=14)
    ended = client.v1.subscriptions.update(sub.id, params={"trial_end": "now"})
    assert ended.status == "active" and ended.trial_end == T0
    assert invoices(client, sub.id)[-1].amount_paid == 1500


def test_cancel_at_on_create(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/subscriptions/create: cancel_at "A timestamp at which the subscription
    # should cancel"; the special values resolve to the period end at once.
    ck = clock(client)
    cus = customer(client, ck.id)
    sub = subscribe(client, cus.id, (price(client, 1000).id, 1), cancel_at="max_period_end")
    assert sub.cancel_at == sub["items"].data[0].current_period_end and sub.status == "active"
    advance(client, ck.id, int(sub.cancel_at) + DAY)
    assert client.v1.subscriptions.retrieve(sub.id).status == "canceled"


def test_trial_will_end_comes_three_days_before_the_end_or_at_trial_end_now(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/events/types: customer.subscription.trial_will_end "Occurs three days
    # before a subscription's trial period is scheduled to end, or when a trial is ended
    # immediately (using trial_end=now)".
    ck = clock(client)
    cus = customer(client, ck.id)
    sub = subscribe(client, cus.id, (price(client, 1500).id, 1), trial_period_days=14)
    advance(client, ck.id, T0 + 10 * DAY)
    assert _events(client, "customer.subscription.trial_will_end", sub.id) == []
    advance(client, ck.id, T0 + 11 * DAY + 60)
    [event] = _events(client, "customer.subscription.trial_will_end", sub.id)
    assert event.created == T0 + 11 * DAY and event.request is not None and event.request.id is None
    advance(client, ck.id, T0 + 20 * DAY)
    assert len(_events(client, "customer.subscription.trial_will_end", sub.id)) == 1
    other = subscribe(client, customer(client, ck.id).id, (price(client, 1500).id, 1), trial_period_days=14)
    client.v1.subscriptions.update(other.id, params={"trial_end": "now"})
    assert len(_events(client, "customer.subscription.trial_will_end", other.id)) == 1


def test_the_events_a_subscription_creation_emits(client: stripe.StripeClient) -> None:
    # docs.stripe.com/billing/subscriptions/webhooks: creating a subscription sends
    # customer.subscription.created (with the status the first payment leaves it in) and the first
    # invoice's invoice.created, invoice.finalized, invoice.paid / invoice.payment_succeeded, with
    # the payment's payment_intent.* and charge.succeeded; no customer.subscription.updated.
    cus = customer(client)
    sub = subscribe(client, cus.id, (price(client, 1000).id, 1))
    events = [(e.type, e.data.object.to_dict()) for e in client.v1.events.list(params={"limit": 100}).data]
    types = [t for t, obj in events if (obj.get("customer") == cus.id or obj.get("id") == sub.id)
             and t != "customer.updated" and not t.startswith("payment_method.")]
    assert sorted(types) == sorted([
        "customer.subscription.created", "invoice.created", "invoice.finalized", "invoice.paid",
        "invoice.payment_succeeded", "payment_intent.created", "payment_intent.succeeded", "charge.succeeded"])
    [created] = _events(client, "customer.subscription.created", sub.id)
    assert created.data.object["status"] == "active"


def test_auto_advance_finalizes_a_draft_after_an_hour_and_turns_off_when_done(client: stripe.StripeClient) -> None:
    # docs.stripe.com/invoicing/integration/automatic-advancement-collection: with auto_advance
    # Stripe drives the invoice towards payment, "including automatically finalizing draft invoices
    # after one hour"; "Automatic advancement and collection never occur on invoices that are
    # marked uncollectible, void, or paid. For these invoices, auto_advance is always set to false",
    # and "An invoice must be in a draft or open state to update automatic advancement".
    ck = clock(client)
    cus = customer(client, ck.id)
    auto = client.v1.invoices.create(params={"customer": cus.id, "auto_advance": True})
    manual = client.v1.invoices.create(params={"customer": cus.id})
    for inv in (auto, manual):
        client.v1.invoice_items.create(params={"customer": cus.id, "invoice": inv.id, "amount": 800,
                                               "currency": "usd"})
    advance(client, ck.id, T0 + 3000)
    assert client.v1.invoices.retrieve(auto.id).status == "draft"
    advance(client, ck.id, T0 + 3700)
    done = client.v1.invoices.retrieve(auto.id)
    assert (done.status, done.auto_advance, done.status_transitions.finalized_at) == ("paid", False, T0 + 3600)
    assert client.v1.invoices.retrieve(manual.id).status == "draft"  # auto_advance defaults to false
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.invoices.update(auto.id, params={"auto_advance": True})
    assert err.value.param == "auto_advance"
    client.v1.invoices.finalize_invoice(manual.id)
    voided = client.v1.invoices.void_invoice(manual.id)
    assert voided.auto_advance is False


def test_pause_collection_keeps_invoicing_without_collecting(client: stripe.StripeClient) -> None:
    # docs.stripe.com/billing/subscriptions/pause-payment: "the subscription remains active and
    # invoices continue to generate, but Stripe doesn't collect payment"; behavior keep_as_draft,
    # mark_uncollectible or void; resumes_at resumes collection; "" resumes at once.
    results = {}
    for behavior in ("keep_as_draft", "mark_uncollectible", "void"):
        ck = clock(client)
        cus = customer(client, ck.id)
        sub = subscribe(client, cus.id, (price(client, 2000).id, 1))
        paused = client.v1.subscriptions.update(sub.id, params={"pause_collection": {
            "behavior": behavior, "resumes_at": T0 + 40 * DAY}})  # type: ignore[typeddict-item]
        assert paused.pause_collection is not None and paused.pause_collection.behavior == behavior
        advance(client, ck.id, T0 + 32 * DAY)
        renewal = invoices(client, sub.id)[-1]
        assert client.v1.subscriptions.retrieve(sub.id).status == "active"
        results[behavior] = (renewal.billing_reason, renewal.status, renewal.amount_paid)
        advance(client, ck.id, T0 + 41 * DAY)
        assert client.v1.subscriptions.retrieve(sub.id).pause_collection is None
    assert results == {"keep_as_draft": ("subscription_cycle", "draft", 0),
                       "mark_uncollectible": ("subscription_cycle", "uncollectible", 0),
                       "void": ("subscription_cycle", "void", 0)}
    cus = customer(client)
    sub = subscribe(client, cus.id, (price(client, 2000).id, 1))
    client.v1.subscriptions.update(sub.id, params={"pause_collection": {"behavior": "void"}})
    assert client.v1.subscriptions.update(sub.id, params={"pause_collection": ""}).pause_collection is None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.update(sub.id, params={"pause_collection": {"behavior": "later"}})  # type: ignore[typeddict-item]


def test_renewal_is_a_draft_for_an_hour_then_finalized_and_charged(client: stripe.StripeClient) -> None:
    # docs.stripe.com/invoicing/integration/workflow-transitions: "When you enable automatic
    # collection, Stripe automatically finalizes, and begins automatic collection of the invoice.
    # We wait an hour after receiving a successful response to the invoice.created event before
    # attempting payment." docs.stripe.com/subscriptions/invoices: a new subscription's first
    # invoice is finalized immediately with charge_automatically.
    ck = clock(client)
    cus = customer(client, ck.id)
    sub = subscribe(client, cus.id, (price(client, 2500).id, 1))
    assert invoices(client, sub.id)[0].status == "paid"  # the first one at once
    advance(client, ck.id, utc(2026, 2, 15, 12) + 600)  # ten minutes past the period end
    renewal = invoices(client, sub.id)[-1]
    assert (renewal.billing_reason, renewal.status, renewal.auto_advance) == ("subscription_cycle", "draft", True)
    assert renewal.amount_due == 2500 and renewal.attempt_count == 0
    assert len(client.v1.charges.list(params={"customer": cus.id}).data) == 1
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    advance(client, ck.id, utc(2026, 2, 15, 13))
    paid = client.v1.invoices.retrieve(renewal.id)
    assert paid.status == "paid" and paid.status_transitions.finalized_at == utc(2026, 2, 15, 13)
    assert len(client.v1.charges.list(params={"customer": cus.id}).data) == 2
