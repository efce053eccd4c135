"""The sync's raw pages: plain dicts parsed once (not the SDK's ``OrderedDict`` per object,
3x the cost of the JSON), equal to what the SDK's ``raw_request`` gives, and errors still the
SDK's (so ``StripeReader.call`` translates them)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

import pytest
import stripe

from billing_nb.config import API_VERSION
from billing_nb.exceptions import StripeInvalidRequestError, StripeNotFoundError
from billing_nb.reading.pages import iter_pages, raw_lister
from billing_nb.reading.provider import StripeReader
from billing_nb.sandbox.server import ThreadedSandbox

KEY = "sk_test_billing_nb_sync_pages"


@pytest.fixture(scope="module")
def client() -> Iterator[stripe.StripeClient]:
    with ThreadedSandbox() as sb:
        c = stripe.StripeClient(KEY, base_addresses={"api": sb.url}, stripe_version=API_VERSION, max_network_retries=0)
        for i in range(7):
            c.v1.customers.create(params={"email": f"page{i}@example.com", "metadata": {"n": str(i)}})
        yield c


def test_raw_pages_are_plain_dicts_equal_to_the_sdks(client: stripe.StripeClient) -> None:
    reader = StripeReader(client)
    fetch = raw_lister(reader, "/v1/customers")
    page = fetch({"limit": 3})
    sdk = client.raw_request("get", "/v1/customers", limit=3).data
    assert type(page) is dict and all(type(o) is dict for o in page["data"])
    assert isinstance(sdk["data"][0], OrderedDict)  # what the fast path avoids
    assert page == sdk and len(page["data"]) == 3 and page["has_more"] is True
    ids = [o["id"] for p in iter_pages(reader, fetch, {"limit": 3}) for o in p.data]
    assert len(ids) == len(set(ids)) == 7


def test_raw_page_errors_are_the_sdks_translated(client: stripe.StripeClient) -> None:
    reader = StripeReader(client, rate_limit_retries=0)
    with pytest.raises((StripeInvalidRequestError, StripeNotFoundError)) as bad:
        list(iter_pages(reader, raw_lister(reader, "/v1/customers"), {"limit": 3, "starting_after": "cus_missing"}))
    assert bad.value.param == "starting_after" and "cus_missing" in str(bad.value)
    with pytest.raises(StripeNotFoundError):
        reader.call(lambda: raw_lister(reader, "/v1/no_such_things")({}))
