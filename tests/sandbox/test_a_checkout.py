"""Checkout sessions: create, retrieve, line items, list filters, expire, clock time."""

from __future__ import annotations

import time

import pytest
import stripe

from billing_nb.sandbox.resources.checkout import complete_session
from billing_nb.sandbox.routing import ROUTES
from billing_nb.sandbox.server import ThreadedSandbox

DAY = 86400


@pytest.fixture(scope="module")
def prices(client: stripe.StripeClient) -> dict[str, str]:
    product = client.v1.products.create({"name": "Checkout plan"})
    monthly = client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 1200,
                                       "recurring": {"interval": "month"}})
    setup_fee = client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 500})
    return {"monthly": monthly.id, "setup_fee": setup_fee.id}


def _clock(client: stripe.StripeClient, sandbox: ThreadedSandbox, frozen: int) -> str:
    """A test clock: through the API when the engine has it, else a stand-in in the store."""
    if any(m == "POST" and r.match("/v1/test_helpers/test_clocks") for m, r in ((x.method, x.regex) for x in ROUTES)):
        return client.v1.test_helpers.test_clocks.create({"frozen_time": frozen}).id
    st = sandbox.store
    with st.lock:
        cid = st.new_id("clock")
        st.insert({"id": cid, "object": "test_helpers.test_clock", "frozen_time": frozen, "status": "ready"})
    return cid


def _advance(client: stripe.StripeClient, sandbox: ThreadedSandbox, clock: str, to: int) -> None:
    if any(m == "POST" and r.match(f"/v1/test_helpers/test_clocks/{clock}/advance") for m, r in ((x.method, x.regex) for x in ROUTES)):
        client.v1.test_helpers.test_clocks.advance(clock, {"frozen_time": to})
        for _ in range(100):
            if client.v1.test_helpers.test_clocks.retrieve(clock).status == "ready":
                return
            time.sleep(0.05)
        return
    with sandbox.store.lock:
        sandbox.store.get("test_helpers.test_clock", clock)["frozen_time"] = to


def test_create_subscription_mode_session(client: stripe.StripeClient, prices: dict[str, str],
                                          sandbox: ThreadedSandbox) -> None:
    cus = client.v1.customers.create({"email": "buyer@example.com", "name": "Buyer"})
    session = client.v1.checkout.sessions.create({
        "mode": "subscription", "customer": cus.id, "success_url": "https://example.com/ok",
        "cancel_url": "https://example.com/no", "metadata": {"step": "1"},
        "line_items": [{"price": prices["monthly"], "quantity": 2}, {"price": prices["setup_fee"], "quantity": 1}]})
    assert session.id.startswith("cs_test_")
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "subscription")
    assert session.amount_subtotal == session.amount_total == 2900 and session.currency == "usd"
    assert session.customer == cus.id and session.customer_details is not None
    assert session.customer_details.email == "buyer@example.com"
    assert session.expires_at - session.created == DAY
    assert session.url is not None and session.url.startswith(sandbox.url)
    got = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["line_items"]})
    assert got.line_items is not None and [li.quantity for li in got.line_items.data] == [2, 1]
    assert got.line_items.data[0].price is not None and got.line_items.data[0].price.id == prices["monthly"]
    items = client.v1.checkout.sessions.line_items.list(session.id, {"limit": 1})
    assert len(items.data) == 1 and items.has_more
    assert items.data[0].amount_total == 2400


