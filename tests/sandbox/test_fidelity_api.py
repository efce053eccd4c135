"""API-level behaviours: authentication, restricted keys, idempotency, events' request, input
limits, malformed filters and search, and Stripe-shaped errors for everything the server returns
(injected faults included). Each test names the Stripe doc page it follows.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
import stripe

from billing_nb.sandbox.app import Knobs
from billing_nb.sandbox.routing import ROUTES
from billing_nb.sandbox.server import ThreadedSandbox
from test_b_support import DAY, T0, advance, clock, customer, price, subscribe

KEY = "sk_test_123"


def _stripe_error(resp: httpx.Response) -> dict[str, object]:
    assert resp.headers["content-type"].startswith("application/json"), resp.text
    err = resp.json()["error"]
    assert isinstance(err, dict) and err["type"] and err["message"]
    return err


def test_basic_auth_with_the_key_as_user_name(sandbox: ThreadedSandbox) -> None:
    # docs.stripe.com/api/authentication: "Provide your API key as the basic auth username value.
    # You do not need to provide a password." Bearer auth is the alternative.
    basic = httpx.get(f"{sandbox.url}/v1/customers", auth=(KEY, ""))
    bearer = httpx.get(f"{sandbox.url}/v1/customers", headers={"Authorization": f"Bearer {KEY}"})
    assert basic.status_code == bearer.status_code == 200
    wrong = httpx.get(f"{sandbox.url}/v1/customers", auth=("sk_nope_1234567890", ""))
    assert wrong.status_code == 401 and _stripe_error(wrong)["code"] == "api_key_invalid"
    none = httpx.get(f"{sandbox.url}/v1/customers")
    assert none.status_code == 401 and "did not provide an API key" in str(_stripe_error(none)["message"])


def test_restricted_key_permissions(sandbox: ThreadedSandbox) -> None:
    # docs.stripe.com/keys (restricted API keys): each resource is None, Read or Write; a request
    # outside them is refused with "... Having the rak_<resource>_<read|write> permission would
    # allow this request to continue." (the message as seen in public reports of real responses).
    rk = "rk_test_sandbox_reader_0001"
    httpx.post(f"{sandbox.url}/_sandbox/settings",
               json={"restricted_keys": {rk: {"customer": "read", "invoice": "write"}}}).raise_for_status()
    rc = stripe.StripeClient(rk, base_addresses={"api": sandbox.url}, max_network_retries=0)
    rc.v1.customers.list()
    rc.v1.invoices.list()
    with pytest.raises(stripe.PermissionError) as err:
        rc.v1.customers.create(params={"email": "nope@example.com"})
    assert err.value.http_status == 403 and "rak_customer_write" in str(err.value.user_message)
    with pytest.raises(stripe.PermissionError) as err:
        rc.v1.charges.list()
    assert "rak_charge_read" in str(err.value.user_message)


def test_idempotency_saves_executed_requests_only(http: httpx.Client) -> None:
    # docs.stripe.com/api/idempotent_requests: results are saved "only after the execution of an
    # endpoint begins. If incoming parameters fail validation ... no idempotent result is saved";
    # replays carry Idempotent-Replayed: true; keys are "up to 255 characters long".
    key = f"h11-validation-{time.time_ns()}"
    bad = http.post("/v1/customers", data={"emial": "x@example.com"}, headers={"Idempotency-Key": key})
    assert bad.status_code == 400 and _stripe_error(bad)["code"] == "parameter_unknown"
    good = http.post("/v1/customers", data={"email": "x@example.com"}, headers={"Idempotency-Key": key})
    assert good.status_code == 200 and "Idempotent-Replayed" not in good.headers
    again = http.post("/v1/customers", data={"email": "x@example.com"}, headers={"Idempotency-Key": key})
    assert again.headers["Idempotent-Replayed"] == "true" and again.json()["id"] == good.json()["id"]
    missing = f"h11-missing-{time.time_ns()}"
    first = http.post("/v1/refunds", data={"charge": "ch_missing"}, headers={"Idempotency-Key": missing})
    replay = http.post("/v1/refunds", data={"charge": "ch_missing"}, headers={"Idempotency-Key": missing})
    assert first.status_code == replay.status_code == 404 and replay.headers["Idempotent-Replayed"] == "true"
    assert http.post("/v1/customers", headers={"Idempotency-Key": "k" * 255}).status_code == 200
    long = http.post("/v1/customers", headers={"Idempotency-Key": "k" * 256})
    assert long.status_code == 400 and _stripe_error(long)["type"] == "invalid_request_error"


def test_events_name_the_request_that_caused_them(client: stripe.StripeClient, http: httpx.Client) -> None:
    # docs.stripe.com/api/events/object: request.id is the API request that caused the event and
    # request.idempotency_key its key; null for automatic events (a test clock's renewals).
    key = f"h11-event-{time.time_ns()}"
    made = http.post("/v1/customers", data={"email": "ev@example.com"}, headers={"Idempotency-Key": key})
    cus_id = made.json()["id"]
    [created] = [e for e in client.v1.events.list(params={"type": "customer.created", "limit": 100}).data
                 if e.data.object["id"] == cus_id]
    assert created.request is not None
    assert (created.request.id, created.request.idempotency_key) == (made.headers["Request-Id"], key)
    upd = http.post(f"/v1/customers/{cus_id}", data={"name": "Evelyn"})
    [updated] = [e for e in client.v1.events.list(params={"type": "customer.updated", "limit": 100}).data
                 if e.data.object["id"] == cus_id]
    assert updated.request is not None and updated.request.id == upd.headers["Request-Id"]
    assert updated.data.previous_attributes is not None and updated.data.previous_attributes.to_dict() == {"name": None}
    ck = clock(client)
    cust = customer(client, ck.id)
    sub = subscribe(client, cust.id, (price(client, 1000).id, 1))
    advance(client, ck.id, T0 + 32 * DAY)
    renewals = [e for e in client.v1.events.list(params={"type": "invoice.created", "limit": 100}).data
                if e.data.object["customer"] == cust.id and e.data.object["billing_reason"] == "subscription_cycle"]
    assert renewals and all(e.request is not None and e.request.id is None for e in renewals)
    assert sub.id


def test_metadata_limits(http: httpx.Client) -> None:
    # docs.stripe.com/api/metadata: "up to 50 keys, with key names up to 40 characters long and
    # values up to 500 characters long ... you can't use square brackets ([ and ]) in keys".
    fifty = {f"metadata[k{n}]": "v" for n in range(50)}
    assert http.post("/v1/customers", data=fifty).status_code == 200
    for data in ({**fifty, "metadata[k50]": "v"}, {"metadata[" + "k" * 41 + "]": "v"},
                 {"metadata[k]": "v" * 501}, {"metadata[a][b]": "v"}):
        resp = http.post("/v1/customers", data=data)
        assert resp.status_code == 400 and str(_stripe_error(resp)["param"]).startswith("metadata"), data
    assert http.post("/v1/customers", data={"metadata[" + "k" * 40 + "]": "v" * 500}).status_code == 200
    key = http.post("/v1/customers", data={"metadata[" + "k" * 41 + "]": "v"})
    assert _stripe_error(key)["message"] == f"Invalid key: {'k' * 41} must be a string under 40 characters"


def test_string_parameters_are_at_most_5000_characters(http: httpx.Client) -> None:
    # Stripe's OpenAPI spec (github.com/stripe/openapi) gives string parameters maxLength 5000;
    # stripe/openapi#51: "The spec does match what our API support today".
    assert http.post("/v1/customers", data={"description": "d" * 5000}).status_code == 200
    long = http.post("/v1/customers", data={"description": "d" * 5001})
    assert long.status_code == 400 and _stripe_error(long)["param"] == "description"


def test_malformed_filter_values_are_400_on_every_list(http: httpx.Client) -> None:
    # docs.stripe.com/api/customers/list (created: an integer or a hash of gt/gte/lt/lte): a bad
    # value is the client's error, a 400 invalid_request_error, never a 500.
    lists = [r for r in ROUTES if r.method == "GET" and "{" not in r.pattern and "created" in r.accepts]
    assert len(lists) >= 10
    for r in lists:
        for params in ({"created": "soon"}, {"created[gt]": "soon"}, {"created[after]": "1"}, {"limit": "many"}):
            resp = http.get(r.pattern, params=params)
            assert resp.status_code == 400, (r.pattern, params, resp.text)
            assert _stripe_error(resp)["type"] == "invalid_request_error"


def test_search_syntax_errors_and_escaped_quotes(client: stripe.StripeClient, http: httpx.Client) -> None:
    # docs.stripe.com/search (Search query language): values are quoted strings; a query that
    # does not parse is refused with 400. A backslash escapes a quote inside a value.
    cus = client.v1.customers.create(params={"name": "Pat O'Brien", "email": "obrien@example.com"})
    found = client.v1.customers.search(params={"query": "name:'Pat O\\'Brien'"})
    assert [c.id for c in found.data] == [cus.id]
    for query in ("email:", "email:'unterminated", "email:'a' AND name:'b' OR phone:'c'", "nosuchfield:'x'"):
        resp = http.get("/v1/customers/search", params={"query": query})
        assert resp.status_code == 400 and _stripe_error(resp)["param"] == "query", query


def test_every_error_the_server_returns_is_stripe_shaped(http: httpx.Client) -> None:
    # docs.stripe.com/api/errors: every error is a JSON body {"error": {type, message, ...}}.
    for resp in (http.put("/v1/customers"), http.patch("/v1/customers"), http.get("/v1/nothing_here"),
                 http.post("/v1/customers", content=b"\xff\xfe", headers={"Content-Type": "application/x-www-form-urlencoded"}),
                 http.post("/v1/customers", data={"[]": "x"})):
        assert resp.status_code in (400, 404), resp.text
        _stripe_error(resp)


def test_injected_faults_are_stripe_shaped_or_dropped() -> None:
    # --fail-rate: an injected 500 has Stripe's api_error body; a dropped connection is cut off
    # mid-response (the SDK raises APIConnectionError), never a plain-text page.
    with ThreadedSandbox(knobs=Knobs(fail_rate=1.0, seed=11)) as sb:
        seen = set()
        for _ in range(16):
            try:
                resp = httpx.get(f"{sb.url}/v1/products", headers={"Authorization": f"Bearer {KEY}"})
            except httpx.TransportError:
                seen.add("dropped")
                continue
            assert resp.status_code == 500
            assert _stripe_error(resp)["type"] == "api_error"
            assert re.fullmatch(r"req_\w+", resp.headers["Request-Id"])
            seen.add("500")
        assert seen == {"500", "dropped"}
        sdk = stripe.StripeClient(KEY, base_addresses={"api": sb.url}, max_network_retries=0)
        for _ in range(6):
            with pytest.raises((stripe.APIError, stripe.APIConnectionError)):
                sdk.v1.products.list()


def test_field_specific_string_limits(http: httpx.Client) -> None:
    # The API reference's parameter descriptions: customer email "may be up to 512 characters"
    # (docs.stripe.com/api/customers/create), test clock name "The maximum length is 300 characters"
    # (docs.stripe.com/api/test_clocks/create), price lookup_key "up to 200 characters"
    # (docs.stripe.com/api/prices/create), product statement_descriptor "up to 22 characters" and
    # "may not include <, >, \, ", ' characters" (docs.stripe.com/api/products/create).
    email = "e" * 500 + "@example.com"  # 512
    assert http.post("/v1/customers", data={"email": email}).status_code == 200
    cases = [("/v1/customers", {"email": "e" + email}, "email"),
             ("/v1/test_helpers/test_clocks", {"frozen_time": "1767225600", "name": "n" * 301}, "name"),
             ("/v1/products", {"name": "p", "statement_descriptor": "S" * 23}, "statement_descriptor"),
             ("/v1/products", {"name": "p", "statement_descriptor": "NO <TAGS>"}, "statement_descriptor"),
             ("/v1/prices", {"currency": "usd", "unit_amount": "100", "product_data[name]": "p",
                             "lookup_key": "k" * 201}, "lookup_key"),
             ("/v1/prices", {"currency": "usd", "unit_amount": "100", "product_data[name]": "p",
                             "product_data[statement_descriptor]": "S" * 23}, "product_data[statement_descriptor]")]
    for path, data, param in cases:
        key = f"limits-{param}-{len(str(data))}"
        resp = http.post(path, data=data, headers={"Idempotency-Key": key})
        assert resp.status_code == 400 and _stripe_error(resp)["param"] == param, (path, param)
        assert _stripe_error(resp)["type"] == "invalid_request_error"
        assert "Idempotent-Replayed" not in http.post(path, data=data, headers={"Idempotency-Key": key}).headers
    assert http.post("/v1/test_helpers/test_clocks", data={"frozen_time": "1767225600", "name": "n" * 300}).status_code == 200
    assert http.post("/v1/products", data={"name": "p", "statement_descriptor": "S" * 22}).status_code == 200
