"""provider: lookup kinds, the client, error translation, resolution and the snapshot's
request budget, against a real sandbox on a free port."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from billing_nb.reading.waves import build_snapshot
from billing_nb.config import API_VERSION, Settings
from billing_nb.exceptions import (
    BadInputError,
    LookupNotFoundError,
    MalformedIdError,
    StripeApiError,
    StripeInvalidRequestError,
    StripeNotFoundError,
    StripeRateLimitError,
    StripeUnavailableError,
)
from billing_nb.reading.provider import StripeReader, lookup_kind, make_client, translate
from billing_nb.sandbox.server import ThreadedSandbox, free_port

KEY = "sk_test_provider_tests"


# --- lookup kinds (no server) ------------------------------------------------------------
@pytest.mark.parametrize(("lookup", "kind"), [
    ("jane.doe@example.com", "email"),
    ("  Jane+billing@Example.co.uk ", "email"),
    ("cus_QXg1o8vcGmoR32", "customer"),
    ("sub_1Pgc6rB7WZ01zgkWNy0Cn5nw", "subscription"),
    ("in_1Pgc6tB7WZ01zgkWu9fdqL6I", "invoice"),
    ("ch_1PgafuB7WZ01zgkWXYmPNZs8", "charge"),
    ("pi_1PgafyB7WZ01zgkWSjxsAJo3", "payment_intent"),
    ("cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY", "checkout_session"),
    ("cs_a1YS1URlnyQCN5fUUduORoQ7", "checkout_session"),
    ("metadata:github=jardmorequill", "metadata"),
])
def test_lookup_kinds(lookup: str, kind: str) -> None:
    assert lookup_kind(lookup) == kind


@pytest.mark.parametrize(("lookup", "error", "words"), [
    ("cus_", MalformedIdError, "customer id"),
    ("cus_ bad!", MalformedIdError, "customer id"),
    ("sub_123", MalformedIdError, "subscription id"),
    ("xyz_123", MalformedIdError, "unknown id prefix"),
    ("price_1PgafmB7WZ01zgkW6dKueIc5", MalformedIdError, "price id cannot be looked up"),
    ("", BadInputError, "empty lookup"),
    ("   ", BadInputError, "empty lookup"),
    ("hello", BadInputError, "not a lookup"),
    ("jane@", BadInputError, "not a valid email"),
    ("a@b@c.com", BadInputError, "not a valid email"),
    ("metadata:github", BadInputError, "metadata:KEY=VALUE"),
    ("a..b@example.com", BadInputError, "not a valid email"),
    ("x" * 501 + "@example.com", BadInputError, "Stripe keeps at most 512"),
    ("metadata:" + "k" * 41 + "=v", BadInputError, "metadata:KEY=VALUE"),
    ("metadata:github=" + "v" * 501, BadInputError, "metadata:KEY=VALUE"),
])
def test_bad_lookups(lookup: str, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words) as info:
        lookup_kind(lookup)
    assert isinstance(info.value, BadInputError)  # all exit code 2


def test_email_errors_do_not_echo_the_address() -> None:
    with pytest.raises(BadInputError) as info:
        lookup_kind("jane.doe@example")
    assert "jane" not in str(info.value)


# --- client and translation (no server) --------------------------------------------------------
def test_make_client_pins_version_base_and_retries() -> None:
    client = make_client(Settings(api_key=KEY, api_base="http://127.0.0.1:9", max_network_retries=3))
    requestor = client._requestor  # noqa: SLF001 - the SDK keeps the options here
    assert requestor.base_addresses.get("api") == "http://127.0.0.1:9"
    assert requestor._options.stripe_version == API_VERSION  # noqa: SLF001
    assert requestor._options.max_network_retries == 3  # noqa: SLF001


@pytest.mark.parametrize(("exc", "ours"), [
    (stripe.InvalidRequestError("No such customer: 'cus_x'", "id", code="resource_missing", http_status=404,
                                headers={"request-id": "req_1"}), StripeNotFoundError),
    (stripe.InvalidRequestError("Received unknown parameter: foo", "foo", code="parameter_unknown", http_status=400,
                                headers={"request-id": "req_1"}), StripeInvalidRequestError),
    (stripe.RateLimitError("Too many", http_status=429, code="rate_limit", headers={"request-id": "req_1"}), StripeRateLimitError),
    (stripe.APIError("boom", http_status=500, headers={"request-id": "req_1"}), StripeUnavailableError),
    (stripe.AuthenticationError("Invalid API Key", http_status=401, headers={"request-id": "req_1"}), StripeApiError),
])
def test_translate_keeps_request_id_and_code(exc: stripe.StripeError, ours: type[StripeApiError]) -> None:
    got = translate(exc)
    assert type(got) is ours
    assert got.request_id == "req_1" and "req_1" in str(got)
    assert got.code == exc.code and got.http_status == exc.http_status
    assert got.exit_code == 3


def test_connection_error_is_unavailable() -> None:
    client = make_client(Settings(api_key=KEY, api_base=f"http://127.0.0.1:{free_port()}", max_network_retries=0))
    with pytest.raises(StripeUnavailableError):
        StripeReader(client).retrieve("cus_AAAAAAAAAAAAAA")


@pytest.mark.parametrize("env", [None, "http://127.0.0.1:9"])
def test_unreachable_names_the_address_the_client_was_given(monkeypatch: pytest.MonkeyPatch, env: str | None) -> None:
    """A client given its base directly (tests, scripts) is reported at that base, never as
    "STRIPE_API_BASE is not set"; a different environment value is named beside it."""
    if env is None:
        monkeypatch.delenv("STRIPE_API_BASE", raising=False)
    else:
        monkeypatch.setenv("STRIPE_API_BASE", env)
    base = f"http://127.0.0.1:{free_port()}"
    client = make_client(Settings(api_key=KEY, api_base=base, max_network_retries=0))
    with pytest.raises(StripeUnavailableError) as caught:
        StripeReader(client).retrieve("cus_AAAAAAAAAAAAAA")
    text = str(caught.value)
    assert f"cannot reach the Stripe API at {base}" in text and "is not set" not in text
    assert (env is None) == ("STRIPE_API_BASE is http" not in text)


# --- against the sandbox --------------------------------------------------------------------
@pytest.fixture(scope="module")
def sandbox() -> Iterator[ThreadedSandbox]:
    with ThreadedSandbox() as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: ThreadedSandbox) -> stripe.StripeClient:
    return make_client(Settings(api_key=KEY, api_base=sandbox.url, max_network_retries=0))


@pytest.fixture(scope="module")
def people(client: stripe.StripeClient) -> dict[str, Any]:
    v1 = client.v1.customers
    old = v1.create({"email": "twice@example.com", "name": "Old One"})
    new = v1.create({"email": "twice@example.com", "name": "New One", "metadata": {"github": "twiceuser"}})
    solo = v1.create({"email": "solo@example.com", "metadata": {"github": "solo-gh"}})
    return {"old": old.id, "new": new.id, "solo": solo.id}


def reader(client: stripe.StripeClient) -> StripeReader:
    return StripeReader(client)


def test_email_returns_every_customer_of_that_email(client: stripe.StripeClient, people: dict[str, Any]) -> None:
    res = reader(client).resolve("twice@example.com")
    assert res.kind == "email"
    assert set(res.customer_ids) == {people["old"], people["new"]}
    assert res.customer_ids[0] == people["new"]  # no live subscriptions: the newest customer object first


def test_customer_id_pins_the_named_customer_and_finds_the_others(client: stripe.StripeClient, people: dict[str, Any]) -> None:
    res = reader(client).resolve(people["old"])
    assert res.kind == "customer"
    assert res.customer_ids == (people["old"], people["new"])
    assert res.requests == 3  # retrieve, then list + search by email (any letter case) at once


def test_metadata_lookup(client: stripe.StripeClient, people: dict[str, Any]) -> None:
    assert reader(client).resolve("metadata:github=solo-gh").customer_ids == (people["solo"],)
    res = reader(client).resolve("metadata:github=twiceuser")
    assert res.customer_ids[0] == people["new"] and people["old"] in res.customer_ids


def test_unknown_email(client: stripe.StripeClient, people: dict[str, Any]) -> None:
    with pytest.raises(LookupNotFoundError, match="no customer found for that email address") as info:
        reader(client).resolve("nobody@example.com")
    assert "nobody" not in str(info.value)
    assert info.value.exit_code == 2


@pytest.mark.parametrize("lookup", ["cus_AAAAAAAAAAAAAA", "sub_AAAAAAAAAAAAAAAAAAAAAAAA"])
def test_unknown_ids_are_lookup_errors_with_the_request_id(client: stripe.StripeClient, lookup: str) -> None:
    with pytest.raises(LookupNotFoundError) as info:
        reader(client).resolve(lookup)
    assert "(request req_" in str(info.value)
    assert isinstance(info.value.__cause__, StripeNotFoundError)


def test_wrong_kind_of_id_never_reaches_stripe(client: stripe.StripeClient, sandbox: ThreadedSandbox) -> None:
    r = reader(client)
    with pytest.raises(MalformedIdError):
        r.resolve("prod_AAAAAAAAAAAAAA")
    assert r.request_count == 0


def test_retrieve_404_is_not_found_with_request_id(client: stripe.StripeClient) -> None:
    with pytest.raises(StripeNotFoundError) as info:
        reader(client).retrieve("cus_ZZZZZZZZZZZZZZ")
    err = info.value
    assert err.code == "resource_missing" and err.http_status == 404
    assert err.request_id and err.request_id.startswith("req_")


def test_bad_key_is_a_stripe_error(sandbox: ThreadedSandbox) -> None:
    bad = make_client(Settings(api_key="sk_live_nope", api_base=sandbox.url, max_network_retries=0))
    with pytest.raises(StripeApiError, match="API key"):
        StripeReader(bad).resolve("cus_AAAAAAAAAAAAAA")


def request_log(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/_sandbox/requests") as resp:
        return list(json.loads(resp.read())["data"])


def test_snapshot_counts_requests_and_waves(client: stripe.StripeClient, sandbox: ThreadedSandbox, people: dict[str, Any]) -> None:
    before = len(request_log(sandbox.url))
    r = reader(client)
    snap = build_snapshot(r, "twice@example.com")
    log = request_log(sandbox.url)[before:]
    assert snap.request_count == len(log) == r.request_count
    assert snap.waves <= 2
    n = snap.extra["lookup_requests"]
    assert n == 2  # list (exact) + search (any case) by email, concurrently
    assert snap.customer_ids[0] == people["new"]
    assert {c["id"] for c in snap.of("customers")} == {people["old"], people["new"]}
    # every list after the lookup was issued before any of them answered: one wave
    lookup_end = max(e["started"] + e["ms"] / 1000 for e in log[:n])
    wave = [e for e in log[n:]]
    assert all(e["started"] >= lookup_end - 0.01 for e in wave)
    assert all(e["method"] == "GET" for e in log)


def test_wave_requests_overlap_under_latency(tmp_path: Any) -> None:
    """With 100 ms latency, every request of a wave is in flight before any of them answers."""
    from billing_nb.sandbox.app import Knobs

    with ThreadedSandbox(knobs=Knobs(latency_ms=100)) as sb:
        c = make_client(Settings(api_key=KEY, api_base=sb.url, max_network_retries=0))
        cust = c.v1.customers.create({"email": "slow@example.com"})
        before = len(request_log(sb.url))
        snap = build_snapshot(StripeReader(c), cust.id)
        log = request_log(sb.url)[before:]
    # a cus_ lookup names its customer: its four lists and the portal configurations ride with
    # the retrieve; the email wave (list + search) is the second; nothing is live and nothing needs
    # the events, so no third
    first, second = snap.extra["wave_requests"]
    assert (first, second) == (6, 2) and snap.waves == 2 and len(log) == 8 and not snap.extra["events_read"]
    wave1, wave2 = log[:first], log[first:]
    first_answer = min(e["started"] + e["ms"] / 1000 for e in wave1)
    assert all(e["started"] < first_answer for e in wave1)
    assert all(e["started"] >= max(x["started"] for x in wave1) for e in wave2)
    assert sorted(e["path"] for e in wave2) == ["/v1/customers", "/v1/customers/search"]
    # the snapshot survives a save/load round trip, with the email masked on disk
    path = snap.save(tmp_path / "snap.json")
    assert "slow@example.com" not in path.read_text()
    again = type(snap).load(path)
    assert again.customer_ids == snap.customer_ids and again.waves == snap.waves


def test_rate_limited_reads_are_retried_with_backoff() -> None:
    from billing_nb.sandbox.app import Knobs

    with ThreadedSandbox() as setup:  # the customer is made where no limit applies ...
        cust = make_client(Settings(api_key=KEY, api_base=setup.url)).v1.customers.create(
            {"email": "busy@example.com"})
        store = setup.store
    with ThreadedSandbox(knobs=Knobs(rate_limit=4), store=store) as sb:  # ... and read where one does
        c = make_client(Settings(api_key=KEY, api_base=sb.url, max_network_retries=0))
        r = StripeReader(c, backoff=0.2)
        snap = build_snapshot(r, cust.id)
        statuses = [e["status"] for e in request_log(sb.url)]
    assert 429 in statuses  # the wave hit the limit ...
    assert snap.customer_ids == [cust.id]  # ... and the snapshot still completed
    assert snap.request_count == len(statuses) - 1  # every attempt counted, 429s included
    with pytest.raises(StripeRateLimitError):
        StripeReader(make_client(Settings(api_key=KEY, api_base=sb.url)), rate_limit_retries=0).call(
            lambda: (_ for _ in ()).throw(stripe.RateLimitError("slow down", http_status=429)))



# --- every valid email, and search values taken literally -------------------------------------------
# RFC 5322 local parts (apostrophe, plus), RFC 6531 unicode; Stripe search quoting:
# https://docs.stripe.com/search#search-query-language (a backslash escapes a quote inside a string).
@pytest.mark.parametrize("email", ["o'brien@example.com", "jane+billing@example.com", "jürgen.müller@example.de",
                                   "d'arcy.o'neil@example.com"])
def test_every_valid_email_is_looked_up_by_email_and_by_id(client: stripe.StripeClient, email: str) -> None:
    assert lookup_kind(email) == "email"
    cus = client.v1.customers.create({"email": email, "name": "Quoted Person"}).id
    other = client.v1.customers.create({"email": "someone.else@example.com"}).id
    res = reader(client).resolve(email)
    assert res.customer_ids == (cus,)
    assert reader(client).resolve(email.upper()).customer_ids == (cus,)  # search: any letter case
    assert reader(client).resolve(cus).customer_ids == (cus,)  # by id: the email wave's search query too
    assert other not in res.customer_ids


def test_a_metadata_value_cannot_inject_a_clause(client: stripe.StripeClient) -> None:
    tricky = client.v1.customers.create({"email": "tricky@example.com", "metadata": {"github": "x' OR email:'y"}}).id
    client.v1.customers.create({"email": "y@example.com", "metadata": {"github": "x"}})
    assert reader(client).resolve("metadata:github=x' OR email:'y").customer_ids == (tricky,)
    slash = client.v1.customers.create({"email": "slash@example.com", "metadata": {"github": "a\\b'c\"d"}}).id
    assert reader(client).resolve("metadata:github=a\\b'c\"d").customer_ids == (slash,)


def test_search_literal_quotes() -> None:
    from billing_nb.reading.lookup import search_literal

    assert search_literal("jane@example.com") == "'jane@example.com'"
    assert search_literal("o'brien@example.com") == '"o\'brien@example.com"'
    assert search_literal("a\\b'c\"d") == "'a\\\\b\\'c\"d'"


def test_a_reply_cut_mid_body_is_retried_as_a_read() -> None:
    """The SDK's requests client does not retry a body cut off mid-way (ChunkedEncodingError);
    a read is safe to repeat, so the reader retries it, while a refused connection is reported
    at once (the safety batch lost half its cases to cut replies before this)."""
    from billing_nb.reading.provider import cut_mid_reply

    cut = stripe.APIConnectionError("Unexpected error communicating with Stripe. (Network error: ChunkedEncodingError: "
                                    "('Connection broken: IncompleteRead(11 bytes read, 501 more expected)'))")
    refused = stripe.APIConnectionError("Unexpected error communicating with Stripe. (Network error: ConnectionError: "
                                        "[Errno 111] Connection refused)")
    assert cut_mid_reply(cut) and not cut_mid_reply(refused)
    calls = {"n": 0}

    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 3:
            raise cut
        return "whole"

    reader = StripeReader(make_client(Settings(api_key=KEY, api_base="http://127.0.0.1:9")), backoff=0.001)
    assert reader.call(flaky) == "whole" and calls["n"] == 3
    calls["n"] = -10  # always cut: after the retries, one clear line, not "cannot reach"
    with pytest.raises(StripeUnavailableError, match="broke in the middle of a reply"):
        reader.call(flaky)
    tries = {"n": 0}

    def down() -> str:
        tries["n"] += 1
        raise refused

    with pytest.raises(StripeUnavailableError, match="cannot reach"):
        reader.call(down)
    assert tries["n"] == 1


def test_reads_survive_a_sandbox_that_cuts_replies() -> None:
    from billing_nb.sandbox.app import Knobs

    with ThreadedSandbox() as healthy:
        setup = make_client(Settings(api_key=KEY, api_base=healthy.url, max_network_retries=0))
        cust = setup.v1.customers.create({"email": "cut@example.com"})
        with ThreadedSandbox(knobs=Knobs(fail_rate=0.3, seed=5), store=healthy.store) as bad:
            reader = StripeReader(make_client(Settings(api_key=KEY, api_base=bad.url)), backoff=0.01,
                                  rate_limit_retries=6)
            for _ in range(30):
                assert reader.retrieve(cust.id)["id"] == cust.id


@pytest.mark.sandbox
def test_raw_json_pages_are_the_sdk_objects_as_dicts(demo: Any) -> None:
    """The case's lists are read as raw JSON through the client's requestor (no SDK objects):
    the same dicts, page for page, as the SDK's list and search methods give, expanded fields,
    search pages (``next_page`` tokens) and errors included."""
    from billing_nb.reading.waves import EVENT_TYPES

    reader = StripeReader(demo.client)
    v1 = demo.client.v1
    person = demo.story("dup_customer")
    cid = person.customer_id
    for path, fn, params in [
        ("/v1/subscriptions", v1.subscriptions.list,
         {"customer": cid, "status": "all", "limit": 1, "expand": ["data.default_payment_method"]}),
        ("/v1/invoices", v1.invoices.list, {"customer": cid, "limit": 1, "expand": ["data.payments", "data.amount_paid_off_stripe"]}),
        ("/v1/charges", v1.charges.list, {"customer": cid, "limit": 1, "expand": ["data.refunds", "data.payment_intent"]}),
        ("/v1/customers/search", v1.customers.search,
         {"query": f"email:'{person.lookup}'", "limit": 1, "expand": ["data.test_clock"]}),
        ("/v1/events", v1.events.list, {"limit": 100, "types": EVENT_TYPES, "created": {"gte": 0}}),
    ]:
        raw, raw_pages = reader.list_all(path, params)
        sdk, sdk_pages = reader.list_all(fn, params)
        assert raw == sdk and raw_pages == sdk_pages, path
        assert raw, path
    assert reader.list_all("/v1/customers/search", {"query": f"email:'{person.lookup}'", "limit": 1})[1] >= 2
    with pytest.raises(StripeInvalidRequestError):
        reader.list_all("/v1/charges", {"customer": cid, "limit": 1, "expand": ["data.no_such_field"]})
