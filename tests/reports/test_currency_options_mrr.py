"""The store's MRR (``item_mrr``) and the portfolio's (``monthly_amount``/``mrr_totals``) agree,
and are right, on multi-currency prices and coupons and on a customer's inherited coupon.

- A subscription in a currency other than its price's default bills at the price's
  ``currency_options`` there (API reference, Prices): its MRR is in the subscription's currency
  at the option's amount, never the default's amount under the default's currency.
- An ``amount_off`` coupon counts in the subscription's currency: its own amount in its own
  currency, else its ``currency_options`` amount (API reference, Coupons).
- A subscription without discounts of its own inherits its customer's (API reference, Create a
  subscription, ``discounts``): the portfolio counts it as the store does.
Before: the portfolio ignored the customer's coupon, both took the price's default amount and
currency, and an option's amount off never counted."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_nb.money import Money, round_half_up
from billing_nb.reports.portfolio import monthly_amount, mrr_totals, plan_mix
from billing_nb.reports.recurring import item_mrr
from billing_nb.reports.store import AccountStore
from billing_nb.reports.tables import Row, rows_for

CURRENCIES = ("usd", "eur", "jpy", "kwd", "bhd")


@contextmanager
def _store() -> Iterator[AccountStore]:
    with tempfile.TemporaryDirectory() as tmp, AccountStore(Path(tmp) / "a.duckdb") as store:
        yield store


def _load(store: AccountStore, kind: str, objects: list[dict[str, Any]]) -> None:
    rows: dict[str, list[Row]] = {}
    for obj in objects:
        for table, got in rows_for(kind, obj, lambda e: e).items():
            rows.setdefault(table, []).extend(got)
    store.upsert(rows)
    store.commit()


def _discount(did: str, coupon: dict[str, Any], sub: str | None) -> dict[str, Any]:
    return {"id": did, "object": "discount", "customer": "cus_1", "subscription": sub, "start": 1, "end": None,
            "source": {"type": "coupon", "coupon": coupon}}


@st.composite
def accounts(draw: Any) -> dict[str, Any]:
    default = draw(st.sampled_from(CURRENCIES))
    billed = draw(st.sampled_from(CURRENCIES))
    default_unit, unit = draw(st.integers(0, 90000)), draw(st.integers(0, 90000))
    price: dict[str, Any] = {"id": "price_m", "object": "price", "product": "prod_a", "currency": default,
                             "unit_amount": default_unit, "type": "recurring", "active": True, "metadata": {},
                             "recurring": {"interval": draw(st.sampled_from(["month", "year"])), "interval_count": 1}}
    if billed != default:
        price["currency_options"] = {default: {"unit_amount": default_unit, "unit_amount_decimal": str(default_unit)},
                                     billed: {"unit_amount": unit, "unit_amount_decimal": str(unit)}}
    else:
        unit = default_unit
    coupon_currency = draw(st.sampled_from(CURRENCIES))
    own_off, option_off = draw(st.integers(1, 60000)), draw(st.integers(1, 60000))
    coupon: dict[str, Any] = {"id": "co_1", "object": "coupon", "duration": draw(st.sampled_from(["forever", "once"])),
                              "percent_off": None, "amount_off": own_off, "currency": coupon_currency}
    has_option = draw(st.booleans())
    if has_option and coupon_currency != billed:
        coupon["currency_options"] = {coupon_currency: {"amount_off": own_off}, billed: {"amount_off": option_off}}
    on_customer = draw(st.booleans())
    quantity = draw(st.integers(1, 7))
    sub = {"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "active", "currency": billed,
           "items": {"data": [{"id": "si_1", "object": "subscription_item", "created": 1, "price": price,
                               "quantity": quantity}]},
           "discounts": [] if on_customer else [_discount("di_1", coupon, "sub_1")]}
    customer = {"id": "cus_1", "object": "customer", "created": 1, "currency": billed,
                "discount": _discount("di_1", coupon, None) if on_customer else None}
    # by hand: the period in the billed currency at the option's unit, less the coupon there when forever
    period = unit * quantity
    off = (own_off if coupon_currency == billed else option_off if "currency_options" in coupon else 0)
    if coupon["duration"] == "forever":
        period = max(0, period - off)
    months = 12 if price["recurring"]["interval"] == "year" else 1
    return {"sub": sub, "customer": customer, "price": price,
            "expected": Money(round_half_up(Fraction(period, months)), billed)}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(accounts())
def test_store_and_portfolio_mrr_are_the_subscription_currencys(case: dict[str, Any]) -> None:
    sub, customer = case["sub"], case["customer"]
    assert monthly_amount(sub, customer) == case["expected"]
    with _store() as store:
        _load(store, "customers", [customer])
        _load(store, "prices", [case["price"]])
        _load(store, "subscriptions", [sub])
        frame = item_mrr(store.query)
    assert sum(int(v) for v in frame["mrr"]) == case["expected"].amount
    totals = mrr_totals([sub], [customer]).to_dict(orient="records")
    assert [(r["currency"], int(r["mrr_minor"])) for r in totals] == [(case["expected"].currency, case["expected"].amount)]
    mix = plan_mix([sub], [customer]).to_dict(orient="records")
    assert [(r["currency"], int(r["mrr_minor"])) for r in mix] == [(case["expected"].currency, case["expected"].amount)]


def test_a_price_billed_in_a_currency_whose_option_was_not_read_is_not_priced_in_the_default() -> None:
    """Without its ``currency_options`` the amount is unknown: the store's item amount is NULL and
    the case's terms say so, rather than a USD amount labelled EUR."""
    from billing_nb.reading.prices import price_terms
    from billing_nb.reports.tables import _item_amount

    price = {"id": "price_x", "currency": "usd", "unit_amount": 2000, "recurring": {"interval": "month"}}
    terms = price_terms(price, "eur")
    assert not terms.known and terms.currency == "eur" and terms.amount(3) == 0
    assert "currency option not read" in terms.describe(3)
    assert _item_amount({"price": price, "quantity": 3}, "eur") is None
    assert _item_amount({"price": price, "quantity": 3}, "usd") == 6000
