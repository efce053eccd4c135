"""Events: list with type (and * wildcards), types, created and pagination; retrieve."""

from __future__ import annotations

import pytest
import stripe


def test_events_for_a_fresh_product(client: stripe.StripeClient) -> None:
    product = client.v1.products.create({"name": "Evented"})
    price = client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 100})
    client.v1.products.update(product.id, {"name": "Evented 2"})
    created = client.v1.events.list({"type": "product.created", "limit": 100})
    assert all(e.type == "product.created" for e in created.data)
    mine = [e for e in created.data if e.data.object["id"] == product.id]
    assert len(mine) == 1
    event = mine[0]
    assert event.id.startswith("evt_") and event.api_version and event.livemode is False
    again = client.v1.events.retrieve(event.id)
    assert again.data.object["name"] == "Evented"  # a snapshot at the time of the event
    updated = [e for e in client.v1.events.list({"type": "product.updated", "limit": 100}).data
               if e.data.object["id"] == product.id]
    assert updated and updated[0].data.previous_attributes is not None
    assert updated[0].data.previous_attributes["name"] == "Evented"
    price_events = client.v1.events.list({"type": "price.*", "limit": 100})
    assert {e.type for e in price_events.data} <= {"price.created", "price.updated", "price.deleted"}
    assert price.id in {e.data.object["id"] for e in price_events.data}


def test_wildcards_types_and_created(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create({"email": "events@example.com"})
    client.v1.payment_methods.attach("pm_card_visa", {"customer": cus.id})
    star = client.v1.events.list({"type": "*.created", "limit": 100})
    assert star.data and all(e.type.endswith(".created") for e in star.data)
    prefixed = client.v1.events.list({"type": "payment_method.*", "limit": 100})
    assert {e.type for e in prefixed.data} >= {"payment_method.attached"}
    both = client.v1.events.list({"types": ["customer.created", "payment_method.attached"], "limit": 100})
    assert {e.type for e in both.data} == {"customer.created", "payment_method.attached"}
    newest = client.v1.events.list({"limit": 1}).data[0]
    window = client.v1.events.list({"created": {"gte": newest.created}, "limit": 100})
    assert newest.id in {e.id for e in window.data}
    assert all(e.created >= newest.created for e in window.data)
    # far past anything: test clocks elsewhere in the shared account may stand years ahead
    assert not client.v1.events.list({"created": {"gt": newest.created + 50 * 365 * 86400}}).data
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.events.list({"type": "customer.created", "types": ["customer.updated"]})


def test_event_pagination(client: stripe.StripeClient) -> None:
    for i in range(5):
        client.v1.coupons.create({"percent_off": 1 + i, "duration": "once"})
    first = client.v1.events.list({"type": "coupon.created", "limit": 2})
    assert len(first.data) == 2 and first.has_more
    second = client.v1.events.list({"type": "coupon.created", "limit": 2, "starting_after": first.data[-1].id})
    assert not {e.id for e in first.data} & {e.id for e in second.data}
    everything = list(client.v1.events.list({"type": "coupon.created", "limit": 3}).auto_paging_iter())
    assert len({e.id for e in everything}) == len(everything) >= 5
