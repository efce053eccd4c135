"""Each live subscription item's MRR net of forever coupons: the ``item_mrr`` table the
current metrics (``mrr``, ``plans``, ``intervals``, ``seats``) sum.

Stripe counts a forever coupon in MRR and leaves once and repeating ones out ("If you apply
a coupon with a forever duration, the discount will apply to your MRR" --
support.stripe.com/questions/billing-analytics). The arithmetic is the case's and the
portfolio's own (:func:`~billing_nb.analysis.terms.net_annual`: percentages on the items they
apply to, then amounts off the period, at most what the eligible items cost), done exactly
in Python and put beside the store's tables like ``calendar_months``, so the SQL stays
portable: a subscription's MRR is its net annual amount / 12 rounded half up (as
``portfolio.monthly_amount``), shared among its items by what each is left after its
discounts (largest remainder: the items add up to the subscription).

Which discounts: the subscription's own (``subscriptions.discount_ids``), else its customer's
(``customers.discount_id``): a subscription created without discounts inherits the
customer's (API reference, Create a subscription, ``discounts``). An ``amount_off`` coupon
counts in the subscription's currency: its own amount in its own currency, else its
``currency_options`` amount there (minor units of that currency: JPY has none below the yen).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from math import floor
from typing import Any

import pandas as pd

from ..analysis.terms import ItemShape, RecurringDiscount, net_annual, recurring_discounts
from ..money import Money, round_half_up
from ..reading.prices import subscription_discounts

__all__ = ["ITEM_MRR_COLUMNS", "item_mrr", "split_net"]

ITEM_MRR_COLUMNS = ["item_id", "subscription_id", "mrr"]
_PER_YEAR = {"day": Fraction(365), "week": Fraction(52), "month": Fraction(12), "year": Fraction(1)}

_ITEMS = """
SELECT s.id AS subscription_id, s.currency AS sub_currency, s.discount_ids, c.discount_id AS customer_discount,
       si.id AS item_id, si.quantity, si.amount, p.id AS price_id, p.product_id, p.currency, p.unit_amount,
       p.recurring_interval, p.recurring_interval_count
FROM subscriptions s
JOIN subscription_items si ON si.subscription_id = s.id
JOIN prices p ON p.id = si.price_id
LEFT JOIN customers c ON c.id = s.customer_id
WHERE s.status IN ('active', 'trialing', 'past_due') AND p.recurring_interval IS NOT NULL
ORDER BY s.id, si.created, si.id
"""
_DISCOUNTS = "SELECT id, duration, percent_off, amount_off, currency, applies_to_products, amount_off_options FROM discounts"


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and value != value) and value is not pd.NA


def _as_discount(row: dict[str, Any]) -> dict[str, Any]:
    """A ``discounts`` row as the Stripe discount it was read from (its coupon expanded), so the
    case's own rule reads it (:func:`~billing_nb.analysis.terms.recurring_discounts`: forever only,
    an ``amount_off`` in the subscription's currency or at its ``currency_options`` there)."""
    products = json.loads(row["applies_to_products"]) if _present(row.get("applies_to_products")) else None
    options = json.loads(row["amount_off_options"]) if _present(row.get("amount_off_options")) else {}
    coupon = {"duration": row.get("duration"),
              "percent_off": str(row["percent_off"]) if _present(row.get("percent_off")) else None,
              "amount_off": int(row["amount_off"]) if _present(row.get("amount_off")) else None,
              "currency": row.get("currency") if _present(row.get("currency")) else None,
              "currency_options": {str(c): {"amount_off": int(v)} for c, v in (options or {}).items()},
              "applies_to": {"products": products} if products else None}
    return {"id": str(row["id"]), "object": "discount", "end": None, "source": {"type": "coupon", "coupon": coupon}}


