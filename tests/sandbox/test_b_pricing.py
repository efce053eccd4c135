"""Tiered, package and decimal prices in the sandbox, as Stripe renders and bills them."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from billing_nb.sandbox.server import ThreadedSandbox

pytestmark = pytest.mark.sandbox

TIERS = [{"up_to": 5, "unit_amount": 1500}, {"up_to": 10, "unit_amount": 1200},
         {"up_to": "inf", "unit_amount_decimal": "1000.5", "flat_amount": 500}]


@pytest.fixture(scope="module")
def c() -> Any:
    with ThreadedSandbox() as sb:
        yield stripe.StripeClient("sk_test_1", base_addresses={"api": sb.url})


def _sub(c: Any, price: str, qty: int) -> Any:
    cus = c.v1.customers.create({"payment_method": "pm_card_visa",
                                 "invoice_settings": {"default_payment_method": "pm_card_visa"}}).id
    return c.v1.subscriptions.create({"customer": cus, "items": [{"price": price, "quantity": qty}]})


def _tiered(c: Any, mode: str) -> Any:
    prod = c.v1.products.create({"name": f"Team {mode}"}).id
    return c.v1.prices.create({"product": prod, "currency": "usd", "billing_scheme": "tiered", "tiers_mode": mode,
                               "tiers": TIERS, "recurring": {"interval": "month"}})


def test_tiers_only_when_expanded_and_never_five_levels_deep(c: Any) -> None:
    price = _tiered(c, "volume")
    assert price.unit_amount is None and price.unit_amount_decimal is None and "tiers" not in price
    got = c.v1.prices.retrieve(price.id, {"expand": ["tiers"]}).tiers
    assert [t.up_to for t in got] == [5, 10, None] and got[2].unit_amount is None
    assert str(got[2].unit_amount_decimal) == "1000.5" and got[2].flat_amount == 500
    assert any("tiers" in p and p["tiers"] for p in c.v1.prices.list({"expand": ["data.tiers"], "limit": 100}).data)
    sub = _sub(c, price.id, 3)
    assert c.v1.subscriptions.retrieve(sub.id, {"expand": ["items.data.price.tiers"]})["items"].data[0].price.tiers
    with pytest.raises(stripe.InvalidRequestError, match="more than 4 levels"):
        c.v1.subscriptions.list({"expand": ["data.items.data.price.tiers"]})


@pytest.mark.parametrize(("mode", "qty", "amount"), [
    ("volume", 5, 7500), ("volume", 7, 8400), ("volume", 12, 12006 + 500),  # 12 x 1000.5 + flat 500
    ("graduated", 7, 7500 + 2400), ("graduated", 12, 7500 + 6000 + 2001 + 500)])
def test_invoices_bill_the_tiers(c: Any, mode: str, qty: int, amount: int) -> None:
    sub = _sub(c, _tiered(c, mode).id, qty)
    inv = c.v1.invoices.retrieve(sub.latest_invoice)
    assert inv.amount_paid == amount and inv.lines.data[0].amount == amount


def test_seat_change_prorations_and_preview_use_the_tiers(c: Any) -> None:
    sub = _sub(c, _tiered(c, "volume").id, 5)
    item = sub["items"].data[0].id
    preview = c.v1.invoices.create_preview({"subscription": sub.id, "subscription_details": {
        "items": [{"id": item, "quantity": 7}], "proration_behavior": "always_invoice"}})
    prorations = [ln.amount for ln in preview.lines.data]
    assert sum(prorations) > 0 and min(prorations) >= -7500 and max(prorations) <= 8400  # credit 5 x 15, debit 7 x 12
    assert max(prorations) > 8000 and min(prorations) < -7000


def test_package_and_decimal_prices(c: Any) -> None:
    prod = c.v1.products.create({"name": "Pack"}).id
    pack = c.v1.prices.create({"product": prod, "currency": "usd", "unit_amount": 1000,
                               "transform_quantity": {"divide_by": 5, "round": "up"}, "recurring": {"interval": "month"}})
    assert pack.transform_quantity.divide_by == 5
    assert c.v1.invoices.retrieve(_sub(c, pack.id, 6).latest_invoice).amount_paid == 2000
    dec = c.v1.prices.create({"product": prod, "currency": "usd", "unit_amount_decimal": "0.05",
                              "recurring": {"interval": "month"}})
    assert dec.unit_amount is None and str(dec.unit_amount_decimal) == "0.05"
    assert c.v1.invoices.retrieve(_sub(c, dec.id, 30).latest_invoice).amount_due == 2  # 1.5 rounded up
    with pytest.raises(stripe.InvalidRequestError, match="transform_quantity"):
        c.v1.prices.create({"product": prod, "currency": "usd", "billing_scheme": "tiered", "tiers_mode": "volume",
                            "tiers": TIERS, "transform_quantity": {"divide_by": 5, "round": "up"}})
    with pytest.raises(stripe.InvalidRequestError, match="inf"):
        c.v1.prices.create({"product": prod, "currency": "usd", "billing_scheme": "tiered", "tiers_mode": "volume",
                            "tiers": [{"up_to": 5, "unit_amount": 1}]})
