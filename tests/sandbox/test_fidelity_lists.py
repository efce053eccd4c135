"""List-all and test clocks: what Stripe's list endpoints leave out, each citing its doc page."""

from __future__ import annotations

import stripe

from test_b_support import clock, customer, price, subscribe


def _ids(pages: stripe.ListObject) -> set[str]:  # type: ignore[type-arg]
    return {o.id for o in pages.auto_paging_iter()}


def test_list_all_leaves_out_test_clock_customers_and_subscriptions(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/customers/list#list_customers-test_clock: "The response will not include
    # customers with test clocks if this parameter is not set."
    # docs.stripe.com/api/subscriptions/list#list_subscriptions-test_clock: "The response will not
    # include subscriptions with test clocks if this and the customer parameter is not set."
    clk = clock(client)
    on_clock = customer(client, clk.id, email="lists-clock@example.com")
    plain = customer(client, email="lists-plain@example.com")
    p = price(client, 1500)
    sub_clock = subscribe(client, on_clock.id, (p.id, 1))
    sub_plain = subscribe(client, plain.id, (p.id, 1))

    everyone = _ids(client.v1.customers.list({"limit": 100}))
    assert plain.id in everyone and on_clock.id not in everyone
    # a filter is still a list-all: the email filter does not bring the clock's customer back
    assert not client.v1.customers.list({"email": "lists-clock@example.com"}).data
    assert [c.id for c in client.v1.customers.list({"test_clock": clk.id}).data] == [on_clock.id]

    subs = _ids(client.v1.subscriptions.list({"status": "all", "limit": 100}))
    assert sub_plain.id in subs and sub_clock.id not in subs
    assert [s.id for s in client.v1.subscriptions.list({"test_clock": clk.id}).data] == [sub_clock.id]
    assert [s.id for s in client.v1.subscriptions.list({"customer": on_clock.id}).data] == [sub_clock.id]
    # the retrieve of a clock's object is not a list: it works as before
    assert client.v1.customers.retrieve(on_clock.id).test_clock == clk.id
