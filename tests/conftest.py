"""Shared fixtures: a seeded demo sandbox for integration and notebook tests.

The sandbox runs in this process on a free port (ThreadedSandbox); papermill kernels
and worker processes reach it over HTTP through STRIPE_API_BASE.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stripe

DEMO_KEY = "sk_test_billing_nb_tests"

# Snapshot builders shared across stages live beside the action tests (test_actions_snapshots,
# test_actions_exec, test_actions_plan): importable from any folder, whichever runs first.
sys.path.insert(0, str(Path(__file__).parent / "actions"))

# The sandbox fails (500) any request whose handler accepted a parameter without reading it, so
# the whole suite doubles as a net for silently ignored parameters (billing_nb.sandbox.routing).
os.environ.setdefault("BILLING_NB_SANDBOX_STRICT", "1")


@dataclass
class Demo:
    url: str
    client: stripe.StripeClient
    customers: list[Any]
    store: Any
    key: str = DEMO_KEY

    def story(self, name: str) -> Any:
        for c in self.customers:
            if c.story == name:
                return c
        raise KeyError(name)


@pytest.fixture(scope="session")
def demo() -> Iterator[Demo]:
    from billing_nb.config import API_VERSION
    from billing_nb.demo.seed import seed_demo
    from billing_nb.sandbox.server import ThreadedSandbox

    with ThreadedSandbox() as sb:
        client = stripe.StripeClient(DEMO_KEY, base_addresses={"api": sb.url}, stripe_version=API_VERSION)
        customers = seed_demo(client)
        yield Demo(url=sb.url, client=client, customers=customers, store=sb.store)


@pytest.fixture
def fresh_demo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Demo]:
    """A newly seeded sandbox of its own, for tests that write (the shared one stays pristine)."""
    from billing_nb.config import API_VERSION
    from billing_nb.demo.seed import seed_demo
    from billing_nb.sandbox.server import ThreadedSandbox

    with ThreadedSandbox() as sb:
        client = stripe.StripeClient(DEMO_KEY, base_addresses={"api": sb.url}, stripe_version=API_VERSION)
        customers = seed_demo(client)
        monkeypatch.setenv("STRIPE_API_KEY", DEMO_KEY)
        monkeypatch.setenv("STRIPE_API_BASE", sb.url)
        monkeypatch.setenv("BILLING_NB_CASES_DIR", str(tmp_path / "cases"))
        yield Demo(url=sb.url, client=client, customers=customers, store=sb.store)


@pytest.fixture
def demo_env(demo: Demo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Demo:
    """Point the toolkit at the demo sandbox, with cases and ledger under tmp_path."""
    monkeypatch.setenv("STRIPE_API_KEY", DEMO_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", demo.url)
    monkeypatch.setenv("BILLING_NB_CASES_DIR", str(tmp_path / "cases"))
    return demo
