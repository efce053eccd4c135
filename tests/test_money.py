from fractions import Fraction

import pytest

from billing_nb.money import Money, prorate, round_half_up, unused_fraction


def test_money_is_int_minor_units_with_currency() -> None:
    assert Money(1999, "USD").currency == "usd"
    with pytest.raises(TypeError):
        Money(19.99, "usd")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True, "usd")


def test_money_refuses_mixed_currencies() -> None:
    with pytest.raises(ValueError):
        Money(100, "usd") + Money(100, "eur")
    assert (Money(150, "usd") - Money(50, "usd")).amount == 100


def test_format_minor_and_zero_decimal() -> None:
    assert Money(123456, "usd").format() == "$1,234.56 USD"
    assert Money(-500, "eur").format() == "-€5.00 EUR"
    assert Money(1200, "jpy").format() == "¥1,200 JPY"


def test_round_half_up_is_away_from_zero() -> None:
    assert round_half_up(Fraction(5, 2)) == 3
    assert round_half_up(Fraction(-5, 2)) == -3
    assert round_half_up(Fraction(7, 3)) == 2


def test_prorate_to_the_second() -> None:
    start, end = 1_700_000_000, 1_700_000_000 + 365 * 86400
    at = start + 92 * 86400 + 3600  # 92 days and an hour in
    expected = round_half_up(Fraction(20000 * (end - at), end - start))
    assert prorate(20000, start, end, at) == expected
    assert prorate(20000, start, end, start) == 20000
    assert prorate(20000, start, end, end + 10) == 0
    assert unused_fraction(start, end, start - 5) == 1


def test_as_dict_shape() -> None:
    assert Money(5, "usd").as_dict() == {"value": 5, "currency": "usd"}
