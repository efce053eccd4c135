"""A sandbox account with a known history, built through the SDK on test clocks.

Eight customers, each on their own clock from 2025-01-01 (https://docs.stripe.com/billing/testing/test-clocks),
in USD and EUR: new subscriptions, an upgrade, seat changes, a downgrade, cancellations
(immediate and at period end), a reactivation, a second subscription cancelled while the
first lives on (contraction, not churn), and monthly -> annual switches. Every clock then
runs to 2025-07-15. :data:`EXPECTED_USD` / :data:`EXPECTED_EUR` are the movements by hand.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import stripe

__all__ = ["build_history", "History", "EXPECTED_USD", "EXPECTED_EUR", "utc", "END"]


def utc(m: int, d: int, y: int = 2025) -> int:
    return int(dt.datetime(y, m, d, 12, tzinfo=dt.UTC).timestamp())


END = utc(7, 15)

# month -> (new, expansion, contraction, churn, reactivation, mrr_end), worked out by hand:
# Jan: A 1000 + B 3x500 + C 3000 + D 1000 + E 1000 + G 1000+3000 + H 1000 new = 12500
# Feb: B 3 -> 5 seats +1000; C pro -> basic -2000
# Mar: A basic -> pro +2000; D cancelled -1000 churn; G's second subscription -3000 (G still pays:
#      contraction); H's cancel at period end (Mar 1) -1000 churn
# Apr: B 5 -> 2 seats -1500; E monthly 1000 -> yearly 10000/12 = 833: -167
# May: C cancelled -1000 churn.  Jun: D subscribes again +1000 reactivation.  Jul: nothing.
EXPECTED_USD = {
    "2025-01": (12500, 0, 0, 0, 0, 12500),
    "2025-02": (0, 1000, -2000, 0, 0, 11500),
    "2025-03": (0, 2000, -3000, -2000, 0, 8500),
    "2025-04": (0, 0, -1667, 0, 0, 6833),
    "2025-05": (0, 0, 0, -1000, 0, 5833),
    "2025-06": (0, 0, 0, 0, 1000, 6833),
    "2025-07": (0, 0, 0, 0, 0, 6833),
}
# F: EUR 2000/month from Feb, yearly 24000 (= 2000/month) from May 10: a conversion, no movement.
EXPECTED_EUR = {
    "2025-01": (0, 0, 0, 0, 0, 0),
    "2025-02": (2000, 0, 0, 0, 0, 2000),
    **{f"2025-0{m}": (0, 0, 0, 0, 0, 2000) for m in range(3, 8)},
}


@dataclass
class History:
    client: stripe.StripeClient
    prices: dict[str, str]
    customers: dict[str, str] = field(default_factory=dict)
    clocks: dict[str, str] = field(default_factory=dict)
    subs: dict[str, str] = field(default_factory=dict)

    def advance(self, who: str, to: int) -> None:
        """Advance one customer's clock in steps Stripe accepts, waiting for ``ready``."""
        clocks = self.client.v1.test_helpers.test_clocks
        while True:
            frozen = int(clocks.retrieve(self.clocks[who]).frozen_time)
            if frozen >= to:
                return
            step = min(to, frozen + 28 * 86400)
            clocks.advance(self.clocks[who], params={"frozen_time": step})
            for _ in range(400):
                if clocks.retrieve(self.clocks[who]).status == "ready":
                    break
                time.sleep(0.02)

    def subscribe(self, who: str, name: str, price: str, quantity: int = 1) -> None:
        sub = self.client.v1.subscriptions.create(params={
            "customer": self.customers[who], "items": [{"price": self.prices[price], "quantity": quantity}]})
        self.subs[name] = sub.id

    def change(self, name: str, price: str | None = None, quantity: int | None = None) -> None:
        sub = self.client.v1.subscriptions.retrieve(self.subs[name])
        item: dict[str, Any] = {"id": sub["items"].data[0].id}
        if price:
            item["price"] = self.prices[price]
        if quantity:
            item["quantity"] = quantity
        self.client.v1.subscriptions.update(self.subs[name], params={"items": [item]})  # type: ignore[typeddict-item]

    def cancel(self, name: str, *, at_period_end: bool = False) -> None:
        if at_period_end:
            self.client.v1.subscriptions.update(self.subs[name], params={"cancel_at_period_end": True})
        else:
            self.client.v1.subscriptions.cancel(self.subs[name])


def _price(client: stripe.StripeClient, product: str, currency: str, amount: int, interval: str) -> str:
    return client.v1.prices.create(params={"product": product, "currency": currency, "unit_amount": amount,
                                           "recurring": {"interval": interval}}).id  # type: ignore[typeddict-item]


def build_history(client: stripe.StripeClient) -> History:
    """Build the account; returns who is who (customer, clock and subscription ids)."""
    basic = client.v1.products.create(params={"name": "Basic"}).id
    pro = client.v1.products.create(params={"name": "Pro"}).id
    team = client.v1.products.create(params={"name": "Team seats"}).id
    prices = {"basic_m": _price(client, basic, "usd", 1000, "month"), "basic_y": _price(client, basic, "usd", 10000, "year"),
              "pro_m": _price(client, pro, "usd", 3000, "month"), "seat_m": _price(client, team, "usd", 500, "month"),
              "eur_m": _price(client, pro, "eur", 2000, "month"), "eur_y": _price(client, pro, "eur", 24000, "year")}
    h = History(client, prices)
    for who in "ABCDEFGH":
        clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": utc(1, 1), "name": f"history {who}"})
        cust = client.v1.customers.create(params={"email": f"history-{who.lower()}@example.com", "name": f"History {who}",
                                                  "test_clock": clock.id, "payment_method": "pm_card_visa",
                                                  "invoice_settings": {"default_payment_method": "pm_card_visa"}})
        h.customers[who], h.clocks[who] = cust.id, clock.id
    for who, price, qty in [("A", "basic_m", 1), ("B", "seat_m", 3), ("C", "pro_m", 1), ("D", "basic_m", 1),
                            ("E", "basic_m", 1), ("G", "basic_m", 1), ("H", "basic_m", 1)]:
        h.subscribe(who, who, price, qty)
    h.subscribe("G", "G2", "pro_m")
    steps: list[tuple[int, str, Any]] = [
        (utc(2, 1), "F", lambda: h.subscribe("F", "F", "eur_m")),
        (utc(2, 10), "B", lambda: h.change("B", quantity=5)),
        (utc(2, 15), "C", lambda: h.change("C", price="basic_m")),
        (utc(2, 20), "H", lambda: h.cancel("H", at_period_end=True)),
        (utc(3, 5), "D", lambda: h.cancel("D")),
        (utc(3, 10), "A", lambda: h.change("A", price="pro_m")),
        (utc(3, 20), "G", lambda: h.cancel("G2")),
        (utc(4, 10), "B", lambda: h.change("B", quantity=2)),
        (utc(4, 15), "E", lambda: h.change("E", price="basic_y")),
        (utc(5, 10), "F", lambda: h.change("F", price="eur_y")),
        (utc(5, 20), "C", lambda: h.cancel("C")),
        (utc(6, 5), "D", lambda: h.subscribe("D", "D2", "basic_m")),
    ]
    for at, who, action in steps:
        h.advance(who, at)
        action()
    for who in h.clocks:
        h.advance(who, END)
    return h
