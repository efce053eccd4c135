"""Account-wide views: plan mix, intervals, seats, churn risk, duplicates, the portal.

Pure functions over raw Stripe objects (as ``reading.account.read_account()``
returns them), each answering one question an analyst asks about the whole account,
as a DataFrame. Money stays in integer minor units; MRR of an annual price is its
amount divided by 12 (rounded half up), per currency.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, cast

import pandas as pd

from ..analysis.terms import ItemShape, net_annual, recurring_discounts
from ..exceptions import BadInputError
from ..money import Money, round_half_up
from ..reading.account import AccountSnapshot
from ..reading.objects import obj_id
from ..reading.prices import price_terms, subscription_currency, subscription_discounts, unit_minor
from ..reading.taxes import inclusive_percent

__all__ = ["monthly_amount", "inherited_discount", "plan_mix", "interval_mix", "seat_distribution", "churn_risk",
           "duplicate_subscriptions", "portal_validation", "mrr_totals", "unpaid_invoices", "LIVE_STATUSES", "UNREAD"]

LIVE_STATUSES = ("active", "trialing", "past_due")


def _items(sub: dict[str, Any]) -> list[dict[str, Any]]:
    return list((sub.get("items") or {}).get("data") or [])


def _price(item: dict[str, Any]) -> dict[str, Any]:
    price = item.get("price")
    return price if isinstance(price, dict) else {"id": price}


class _Unread:
    """The customer was not passed: unknown, not "none" (see :func:`monthly_amount`)."""

    def __repr__(self) -> str:
        return "UNREAD"


#: ``customer`` not given: taken from the subscription when it is expanded there, else unknown
UNREAD: Any = _Unread()


def inherited_discount(sub: dict[str, Any], customer: dict[str, Any] | None) -> list[Any]:
    """The discounts a subscription bills with, each as read (expanded, or an id): its own, else its
    customer's (:func:`~billing_nb.reading.prices.subscription_discounts`, the one rule)."""
    return subscription_discounts(sub, customer)


def _customer_for(sub: dict[str, Any], customer: Any) -> dict[str, Any] | None:
    """The customer whose discount ``sub`` may inherit: the one given (None: the caller says it has
    none), else the subscription's own ``customer`` when it came expanded. A subscription with
    discounts of its own needs none. Otherwise its MRR is unknown: refused, never counted gross."""
    if customer is not UNREAD:
        return customer if isinstance(customer, dict) else None
    if isinstance(sub.get("customer"), dict):
        return cast(dict[str, Any], sub["customer"])
    if sub.get("discounts"):
        return None
    raise BadInputError(
        f"subscription {sub.get('id') or '?'} has no discounts of its own, so it bills with its customer's "
        f"({obj_id(sub.get('customer')) or '?'}): pass the account's customers, read with "
        "data.discount.source.coupon expanded (reading.account.read_account does; e.g. mrr_totals(account) "
        "or mrr_totals(subscriptions, account.customers)), or customer=None when it has no discount")


def _customers(subscriptions: Any, customers: list[dict[str, Any]] | None) -> tuple[list[dict[str, Any]], Any]:
    """(subscriptions, a lookup of their customers): an :class:`AccountSnapshot` brings both."""
    if isinstance(subscriptions, AccountSnapshot):
        customers = subscriptions.customers if customers is None else customers
        subscriptions = subscriptions.subscriptions
    if customers is None:
        return list(subscriptions), lambda sub: UNREAD
    by_id = {str(c.get("id")): c for c in customers if isinstance(c, dict)}
    return list(subscriptions), lambda sub: by_id.get(str(obj_id(sub.get("customer"))), UNREAD)


