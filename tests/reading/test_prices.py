"""period_amount against Stripe's documented examples and an independent brute-force reference."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, strategies as st

from billing_nb.reading.prices import period_amount, price_terms, recurring_amount, unit_minor

# docs.stripe.com/subscriptions/pricing-models/tiered-pricing: 1-5 at 7 USD, 6-10 at 6.5 USD, 11+ at 6 USD
FONTS = [{"up_to": 5, "unit_amount": 700}, {"up_to": 10, "unit_amount": 650}, {"up_to": None, "unit_amount": 600}]


def tiered(mode: str, tiers: list[dict[str, object]]) -> dict[str, object]:
    return {"id": "price_t", "currency": "usd", "billing_scheme": "tiered", "tiers_mode": mode, "tiers": tiers,
            "unit_amount": None, "recurring": {"interval": "month", "usage_type": "licensed"}}


def test_the_documented_volume_and_graduated_examples() -> None:
    volume = tiered("volume", FONTS)
    assert [period_amount(volume, q) for q in (1, 5, 6, 20, 25)] == [700, 3500, 3900, 12000, 15000]
    graduated = tiered("graduated", FONTS)
    assert period_amount(graduated, 5) == 3500
    assert period_amount(graduated, 6) == 3500 + 650  # only the sixth font at the second tier
    assert period_amount(graduated, 11) == 3500 + 5 * 650 + 600


def test_package_and_decimal_as_documented() -> None:
    # quantity-transformation: 10 USD for every 5 users (or portion thereof)
    pack = {"currency": "usd", "unit_amount": 1000, "transform_quantity": {"divide_by": 5, "round": "up"}}
    assert [period_amount(pack, q) for q in (1, 3, 5, 6, 7)] == [1000, 1000, 1000, 2000, 2000]
    assert period_amount({**pack, "transform_quantity": {"divide_by": 5, "round": "down"}}, 7) == 1000
    # decimal-amounts: 0.05 cents x 30 = 1.5, rounded up to 2 cents, once at the line
    assert period_amount({"currency": "usd", "unit_amount": None, "unit_amount_decimal": "0.05"}, 30) == 2
    assert period_amount({"currency": "usd", "unit_amount": None, "unit_amount_decimal": "1999.5"}, 3) == 5999  # 5998.5


def test_metered_is_not_recurring_and_missing_tiers_are_not_known() -> None:
    metered = {"currency": "usd", "unit_amount": 5, "recurring": {"interval": "month", "usage_type": "metered"}}
    assert recurring_amount(metered, 1) == 0 and period_amount(metered, 1000) == 5000
    assert not price_terms({**tiered("volume", FONTS), "tiers": None}).known


def _reference(mode: str, tiers: list[tuple[int | None, Fraction, Fraction]], qty: int) -> int:
    """Unit by unit: each unit's price at its tier (graduated) or at the tier the whole quantity
    reaches (volume); a tier's flat amount once if any unit falls in it. Rounded half up."""
    def tier_of(n: int) -> int:
        return next(i for i, (up, _, _) in enumerate(tiers) if up is None or n <= up)
    total = Fraction(0)
    if qty > 0:
        if mode == "graduated":
            touched = set()
            for n in range(1, qty + 1):
                i = tier_of(n)
                total += tiers[i][1]
                touched.add(i)
            total += sum((tiers[i][2] for i in touched), Fraction(0))
        else:
            i = tier_of(qty)
            total = sum((tiers[i][1] for _ in range(qty)), Fraction(0)) + tiers[i][2]
    whole, rest = divmod(total.numerator, total.denominator)
    return whole + (1 if 2 * rest >= total.denominator else 0)


amounts = st.fractions(min_value=0, max_value=5000, max_denominator=8)


@st.composite
def tier_lists(draw: st.DrawFn) -> list[tuple[int | None, Fraction, Fraction]]:
    bounds = sorted(draw(st.sets(st.integers(1, 60), min_size=0, max_size=4)))
    ups: list[int | None] = [*bounds, None]
    return [(up, draw(amounts), draw(st.one_of(st.just(Fraction(0)), amounts))) for up in ups]


def _as_stripe(tiers: list[tuple[int | None, Fraction, Fraction]]) -> list[dict[str, object]]:
    def dec(f: Fraction) -> str:
        return str(Decimal(f.numerator) / Decimal(f.denominator))
    return [{"up_to": up, "unit_amount_decimal": dec(u), "flat_amount_decimal": dec(fl)} for up, u, fl in tiers]


@given(st.sampled_from(["volume", "graduated"]), tier_lists(), st.integers(0, 120))
def test_tiers_match_a_unit_by_unit_reference(mode: str, tiers: list[tuple[int | None, Fraction, Fraction]],
                                              qty: int) -> None:
    assert period_amount(tiered(mode, _as_stripe(tiers)), qty) == _reference(mode, tiers, qty)


@given(st.integers(1, 10**6), st.integers(1, 50), st.sampled_from(["up", "down"]), st.integers(0, 500))
def test_packages_match_counting_whole_packages(unit: int, size: int, rnd: str, qty: int) -> None:
    full = 0  # whole packages, counted
    while (full + 1) * size <= qty:
        full += 1
    packs = full + (1 if rnd == "up" and full * size < qty else 0)
    price = {"currency": "usd", "unit_amount": unit, "transform_quantity": {"divide_by": size, "round": rnd}}
    assert period_amount(price, qty) == unit * packs


def _half_up(f: Fraction) -> int:
    whole, rest = divmod(f.numerator, f.denominator)
    return whole + (1 if 2 * rest >= f.denominator else 0)


@given(tier_lists(), st.integers(1, 120))
def test_the_unit_shown_is_the_volume_tiers_or_the_average(tiers: list[tuple[int | None, Fraction, Fraction]],
                                                           qty: int) -> None:
    reached = next(t for t in tiers if t[0] is None or qty <= t[0])
    assert unit_minor(price_terms(tiered("volume", _as_stripe(tiers))), qty) == _half_up(reached[1])
    graduated = tiered("graduated", _as_stripe(tiers))
    assert abs(unit_minor(price_terms(graduated), qty) * qty - period_amount(graduated, qty)) <= qty
