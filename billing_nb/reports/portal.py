"""Billing portal validation per product: what a paying customer can do on their own.

``portfolio.portal_validation`` lists each configuration's switches; this answers the
question support actually gets: for the configuration customers meet, and each product
with live subscriptions, can the customer cancel, switch plan, change seats, update the
card and see invoices? Pure functions over raw Stripe dicts (an
:class:`~billing_nb.reading.account.AccountSnapshot`'s lists).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd

from ..reading.snapshot import portal_in_use
from ..records.markup import escape_md, md_code
from .portfolio import LIVE_STATUSES

__all__ = ["portal_in_use", "portal_choice", "product_abilities", "findings_markdown", "ABILITIES"]

#: Column -> what a customer cannot do when it is False (used in ``problems``).
ABILITIES: dict[str, str] = {
    "can_cancel": "cannot cancel",
    "can_switch_plan": "cannot switch plan",
    "can_change_seats": "cannot change seats",
    "can_update_card": "cannot update card",
    "can_see_invoices": "cannot see invoices",
}


def portal_choice(configurations: list[dict[str, Any]], named: str | None = None) -> str:
    """One markdown sentence: which configuration is in use and why (the analyst checks the rule).
    Ids are Stripe's text: each one a code span (:func:`md_code`), never markup."""
    conf = portal_in_use(configurations, named)
    if conf is None:
        inactive = [md_code(c.get("id")) for c in configurations]
        return ("**No active billing portal configuration**"
                + (f" (inactive: {', '.join(inactive)})" if inactive else "") + ": customers have no self-serve portal.")
    if named and conf.get("id") == named:
        why = "named by BILLING_NB_PORTAL_CONFIGURATION"
    elif conf.get("is_default"):
        why = "the account's default (Dashboard) configuration; no active API-made one exists"
    else:
        why = "the newest active non-default configuration, the one the app's portal sessions name"
    return f"Customers meet portal configuration {md_code(conf.get('id'))}: {why}."


def _items(sub: dict[str, Any]) -> list[dict[str, Any]]:
    return list((sub.get("items") or {}).get("data") or [])


def _product(item: dict[str, Any]) -> str:
    price = item.get("price")
    product = price.get("product") if isinstance(price, dict) else None
    return str(product.get("id") if isinstance(product, dict) else product)


def _price_id(item: dict[str, Any]) -> str:
    price = item.get("price")
    return str(price.get("id") if isinstance(price, dict) else price)


def product_abilities(subscriptions: list[dict[str, Any]], configurations: list[dict[str, Any]],
                      named: str | None = None) -> pd.DataFrame:
    """Per product with live subscriptions: what its customers can do in the portal in use.

    Switching plan needs ``subscription_update`` on, ``price`` among the allowed updates and
    the product listed with at least one other price to move to; changing seats needs
    ``quantity`` allowed and the product listed. ``problems`` spells out each "cannot"
    (seats only for per-seat products: a quantity above 1 or price metadata ``per_seat``).
    """
    conf = portal_in_use(configurations, named) or {}
    feats = conf.get("features") or {}

    def on(name: str) -> bool:
        return bool((feats.get(name) or {}).get("enabled"))

    update = feats.get("subscription_update") or {}
    allowed = set(update.get("default_allowed_updates") or [])
    listed: dict[str, set[str]] = {str(p.get("product")): set(p.get("prices") or [])
                                   for p in update.get("products") or [] if isinstance(p, dict)}
    subs: dict[str, set[str]] = defaultdict(set)
    customers: dict[str, set[str]] = defaultdict(set)
    prices: dict[str, set[str]] = defaultdict(set)
    per_seat: set[str] = set()
    for sub in subscriptions:
        if sub.get("status") not in LIVE_STATUSES:
            continue
        for item in _items(sub):
            product = _product(item)
            subs[product].add(str(sub.get("id")))
            customers[product].add(str(sub.get("customer")))
            prices[product].add(_price_id(item))
            price: dict[str, Any] = item["price"] if isinstance(item.get("price"), dict) else {}
            if int(item.get("quantity") or 1) > 1 or (price.get("metadata") or {}).get("per_seat") == "true":
                per_seat.add(product)
    rows = []
    for product in sorted(subs, key=lambda p: (-len(subs[p]), p)):
        in_list = product in listed
        other_prices = listed.get(product, set()) - prices[product]
        row: dict[str, Any] = {
            "product": product, "live_subscriptions": len(subs[product]), "customers": len(customers[product]),
            "per_seat": product in per_seat, "configuration": conf.get("id"),
            "can_cancel": on("subscription_cancel"),
            "can_switch_plan": on("subscription_update") and "price" in allowed and in_list and bool(other_prices),
            "can_change_seats": on("subscription_update") and "quantity" in allowed and in_list,
            "can_update_card": on("payment_method_update"),
            "can_see_invoices": on("invoice_history"),
        }
        row["problems"] = ", ".join(text for col, text in ABILITIES.items()
                                    if not row[col] and (col != "can_change_seats" or row["per_seat"])) or "none"
        rows.append(row)
    return pd.DataFrame(rows, columns=["product", "live_subscriptions", "customers", "per_seat", "configuration",
                                       *ABILITIES, "problems"])


def findings_markdown(abilities: pd.DataFrame) -> str:
    """The ``problems`` of :func:`product_abilities` as a markdown list, one line per product
    (the table truncates long text; this is what goes into a ticket). A product id is Stripe's
    text, escaped (:func:`escape_md`)."""
    lines = []
    for row in abilities.to_dict("records"):
        n = int(row["live_subscriptions"])
        if row["problems"] != "none":
            lines.append(f"- **{escape_md(row['product'])}** ({n} live subscription{'' if n == 1 else 's'}): "
                         f"{escape_md(row['problems'])}")
    if abilities.empty:
        return "No live subscriptions."
    return "\n".join(lines) if lines else "Every product's customers can do everything on their own."