def monthly_amount(sub: dict[str, Any], customer: dict[str, Any] | None = UNREAD) -> Money:
    """The subscription's recurring amount normalised to one month (MRR), in its own currency (a
    multi-currency price bills at that currency's option), net of the forever coupons it bills
    with -- its own, else its ``customer``'s (read with the discount's coupon expanded; Stripe
    counts forever coupons in MRR; once and repeating coupons not:
    support.stripe.com/questions/billing-analytics) -- the case's own arithmetic
    (:func:`~billing_nb.analysis.terms.net_annual`) over the account's objects, as the store's
    ``item_mrr`` does (:mod:`.recurring`). ``customer`` not given: the subscription's own
    ``customer`` if expanded; a subscription without discounts of its own whose customer is
    unknown is refused (:class:`BadInputError`), not counted without the coupon it may inherit."""
    payer = _customer_for(sub, customer)
    currency = subscription_currency(sub) or "usd"
    items: list[ItemShape] = []
    for n, item in enumerate(_items(sub)):
        price = _price(item)
        rec = price.get("recurring") or {}
        terms = price_terms(price, currency)  # tiered, package, decimal, metered, currency options: the case's own arithmetic
        quantity = int(item.get("quantity") or 1)
        items.append(ItemShape(str(item.get("id") or n), str(price.get("id")), str(price.get("product")),
                               Money(unit_minor(terms, quantity), currency),
                               str(rec.get("interval", "month")), int(rec.get("interval_count") or 1),
                               quantity, False, 0, 0, terms=terms, inclusive_tax=inclusive_percent(item, sub)))
    # forever coupons have no end (Stripe: ``end`` is null for once and forever), so no clock is needed
    expanded = [d for d in subscription_discounts(sub, payer) if isinstance(d, dict)]
    discounts = recurring_discounts(expanded, currency, 0)
    return Money(round_half_up(net_annual(tuple(items), discounts, excluding_tax=True) / 12), currency)


