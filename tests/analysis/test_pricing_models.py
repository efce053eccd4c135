"""Tiered, package, decimal and metered prices through the official SDK against the sandbox:
the case prices them as Stripe bills them (docs: subscriptions/pricing-models/tiered-pricing,
billing/subscriptions/quantity-transformation, billing/subscriptions/decimal-amounts) and leaves
metered usage out of MRR ("MRR calculations exclude ... any metered (usage based) products",
billing/subscriptions/analytics/glossary). Before: every amount was ``unit_amount x quantity``,
so a tiered team plan showed $0 MRR and its seat changes were worth $0."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from billing_nb.actions import catalogue as cat
from billing_nb.actions.model import Plan
from billing_nb.actions.revenue import proposed
from billing_nb.analysis.contract import contract_shapes, refund_options
from billing_nb.reading.provider import StripeReader
from billing_nb.reading.waves import build_snapshot
from billing_nb.sandbox.server import ThreadedSandbox

pytestmark = pytest.mark.sandbox

SEATS = [{"up_to": 5, "unit_amount": 1500}, {"up_to": 10, "unit_amount": 1200}, {"up_to": "inf", "unit_amount": 1000}]


@pytest.fixture(scope="module")
def client() -> Any:
    with ThreadedSandbox() as sb:
        yield stripe.StripeClient("sk_test_1", base_addresses={"api": sb.url})


def _customer(c: Any, email: str) -> str:
    return c.v1.customers.create({"email": email, "payment_method": "pm_card_visa",
                                  "invoice_settings": {"default_payment_method": "pm_card_visa"}}).id


def _price(c: Any, name: str, **params: Any) -> str:
    prod = c.v1.products.create({"name": name, "unit_label": "seat"}).id
    return c.v1.prices.create({"product": prod, "currency": "usd", "recurring": {"interval": "month"}, **params}).id


def _case(c: Any, email: str, items: list[dict[str, Any]]) -> tuple[Any, Any, Any]:
    cus = _customer(c, email)
    sub = c.v1.subscriptions.create({"customer": cus, "items": items})
    snap = build_snapshot(StripeReader(c), cus)
    [shape] = contract_shapes(snap)
    return snap, shape, c.v1.invoices.retrieve(sub.latest_invoice)


def test_a_volume_tier_team_plan_of_five_seats(client: Any) -> None:
    price = _price(client, "Team", billing_scheme="tiered", tiers_mode="volume", tiers=SEATS)
    snap, shape, inv = _case(client, "volume@example.com", [{"price": price, "quantity": 5}])
    assert inv.amount_paid == 7500  # Stripe's bill: 5 x $15.00
    assert shape.recurring_total.amount == 7500 and shape.mrr.amount == 7500 and shape.arr.amount == 90000
    assert shape.is_team and shape.items[0].per_seat
    assert "5, volume tiers: $15.00 USD each at this count = $75.00 USD" in shape.items[0].describe()
    # two seats more: all seven at the 6-10 tier, $84.00, not 7 x $15.00 nor 2 x $0.00
    action = cat.quantity(shape.subscription_id, shape.items[0].item_id, 7, 5, shape.items[0].terms or shape.items[0].unit_amount)
    assert "$9.00 USD per period" in action.preview
    impact = proposed(Plan([action]), snap)
    assert impact["mrr_change"]["value"] == 900 and impact["arr_change"]["value"] == 10800
    # the refund of the unused time is what the tiered line paid, prorated
    [cancel] = [o for o in refund_options(snap, shape) if o.kind == "cancel_now_refund"]
    assert 7400 <= cancel.amount.amount <= 7500


def test_graduated_package_and_decimal_prices_match_stripes_bill(client: Any) -> None:
    grad = _price(client, "Grad", billing_scheme="tiered", tiers_mode="graduated", tiers=SEATS)
    _, shape, inv = _case(client, "graduated@example.com", [{"price": grad, "quantity": 7}])
    assert inv.amount_paid == 5 * 1500 + 2 * 1200 == shape.mrr.amount
    pack = _price(client, "Pack", unit_amount=1000, transform_quantity={"divide_by": 5, "round": "up"})
    _, shape, inv = _case(client, "package@example.com", [{"price": pack, "quantity": 7}])
    assert inv.amount_paid == 2000 == shape.mrr.amount  # 7 users are 2 packages of 5
    dec = _price(client, "Dec", unit_amount_decimal="1999.5")
    _, shape, inv = _case(client, "decimal@example.com", [{"price": dec, "quantity": 3}])
    assert inv.amount_paid == 5999 == shape.mrr.amount  # 5998.5 rounded once, at the line


def test_a_metered_item_is_neither_mrr_nor_unused_time(client: Any) -> None:
    base = _price(client, "Base", unit_amount=5000)
    usage = _price(client, "API calls", unit_amount=25, recurring={"interval": "month", "usage_type": "metered"})
    snap, shape, inv = _case(client, "metered@example.com", [{"price": base}, {"price": usage}])
    assert inv.amount_paid == 5000  # usage is billed in arrears, none yet
    assert shape.mrr.amount == 5000 and shape.recurring_total.amount == 5000
    metered = next(i for i in shape.items if i.metered)
    assert "metered" in metered.describe()
    [cancel] = [o for o in refund_options(snap, shape) if o.kind == "cancel_now_refund"]
    assert metered.item_id not in cancel.details.get("per_item", {})
    assert cancel.amount.amount <= 5000


def test_tiers_cost_one_request_per_tiered_price_and_none_otherwise(client: Any) -> None:
    plain = _price(client, "Plain", unit_amount=1500)
    tiered = _price(client, "Tiered", billing_scheme="tiered", tiers_mode="volume", tiers=SEATS)
    counts = []
    for email, price in (("plain@example.com", plain), ("tiered@example.com", tiered)):
        cus = _customer(client, email)
        client.v1.subscriptions.create({"customer": cus, "items": [{"price": price, "quantity": 5}]})
        snap = build_snapshot(StripeReader(client), cus)
        counts.append(snap.request_count)
        item = snap.of("subscriptions")[0]["items"]["data"][0]["price"]
        assert (item.get("tiers") is not None) == (price == tiered)
    assert counts[1] == counts[0] + 1
