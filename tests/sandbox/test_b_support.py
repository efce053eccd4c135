"""Shared helpers for the billing-engine tests (test_b_*): customers on test clocks,
prices, clock advances. No tests here; the ``test_b_`` name keeps it with its users."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import stripe

T0 = int(dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.timezone.utc).timestamp())
DAY = 86400


def utc(y: int, m: int, d: int, h: int = 12) -> int:
    return int(dt.datetime(y, m, d, h, tzinfo=dt.timezone.utc).timestamp())


def price(client: stripe.StripeClient, amount: int, interval: str = "month", name: str = "Pro") -> stripe.Price:
    return client.v1.prices.create(params={
        "currency": "usd", "unit_amount": amount, "recurring": {"interval": interval},  # type: ignore[typeddict-item]
        "product_data": {"name": name},
    })


def clock(client: stripe.StripeClient, at: int = T0) -> stripe.test_helpers.TestClock:
    return client.v1.test_helpers.test_clocks.create(params={"frozen_time": at, "name": "b-tests"})


def customer(client: stripe.StripeClient, clock_id: str | None = None, pm: str | None = "pm_card_visa",
             **extra: Any) -> stripe.Customer:
    params: dict[str, Any] = {"email": "b@example.com", **extra}
    if clock_id:
        params["test_clock"] = clock_id
    cust = client.v1.customers.create(params=params)  # type: ignore[arg-type]
    if pm:
        set_card(client, cust.id, pm)
        return client.v1.customers.retrieve(cust.id)
    return cust


def set_card(client: stripe.StripeClient, customer_id: str, token: str) -> str:
    pm = client.v1.payment_methods.attach(token, params={"customer": customer_id})
    client.v1.customers.update(customer_id, params={"invoice_settings": {"default_payment_method": pm.id}})
    return pm.id


def advance(client: stripe.StripeClient, clock_id: str, to: int) -> stripe.test_helpers.TestClock:
    """Advance and wait for ``ready``, as a client of real Stripe must.

    Stripe refuses an advance of more than two intervals of the clock's shortest
    subscription, so long jumps go in steps of at most 28 days (two monthly intervals
    are never shorter than that).
    """
    while True:
        frozen = int(client.v1.test_helpers.test_clocks.retrieve(clock_id).frozen_time)
        step = min(to, frozen + 28 * 86400)
        client.v1.test_helpers.test_clocks.advance(clock_id, params={"frozen_time": step})
        for _ in range(200):
            c = client.v1.test_helpers.test_clocks.retrieve(clock_id)
            if c.status == "ready":
                break
            time.sleep(0.05)
        else:
            raise TimeoutError(clock_id)
        if step >= to:
            return c


def subscribe(client: stripe.StripeClient, customer_id: str, *items: tuple[str, int], **extra: Any) -> stripe.Subscription:
    params: dict[str, Any] = {"customer": customer_id, "items": [{"price": p, "quantity": q} for p, q in items], **extra}
    return client.v1.subscriptions.create(params=params)  # type: ignore[arg-type]


def invoices(client: stripe.StripeClient, sub_id: str) -> list[stripe.Invoice]:
    """A subscription's invoices, oldest first."""
    rows = client.v1.invoices.list(params={"subscription": sub_id, "limit": 100}).data
    return list(reversed(rows))
