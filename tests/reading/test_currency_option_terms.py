"""reading.prices on multi-currency prices and coupons, without a server: the amount in the
subscription's currency is its option's, in that currency's minor units (JPY exponent 0, KWD
thousandths), and only what is missing is asked for."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from billing_nb.reading.prices import coupon_amount_off, in_currency, price_reads, price_terms, recurring_amount


@given(st.sampled_from(["eur", "jpy", "kwd", "bhd"]), st.integers(0, 10**7), st.integers(0, 10**7),
       st.integers(0, 500), st.sampled_from([None, "1234.5"]))
def test_the_option_prices_the_period_in_its_currency(cur: str, default: int, unit: int, qty: int,
                                                      decimal: str | None) -> None:
    option = {"unit_amount": unit, "unit_amount_decimal": decimal or str(unit)}
    price = {"id": "price_1", "currency": "usd", "unit_amount": default, "unit_amount_decimal": str(default),
             "currency_options": {"usd": {"unit_amount": default}, cur: option}, "recurring": {"interval": "month"}}
    terms = price_terms(price, cur)
    exact = Decimal(decimal or unit) * qty
    assert terms.currency == cur and terms.known
    assert recurring_amount(price, qty, cur) == int(exact.to_integral_value(rounding="ROUND_HALF_UP"))
    assert recurring_amount(price, qty) == default * qty == recurring_amount(price, qty, "usd")
    assert price["unit_amount"] == default and in_currency(price, "usd") is price  # never mutated


def test_what_the_reader_asks_for() -> None:
    per_unit = {"id": "price_p", "currency": "usd", "unit_amount": 100, "billing_scheme": "per_unit"}
    tiered = {"id": "price_t", "currency": "usd", "billing_scheme": "tiered", "tiers_mode": "volume", "tiers": None}

    def sub(cur: str, price: dict[str, object]) -> dict[str, object]:
        return {"currency": cur, "items": {"data": [{"price": dict(price)}]}}

    assert price_reads([sub("usd", per_unit)]) == {}
    assert price_reads([sub("usd", tiered)]) == {"price_t": ["tiers"]}
    assert price_reads([sub("eur", per_unit)]) == {"price_p": ["currency_options"]}
    assert price_reads([sub("eur", tiered)]) == {"price_t": ["currency_options", "currency_options.eur.tiers"]}
    read = {**per_unit, "currency_options": {"eur": {"unit_amount": 90}}}
    assert price_reads([sub("eur", read)]) == {}


def test_a_coupons_amount_off_in_a_currency() -> None:
    coupon = {"id": "co", "amount_off": 500, "currency": "usd", "currency_options": {"jpy": {"amount_off": 700}}}
    assert coupon_amount_off(coupon, "usd") == 500 and coupon_amount_off(coupon, "jpy") == 700
    assert coupon_amount_off(coupon, "eur") is None
    assert coupon_amount_off({"percent_off": 10, "amount_off": None}, "usd") is None
