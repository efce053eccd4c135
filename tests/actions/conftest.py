"""Shared fixtures for the action tests that drive a sandbox through the SDK."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from billing_nb.sandbox.server import ThreadedSandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[ThreadedSandbox]:
    """One sandbox per test module (module scope: a file's tests share its objects)."""
    with ThreadedSandbox() as server:
        yield server


@pytest.fixture
def client(sb: ThreadedSandbox) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_123", base_addresses={"api": sb.url}, max_network_retries=0)
