"""Discounts: coupons redeemed onto subscriptions, and what they take off an invoice.

Rules from docs.stripe.com (coupons, discounts, the Discount object):

- Redeeming a coupon makes a ``discount`` (``di_...``; ``source: {type: coupon, coupon}``,
  ``start``, ``end`` for ``repeating``) and counts a redemption (``times_redeemed``);
  ``redeem_by`` and ``max_redemptions`` only limit when a coupon can be applied, so a
  discount outlives them (refused with ``coupon_expired`` once they pass).
- ``once`` discounts the first invoice it takes money off, and leaves the subscription when
  the next invoice is made;
  ``repeating`` every invoice created in the ``duration_in_months`` after it was applied
  (a yearly plan's first invoice is discounted in full); ``forever`` every invoice.
- A subscription's discounts are invoice-level: each line that is ``discountable`` (and
  whose product is in ``applies_to.products`` when set) carries its share in
  ``discount_amounts``; the invoice lists them in ``discounts`` and sums them per
  discount in ``total_discount_amounts``; ``subtotal`` stays the undiscounted sum and
  ``total`` (so ``amount_due``) is net. ``percent_off`` is taken per line, rounded;
  ``amount_off`` is capped at the eligible amount and split in proportion to it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from fractions import Fraction
from typing import Any

from ..errors import invalid, missing
from ..params import Params
from ..store import Obj, Store

__all__ = ["discounts_param", "new_discount", "redeem_for_customer", "replace", "unredeem", "active", "apply", "consume", "coupon_of",
           "percent_net"]


def _add_months(at: int, months: int) -> int:
    base = dt.datetime.fromtimestamp(at, dt.timezone.utc)
    total = base.month - 1 + months
    year, month = base.year + total // 12, total % 12 + 1
    day = min(base.day, calendar.monthrange(year, month)[1])
    return int(base.replace(year=year, month=month, day=day).timestamp())


def _pct(amount: int, percent: Any) -> int:
    """``percent`` of ``amount``, rounded half away from zero, exactly."""
    part = Fraction(amount) * Fraction(str(percent)) / 100
    return int(math.copysign(math.floor(abs(part) + Fraction(1, 2)), part))


def amount_off_in(coupon: Obj, currency: str) -> int | None:
    """An ``amount_off`` coupon's amount in ``currency``: its own in its own currency, else its
    ``currency_options[currency].amount_off`` (API reference, Coupons); None: none there (an
    amount-off coupon in another currency is ignored, docs.stripe.com/invoicing/multi-currency-customers)."""
    if coupon.get("amount_off") is None:
        return None
    cur = currency.lower()
    if coupon.get("currency") == cur:
        return int(coupon["amount_off"])
    option = (coupon.get("_currency_options") or {}).get(cur)
    return int(option["amount_off"]) if isinstance(option, dict) and option.get("amount_off") is not None else None


def coupon_of(store: Store, discount: Obj) -> Obj | None:
    """The discount's coupon (still there when the coupon itself was deleted)."""
    return store.maybe("coupon", str((discount.get("source") or {}).get("coupon")))


def new_discount(store: Store, coupon_id: str, *, customer: str, subscription: str | None, currency: str,
                 param: str) -> Obj:
    """Redeem ``coupon_id`` for a subscription: checks, a new ``discount``, one more redemption."""
    coupon = store.get("coupon", coupon_id, param)
    spent = coupon["max_redemptions"] is not None and coupon["times_redeemed"] >= coupon["max_redemptions"]
    if spent or (coupon["redeem_by"] is not None and coupon["redeem_by"] <= store.wall_now()):
        raise invalid(f"Coupon expired: {coupon_id}", param, "coupon_expired")
    if coupon["amount_off"] is not None and amount_off_in(coupon, currency) is None:
        raise invalid(f"The coupon {coupon_id} is for {str(coupon['currency']).upper()} and cannot be applied to "
                      f"a subscription in {currency.upper()}.", param)
    start = store.now(customer)
    months = coupon["duration_in_months"] if coupon["duration"] == "repeating" else None
    disc: Obj = {
        "id": store.new_id("di"), "object": "discount", "checkout_session": None, "customer": customer,
        "customer_account": None, "end": _add_months(start, int(months)) if months else None, "invoice": None,
        "invoice_item": None, "promotion_code": None, "source": {"coupon": coupon_id, "type": "coupon"},
        "start": start, "subscription": subscription, "subscription_item": None,
    }
    coupon["times_redeemed"] += 1
    store.insert(disc)
    store.emit("customer.discount.created", disc)
    return disc