def plan_mix(subscriptions: list[dict[str, Any]] | AccountSnapshot,
             customers: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """Live subscriptions and MRR per product and price. ``customers`` (or an
    :class:`AccountSnapshot` for both): their discounts, which a subscription without its own
    inherits; without them such a subscription is refused (:func:`monthly_amount`)."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    subs, customer_of = _customers(subscriptions, customers)
    for sub in subs:
        if sub.get("status") not in LIVE_STATUSES:
            continue
        mrr = monthly_amount(sub, customer_of(sub))
        for item in _items(sub)[:1]:
            price = _price(item)
            key = (str(price.get("product")), str(price.get("id")), mrr.currency)
            row = rows.setdefault(key, {"product": key[0], "price": key[1], "currency": key[2],
                                        "subscriptions": 0, "mrr_minor": 0})
            row["subscriptions"] += 1
            row["mrr_minor"] += mrr.amount
    frame = pd.DataFrame(list(rows.values()), columns=["product", "price", "currency", "subscriptions", "mrr_minor"])
    if not frame.empty:
        frame["mrr"] = [Money(int(a), c).format() for a, c in zip(frame["mrr_minor"], frame["currency"], strict=True)]
    return frame.sort_values("mrr_minor", ascending=False).reset_index(drop=True) if not frame.empty else frame


def interval_mix(subscriptions: list[dict[str, Any]]) -> pd.DataFrame:
    """How many live subscriptions bill monthly, yearly, ..."""
    counts: dict[str, int] = defaultdict(int)
    for sub in subscriptions:
        if sub.get("status") in LIVE_STATUSES:
            for item in _items(sub)[:1]:
                rec = _price(item).get("recurring") or {}
                counts[f"{rec.get('interval_count', 1)} {rec.get('interval', '?')}"] += 1
    total = sum(counts.values()) or 1
    return pd.DataFrame([{"interval": k, "subscriptions": v, "share": f"{v / total:.0%}"} for k, v in sorted(counts.items())],
                        columns=["interval", "subscriptions", "share"])


def seat_distribution(subscriptions: list[dict[str, Any]]) -> pd.DataFrame:
    """Per-seat subscriptions by quantity (who pays for many seats)."""
    rows = []
    for sub in subscriptions:
        if sub.get("status") not in LIVE_STATUSES:
            continue
        for item in _items(sub):
            qty = int(item.get("quantity") or 1)
            price = _price(item)
            per_seat = qty > 1 or (price.get("metadata") or {}).get("per_seat") == "true"
            if per_seat:
                rows.append({"subscription": sub["id"], "customer": sub.get("customer"), "price": price.get("id"), "seats": qty})
    return pd.DataFrame(rows, columns=["subscription", "customer", "price", "seats"])


def churn_risk(subscriptions: list[dict[str, Any]] | AccountSnapshot,
               customers: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """Subscriptions at risk, with the reasons: past_due, unpaid, incomplete, cancel scheduled;
    the MRR at risk net of the coupons they bill with (``customers`` as for :func:`plan_mix`)."""
    weights = {"past_due": 3, "unpaid": 4, "incomplete": 2, "cancel_at_period_end": 2}
    subs, customer_of = _customers(subscriptions, customers)
    rows = []
    for sub in subs:
        reasons = [s for s in ("past_due", "unpaid", "incomplete") if sub.get("status") == s]
        if sub.get("cancel_at_period_end") and sub.get("status") in LIVE_STATUSES:
            reasons.append("cancel_at_period_end")
        if reasons:
            mrr = monthly_amount(sub, customer_of(sub))
            rows.append({"subscription": sub["id"], "customer": sub.get("customer"), "status": sub.get("status"),
                         "reasons": ", ".join(reasons), "score": sum(weights[r] for r in reasons),
                         "mrr_at_risk": mrr.format()})
    frame = pd.DataFrame(rows, columns=["subscription", "customer", "status", "reasons", "score", "mrr_at_risk"])
    return frame.sort_values("score", ascending=False).reset_index(drop=True) if not frame.empty else frame


def duplicate_subscriptions(subscriptions: list[dict[str, Any]], customers: list[dict[str, Any]]) -> pd.DataFrame:
    """People (by email across customer objects) with several live subscriptions to one product."""
    email_of = {c["id"]: (c.get("email") or c["id"]).lower() for c in customers}
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for sub in subscriptions:
        if sub.get("status") not in LIVE_STATUSES:
            continue
        person = email_of.get(str(sub.get("customer")), str(sub.get("customer")))
        for item in _items(sub)[:1]:
            groups[(person, str(_price(item).get("product")))].append(sub["id"])
    rows = [{"person": p, "product": prod, "subscriptions": ", ".join(ids), "count": len(ids)}
            for (p, prod), ids in groups.items() if len(ids) > 1]
    frame = pd.DataFrame(rows, columns=["person", "product", "subscriptions", "count"])
    if not frame.empty:
        from ..reading.masking import mask_email

        frame["person"] = [mask_email(p) if "@" in p else p for p in frame["person"]]
    return frame


_PORTAL_FEATURES = ("customer_update", "invoice_history", "payment_method_update", "subscription_cancel", "subscription_update")


def portal_validation(configurations: list[dict[str, Any]]) -> pd.DataFrame:
    """Each portal configuration's self-serve features: what a customer can and cannot do."""
    rows = []
    for cfg in configurations:
        feats = cfg.get("features") or {}
        row: dict[str, Any] = {"configuration": cfg.get("id"), "default": bool(cfg.get("is_default")),
                               "active": bool(cfg.get("active", True))}
        for name in _PORTAL_FEATURES:
            row[name] = bool((feats.get(name) or {}).get("enabled"))
        update = feats.get("subscription_update") or {}
        row["switchable_products"] = len(update.get("products") or [])
        missing = [n for n in _PORTAL_FEATURES if not row[n]]
        row["problems"] = ", ".join(f"{n} off" for n in missing) or "none"
        rows.append(row)
    return pd.DataFrame(rows)


def mrr_totals(subscriptions: list[dict[str, Any]] | AccountSnapshot,
               customers: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """MRR and ARR of the live subscriptions, one row per currency (never summed across);
    ``customers`` (the account's, their discounts read expanded; or pass the
    :class:`AccountSnapshot`) bring the forever coupons a subscription inherits from its
    customer, as the store's metrics count them; without them a subscription that would inherit
    one is refused (:func:`monthly_amount`), never counted gross."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    subs, customer_of = _customers(subscriptions, customers)
    for sub in subs:
        if sub.get("status") in LIVE_STATUSES:
            mrr = monthly_amount(sub, customer_of(sub))
            totals[mrr.currency][0] += 1
            totals[mrr.currency][1] += mrr.amount
    rows = [{"currency": cur, "live_subscriptions": n, "mrr_minor": m, "arr_minor": m * 12,
             "mrr": Money(m, cur).format(), "arr": Money(m * 12, cur).format()}
            for cur, (n, m) in sorted(totals.items())]
    return pd.DataFrame(rows, columns=["currency", "live_subscriptions", "mrr_minor", "arr_minor", "mrr", "arr"])


def unpaid_invoices(invoices: list[dict[str, Any]]) -> pd.DataFrame:
    """Money still owed: open and uncollectible invoices per status and currency."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for inv in invoices:
        if inv.get("status") in ("open", "uncollectible"):
            key = (str(inv["status"]), str(inv.get("currency") or "usd"))
            totals[key][0] += 1
            totals[key][1] += int(inv.get("amount_remaining") or 0)
    rows = [{"status": st, "currency": cur, "invoices": n, "remaining_minor": amt, "remaining": Money(amt, cur).format()}
            for (st, cur), (n, amt) in sorted(totals.items())]
    return pd.DataFrame(rows, columns=["status", "currency", "invoices", "remaining_minor", "remaining"])
