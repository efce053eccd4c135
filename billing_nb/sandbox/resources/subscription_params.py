"""Subscription parameters: items, prices, payment methods, billing mode, cancellation details.

Parsing and checking what a subscription request asks for, and building its items; the
handlers that use them are in :mod:`.subscriptions`.
"""

from __future__ import annotations

from typing import Any

from ..engine import core as en
from ..engine import taxes as et
from ..engine import pricing as ep
from ..engine.prorate import Change, build_item
from ..errors import invalid, missing
from ..params import Params
from ..store import Obj, Store

__all__ = ["PAYMENT_BEHAVIORS", "PRORATION", "FEEDBACK", "STATUSES", "build_item", "find_item",
           "price_param", "pm_for", "billing_mode_param", "cancellation_param", "item_changes", "check_intervals",
           "cancel_at_param", "anchor_param", "create_anchor_param", "collection_param", "default_tax_rates_param"]

PAYMENT_BEHAVIORS = ("allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete")
PRORATION = ("create_prorations", "none", "always_invoice")
FEEDBACK = ("customer_service", "low_quality", "missing_features", "other", "switched_service",
            "too_complex", "too_expensive", "unused")
STATUSES = ("active", "all", "canceled", "ended", "incomplete", "incomplete_expired", "past_due",
            "paused", "trialing", "unpaid")

def collection_param(p: Params, sub: Obj) -> None:
    """``collection_method`` and ``days_until_due`` (API reference, Create/Update a subscription):
    days_until_due is "Valid only for subscriptions where collection_method is set to send_invoice";
    the sandbox asks for it with send_invoice (Stripe's default there is not documented)."""
    method = p.enum("collection_method", ("charge_automatically", "send_invoice")) or sub["collection_method"]
    days = p.int("days_until_due")
    if days is not None and method != "send_invoice":
        raise invalid("days_until_due can only be set when collection_method is send_invoice.", "days_until_due")
    if method == "send_invoice":
        days = days if days is not None else sub.get("days_until_due")
        if days is None:
            raise invalid("Missing required param: days_until_due.", "days_until_due", "parameter_missing")
        if days < 0:
            raise invalid("Invalid integer: must be at least 0", "days_until_due", "parameter_invalid_integer")
    sub["collection_method"], sub["days_until_due"] = method, days if method == "send_invoice" else None


def anchor_param(p: Params, sub: Obj) -> bool:
    """``billing_cycle_anchor`` on update, an object since 2026-09-30.endive (changelog, "Unifies
    the billing cycle anchor format": ``{type: now|unchanged}`` replaces the string): True when the
    cycle restarts now. Only an active or past-due subscription's cycle is reset here (what a
    trialing or incomplete one does is not documented)."""
    anchor = p.sub("billing_cycle_anchor")
    if anchor is None:
        return False
    anchor.allow("type")
    kind = anchor.enum("type", ("now", "unchanged"))
    if kind is None:
        raise invalid("Missing required param: billing_cycle_anchor[type].", "billing_cycle_anchor[type]",
                      "parameter_missing")
    if kind == "now" and sub["status"] not in ("active", "past_due"):
        raise invalid(f"The sandbox only resets the billing cycle of an active or past_due subscription, not a "
                      f"{sub['status']} one.", "billing_cycle_anchor")
    return kind == "now"


def create_anchor_param(p: Params, now: int, price: Obj) -> int | None:
    """``billing_cycle_anchor`` on create: a future timestamp no later than the next natural billing
    date (Billing docs, "Set the subscription billing renewal date"; "Set the billing cycle date": "The
    anchor must be a future UNIX timestamp before the next natural subscription billing date")."""
    anchor = p.int("billing_cycle_anchor")
    if anchor is None:
        return None
    if anchor <= now:
        raise invalid("Invalid timestamp: must be an integer Unix timestamp in the future.", "billing_cycle_anchor")
    interval, count = en.interval_of(price)
    natural = en.add_interval(now, interval, count)
    if anchor > natural:
        raise invalid(f"billing_cycle_anchor cannot be later than next natural billing date ({natural}) for plan",
                      "billing_cycle_anchor")
    return anchor


def cancel_at_param(p: Params, sub: Obj) -> int | None:
    """``cancel_at``: a timestamp, or ``min_period_end``/``max_period_end``, which resolve at once
    to the earliest/latest item ``current_period_end`` (changelog 2025-07-30.basil, "Adds helpers to
    cancel subscriptions for billing periods with mixed intervals"); ``""`` clears it."""
    raw = p.str("cancel_at")
    if raw is None:
        return None
    if raw in ("min_period_end", "max_period_end"):
        ends = [int(i["current_period_end"]) for i in sub["items"]["data"]] or [en.period_of(sub)[1]]
        return min(ends) if raw == "min_period_end" else max(ends)
    return p.int("cancel_at")


