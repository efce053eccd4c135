"""What a price charges for a quantity in one period: per unit (integer or decimal), package
(``transform_quantity``), volume and graduated tiers, as Stripe bills them.

The sandbox keeps its own arithmetic (it imports nothing else from billing_nb). Stripe's rules:
a decimal unit amount is multiplied by the quantity and rounded once at the line, to the nearest
minor unit ("0.05 * 30 = 1.5, which is then rounded up to 2 cents",
docs.stripe.com/billing/subscriptions/decimal-amounts); ``transform_quantity`` divides the
quantity and rounds it ``up`` or ``down`` before the unit amount applies (billing/subscriptions/
quantity-transformation); ``volume`` prices the whole quantity at the tier it falls in,
``graduated`` each tier's units at that tier (subscriptions/pricing-models/tiered-pricing); a
tier's ``flat_amount`` is added once when any unit falls in it. Tiers live on the stored price
under ``_tiers`` (Stripe shows ``tiers`` only when expanded, :mod:`.render`).

A multi-currency price keeps its per-currency amounts under ``_currency_options`` (API reference,
Prices ``currency_options``: "not included by default"); a subscription in one of those
currencies bills at that option (:func:`in_currency`), while its item's ``price`` still shows the
default ``unit_amount`` and ``currency``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..store import Obj

__all__ = ["line_amount", "exact_amount", "unit_decimal", "is_metered", "tiers_of", "parse_tiers", "in_currency",
           "supports", "currency_options_of"]


def _d(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def currency_options_of(price: Obj) -> dict[str, Obj]:
    """The price's options by currency (the stored price's, or a copy's on an item)."""
    found = price.get("_currency_options")
    return found if isinstance(found, dict) else {}


def supports(price: Obj, currency: str) -> bool:
    """Whether a subscription in ``currency`` can bill this price: its default or an option."""
    cur = currency.lower()
    return price.get("currency") == cur or cur in currency_options_of(price)


def in_currency(price: Obj, currency: str | None) -> Obj:
    """The price as billed in ``currency``: its option's amounts (unit, decimal, tiers, tax
    behaviour) over the default's, with ``currency`` set; the price itself in its default currency."""
    cur = (currency or "").lower()
    option = currency_options_of(price).get(cur) if cur and cur != price.get("currency") else None
    if option is None:
        return price
    billed = dict(price)
    billed.update(currency=cur, unit_amount=option.get("unit_amount"), unit_amount_decimal=option.get("unit_amount_decimal"),
                  tax_behavior=option.get("tax_behavior") or price.get("tax_behavior"))
    billed["_tiers"] = option.get("_tiers")
    billed.pop("tiers", None)
    return billed


def tiers_of(price: Obj) -> list[Obj]:
    return list(price.get("_tiers") or price.get("tiers") or [])


def is_metered(price: Obj) -> bool:
    return (price.get("recurring") or {}).get("usage_type") == "metered"


def _unit(obj: Obj) -> Decimal:
    dec = _d(obj.get("unit_amount_decimal"))
    return dec if dec is not None else (_d(obj.get("unit_amount")) or Decimal(0))


def _flat(tier: Obj) -> Decimal:
    dec = _d(tier.get("flat_amount_decimal"))
    return dec if dec is not None else (_d(tier.get("flat_amount")) or Decimal(0))


def exact_amount(price: Obj, qty: int) -> Decimal:
    """The unrounded amount, in minor units."""
    if qty <= 0:
        return Decimal(0)
    if price.get("billing_scheme") == "tiered":
        tiers = tiers_of(price)
        if not tiers:
            return Decimal(0)
        if price.get("tiers_mode") == "graduated":
            total, lower = Decimal(0), 0
            for t in tiers:
                up = t.get("up_to")
                upper = qty if up is None else min(qty, int(up))
                if upper > lower:
                    total += _unit(t) * (upper - lower) + _flat(t)
                if up is None or int(up) >= qty:
                    break
                lower = int(up)
            return total
        tier = next((t for t in tiers if t.get("up_to") is None or qty <= int(t["up_to"])), tiers[-1])
        return _unit(tier) * qty + _flat(tier)
    tq = price.get("transform_quantity") or {}
    units = qty
    if tq.get("divide_by"):
        div = int(tq["divide_by"])
        units = -(-qty // div) if tq.get("round", "up") == "up" else qty // div
    return _unit(price) * units


def line_amount(price: Obj, qty: int) -> int:
    """What ``qty`` of ``price`` costs for one period, rounded once (halves up)."""
    return int(exact_amount(price, qty).to_integral_value(rounding=ROUND_HALF_UP))


def unit_decimal(price: Obj, qty: int) -> str:
    """The line's ``pricing.unit_amount_decimal``: the price's own for per-unit prices, the
    average per unit otherwise (tiered, package)."""
    if price.get("billing_scheme") != "tiered" and not (price.get("transform_quantity") or {}).get("divide_by"):
        return str(price.get("unit_amount_decimal") if price.get("unit_amount_decimal") is not None
                   else price.get("unit_amount") or 0)
    if qty <= 0:
        return "0"
    avg = exact_amount(price, qty) / qty
    text = f"{avg:.12f}".rstrip("0").rstrip(".")
    return text or "0"


def parse_tiers(raw: list[Any]) -> list[Obj]:
    """Create params' tiers as Stripe renders them (``up_to: inf`` becomes null; decimals as strings)."""
    out: list[Obj] = []
    for t in raw:
        t = t if isinstance(t, dict) else {}
        up = t.get("up_to")
        unit, unit_dec = t.get("unit_amount"), t.get("unit_amount_decimal")
        flat, flat_dec = t.get("flat_amount"), t.get("flat_amount_decimal")
        u = int(unit) if unit not in (None, "") else None
        f = int(flat) if flat not in (None, "") else None
        ud = str(unit_dec) if unit_dec not in (None, "") else (str(u) if u is not None else None)
        fd = str(flat_dec) if flat_dec not in (None, "") else (str(f) if f is not None else None)
        if u is None and ud is not None and Decimal(ud) == Decimal(ud).to_integral_value():
            u = int(Decimal(ud))
        if f is None and fd is not None and Decimal(fd) == Decimal(fd).to_integral_value():
            f = int(Decimal(fd))
        out.append({"flat_amount": f, "flat_amount_decimal": fd, "unit_amount": u, "unit_amount_decimal": ud,
                    "up_to": None if up in (None, "", "inf") else int(up)})
    return out
