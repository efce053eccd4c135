"""Fixtures for sandbox tests: one in-process sandbox per session, SDK and raw clients.

``sandbox`` is a :class:`~billing_nb.sandbox.server.ThreadedSandbox` on a free port and
``client`` a ``stripe.StripeClient`` pointed at it; tests share the account, so they
create their own objects and never assume global counts. ``http`` is a raw httpx
client with the same key for what the SDK hides (headers, raw JSON, bad bodies).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import stripe

from billing_nb.sandbox.server import ThreadedSandbox

sys.path.insert(0, str(Path(__file__).parent))  # so tests can `import shapes`

API_KEY = "sk_test_123"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[ThreadedSandbox]:
    with ThreadedSandbox() as sb:
        yield sb


@pytest.fixture(scope="session")
def client(sandbox: ThreadedSandbox) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": sandbox.url}, max_network_retries=0)


@pytest.fixture(scope="session")
def http(sandbox: ThreadedSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10) as c:
        yield c
