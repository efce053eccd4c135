"""Money as integer minor units with a currency; proration arithmetic to the second.

Floats never touch an amount: Stripe amounts are integers in the currency's smallest
unit, and the proration formula is computed with exact fractions, then rounded half away
from zero once, as Stripe does for a proration line.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Money", "ZERO_DECIMAL_CURRENCIES", "prorate", "unused_fraction", "round_half_up"]

#: Currencies whose minor unit is the unit (Stripe's list).
ZERO_DECIMAL_CURRENCIES = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()
)


def round_half_up(value: Fraction) -> int:
    """Round an exact fraction to an integer, halves away from zero."""
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    whole, rest = divmod(magnitude.numerator, magnitude.denominator)
    if 2 * rest >= magnitude.denominator:
        whole += 1
    return sign * whole


@dataclass(frozen=True, order=True)
class Money:
    """An amount in minor units (cents) with its ISO currency, lower-case as Stripe sends it."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError(f"Money amount must be an int of minor units, got {self.amount!r}")
        object.__setattr__(self, "currency", self.currency.lower())

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.amount * quantity, self.currency)

    @property
    def exponent(self) -> int:
        return 0 if self.currency in ZERO_DECIMAL_CURRENCIES else 2

    def format(self) -> str:
        """Human form, e.g. ``$12.34 USD`` or ``-€5.00 EUR`` (for display only)."""
        symbols = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}
        sign = "-" if self.amount < 0 else ""
        units = abs(self.amount)
        if self.exponent:
            major, minor = divmod(units, 10**self.exponent)
            body = f"{major:,}.{minor:0{self.exponent}d}"
        else:
            body = f"{units:,}"
        return f"{sign}{symbols.get(self.currency, '')}{body} {self.currency.upper()}"

    def as_dict(self) -> dict[str, int | str]:
        """The JSON form used in case.json: ``{"value": 1234, "currency": "usd"}``."""
        return {"value": self.amount, "currency": self.currency}

    def __str__(self) -> str:
        return self.format()


def unused_fraction(period_start: int, period_end: int, at: int) -> Fraction:
    """Share of a period still to run at ``at`` (unix seconds), clamped to [0, 1]."""
    if period_end <= period_start:
        raise ValueError("period_end must be after period_start")
    at = min(max(at, period_start), period_end)
    return Fraction(period_end - at, period_end - period_start)


def prorate(amount: int, period_start: int, period_end: int, at: int) -> int:
    """Stripe's proration: ``amount * (period_end - at) / (period_end - period_start)``.

    Computed exactly, to the second, and rounded once.
    """
    return round_half_up(amount * unused_fraction(period_start, period_end, at))