def discounts_param(store: Store, p: Params, sub: Obj) -> list[str] | None:
    """``discounts=[{coupon}|{discount}|{promotion_code}]`` (or ``""`` to clear) for ``sub``:
    the new list of discount ids, redeeming coupons; None when the param is absent."""
    if not p.has("discounts"):
        return None
    current = list(sub.get("discounts") or [])
    out: list[str] = []
    for n, raw in enumerate(p.list("discounts")):
        dp = Params(raw if isinstance(raw, dict) else {}, prefix=f"discounts[{n}][")
        dp.allow("coupon", "discount", "promotion_code")
        given = [k for k in ("coupon", "discount", "promotion_code") if dp.has(k)]
        if len(given) != 1:
            raise invalid(f"You must pass exactly one of coupon, discount or promotion_code in discounts[{n}].",
                          f"discounts[{n}]")
        name = f"discounts[{n}][{given[0]}]"
        if given[0] == "promotion_code":
            raise missing("promotion_code", dp.req("promotion_code"), name)
        if given[0] == "discount":
            did = dp.req("discount")
            if did not in current:
                raise invalid(f"The discount {did} is not applied to this subscription.", name)
            out.append(did)
            continue
        disc = new_discount(store, dp.req("coupon"), customer=sub["customer"], subscription=sub["id"],
                            currency=sub["currency"], param=name)
        out.append(disc["id"])
    if len(set(out)) != len(out):
        raise invalid("You cannot apply the same discount more than once.", "discounts")
    return out


def replace(store: Store, sub: Obj, ids: list[str]) -> None:
    """Set the subscription's discounts; those it no longer has end (``customer.discount.deleted``)."""
    for did in sub.get("discounts") or []:
        disc = store.maybe("discount", did)
        if disc is not None and did not in ids:
            store.emit("customer.discount.deleted", disc, customer_id=sub["customer"])
    sub["discounts"] = list(ids)


def unredeem(store: Store, ids: list[str]) -> None:
    """Undo redemptions (a request that created nothing after all)."""
    for did in ids:
        disc = store.pop("discount", did)
        coupon = coupon_of(store, disc) if disc else None
        if coupon is not None:
            coupon["times_redeemed"] = max(int(coupon["times_redeemed"]) - 1, 0)


def redeem_for_customer(store: Store, coupon_id: str, customer_id: str) -> Obj:
    """Put ``coupon_id`` on the customer (``customer.discount``; the Dashboard's "apply coupon" on a
    customer: this API version takes no coupon on customers). Every subscription of the customer
    without discounts of its own bills with it, including later ones (docs.stripe.com/billing/
    subscriptions/coupons: "A coupon that you add to a customer applies to all subscriptions for
    that customer")."""
    cust = store.get("customer", customer_id, "customer")
    disc = new_discount(store, coupon_id, customer=customer_id, subscription=None,
                        currency=str(cust.get("currency") or "usd"), param="coupon")
    cust["discount"] = disc
    return disc


def _customer_discount(store: Store, sub: Obj, at: int) -> list[Obj]:
    """The customer's discount, which a subscription without its own inherits."""
    cust = store.maybe("customer", str(sub.get("customer")))
    ref = (cust or {}).get("discount")
    disc = store.maybe("discount", str(ref.get("id"))) if isinstance(ref, dict) else None
    if disc is None or disc.get("_used") or (disc["end"] is not None and int(disc["end"]) <= at):
        return []
    return [disc]


