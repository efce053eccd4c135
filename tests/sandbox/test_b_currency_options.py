"""Multi-currency prices and coupons in the sandbox, as Stripe renders and bills them (API
reference: Prices and Coupons, ``currency_options``, "This field is not included by default. To
include it in the response, expand the currency_options field"): a subscription in an option's
currency bills at that option while its item's price still shows the default ``unit_amount`` and
``currency``; a currency with no option is refused; an amount-off coupon takes its option's
amount off in that currency."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from billing_nb.sandbox.server import ThreadedSandbox

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def c() -> Any:
    with ThreadedSandbox() as sb:
        yield stripe.StripeClient("sk_test_1", base_addresses={"api": sb.url})


def _customer(c: Any) -> str:
    return c.v1.customers.create({"payment_method": "pm_card_visa",
                                  "invoice_settings": {"default_payment_method": "pm_card_visa"}}).id


def _price(c: Any, **params: Any) -> Any:
    prod = c.v1.products.create({"name": "Pro"}).id
    return c.v1.prices.create({"product": prod, "currency": "usd", "recurring": {"interval": "month"}, **params})


def test_currency_options_only_when_expanded_and_never_five_levels_deep(c: Any) -> None:
    price = _price(c, unit_amount=2000, currency_options={"eur": {"unit_amount": 1800}, "jpy": {"unit_amount": 3000}})
    assert "currency_options" not in price and price.unit_amount == 2000
    opts = c.v1.prices.retrieve(price.id, {"expand": ["currency_options"]}).currency_options
    assert {k: v["unit_amount"] for k, v in opts.to_dict().items()} == {"usd": 2000, "eur": 1800, "jpy": 3000}
    listed = c.v1.prices.list({"expand": ["data.currency_options"], "limit": 100})
    assert next(p for p in listed.data if p.id == price.id).currency_options["eur"].unit_amount == 1800
    sub = c.v1.subscriptions.create({"customer": _customer(c), "currency": "eur", "items": [{"price": price.id}]})
    with pytest.raises(stripe.InvalidRequestError, match="more than 4 levels"):
        c.v1.subscriptions.list({"customer": sub.customer, "expand": ["data.items.data.price.currency_options"]})


def test_a_subscription_in_an_option_currency_bills_at_the_option(c: Any) -> None:
    price = _price(c, unit_amount=2000, currency_options={"eur": {"unit_amount": 1800}})
    sub = c.v1.subscriptions.create({"customer": _customer(c), "currency": "eur",
                                     "items": [{"price": price.id, "quantity": 3}], "expand": ["latest_invoice"]})
    assert sub.currency == "eur" and sub.latest_invoice.currency == "eur"
    assert sub.latest_invoice.amount_paid == 5400  # 3 x 18.00 EUR, not 3 x 20.00
    item = sub["items"].data[0]
    assert item.price.unit_amount == 2000 and item.price.currency == "usd"  # the item shows the default
    line = sub.latest_invoice.lines.data[0]
    assert line.amount == 5400 and line.currency == "eur"
    # a seat more, prorated: still in EUR at the option's amount
    up = c.v1.subscriptions.update(sub.id, {"items": [{"id": item.id, "quantity": 4}],
                                            "proration_behavior": "always_invoice", "expand": ["latest_invoice"]})
    assert up.latest_invoice.currency == "eur" and 0 < up.latest_invoice.amount_paid <= 1800


def test_a_currency_without_an_option_is_refused(c: Any) -> None:
    price = _price(c, unit_amount=2000, currency_options={"eur": {"unit_amount": 1800}})
    with pytest.raises(stripe.InvalidRequestError, match="no currency_options\\[gbp\\]"):
        c.v1.subscriptions.create({"customer": _customer(c), "currency": "gbp", "items": [{"price": price.id}]})
    plain = _price(c, unit_amount=2000)
    with pytest.raises(stripe.InvalidRequestError):
        c.v1.subscriptions.create({"customer": _customer(c), "currency": "eur", "items": [{"price": plain.id}]})


def test_a_tiered_option_bills_at_its_own_tiers(c: Any) -> None:
    price = _price(c, billing_scheme="tiered", tiers_mode="volume",
                   tiers=[{"up_to": 5, "unit_amount": 1000}, {"up_to": "inf", "unit_amount": 800}],
                   currency_options={"eur": {"tiers": [{"up_to": 5, "unit_amount": 900},
                                                       {"up_to": "inf", "unit_amount": 700}]}})
    got = c.v1.prices.retrieve(price.id, {"expand": ["currency_options", "currency_options.eur.tiers"]})
    assert [t.unit_amount for t in got.currency_options["eur"].tiers] == [900, 700]
    sub = c.v1.subscriptions.create({"customer": _customer(c), "currency": "eur",
                                     "items": [{"price": price.id, "quantity": 6}], "expand": ["latest_invoice"]})
    assert sub.latest_invoice.amount_paid == 6 * 700


def test_an_amount_off_coupon_takes_its_option_off_in_that_currency(c: Any) -> None:
    coupon = c.v1.coupons.create({"amount_off": 500, "currency": "usd", "duration": "forever",
                                  "currency_options": {"eur": {"amount_off": 400}}})
    assert "currency_options" not in coupon
    shown = c.v1.coupons.retrieve(coupon.id, {"expand": ["currency_options"]}).currency_options
    assert {k: v["amount_off"] for k, v in shown.to_dict().items()} == {"usd": 500, "eur": 400}
    price = _price(c, unit_amount=2000, currency_options={"eur": {"unit_amount": 1800}, "gbp": {"unit_amount": 1600}})
    sub = c.v1.subscriptions.create({"customer": _customer(c), "currency": "eur", "items": [{"price": price.id}],
                                     "discounts": [{"coupon": coupon.id}], "expand": ["latest_invoice"]})
    assert sub.latest_invoice.subtotal == 1800 and sub.latest_invoice.amount_paid == 1400
    with pytest.raises(stripe.InvalidRequestError, match="cannot be applied"):  # no GBP amount: refused
        c.v1.subscriptions.create({"customer": _customer(c), "currency": "gbp", "items": [{"price": price.id}],
                                   "discounts": [{"coupon": coupon.id}]})
    with pytest.raises(stripe.InvalidRequestError, match="only supported with amount_off"):
        c.v1.coupons.create({"percent_off": 10, "duration": "once", "currency_options": {"eur": {"amount_off": 1}}})


def test_a_guest_payments_charge_carries_its_receipt_email(c: Any) -> None:
    pi = c.v1.payment_intents.create({"amount": 1500, "currency": "usd", "payment_method": "pm_card_visa",
                                      "confirm": True, "receipt_email": "guest@example.com"})
    charge = c.v1.charges.retrieve(pi.latest_charge)
    assert charge.customer is None and charge.receipt_email == "guest@example.com"
