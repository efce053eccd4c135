"""The refunds metric books a refund by its status: succeeded is refunded, pending is pending,
a refund Stripe failed is neither (docs.stripe.com/api/refunds/object)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import stripe

from billing_nb.config import API_VERSION
from billing_nb.reading.provider import StripeReader
from billing_nb.reports.metrics import DuckEngine, run_metric
from billing_nb.reports.store import open_store
from billing_nb.reports.sync import sync_account
from billing_nb.sandbox.server import ThreadedSandbox

pytestmark = pytest.mark.sandbox

T0 = 1787552562  # 2026-08-24T06:22:42Z
DAY = 86400


def _paid(client: stripe.StripeClient, clock: str, card: str, amount: int) -> str:
    cus = client.v1.customers.create({"email": "r@example.com", "test_clock": clock})
    pm = client.v1.payment_methods.attach(card, {"customer": cus.id})
    prod = client.v1.products.create({"name": "Pro"})
    price = client.v1.prices.create({"product": prod.id, "unit_amount": amount, "currency": "usd",
                                     "recurring": {"interval": "month"}})  # type: ignore[typeddict-item]
    client.v1.customers.update(cus.id, {"invoice_settings": {"default_payment_method": pm.id}})
    client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}]})
    return next(c.id for c in client.v1.charges.list({"customer": cus.id}).data if c.status == "succeeded")


def test_refunds_metric_books_pending_as_pending_and_failed_not_at_all(tmp_path: Path) -> None:
    with ThreadedSandbox() as sb:
        client = stripe.StripeClient("sk_test_refund_metric", base_addresses={"api": sb.url},
                                     stripe_version=API_VERSION)
        fail_clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
        pend_clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
        ok = _paid(client, pend_clock.id, "pm_card_visa", 1100)
        pending = _paid(client, pend_clock.id, "pm_card_pendingRefund", 2200)
        failing = _paid(client, fail_clock.id, "pm_card_refundFail", 4400)
        for charge in (ok, pending, failing):
            client.v1.refunds.create({"charge": charge})
        state = client.v1.test_helpers.test_clocks.advance(fail_clock.id, {"frozen_time": T0 + 2 * DAY})
        while state.status != "ready":
            time.sleep(0.02)
            state = client.v1.test_helpers.test_clocks.retrieve(fail_clock.id)
        assert [r.status for r in client.v1.refunds.list({"charge": failing}).data] == ["failed"]
        with open_store(tmp_path / "r.duckdb") as store:
            sync_account(StripeReader(client), store, rate_limit=None)
            frame = run_metric(DuckEngine(store.con), "refunds")
    usd = frame[frame["currency"] == "usd"]
    assert int(usd["refunded"].sum()) == 1100
    assert int(usd["refund_pending"].sum()) == 2200
    assert int(usd["refunds"].sum()) == 1
