"""Multi-currency prices and coupons (API reference: Prices and Coupons, ``currency_options``)
through the official SDK against the sandbox: a EUR customer subscribed to a USD-default price
with a EUR option is billed in EUR at the EUR amount, and the case's contract shape, MRR, row,
seat-change impact and refund options say so; an amount-off coupon counts at its option's
amount. Before: every amount was the price's default (``unit_amount`` in USD) labelled with the
price's currency, and the coupon counted only in its own currency.

The reader retrieves such a price (and coupon) on its own -- ``currency_options`` is "not
included by default" and ``data.items.data.price.currency_options`` is five levels -- only when a
subscription's currency differs from its price's: an ordinary case's request count is unchanged."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_nb.actions import catalogue as cat
from billing_nb.actions.model import Plan
from billing_nb.actions.revenue import proposed
from billing_nb.analysis.contract import contract_shapes, refund_options
from billing_nb.money import Money, exponent
from billing_nb.reading.account import read_account
from billing_nb.reading.provider import StripeReader
from billing_nb.reading.rows import sub_row
from billing_nb.reading.waves import build_snapshot
from billing_nb.reports.portfolio import monthly_amount, mrr_totals
from billing_nb.sandbox.server import ThreadedSandbox

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def client() -> Any:
    with ThreadedSandbox() as sb:
        yield stripe.StripeClient("sk_test_1", base_addresses={"api": sb.url})


def _customer(c: Any) -> str:
    return c.v1.customers.create({"payment_method": "pm_card_visa",
                                  "invoice_settings": {"default_payment_method": "pm_card_visa"}}).id


def _price(c: Any, **params: Any) -> str:
    prod = c.v1.products.create({"name": "Team", "unit_label": "seat"}).id
    return c.v1.prices.create({"product": prod, "currency": "usd", "recurring": {"interval": "month"}, **params}).id


def _case(c: Any, currency: str, items: list[dict[str, Any]], **params: Any) -> tuple[Any, Any, Any]:
    cus = _customer(c)
    sub = c.v1.subscriptions.create({"customer": cus, "currency": currency, "items": items, **params})
    snap = build_snapshot(StripeReader(c), cus)
    [shape] = contract_shapes(snap)
    return snap, shape, c.v1.invoices.retrieve(sub.latest_invoice)


def test_a_eur_subscription_to_a_usd_price_is_priced_in_eur(client: Any) -> None:
    price = _price(client, unit_amount=2000, currency_options={"eur": {"unit_amount": 1800}})
    snap, shape, inv = _case(client, "eur", [{"price": price, "quantity": 3}])
    assert inv.currency == "eur" and inv.amount_paid == 5400
    item = snap.of("subscriptions")[0]["items"]["data"][0]
    assert item["price"]["currency"] == "usd" and item["price"]["unit_amount"] == 2000  # what Stripe shows
    assert shape.currency == "eur" and shape.items[0].unit_amount == Money(1800, "eur")
    assert shape.recurring_total == Money(5400, "eur") == shape.mrr and shape.arr == Money(64800, "eur")
    assert "3 x €18.00 EUR = €54.00 EUR" in shape.items[0].describe()
    row = sub_row(snap.of("subscriptions")[0])
    assert (row.currency, row.unit_amount, row.items_total) == ("eur", 1800, 5400)
    # a seat more is worth the EUR option, in EUR
    action = cat.quantity(shape.subscription_id, shape.items[0].item_id, 4, 3,
                          shape.items[0].terms or shape.items[0].unit_amount)
    assert "€18.00 EUR per period" in action.preview
    impact = proposed(Plan([action]), snap)
    assert impact["mrr_change"]["value"] == 1800 and impact["mrr_change"]["currency"] == "eur"
    [cancel] = [o for o in refund_options(snap, shape) if o.kind == "cancel_now_refund"]
    assert cancel.amount.currency == "eur" and 5300 <= cancel.amount.amount <= 5400


def test_an_amount_off_coupons_option_counts_in_mrr(client: Any) -> None:
    price = _price(client, unit_amount=2000, currency_options={"eur": {"unit_amount": 1800}})
    coupon = client.v1.coupons.create({"amount_off": 500, "currency": "usd", "duration": "forever",
                                       "currency_options": {"eur": {"amount_off": 400}}}).id
    snap, shape, inv = _case(client, "eur", [{"price": price}], discounts=[{"coupon": coupon}])
    assert inv.amount_paid == 1400
    assert [d.amount_off for d in shape.recurring_discounts] == [400]
    assert shape.mrr == Money(1400, "eur") == shape.recurring_net
    account = read_account(StripeReader(client))
    sub = next(s for s in account.subscriptions if s["id"] == shape.subscription_id)
    assert monthly_amount(sub) == Money(1400, "eur")


def test_currency_options_cost_a_request_only_when_the_currency_differs(client: Any) -> None:
    plain = _price(client, unit_amount=1500)
    multi = _price(client, unit_amount=1500, currency_options={"eur": {"unit_amount": 1400}})
    counts = {}
    for name, price, currency in (("plain", plain, "usd"), ("multi-default", multi, "usd"), ("multi-eur", multi, "eur")):
        cus = _customer(client)
        client.v1.subscriptions.create({"customer": cus, "currency": currency, "items": [{"price": price}]})
        snap = build_snapshot(StripeReader(client), cus)
        counts[name] = snap.request_count
        got = snap.of("subscriptions")[0]["items"]["data"][0]["price"]
        assert ("currency_options" in got) == (name == "multi-eur")
    assert counts["multi-default"] == counts["plain"] and counts["multi-eur"] == counts["plain"] + 1


def test_a_tiered_price_with_a_eur_option_is_priced_at_the_options_tiers(client: Any) -> None:
    price = _price(client, billing_scheme="tiered", tiers_mode="graduated",
                   tiers=[{"up_to": 5, "unit_amount": 1000}, {"up_to": "inf", "unit_amount": 800}],
                   currency_options={"eur": {"tiers": [{"up_to": 5, "unit_amount": 900},
                                                       {"up_to": "inf", "unit_amount": 700}]}})
    snap, shape, inv = _case(client, "eur", [{"price": price, "quantity": 7}])
    assert inv.amount_paid == 5 * 900 + 2 * 700 == shape.mrr.amount and shape.mrr.currency == "eur"


def _unit(currency: str, draw: Any) -> int:
    """A unit amount Stripe accepts in ``currency``: three-decimal amounts end in 0 (money.py)."""
    step = 10 if exponent(currency) == 3 else 1
    return draw(st.integers(1, 5000)) * step


@settings(max_examples=16, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_option_currency_is_priced_as_stripe_bills_it(client: Any, data: Any) -> None:
    """JPY (exponent 0), KWD and BHD (Stripe's three-decimal: thousandths), EUR: what the case,
    the row and the portfolio say one period costs is the invoice Stripe made, in its currency."""
    currency = data.draw(st.sampled_from(["jpy", "kwd", "bhd", "eur"]))
    unit, qty = _unit(currency, data.draw), data.draw(st.integers(1, 12))
    off = data.draw(st.one_of(st.none(), st.integers(1, 3).map(lambda n: n * 10)))
    price = _price(client, unit_amount=data.draw(st.integers(50, 90000)),
                   currency_options={currency: {"unit_amount": unit}})
    params: dict[str, Any] = {}
    if off is not None:  # a forever amount-off coupon in USD with this currency's option
        coupon = client.v1.coupons.create({"amount_off": 999, "currency": "usd", "duration": "forever",
                                           "currency_options": {currency: {"amount_off": off}}}).id
        params["discounts"] = [{"coupon": coupon}]
    snap, shape, inv = _case(client, currency, [{"price": price, "quantity": qty}], **params)
    assert inv.currency == currency and inv.subtotal == unit * qty
    assert shape.recurring_total == Money(unit * qty, currency)
    assert shape.mrr == Money(inv.total, currency)  # monthly: the period's net is the MRR
    assert sub_row(snap.of("subscriptions")[0]).items_total == unit * qty
    assert monthly_amount(snap.of("subscriptions")[0], snap.of("customers")[0]) == Money(unit * qty, currency)  # its discounts are ids here


def test_the_portfolio_prices_an_option_currency_per_currency(client: Any) -> None:
    price = _price(client, unit_amount=2000, currency_options={"jpy": {"unit_amount": 3000}})
    cus = _customer(client)
    client.v1.subscriptions.create({"customer": cus, "currency": "jpy", "items": [{"price": price, "quantity": 2}]})
    account = read_account(StripeReader(client))
    subs = [s for s in account.subscriptions if s["customer"] == cus]
    totals = mrr_totals(subs, account.customers)
    assert totals.to_dict(orient="records")[0]["currency"] == "jpy"
    assert int(totals.to_dict(orient="records")[0]["mrr_minor"]) == 6000