def split_net(items: tuple[ItemShape, ...], discounts: tuple[RecurringDiscount, ...]) -> dict[str, Fraction]:
    """Each item's annual amount after the forever discounts, exactly, adding up to
    :func:`net_annual` (an amount off is taken from the items it applies to, in proportion)."""
    per_item = {i.item_id: i.annual_amount for i in items}
    for d in discounts:
        if d.percent_off is not None:
            for i in items:
                if d.applies(i):
                    per_item[i.item_id] *= 1 - d.percent_off / 100
    net = dict(per_item)
    for d in discounts:
        eligible = [i for i in items if d.applies(i)]
        if not d.amount_off or not eligible:
            continue
        first = eligible[0]
        base = sum((per_item[i.item_id] for i in eligible), Fraction(0))
        off = min(Fraction(d.amount_off) * _PER_YEAR.get(first.interval, Fraction(12)) / max(1, first.interval_count), base)
        for i in eligible:
            net[i.item_id] -= off * per_item[i.item_id] / base if base else 0
    total = net_annual(items, discounts)
    clamped = {k: max(Fraction(0), v) for k, v in net.items()}
    whole = sum(clamped.values(), Fraction(0))
    if whole != total:  # amounts off beyond an item's share: scale to the subscription's total
        clamped = {k: (v * total / whole if whole else Fraction(0)) for k, v in clamped.items()}
    return clamped


def _allocate(exact: dict[str, Fraction], total: int) -> dict[str, int]:
    """Whole minor units adding up to ``total``: floors, then the largest remainders."""
    out = {k: floor(v) for k, v in exact.items()}
    left = total - sum(out.values())
    for k in sorted(exact, key=lambda k: exact[k] - floor(exact[k]), reverse=True)[:max(0, left)]:
        out[k] += 1
    return out


def _item(r: dict[str, Any], currency: str) -> ItemShape:
    """The item as the case's terms read it. ``amount`` is what it recurs at per period under its
    price's model (tiers, packages, decimals; metered 0), stored by the sync; without it (a store
    synced before it was kept) ``unit_amount x quantity`` -- only in the price's own currency: a
    subscription billed in another currency bills at an option the store does not hold, so its
    amount is unknown (0, as a tiered price's null ``unit_amount``), never the default's."""
    if _present(r.get("amount")):
        unit, quantity = int(r["amount"]), 1
    elif _present(r.get("unit_amount")) and str(r.get("currency") or currency).lower() == currency:
        unit, quantity = int(r["unit_amount"] or 0), int(r["quantity"] or 1)
    else:
        unit, quantity = 0, 1
    return ItemShape(str(r["item_id"]), str(r["price_id"]), str(r["product_id"]), Money(unit, currency),
                     str(r["recurring_interval"]), int(r["recurring_interval_count"] or 1), quantity, False, 0, 0)


def item_mrr(query: Callable[[str], pd.DataFrame]) -> pd.DataFrame:
    """One row per live subscription item: its MRR net of forever coupons (integer minor units
    of its price's currency), from the store's tables read through ``query``."""
    rows = query(_ITEMS).to_dict(orient="records")
    discounts = {str(r["id"]): r for r in query(_DISCOUNTS).to_dict(orient="records")}
    subs: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        subs.setdefault(str(r["subscription_id"]), []).append(r)
    out: list[dict[str, Any]] = []
    for sid, its in subs.items():
        # the subscription's currency: a multi-currency price bills there at its option (the item's amount)
        currency = str(its[0]["sub_currency"] or its[0]["currency"] or "usd").lower()
        own = json.loads(its[0]["discount_ids"]) if _present(its[0]["discount_ids"]) else []
        inherited = its[0]["customer_discount"] if _present(its[0]["customer_discount"]) else None
        ids = subscription_discounts({"discounts": own}, {"discount": inherited})  # its own, else its customer's
        terms = recurring_discounts([_as_discount(discounts[str(i)]) for i in ids if str(i) in discounts], currency, 0)
        items = tuple(_item(r, currency) for r in its)
        mrr = round_half_up(net_annual(items, terms) / 12)
        shares = _allocate({k: v / 12 for k, v in split_net(items, terms).items()}, mrr)
        out.extend({"item_id": r["item_id"], "subscription_id": sid, "mrr": shares[str(r["item_id"])]} for r in its)
    return pd.DataFrame(out, columns=ITEM_MRR_COLUMNS).astype({"mrr": "int64"})
