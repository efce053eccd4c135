"""Behaviour fidelity: search syntax, test clock advance limits, reads that never write."""

from __future__ import annotations


import pytest
import stripe

from billing_nb.sandbox.server import ThreadedSandbox
from test_b_support import customer, price, subscribe, utc

DAY = 86400


def test_search_joins_clauses_with_space_and_any_case_keywords(client: stripe.StripeClient) -> None:
    # docs.stripe.com/search: "combine multiple query clauses ... by either separating them with a
    # space, or using the AND or OR keywords (case insensitive)"; total_count only via expand.
    cus = customer(client, email="search.fidelity@example.com", name="Search Fidelity", metadata={"tier": "gold"})
    for query in ("email:'search.fidelity@example.com' metadata['tier']:'gold'",
                  "email:'nobody@example.com' or name:'Search Fidelity'",
                  "name~'Fidel' and metadata['tier']:'gold'"):
        found = client.v1.customers.search({"query": query})
        assert cus.id in [c.id for c in found.data], query
        assert "total_count" not in found.to_dict()
    counted = client.v1.customers.search({"query": "metadata['tier']:'gold'", "expand": ["total_count"]})
    assert counted.to_dict()["total_count"] >= 1


def test_search_refuses_unsupported_fields_and_mixed_joins(client: stripe.StripeClient) -> None:
    # message as Stripe words it (stripe-ruby-mock mirrors Stripe: "Field `foo` is an unsupported
    # search field for resource `customers`. See http://stripe.com/docs/search#query-fields-for-customers
    # for a list of supported fields."); refused even when no customer would be scanned.
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.search({"query": "foo:'x'"})
    assert exc.value.param == "query"
    assert str(exc.value.user_message).startswith("Field `foo` is an unsupported search field for resource `customers`.")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.search({"query": "email:'a' AND name:'b' OR name:'c'"})


def test_clock_advance_is_limited_to_two_intervals_of_the_shortest_subscription(client: stripe.StripeClient) -> None:
    # API reference, Advance a test clock: frozen_time "Cannot be more than two intervals in the
    # future from the shortest subscription in this test clock. If there are no subscriptions in
    # this test clock, it cannot be more than two years in the future."
    t0 = utc(2026, 1, 15, 12)
    empty = client.v1.test_helpers.test_clocks.create({"frozen_time": t0})
    with pytest.raises(stripe.InvalidRequestError) as too_far:
        client.v1.test_helpers.test_clocks.advance(empty.id, {"frozen_time": utc(2028, 1, 16)})
    assert too_far.value.param == "frozen_time"
    ck = client.v1.test_helpers.test_clocks.create({"frozen_time": t0})
    cus = customer(client, ck.id)
    subscribe(client, cus.id, (price(client, 1200, "year").id, 1))
    subscribe(client, cus.id, (price(client, 1000).id, 1))  # monthly: the shortest
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.test_helpers.test_clocks.advance(ck.id, {"frozen_time": utc(2026, 3, 16)})
    assert client.v1.test_helpers.test_clocks.advance(ck.id, {"frozen_time": t0 + 40 * DAY}).status == "advancing"


def test_a_fresh_account_has_its_default_portal_configuration_without_any_write() -> None:
    # A GET never writes on Stripe; the Dashboard made the default configuration before any call.
    with ThreadedSandbox() as sb:
        c = stripe.StripeClient("sk_test_123", base_addresses={"api": sb.url}, max_network_retries=0)
        events_before = c.v1.events.list({"limit": 100}).data
        defaults = c.v1.billing_portal.configurations.list({"is_default": True}).data
        assert len(defaults) == 1 and defaults[0].is_default
        assert c.v1.events.list({"limit": 100}).data == events_before == []
        # updated in place, as the seeder does
        updated = c.v1.billing_portal.configurations.update(defaults[0].id, {"features": {"subscription_cancel": {"enabled": False}}})
        assert updated.id == defaults[0].id and not updated.features.subscription_cancel.enabled
        assert [e.type for e in c.v1.events.list().data] == ["billing_portal.configuration.updated"]


def test_invalid_enum_on_list_filter(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.list({"status": "bogus"})  # type: ignore[typeddict-item]
    assert str(exc.value.user_message).startswith("Invalid status: must be one of active, all, ")
    assert str(exc.value.user_message).endswith(", or unpaid")


