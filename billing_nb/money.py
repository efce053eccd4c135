"""Money as integer minor units with a currency; proration arithmetic to the second.

Floats never touch an amount: Stripe amounts are integers in the currency's smallest
unit, and the proration formula is computed with exact fractions, then rounded half away
from zero once, as Stripe does for a proration line.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

__all__ = ["Money", "ZERO_DECIMAL_CURRENCIES", "THREE_DECIMAL_CURRENCIES", "TWO_DECIMAL_WHOLE_CURRENCIES",
           "exponent", "stripe_round", "prorate", "unused_fraction", "round_half_up"]

# Stripe's rules, not ISO 4217's (https://docs.stripe.com/currencies#zero-decimal,
# #three-decimal and #special-cases):
#: Currencies whose API amount is in whole units (Stripe's zero-decimal list).
ZERO_DECIMAL_CURRENCIES = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()
)
#: Three-decimal currencies: the API amount is in thousandths, and Stripe requires it to be a
#: multiple of 10 (the last digit 0) for charges and refunds.
THREE_DECIMAL_CURRENCIES = frozenset("bhd jod kwd omr tnd".split())
#: Stripe's special cases: ISK is zero-decimal in use but, for backwards compatibility, its API
#: amounts stay two-decimal with ``00`` cents (ISO 4217 says 0 decimals); HUF and TWD are two-decimal
#: in the API (ISO: HUF 2, TWD 2) with whole-unit payouts. The API exponent (2) wins over ISO here.
TWO_DECIMAL_WHOLE_CURRENCIES = frozenset({"isk"})


def exponent(currency: str) -> int:
    """Digits of the minor unit in Stripe's API amounts: 0, 2 or 3 (Stripe's lists, not ISO 4217)."""
    cur = currency.lower()
    if cur in ZERO_DECIMAL_CURRENCIES:
        return 0
    return 3 if cur in THREE_DECIMAL_CURRENCIES else 2


def stripe_round(amount: int, currency: str) -> int:
    """An amount Stripe accepts, never more than ``amount``: three-decimal currencies must end in 0
    and ISK in 00, so they are rounded toward zero to a multiple of 10 (100); others are unchanged."""
    cur = currency.lower()
    step = 10 if cur in THREE_DECIMAL_CURRENCIES else 100 if cur in TWO_DECIMAL_WHOLE_CURRENCIES else 1
    sign = -1 if amount < 0 else 1
    return sign * (abs(amount) // step * step)


@lru_cache(maxsize=256)
def _symbol(currency: str) -> str:
    """The currency's symbol from CLDR (Babel) in English, or "" when CLDR has only the code."""
    try:
        from babel.numbers import get_currency_symbol
    except ImportError:  # pragma: no cover - babel is a dependency
        return {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}.get(currency, "")
    symbol = get_currency_symbol(currency.upper(), locale="en")
    return "" if symbol.upper() == currency.upper() else symbol


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
        """The minor unit's digits as Stripe's API counts them (:func:`exponent`)."""
        return exponent(self.currency)

    def stripe_rounded(self) -> Money:
        """The nearest amount toward zero that Stripe accepts (:func:`stripe_round`)."""
        return Money(stripe_round(self.amount, self.currency), self.currency)

    def format(self, *, markdown: bool = False, code: bool = True) -> str:
        """Human form, e.g. ``$12.34 USD``, ``¥1,200 JPY``, ``1.250 KWD`` (for display only).

        The symbol comes from CLDR (Babel), the digits from Stripe's exponent (Stripe's exponent
        wins: ISK shows whole krónur from a two-decimal amount). ``markdown`` escapes the symbol's
        ``$`` (``\\$``) so JupyterLab's markdown shows it literally instead of starting LaTeX.
        ``code=False`` is the short form of a page's tables (``$12.34``, ``¥1,200``): the code is
        kept only where CLDR has no symbol (``1,234.56 CHF``), so the currency is never lost.
        """
        sign = "-" if self.amount < 0 else ""
        units = abs(self.amount)
        digits = self.exponent
        if digits:
            major, minor = divmod(units, 10**digits)
            body = f"{major:,}" if self.currency in TWO_DECIMAL_WHOLE_CURRENCIES and not minor else \
                f"{major:,}.{minor:0{digits}d}"
        else:
            body = f"{units:,}"
        symbol = _symbol(self.currency)
        if markdown:
            symbol = symbol.replace("$", "\\$")
        if not code and symbol:
            return f"{sign}{symbol}{body}"
        return f"{sign}{symbol}{body} {self.currency.upper()}"

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
