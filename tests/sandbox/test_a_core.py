"""The sandbox's cross-cutting behaviour, through the official SDK and raw HTTP:
Stripe-shaped errors, auth, idempotency, pagination, expand, knobs, request log."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
import stripe

from billing_nb.sandbox.app import Knobs
from billing_nb.sandbox.server import ThreadedSandbox


def test_unknown_id_is_404_resource_missing_with_request_id(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.products.retrieve("prod_doesnotexist")
    e = err.value
    assert e.http_status == 404
    assert e.code == "resource_missing"
    assert e.param == "id"
    assert "prod_doesnotexist" in str(e.user_message)
    assert e.request_id and e.request_id.startswith("req_")


@pytest.mark.parametrize("call", [
    lambda c: c.v1.prices.retrieve("price_nope"),
    lambda c: c.v1.coupons.retrieve("NOPE"),
    lambda c: c.v1.payment_methods.retrieve("pm_nope"),
    lambda c: c.v1.billing_portal.configurations.retrieve("bpc_nope"),
    lambda c: c.v1.checkout.sessions.retrieve("cs_test_nope"),
    lambda c: c.v1.events.retrieve("evt_nope"),
])
def test_every_resource_answers_404_for_unknown_ids(client: stripe.StripeClient, call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(stripe.InvalidRequestError) as err:
        call(client)
    assert err.value.http_status == 404 and err.value.code == "resource_missing"


def test_unknown_param_is_400_parameter_unknown(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.products.create({"name": "x", "colour": "red"})  # type: ignore[typeddict-unknown-key]
    assert err.value.http_status == 400
    assert err.value.code == "parameter_unknown"
    assert err.value.param == "colour"


def test_malformed_body_is_a_stripe_error_and_the_server_survives(http: httpx.Client) -> None:
    for body in (b"\xff\xfe\x00garbage", b"[[[=1", b"a[b]=1&a=2&%%%"):
        resp = http.post("/v1/products", content=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert resp.status_code == 400, body
        assert resp.json()["error"]["type"] == "invalid_request_error"
        assert resp.headers["Request-Id"].startswith("req_")
    assert http.get("/v1/products").status_code == 200


def test_live_key_refused(sandbox: ThreadedSandbox) -> None:
    live = stripe.StripeClient("sk_" "live_abcdefghijklmnop", base_addresses={"api": sandbox.url}, max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError) as err:
        live.v1.products.list()
    assert err.value.http_status == 401
    assert "sk_live_" not in str(err.value.user_message).replace("sk_live_****", "")


def test_missing_key_refused(sandbox: ThreadedSandbox) -> None:
    resp = httpx.get(f"{sandbox.url}/v1/products")
    assert resp.status_code == 401
    assert resp.json()["error"]["type"] == "invalid_request_error"
    assert "API key" in resp.json()["error"]["message"]
    assert resp.headers["Request-Id"]


def test_unrecognized_url_is_404(http: httpx.Client) -> None:
    resp = http.get("/v1/no_such_resource")
    assert resp.status_code == 404
    assert "Unrecognized request URL" in resp.json()["error"]["message"]


def test_idempotency_replays_and_refuses_other_params(client: stripe.StripeClient) -> None:
    key = f"idem-{uuid.uuid4()}"
    first = client.v1.coupons.create({"percent_off": 10, "duration": "once"}, {"idempotency_key": key})
    again = client.v1.coupons.create({"percent_off": 10, "duration": "once"}, {"idempotency_key": key})
    assert again.id == first.id
    assert again.last_response is not None
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    with pytest.raises(stripe.IdempotencyError):
        client.v1.coupons.create({"percent_off": 20, "duration": "once"}, {"idempotency_key": key})
    ids = [c.id for c in client.v1.coupons.list({"limit": 100}).auto_paging_iter()]
    assert ids.count(first.id) == 1


def test_idempotent_errors_replay_too(client: stripe.StripeClient) -> None:
    key = f"idem-{uuid.uuid4()}"
    for _ in range(2):
        with pytest.raises(stripe.InvalidRequestError) as err:
            client.v1.prices.create({"currency": "usd", "unit_amount": 5, "product": "prod_missing"},
                                    {"idempotency_key": key})
        assert err.value.code == "resource_missing"


def test_pagination_limit_starting_after_has_more(client: stripe.StripeClient) -> None:
    product = client.v1.products.create({"name": "Paged"})
    made = [client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": i}).id
            for i in range(1, 8)]
    page1 = client.v1.prices.list({"product": product.id, "limit": 3})
    assert [p.id for p in page1.data] == list(reversed(made))[:3]
    assert page1.has_more
    page2 = client.v1.prices.list({"product": product.id, "limit": 3, "starting_after": page1.data[-1].id})
    assert [p.id for p in page2.data] == list(reversed(made))[3:6]
    page3 = client.v1.prices.list({"product": product.id, "limit": 3, "starting_after": page2.data[-1].id})
    assert [p.id for p in page3.data] == [made[0]] and not page3.has_more
    back = client.v1.prices.list({"product": product.id, "limit": 2, "ending_before": page2.data[0].id})
    assert [p.id for p in back.data] == list(reversed(made))[1:3]
    every = [p.id for p in client.v1.prices.list({"product": product.id, "limit": 2}).auto_paging_iter()]
    assert every == list(reversed(made))
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.prices.list({"limit": 101})


def test_expand_single_and_data_paths(client: stripe.StripeClient) -> None:
    product = client.v1.products.create({"name": "Expandable"})
    price = client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 700,
                                     "expand": ["product"]})
    assert price.product.id == product.id  # type: ignore[union-attr]
    assert price.product.name == "Expandable"  # type: ignore[union-attr]
    listed = client.v1.prices.list({"product": product.id, "expand": ["data.product"]})
    assert listed.data[0].product.object == "product"  # type: ignore[union-attr]
    fetched = client.v1.products.retrieve(product.id, {"expand": ["default_price"]})
    assert fetched.default_price is None
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.prices.retrieve(price.id, {"expand": ["currency"]})
    assert err.value.param == "expand"


def test_request_log_records_requests(sandbox: ThreadedSandbox, http: httpx.Client) -> None:
    resp = http.get("/v1/coupons", params={"limit": 1})
    rid = resp.headers["Request-Id"]
    log = httpx.get(f"{sandbox.url}/_sandbox/requests").json()
    assert log["count"] == len(log["data"]) >= 1
    entry = next(e for e in log["data"] if e["request_id"] == rid)
    assert entry["method"] == "GET" and entry["path"] == "/v1/coupons" and entry["status"] == 200
    assert entry["ms"] >= 0


def test_rate_limit_knob_gives_429_with_stripe_body() -> None:
    with ThreadedSandbox(knobs=Knobs(rate_limit=2)) as sb:
        client = stripe.StripeClient("sk_test_1", base_addresses={"api": sb.url}, max_network_retries=0)
        with pytest.raises(stripe.RateLimitError) as err:
            for _ in range(10):
                client.v1.products.list()
        assert err.value.http_status == 429
        assert err.value.json_body["error"]["code"] == "rate_limit"  # type: ignore[index]
        raw = httpx.get(f"{sb.url}/v1/products", headers={"Authorization": "Bearer sk_test_1"})
        assert raw.status_code == 429 and raw.json()["error"]["type"] == "invalid_request_error"


def test_fail_rate_knob_gives_500s_or_dropped_connections() -> None:
    with ThreadedSandbox(knobs=Knobs(fail_rate=1.0, seed=7)) as sb:
        statuses = []
        for _ in range(12):
            try:
                statuses.append(httpx.get(f"{sb.url}/v1/products", headers={"Authorization": "Bearer sk_test_1"}).status_code)
            except httpx.TransportError:
                statuses.append("dropped")
        assert 200 not in statuses
        assert 500 in statuses
        client = stripe.StripeClient("sk_test_1", base_addresses={"api": sb.url}, max_network_retries=0)
        with pytest.raises((stripe.APIError, stripe.APIConnectionError)):
            client.v1.products.list()


def test_an_injected_drop_is_no_logged_traceback_but_a_real_error_still_is() -> None:
    """uvicorn logs an app's exception with its traceback: the fail-rate knob's dropped
    connections (the knob working) are kept out of it; any other exception is not."""
    import logging

    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    logger = logging.getLogger("uvicorn.error")
    keep = Keep(level=logging.ERROR)
    with ThreadedSandbox(knobs=Knobs(fail_rate=1.0, seed=7)) as sb:
        logger.addHandler(keep)
        try:
            dropped = 0
            for _ in range(12):
                try:
                    httpx.get(f"{sb.url}/v1/products", headers={"Authorization": "Bearer sk_test_1"})
                except httpx.TransportError:
                    dropped += 1
            assert dropped, "no connection was dropped"
            assert [r.getMessage() for r in seen] == []
            logger.error("Exception in ASGI application", exc_info=ConnectionAbortedError("a real one"))
            assert len(seen) == 1  # the filter lets other errors through
        finally:
            logger.removeHandler(keep)


def test_latency_knob_delays_responses() -> None:
    with ThreadedSandbox(knobs=Knobs(latency_ms=150)) as sb:
        started = time.monotonic()
        httpx.get(f"{sb.url}/v1/products", headers={"Authorization": "Bearer sk_test_1"})
        assert time.monotonic() - started >= 0.15