def test_payment_mode_and_validation(client: stripe.StripeClient, prices: dict[str, str]) -> None:
    pay = client.v1.checkout.sessions.create({
        "mode": "payment", "customer_email": "guest@example.com", "success_url": "https://example.com/ok",
        "line_items": [{"price": prices["setup_fee"], "quantity": 3}]})
    assert pay.amount_total == 1500 and pay.customer is None and pay.customer_email == "guest@example.com"
    assert pay.payment_intent is None and pay.invoice_creation is not None
    bad = [
        {"mode": "payment", "line_items": [{"price": prices["monthly"], "quantity": 1}]},
        {"mode": "subscription", "line_items": [{"price": prices["setup_fee"], "quantity": 1}]},
        {"mode": "subscription"},
        {"line_items": [{"price": prices["monthly"], "quantity": 1}]},
        {"mode": "subscription", "line_items": [{"price": "price_missing", "quantity": 1}]},
        {"mode": "subscription", "line_items": [{"price": prices["monthly"]}]},
        {"mode": "subscription", "customer": "cus_missing", "line_items": [{"price": prices["monthly"], "quantity": 1}]},
        {"mode": "subscription", "line_items": [{"price": prices["monthly"], "quantity": 1}],
         "expires_at": int(time.time()) + 60},
        {"mode": "subscription", "line_items": [{"price": prices["monthly"], "quantity": 1}],
         "expires_at": int(time.time()) + 2 * DAY},
    ]
    for params in bad:
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.checkout.sessions.create(params)  # type: ignore[arg-type]


def test_expire_and_list_filters(client: stripe.StripeClient, prices: dict[str, str]) -> None:
    cus = client.v1.customers.create({"email": "lister@example.com"})
    made = [client.v1.checkout.sessions.create({
        "mode": "subscription", "customer": cus.id, "success_url": "https://example.com/ok",
        "line_items": [{"price": prices["monthly"], "quantity": 1}]}) for _ in range(3)]
    expired = client.v1.checkout.sessions.expire(made[0].id)
    assert expired.status == "expired" and expired.url is None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(made[0].id)
    listed = client.v1.checkout.sessions.list({"customer": cus.id})
    assert [s.id for s in listed.data] == [m.id for m in reversed(made)]
    assert [s.id for s in client.v1.checkout.sessions.list({"customer": cus.id, "status": "expired"}).data] == [made[0].id]
    assert len(client.v1.checkout.sessions.list({"customer": cus.id, "status": "open"}).data) == 2
    by_email = client.v1.checkout.sessions.list({"customer_details": {"email": "lister@example.com"}})
    assert {s.id for s in by_email.data} == {m.id for m in made}
    with_items = client.v1.checkout.sessions.list({"customer": cus.id, "expand": ["data.line_items"]})
    assert all(s.line_items is not None for s in with_items.data)
    events = client.v1.events.list({"type": "checkout.session.expired", "limit": 100})
    assert made[0].id in {e.data.object["id"] for e in events.data}


def test_sessions_follow_the_customers_test_clock(client: stripe.StripeClient, sandbox: ThreadedSandbox,
                                                  prices: dict[str, str]) -> None:
    start = int(time.time()) - 90 * DAY
    clock = _clock(client, sandbox, start)
    cus = client.v1.customers.create({"email": "clock@example.com", "test_clock": clock})
    session = client.v1.checkout.sessions.create({
        "mode": "subscription", "customer": cus.id, "success_url": "https://example.com/ok",
        "line_items": [{"price": prices["monthly"], "quantity": 1}], "expires_at": start + 3600})
    assert session.created == start and session.expires_at == start + 3600
    _advance(client, sandbox, clock, start + 2 * 3600)
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"


def test_complete_session_helper(client: stripe.StripeClient, sandbox: ThreadedSandbox,
                                 prices: dict[str, str]) -> None:
    cus = client.v1.customers.create({"email": "done@example.com"})
    session = client.v1.checkout.sessions.create({
        "mode": "subscription", "customer": cus.id, "success_url": "https://example.com/ok",
        "line_items": [{"price": prices["monthly"], "quantity": 1}]})
    with sandbox.store.lock:
        complete_session(sandbox.store, session.id, subscription="sub_fromengine")
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status, done.subscription, done.url) == ("complete", "paid", "sub_fromengine", None)
    assert [s.id for s in client.v1.checkout.sessions.list({"customer": cus.id, "status": "complete"}).data] == [session.id]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)