def find_item(store: Store, si_id: str) -> tuple[Obj, Obj]:
    for sub in store.all("subscription"):
        for item in sub["items"]["data"]:
            if item["id"] == si_id:
                return sub, item
    raise missing("subscription_item", si_id)


def price_param(store: Store, price_id: str, param: str) -> Obj:
    price = store.get("price", price_id, param)
    if price.get("type") != "recurring" and not price.get("recurring"):
        raise invalid("The price specified is set to `type=one_time` but this field only accepts prices "
                      "with `type=recurring`.", param)
    return price


def pm_for(store: Store, pm_id: str | None, customer: str) -> str | None:
    if not pm_id:
        return None
    pm = store.maybe("payment_method", pm_id)
    if pm is None or pm.get("customer") != customer:
        raise invalid(f"The customer does not have a payment method with the ID {pm_id}. The payment method "
                      "must be attached to the customer.", "default_payment_method", "resource_missing")
    return pm_id


def billing_mode_param(p: Params | None, now: int) -> dict[str, Any]:
    """Flexible is the default for new subscriptions since 2025-09-30.clover; classic on request."""
    kind = "flexible"
    if p is not None:
        p.allow("type", "flexible")
        kind = p.enum("type", ("classic", "flexible"), "flexible") or "flexible"
    if kind == "classic":
        return {"flexible": None, "type": "classic"}
    return {"flexible": {"proration_discounts": "included"}, "type": "flexible", "updated_at": now}


def cancellation_param(p: Params | None, current: dict[str, Any]) -> dict[str, Any]:
    out = dict(current)
    if p is None:
        return out
    p.allow("comment", "feedback")
    if p.has("comment"):
        out["comment"] = p.str("comment")
    if p.has("feedback"):
        out["feedback"] = p.enum("feedback", FEEDBACK)
    return out


def item_changes(store: Store, sub: Obj, raw_items: list[Any]) -> list[Change]:
    """Decode ``items[n][...]`` into engine changes (id + price/quantity/deleted, or new)."""
    changes = []
    for n, raw in enumerate(raw_items):
        ip = Params(raw if isinstance(raw, dict) else {}, prefix=f"items[{n}][")
        ip.allow("id", "price", "quantity", "deleted", "metadata", "tax_rates")
        si_id = ip.str("id")
        rates = et.rates_param(store, ip.list("tax_rates"), f"items[{n}][tax_rates]") if ip.has("tax_rates") else None
        price = price_param(store, ip.req("price"), f"items[{n}][price]") if (ip.has("price") or not si_id) else None
        meta = ip.metadata() if ip.has("metadata") else None
        if si_id:
            item = next((i for i in sub["items"]["data"] if i["id"] == si_id), None)
            if item is None:
                raise invalid(f"Invalid subscription_item id: {si_id}", f"items[{n}][id]")
            if ip.bool("deleted"):
                changes.append(Change(item, None, 0))
                continue
            new_price = store.get("price", item["price"]["id"]) if price is None else price
            changes.append(Change(item, new_price, ip.int("quantity", int(item["quantity"] or 1)) or 0, meta, rates))
        else:
            assert price is not None
            changes.append(Change(None, price, ip.int("quantity", 1) or 0, meta, rates))
    return changes


def default_tax_rates_param(store: Store, p: Params, sub: Obj, previous: dict[str, Any] | None = None) -> None:
    """``default_tax_rates[]`` (``""`` clears): the rates of the subscription's invoices' lines
    that have none of their own (API reference, Create a subscription, ``default_tax_rates``)."""
    if not p.has("default_tax_rates"):
        return
    if previous is not None:
        previous["default_tax_rates"] = sub["default_tax_rates"]
    sub["default_tax_rates"] = et.rates_param(store, p.list("default_tax_rates"), "default_tax_rates")


def check_intervals(prices: list[Obj], currency: str | None = None) -> None:
    """One interval across the items, and one currency: every price's default, or with
    ``currency`` (the subscription's) each price's default or one of its ``currency_options``."""
    if currency is not None:
        for pr in prices:
            if not ep.supports(pr, currency):
                raise invalid(f"The price `{pr['id']}` is in {str(pr['currency']).upper()} and has no "
                              f"currency_options[{currency}]: it cannot be billed on a subscription in "
                              f"{currency.upper()}.", "currency" if len(prices) == 1 else "items")
    if len({en.interval_of(pr) for pr in prices}) > 1 or (currency is None and len({pr["currency"] for pr in prices}) > 1):
        raise invalid("Currency and interval fields must match across all plans on this subscription. "
                      "Found mismatch in interval field.", "items")