def active(store: Store, sub: Obj, at: int, *, prune: bool = False) -> list[Obj]:
    """The subscription's discounts in force at ``at`` -- its own, else its customer's (API
    reference, Create a subscription, ``discounts``); with ``prune`` its own ended ones leave it."""
    if not sub.get("discounts"):
        return _customer_discount(store, sub, at)
    keep, now = [], []
    for did in sub.get("discounts") or []:
        disc = store.maybe("discount", did)
        if disc is None:
            continue
        if disc.get("_used") or (disc["end"] is not None and int(disc["end"]) <= at):
            if prune:
                store.emit("customer.discount.deleted", disc, customer_id=sub["customer"])
            continue
        keep.append(did)
        now.append(disc)
    if prune:
        sub["discounts"] = keep
    return now


def _eligible(store: Store, line: Obj, coupon: Obj) -> bool:
    if not line.get("discountable") or int(line["amount"]) <= 0:
        return False
    products = (coupon.get("applies_to") or {}).get("products")
    if products is None:
        return True
    product = ((line.get("pricing") or {}).get("price_details") or {}).get("product")
    return product in products


def apply(store: Store, inv: Obj, discounts: list[Obj]) -> None:
    """Set each line's ``discount_amounts`` and the invoice's ``discounts``,
    ``total_discount_amounts`` and ``total`` for ``discounts`` (in order)."""
    lines = inv["_lines"]
    for line in lines:
        line["discount_amounts"] = []
    totals: list[dict[str, Any]] = []
    for disc in discounts:
        coupon = coupon_of(store, disc)
        if coupon is None:
            continue
        eligible = [ln for ln in lines if _eligible(store, ln, coupon)]
        base = {ln["id"]: int(ln["amount"]) - sum(int(d["amount"]) for d in ln["discount_amounts"]) for ln in eligible}
        offs = _split(coupon, base, str(inv.get("currency") or ""))
        for ln in eligible:
            ln["discount_amounts"].append({"amount": offs[ln["id"]], "discount": disc["id"]})
        totals.append({"amount": sum(offs.values()), "discount": disc["id"]})
    inv["discounts"] = [d["id"] for d in discounts]
    inv["total_discount_amounts"] = totals
    total = int(inv["subtotal"]) - sum(int(t["amount"]) for t in totals)
    inv.update(total=total, total_excluding_tax=total)


def _split(coupon: Obj, base: dict[str, int], currency: str) -> dict[str, int]:
    if coupon["percent_off"] is not None:
        return {k: min(v, _pct(v, coupon["percent_off"])) for k, v in base.items()}
    whole = sum(base.values())
    off = min(amount_off_in(coupon, currency) or 0, whole)
    out: dict[str, int] = {}
    given = 0
    for n, (k, v) in enumerate(base.items()):
        share = off - given if n == len(base) - 1 else (off * v // whole if whole else 0)
        out[k] = share
        given += share
    return out


def consume(store: Store, sub: Obj, inv: Obj) -> None:
    """A ``once`` discount that took money off ``inv`` is used up: no later invoice gets it,
    and it leaves the subscription when the next one is made."""
    used = {t["discount"] for t in inv.get("total_discount_amounts") or [] if int(t["amount"]) > 0}
    for did in sub.get("discounts") or []:
        disc = store.maybe("discount", did)
        coupon = coupon_of(store, disc) if disc else None
        if disc is not None and did in used and coupon is not None and coupon["duration"] == "once":
            disc["_used"] = True


def percent_net(store: Store, sub: Obj, amount: int, product: str | None, at: int) -> int:
    """``amount`` less the subscription's ``percent_off`` discounts for ``product`` at ``at``
    (prorations under flexible billing mode's ``proration_discounts: included``)."""
    net = amount
    for disc in active(store, sub, at):
        coupon = coupon_of(store, disc)
        if coupon is None or coupon["percent_off"] is None:
            continue
        products = (coupon.get("applies_to") or {}).get("products")
        if products is not None and product not in products:
            continue
        net -= _pct(net, coupon["percent_off"])
    return net
