"""Subscription schedules through the official SDK: create (from a subscription, or for a
customer with phases), retrieve, list, update, cancel, release; ``subscription.schedule``; phase
transitions and ``end_behavior`` as the test clock advances; the object's fields as
stripe-python's ``SubscriptionSchedule`` declares them for 2026-10-28.endive."""

from __future__ import annotations

import typing
from typing import Any

import pytest
import stripe

from test_b_support import DAY, T0, advance, clock, customer, invoices, price, subscribe


def _declared(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in reversed(cls.__mro__):
        for name, ann in klass.__dict__.get("__annotations__", {}).items():
            if not name.startswith("_") and typing.get_origin(ann) is not typing.ClassVar:
                names.add(name)
    return names


def _annual_with_downgrade(client: stripe.StripeClient) -> tuple[Any, Any, Any, Any, Any]:
    ck = clock(client)
    cus = customer(client, ck.id)
    big, small = price(client, 120000, "year", "Annual 10 seats"), price(client, 60000, "year", "Annual 5 seats")
    sub = subscribe(client, cus.id, (big.id, 10))
    sched = client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    start, end = sched.phases[0].start_date, sched.phases[0].end_date
    sched = client.v1.subscription_schedules.update(sched.id, params={"phases": [
        {"items": [{"price": big.id, "quantity": 10}], "start_date": start, "end_date": end},
        {"items": [{"price": small.id, "quantity": 5}], "duration": {"interval": "year", "interval_count": 1}},
    ], "end_behavior": "release"})
    return ck, cus, sub, sched, small


def test_from_subscription_has_one_phase_and_links_both_ways(client: stripe.StripeClient) -> None:
    ck = clock(client)
    cus = customer(client, ck.id)
    pr = price(client, 1500)
    sub = subscribe(client, cus.id, (pr.id, 3))
    sched = client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    item = sub["items"].data[0]
    assert (sched.status, sched.subscription, sched.end_behavior, sched.customer) == ("active", sub.id, "release", cus.id)
    assert [(p.start_date, p.end_date) for p in sched.phases] == [(item.current_period_start, item.current_period_end)]
    assert [(i.price, i.quantity) for i in sched.phases[0]["items"]] == [(pr.id, 3)]
    assert sched.current_phase is not None and sched.current_phase.end_date == item.current_period_end
    assert client.v1.subscriptions.retrieve(sub.id).schedule == sched.id
    assert client.v1.subscription_schedules.retrieve(sched.id).id == sched.id
    listed = client.v1.subscription_schedules.list(params={"customer": cus.id}).data
    assert [s.id for s in listed] == [sched.id]
    assert client.v1.subscription_schedules.list(params={"customer": cus.id, "scheduled": True}).data == []
    # the fields are stripe-python's SubscriptionSchedule's, no more, no fewer
    assert set(sched.to_dict()) == _declared(stripe.SubscriptionSchedule)
    assert set(sched.phases[0].to_dict()) == _declared(stripe.SubscriptionSchedule.Phase)
    assert set(sched.phases[0]["items"][0].to_dict()) == _declared(stripe.SubscriptionSchedule.Phase.Item)
    # a subscription takes one schedule
    with pytest.raises(stripe.InvalidRequestError, match="already attached"):
        client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    # expanded from the subscription list (two levels), as the toolkit reads it
    page = client.v1.subscriptions.list(params={"customer": cus.id, "expand": ["data.schedule"]})
    assert page.data[0].schedule.id == sched.id  # type: ignore[union-attr]


def test_the_next_phase_moves_price_and_seats_at_renewal(client: stripe.StripeClient) -> None:
    ck, cus, sub, sched, small = _annual_with_downgrade(client)
    end = sched.phases[0].end_date
    assert [(p.start_date, p.end_date) for p in sched.phases][1][0] == end
    advance(client, ck.id, end + 2 * 3600)
    fresh = client.v1.subscriptions.retrieve(sub.id)
    item = fresh["items"].data[0]
    assert (item.price.id, item.quantity) == (small.id, 5)
    renewal = invoices(client, sub.id)[-1]
    assert renewal.billing_reason == "subscription_cycle" and renewal.amount_due == 60000 * 5
    again = client.v1.subscription_schedules.retrieve(sched.id)
    assert again.current_phase is not None and again.current_phase.start_date == end


def test_a_direct_item_change_is_overridden_by_the_next_phase(client: stripe.StripeClient) -> None:
    ck, cus, sub, sched, small = _annual_with_downgrade(client)
    item = sub["items"].data[0]
    client.v1.subscriptions.update(sub.id, params={"items": [{"id": item.id, "quantity": 7}],
                                                   "proration_behavior": "none"})
    advance(client, ck.id, sched.phases[0].end_date + 2 * 3600)
    assert client.v1.subscriptions.retrieve(sub.id)["items"].data[0].quantity == 5


def test_end_behavior_cancel_ends_the_subscription_at_the_last_phase(client: stripe.StripeClient) -> None:
    ck = clock(client)
    cus = customer(client, ck.id)
    pr = price(client, 2000)
    sched = client.v1.subscription_schedules.create(params={
        "customer": cus.id, "end_behavior": "cancel",
        "phases": [{"items": [{"price": pr.id, "quantity": 2}], "duration": {"interval": "month", "interval_count": 2}}]})
    sub = client.v1.subscriptions.retrieve(str(sched.subscription))
    end = sched.phases[-1].end_date
    assert (sub.status, sub.schedule, sub.cancel_at) == ("active", sched.id, end)
    with pytest.raises(stripe.InvalidRequestError, match="managed by the subscription schedule"):
        client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    advance(client, ck.id, T0 + 28 * DAY)
    advance(client, ck.id, end + 3600)
    done = client.v1.subscription_schedules.retrieve(sched.id)
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert (done.status, sub.status, sub.ended_at) == ("completed", "canceled", end)
    assert [i.billing_reason for i in invoices(client, sub.id)] == ["subscription_create", "subscription_cycle"]


def test_release_keeps_the_subscription_and_cancel_ends_both(client: stripe.StripeClient) -> None:
    ck = clock(client)
    cus = customer(client, ck.id)
    pr = price(client, 900)
    a, b = subscribe(client, cus.id, (pr.id, 1)), subscribe(client, cus.id, (pr.id, 1))
    sa = client.v1.subscription_schedules.create(params={"from_subscription": a.id})
    sb = client.v1.subscription_schedules.create(params={"from_subscription": b.id})
    client.v1.subscription_schedules.update(sa.id, params={"end_behavior": "cancel"})
    released = client.v1.subscription_schedules.release(sa.id)
    assert (released.status, released.subscription, released.released_subscription) == ("released", None, a.id)
    a_now = client.v1.subscriptions.retrieve(a.id)
    assert (a_now.status, a_now.schedule, a_now.cancel_at) == ("active", None, None)
    canceled = client.v1.subscription_schedules.cancel(sb.id, params={"invoice_now": False, "prorate": False})
    assert canceled.status == "canceled" and canceled.canceled_at is not None
    assert client.v1.subscriptions.retrieve(b.id).status == "canceled"
    with pytest.raises(stripe.InvalidRequestError, match="canceled"):
        client.v1.subscription_schedules.release(sb.id)
    c = subscribe(client, cus.id, (pr.id, 1))
    sc = client.v1.subscription_schedules.create(params={"from_subscription": c.id})
    sc = client.v1.subscription_schedules.update(sc.id, params={"end_behavior": "cancel"})
    client.v1.subscription_schedules.release(sc.id, params={"preserve_cancel_date": True})
    kept = client.v1.subscriptions.retrieve(c.id)
    assert (kept.schedule, kept.cancel_at) == (None, sc.phases[-1].end_date)


def test_cancelling_the_subscription_cancels_its_schedule(client: stripe.StripeClient) -> None:
    ck, cus, sub, sched, small = _annual_with_downgrade(client)
    client.v1.subscriptions.cancel(sub.id, params={"prorate": False, "invoice_now": False})
    assert client.v1.subscription_schedules.retrieve(sched.id).status == "canceled"
    advance(client, ck.id, sched.phases[0].end_date + 2 * 3600)
    assert [i.billing_reason for i in invoices(client, sub.id)] == ["subscription_create"]
