"""What a price charges for a quantity in one period, for every pricing model Stripe has.

The toolkit used to compute ``unit_amount x quantity`` everywhere, which is $0 for a tiered
price (its ``unit_amount`` is null) and wrong for package and decimal prices. This is the one
place that arithmetic lives (lowest stage: rows, analysis, actions and reports all use it).

Stripe's rules (docs.stripe.com):

- **per_unit** (``unit_amount``, or ``unit_amount_decimal`` in fractional minor units): the
  amount is ``unit x quantity``, rounded once at the line to the nearest minor unit
  (billing/subscriptions/decimal-amounts: "rounding occurs after the quantity is multiplied by
  the decimal amount ... 1.5, which is then rounded up to 2 cents").
- **transform_quantity** ``{divide_by, round}`` (package pricing): the quantity is divided and
  rounded ``up`` or ``down`` before the unit amount applies ("charges $10 for every 5 users
  (or portion thereof)": 6 users are 2 packages); it cannot be combined with tiers.
- **tiered**, ``tiers_mode=volume``: the whole quantity is priced at the tier it falls in
  ("The entire quantity is multiplied by the unit cost of the tier": 6 fonts at the 6-10 tier,
  6 x 6.5 USD = 39 USD), plus that tier's ``flat_amount``.
- **tiered**, ``tiers_mode=graduated``: each tier prices the units that fall in it, plus its
  ``flat_amount`` ("The quantity is multiplied by the amount for each tier and the totals for
  each tier are summed together"). A tier's ``up_to`` is its upper bound, inclusive; the last
  is ``inf`` (``null`` in responses). Tiers arrive only when expanded (``expand[]=tiers``).
- **metered** (``recurring.usage_type=metered``): billed in arrears on usage, no quantity. Stripe's
  MRR excludes it ("MRR calculations exclude ... any metered (usage based) products",
  docs.stripe.com/billing/subscriptions/analytics/glossary); so do the toolkit's MRR, ARR,
  recurring totals and unused-time refunds (:func:`recurring_amount`).

A quantity of 0 costs 0 (no unit falls in any tier, so no tier's flat amount applies).

**Currency options** (multi-currency prices, API reference Prices ``currency_options``): a price
has a default ``currency`` and may carry per-currency ``unit_amount``/``unit_amount_decimal``/
``tiers``/``tax_behavior``. A subscription in one of those currencies is billed at that option,
while its item's ``price.unit_amount`` and ``price.currency`` stay the default's. So every amount
here is taken *in the subscription's currency* (:func:`in_currency`); ``currency_options`` is
"not included by default" and ``data.items.data.price.currency_options`` is five levels, so the
readers retrieve such a price on its own (:func:`price_reads`), and only when a subscription's
currency differs from its price's. A price read without the option it bills in has an unknown
amount (:attr:`PriceTerms.known` False), never the default currency's figure. Coupons likewise:
an ``amount_off`` coupon may carry ``currency_options[cur].amount_off`` (:func:`coupon_amount_off`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["Tier", "PriceTerms", "price_terms", "period_amount", "recurring_amount", "is_metered", "is_tiered",
           "tiers_missing", "unit_text", "unit_minor", "price_ids_needing_tiers", "with_tiers", "in_currency",
           "option_missing", "price_reads", "with_price_details", "coupon_amount_off", "coupon_ids_needing_options",
           "with_coupon_options", "subscription_currency", "subscription_discounts"]


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def _round(value: Decimal) -> int:
    """To the nearest minor unit, halves up (Stripe's line-level rounding)."""
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Tier:
    """One tier: units up to ``up_to`` (inclusive; None: no bound) at ``unit`` each, plus ``flat``."""

    up_to: int | None
    unit: Decimal
    flat: Decimal


@dataclass(frozen=True)
class PriceTerms:
    """A price's pricing model, read once from the Stripe object (hashable, so shapes can hold it)."""

    price_id: str
    currency: str
    scheme: str = "per_unit"  # per_unit | tiered
    unit: Decimal = Decimal(0)
    tiers_mode: str | None = None  # volume | graduated
    tiers: tuple[Tier, ...] | None = None  # None: a tiered price read without its tiers
    divide_by: int | None = None
    round_up: bool = True
    usage_type: str = "licensed"
    #: billed in a currency whose option was not read (``currency_options`` not expanded): amount unknown
    option_missing: bool = False

    @property
    def metered(self) -> bool:
        return self.usage_type == "metered"

    @property
    def tiered(self) -> bool:
        return self.scheme == "tiered"

    @property
    def known(self) -> bool:
        """Whether the amount can be computed (a tiered price needs its tiers; a price billed in
        another currency than its default needs that currency's option)."""
        return not self.option_missing and (not self.tiered or bool(self.tiers))

    def billed_units(self, quantity: int) -> int:
        """The quantity after ``transform_quantity`` (package pricing)."""
        if not self.divide_by or self.divide_by <= 1:
            return quantity
        return -(-quantity // self.divide_by) if self.round_up else quantity // self.divide_by

    def exact(self, quantity: int) -> Decimal:
        """The period's amount before rounding, in minor units (0 when the tiers are unknown)."""
        if quantity <= 0 or self.option_missing:
            return Decimal(0)
        if not self.tiered:
            return self.unit * self.billed_units(quantity)
        tiers = self.tiers or ()
        if not tiers:
            return Decimal(0)
        if self.tiers_mode == "graduated":
            total, lower = Decimal(0), 0
            for tier in tiers:
                upper = quantity if tier.up_to is None else min(quantity, tier.up_to)
                if upper > lower:
                    total += tier.unit * (upper - lower) + tier.flat
                if tier.up_to is None or tier.up_to >= quantity:
                    break
                lower = tier.up_to
            return total
        tier = self.tier_for(quantity)
        return tier.unit * quantity + tier.flat

    def tier_for(self, quantity: int) -> Tier:
        """The tier ``quantity`` falls in (volume mode prices every unit at it)."""
        tiers: tuple[Tier, ...] = self.tiers or (Tier(None, Decimal(0), Decimal(0)),)
        return next((t for t in tiers if t.up_to is None or quantity <= t.up_to), tiers[-1])

    def amount(self, quantity: int) -> int:
        """What ``quantity`` costs for one period, in minor units, rounded once."""
        return _round(self.exact(quantity))

    def describe(self, quantity: int, fmt: Any = None) -> str:
        """``5 seats, volume tiers: $12.00 each at this count`` and the like; ``fmt(minor)``
        formats an amount (default: the bare minor units)."""
        show = fmt or (lambda v: f"{v} {self.currency}")

        def money(value: Decimal) -> str:
            whole = _round(value)
            return show(whole) if value == whole else f"{show(whole)} ({value.normalize()} minor units)"
        if self.metered:
            base = (f"metered, billed in arrears on usage at {unit_text(self, fmt)}" if self.known
                    else "metered, billed in arrears on usage (tiers not read)")
            return base
        if self.option_missing:
            return f"{quantity} x price in {self.currency.upper()} (its currency option not read: amount unknown)"
        if self.tiered and not self.known:
            return f"{quantity} x tiered price (tiers not read: amount unknown)"
        if self.tiered and self.tiers_mode == "volume":
            tier = self.tier_for(quantity)
            flat = f" + {money(tier.flat)} flat" if tier.flat else ""
            return f"{quantity}, volume tiers: {money(tier.unit)} each at this count{flat} = {show(self.amount(quantity))}"
        if self.tiered:
            return f"{quantity}, graduated tiers = {show(self.amount(quantity))}"
        if self.divide_by and self.divide_by > 1:
            packs = self.billed_units(quantity)
            return (f"{quantity} in packages of {self.divide_by} (rounded {'up' if self.round_up else 'down'}): "
                    f"{packs} x {money(self.unit)} = {show(self.amount(quantity))}")
        return f"{quantity} x {money(self.unit)} = {show(self.amount(quantity))}"


def _tiers(raw: Any) -> tuple[Tier, ...] | None:
    if not isinstance(raw, list) or not raw:
        return None
    out: list[Tier] = []
    for t in raw:
        t = t if isinstance(t, dict) else {}
        up = t.get("up_to")
        unit = _dec(t.get("unit_amount_decimal"))
        unit = unit if unit is not None else (_dec(t.get("unit_amount")) or Decimal(0))
        flat = _dec(t.get("flat_amount_decimal"))
        flat = flat if flat is not None else (_dec(t.get("flat_amount")) or Decimal(0))
        out.append(Tier(None if up in (None, "inf") else int(up), unit, flat))
    return tuple(out)


def in_currency(price: Any, currency: str | None) -> Any:
    """The price as Stripe bills it in ``currency``: its ``currency_options[currency]`` amounts
    (unit, decimal, tiers, tax behaviour) over the default's, with ``currency`` set. The price
    itself when ``currency`` is None or its default, or when the option was not read (see
    :func:`option_missing`). Never mutates ``price``."""
    if not isinstance(price, dict) or not currency:
        return price
    cur = str(currency).lower()
    if str(price.get("currency") or "").lower() == cur:
        return price
    options = price.get("currency_options")
    option = options.get(cur) if isinstance(options, dict) else None
    if not isinstance(option, dict):
        return price
    billed = dict(price)
    billed.update(currency=cur, unit_amount=option.get("unit_amount"),
                  unit_amount_decimal=option.get("unit_amount_decimal"), tiers=option.get("tiers"))
    if option.get("tax_behavior"):
        billed["tax_behavior"] = option["tax_behavior"]
    return billed


def option_missing(price: Any, currency: str | None) -> bool:
    """Billed in ``currency``, a currency other than the price's default, without that
    currency's option at hand: the price's own amounts are the wrong currency's."""
    if not isinstance(price, dict) or not currency or not price.get("currency"):
        return False
    cur = str(currency).lower()
    if str(price.get("currency")).lower() == cur:
        return False
    options = price.get("currency_options")
    return not (isinstance(options, dict) and isinstance(options.get(cur), dict))


def price_terms(price: Any, currency: str | None = None) -> PriceTerms:
    """The pricing model of a Stripe price object (a dict; an id alone prices at 0), billed in
    ``currency`` (the subscription's; None: the price's default) -- :func:`in_currency`."""
    missing = option_missing(price, currency)
    p = in_currency(price, currency) if isinstance(price, dict) else {"id": price}
    unit = _dec(p.get("unit_amount_decimal"))
    unit = unit if unit is not None else (_dec(p.get("unit_amount")) or Decimal(0))
    tq_raw, rec_raw = p.get("transform_quantity"), p.get("recurring")
    tq: dict[str, Any] = tq_raw if isinstance(tq_raw, dict) else {}
    rec: dict[str, Any] = rec_raw if isinstance(rec_raw, dict) else {}
    terms = PriceTerms(
        price_id=str(p.get("id") or ""), currency=str(p.get("currency") or "usd").lower(),
        scheme=str(p.get("billing_scheme") or "per_unit"), unit=unit, tiers_mode=p.get("tiers_mode"),
        tiers=_tiers(p.get("tiers")), divide_by=int(tq["divide_by"]) if tq.get("divide_by") else None,
        round_up=str(tq.get("round") or "up") != "down", usage_type=str(rec.get("usage_type") or "licensed"),
        option_missing=missing)
    if missing:  # the default's amounts are another currency's: say the billed currency, amount unknown
        terms = PriceTerms(**{**terms.__dict__, "currency": str(currency).lower()})
    return terms


def period_amount(price: Any, quantity: int, currency: str | None = None) -> int:
    """What ``quantity`` of ``price`` costs for one billing period, in minor units of ``currency``
    (the subscription's; None: the price's default), under the price's own model (per unit,
    decimal, package, volume or graduated tiers), rounded once."""
    return price_terms(price, currency).amount(quantity)


def recurring_amount(price: Any, quantity: int, currency: str | None = None) -> int:
    """The amount one period recurs at in ``currency``, as Stripe's MRR counts it: a metered
    price's usage is not recurring revenue (0), any other price its :func:`period_amount`."""
    terms = price_terms(price, currency)
    return 0 if terms.metered else terms.amount(quantity)


def is_metered(price: Any) -> bool:
    return price_terms(price).metered


def is_tiered(price: Any) -> bool:
    return isinstance(price, dict) and price.get("billing_scheme") == "tiered"


def tiers_missing(price: Any) -> bool:
    """A tiered price read without its tiers (Stripe includes them only when expanded)."""
    return is_tiered(price) and not price.get("tiers")


def unit_text(terms: PriceTerms, fmt: Any = None) -> str:
    """The price per unit as people read it: ``$15.00``, ``1999.5 minor units``, ``tiered``."""
    show = fmt or (lambda v: f"{v} {terms.currency}")
    if terms.tiered:
        return f"{terms.tiers_mode or 'tiered'} tiers"
    whole = _round(terms.unit)
    text = show(whole) if terms.unit == whole else f"{terms.unit.normalize()} minor units"
    if terms.divide_by and terms.divide_by > 1:
        text += f" per {terms.divide_by}"
    return text


def unit_minor(terms: PriceTerms, quantity: int) -> int:
    """One unit's price in whole minor units at ``quantity``, for display and the per-unit fields:
    the unit amount (rounded), a package's price, the volume tier's unit at this count, or the
    graduated average (the period's amount is :meth:`PriceTerms.amount`, never this x quantity)."""
    if terms.tiered:
        if not terms.known:
            return 0
        if terms.tiers_mode == "volume":
            return _round(terms.tier_for(max(1, quantity)).unit)
        return _round(terms.exact(max(1, quantity)) / max(1, quantity))
    return _round(terms.unit)


def price_ids_needing_tiers(subscriptions: list[dict[str, Any]]) -> list[str]:
    """The ids of the tiered prices on these subscriptions' items that arrived without tiers."""
    ids = {str(it["price"]["id"]) for s in subscriptions for it in ((s.get("items") or {}).get("data") or [])
           if isinstance(it.get("price"), dict) and tiers_missing(it["price"]) and it["price"].get("id")}
    return sorted(ids)


def with_tiers(subscriptions: list[dict[str, Any]], prices: list[dict[str, Any]]) -> None:
    """Put the tiers of ``prices`` (retrieved with ``expand=[tiers]``) on every item that has
    that price, in place."""
    tiers = {str(p.get("id")): p.get("tiers") for p in prices if isinstance(p, dict) and p.get("tiers")}
    for s in subscriptions:
        for it in ((s.get("items") or {}).get("data") or []):
            price = it.get("price")
            if isinstance(price, dict) and str(price.get("id")) in tiers and not price.get("tiers"):
                price["tiers"] = tiers[str(price["id"])]



def subscription_currency(sub: dict[str, Any]) -> str | None:
    """The currency a subscription bills in: its own ``currency`` (Stripe always sets it; a
    multi-currency price bills there at its option), else -- a shape without one -- its first
    item's price's. The one place that answers it: every amount of a subscription is taken in
    this currency (:func:`in_currency`, :func:`coupon_amount_off`). None: nothing says."""
    cur = sub.get("currency")
    if cur:
        return str(cur).lower()
    for it in _items(sub):
        price = it.get("price")
        if isinstance(price, dict) and price.get("currency"):
            return str(price["currency"]).lower()
    return None


def subscription_discounts(sub: dict[str, Any], customer: dict[str, Any] | None) -> list[Any]:
    """The discounts a subscription's invoices take, each as read (expanded, or an id): its own
    ``discounts``, else its customer's (``customer.discounts``, or the single ``customer.discount``).
    Stripe: "A coupon that you add to a customer applies to all subscriptions for that customer,
    including subscriptions added later" (docs.stripe.com/billing/subscriptions/coupons), and a
    subscription's ``discounts`` "if not specified or empty, inherits the discount from the
    subscription's customer" (API reference, Create a subscription). The one rule the case, the
    portfolio, the account read and the store apply."""
    own = [d for d in (sub.get("discounts") or []) if d]
    if own:
        return own
    cust = customer if isinstance(customer, dict) else {}
    listed = [d for d in (cust.get("discounts") or []) if d]
    if listed:
        return listed
    single = cust.get("discount")
    return [single] if single else []


def _items(sub: dict[str, Any]) -> list[dict[str, Any]]:
    return [it for it in ((sub.get("items") or {}).get("data") or []) if isinstance(it, dict)]


def price_reads(subscriptions: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The prices on these subscriptions' items to retrieve on their own, each with its
    ``expand``: ``tiers`` for a tiered price read without them, ``currency_options`` (and the
    option's tiers) for a price billed in another currency than its default without that
    option. An ordinary account (one currency, per-unit prices) needs none: no request."""
    out: dict[str, set[str]] = {}
    for s in subscriptions:
        cur = subscription_currency(s)
        for it in _items(s):
            price = it.get("price")
            if not isinstance(price, dict) or not price.get("id"):
                continue
            pid = str(price["id"])
            billed = in_currency(price, cur)
            if option_missing(price, cur):
                out.setdefault(pid, set()).add("currency_options")
                if is_tiered(price):
                    out[pid].add(f"currency_options.{cur}.tiers")
            elif billed is price and tiers_missing(price):
                out.setdefault(pid, set()).add("tiers")
            elif billed is not price and is_tiered(price) and not billed.get("tiers"):
                out.setdefault(pid, set()).add(f"currency_options.{cur}.tiers")
    return {pid: sorted(paths) for pid, paths in sorted(out.items())}


def with_price_details(subscriptions: list[dict[str, Any]], prices: list[dict[str, Any]]) -> None:
    """Put what ``prices`` (retrieved with :func:`price_reads`' expansions) add -- ``tiers`` and
    ``currency_options`` -- on every item that has that price, in place."""
    by_id = {str(p.get("id")): p for p in prices if isinstance(p, dict)}
    for s in subscriptions:
        for it in _items(s):
            price = it.get("price")
            got = by_id.get(str(price.get("id"))) if isinstance(price, dict) else None
            if got is None or not isinstance(price, dict):
                continue
            if got.get("tiers") and not price.get("tiers"):
                price["tiers"] = got["tiers"]
            if isinstance(got.get("currency_options"), dict):
                price["currency_options"] = got["currency_options"]


def coupon_amount_off(coupon: Any, currency: str | None) -> int | None:
    """What an ``amount_off`` coupon takes off in ``currency``: its own ``amount_off`` in its own
    currency, else its ``currency_options[currency].amount_off`` (API reference, Coupons); None
    when it has no amount in that currency (Stripe refuses it there) or is a percentage."""
    if not isinstance(coupon, dict) or coupon.get("amount_off") is None:
        return None
    cur = str(currency or coupon.get("currency") or "").lower()
    if str(coupon.get("currency") or "").lower() == cur:
        return int(coupon["amount_off"])
    options = coupon.get("currency_options")
    option = options.get(cur) if isinstance(options, dict) else None
    if isinstance(option, dict) and option.get("amount_off") is not None:
        return int(option["amount_off"])
    return None


def _coupon(discount: Any) -> Any:
    if not isinstance(discount, dict):
        return None
    return (discount.get("source") or {}).get("coupon") or discount.get("coupon")


def coupon_ids_needing_options(discounts: list[tuple[Any, str | None]]) -> list[str]:
    """Of (discount, currency it applies in) pairs, the ids of the expanded ``amount_off`` coupons
    in another currency read without their ``currency_options`` ("not included by default";
    ``data.discounts.source.coupon.currency_options`` is five levels): each is retrieved once."""
    ids: set[str] = set()
    for disc, cur in discounts:
        coupon = _coupon(disc)
        if (isinstance(coupon, dict) and coupon.get("amount_off") is not None and cur and coupon.get("id")
                and str(coupon.get("currency") or "").lower() != cur.lower()
                and not isinstance(coupon.get("currency_options"), dict)):
            ids.add(str(coupon["id"]))
    return sorted(ids)


def with_coupon_options(discounts: list[Any], coupons: list[dict[str, Any]]) -> None:
    """Put the ``currency_options`` of ``coupons`` on every expanded coupon of ``discounts``, in place."""
    by_id = {str(c.get("id")): c.get("currency_options") for c in coupons if isinstance(c, dict)}
    for disc in discounts:
        coupon = _coupon(disc)
        if isinstance(coupon, dict) and isinstance(by_id.get(str(coupon.get("id"))), dict):
            coupon["currency_options"] = by_id[str(coupon["id"])]
