"""Lists and searches longer than one page are read whole (the defect: page 2 was asked for with
the first page written into its URL, because a list object's ``next_page`` is a bound method).

Stripe paginates lists with ``starting_after`` and ``has_more``
(https://docs.stripe.com/api/pagination) and search results with the ``next_page`` token
(https://docs.stripe.com/api/pagination/search).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe

from billing_nb.config import API_VERSION
from billing_nb.reading.provider import StripeReader
from billing_nb.sandbox.server import ThreadedSandbox


@pytest.fixture(scope="module")
def client() -> Iterator[stripe.StripeClient]:
    with ThreadedSandbox() as sb:
        yield stripe.StripeClient("sk_test_pages", base_addresses={"api": sb.url}, stripe_version=API_VERSION)


def test_a_list_and_a_search_of_250_objects_are_read_whole(client: stripe.StripeClient) -> None:
    with ThreadPoolExecutor(8) as pool:
        made = set(pool.map(lambda i: client.v1.customers.create({"email": "many@example.com", "name": f"N{i}"}).id,
                            range(250)))
    reader = StripeReader(client)
    rows, pages = reader.list_all(client.v1.customers.list, {"limit": 100})
    assert {r["id"] for r in rows} == made and len(rows) == 250
    assert pages == 3
    found, search_pages = reader.list_all(client.v1.customers.search, {"query": "email:'many@example.com'", "limit": 100})
    assert {r["id"] for r in found} == made
    assert search_pages == 3
