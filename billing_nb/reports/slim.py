"""Masking at the door, at sync speed: mask only the fields a row keeps.

``mask_object`` walks every string of an object through the PII detector (five regexes
each): on a page of 100 subscriptions or invoices, with their embedded prices, lines and
settings, that was ~0.5 s of CPU, and it bound the whole sync (~6 requests/s). The store
keeps a few columns per object, so :func:`masked_rows` first cuts the object down to the
fields :func:`~billing_nb.reports.tables.rows_for` reads (an expanded object to its id),
masks that with the PII of the customer the object is or names expanded (what
``mask_object`` finds in a listed object: lists come unexpanded), and builds the rows from it. The rows are exactly those of masking the whole
object (``tests/reports/test_slim.py`` checks it on every object of the demo account and
on generated PII).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, cast

from ..reading.masking import customer_pii, mask_object, stripe_objects
from ..reading.pii import known_needles, mask_text
from .tables import Row, rows_for

__all__ = ["slim", "masked_rows"]


def _id(value: Any) -> Any:
    """An expanded object's id (what ``rows_for`` keeps of it), or the value itself."""
    return value.get("id") if isinstance(value, dict) else value


def _pick(obj: dict[str, Any], keys: tuple[str, ...], ids: tuple[str, ...] = ()) -> dict[str, Any]:
    out = {k: obj[k] for k in keys if k in obj}
    out.update({k: _id(obj[k]) for k in ids if k in obj})
    return out


def _sub(value: Any, keys: tuple[str, ...], ids: tuple[str, ...] = ()) -> Any:
    """A nested dict cut to ``keys`` (its falsiness kept: ``rows_for`` reads ``x or {}``)."""
    return _pick(value, keys, ids) or {"_": None} if isinstance(value, dict) and value else value


_BASE = ("id", "object", "created", "currency", "metadata")
_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "customers": (_BASE + ("email", "name", "delinquent", "deleted"), ("test_clock",)),
    "products": (_BASE + ("name", "active"), ()),
    "prices": (_BASE + ("unit_amount", "type", "active", "lookup_key", "nickname"), ("product",)),
    "subscriptions": (_BASE + ("status", "start_date", "canceled_at", "cancel_at", "cancel_at_period_end", "ended_at",
                               "collection_method"), ("customer", "default_payment_method", "latest_invoice")),
    "invoices": (_BASE + ("status", "billing_reason", "total", "amount_due", "amount_paid", "amount_remaining",
                          "attempt_count", "period_start", "period_end", "next_payment_attempt", "number"),
                 ("customer", "subscription")),
    "charges": (_BASE + ("amount", "amount_refunded", "status", "paid", "refunded", "disputed", "failure_code",
                         "description"), ("customer", "payment_intent", "payment_method")),
    "refunds": (_BASE + ("amount", "status", "reason"), ("charge", "payment_intent")),
    "credit_notes": (_BASE + ("total", "amount", "status", "reason", "type"), ("invoice", "customer")),
    "disputes": (_BASE + ("amount", "status", "reason"), ("charge", "payment_intent")),
    "balance_transactions": (_BASE + ("amount", "fee", "net", "type", "reporting_category", "status",
                                      "available_on"), ("source",)),
}
_DETAILS = ("subscription", "subscription_item", "proration")
_COUPON = ("id", "object", "duration", "percent_off", "amount_off", "currency", "currency_options")


def _discount(disc: Any) -> Any:
    """A discount cut to what ``discount_row`` reads: ids, dates and its coupon's terms."""
    if not isinstance(disc, dict):
        return disc
    out = _pick(disc, ("id", "object", "start", "end"), ("customer", "subscription"))
    for key in ("source", "coupon"):
        if key not in disc:
            continue
        value = disc[key]
        coupon = value.get("coupon") if key == "source" and isinstance(value, dict) else value
        if isinstance(coupon, dict):
            cut = _pick(coupon, _COUPON)
            if "applies_to" in coupon:
                cut["applies_to"] = _sub(coupon["applies_to"], ("products",))
            coupon = cut
        out[key] = {"coupon": coupon} if key == "source" and isinstance(value, dict) else coupon
    return out


def _discounts(value: Any) -> Any:
    return [_discount(d) for d in value] if isinstance(value, list) else value


def _line(line: Any) -> Any:
    if not isinstance(line, dict):
        return line
    out = _pick(line, ("id", "object", "currency", "amount", "quantity", "proration"), ("price", "subscription"))
    if "discount_amounts" in line:
        amounts = line["discount_amounts"]
        out["discount_amounts"] = ([_pick(a, ("amount",), ("discount",)) if isinstance(a, dict) else a for a in amounts]
                                   if isinstance(amounts, list) else amounts)
    if "parent" in line:
        parent = line["parent"]
        out["parent"] = ({k: _sub(parent[k], _DETAILS, _DETAILS) for k in ("subscription_item_details",
                                                                          "invoice_item_details") if k in parent}
                         or {"_": None}) if isinstance(parent, dict) and parent else parent
    if "pricing" in line:
        pricing = line["pricing"]
        out["pricing"] = ({"price_details": _sub(pricing.get("price_details"), ("price", "product"), ("price", "product")),
                           "unit_amount_decimal": pricing.get("unit_amount_decimal")}
                          if isinstance(pricing, dict) and pricing else pricing)
    if "period" in line:
        out["period"] = _sub(line["period"], ("start", "end"))
    return out


def _listing(value: Any, each: Callable[[Any], Any]) -> Any:
    if isinstance(value, dict) and value:
        data = value.get("data")
        return {"data": [each(v) for v in data] if isinstance(data, list) else data}
    return value


def _item(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    out = _pick(item, ("id", "object", "created", "quantity", "current_period_start", "current_period_end"), ("price",))
    price = item.get("price")
    if isinstance(price, dict) and price:  # what the item's amount reads (tables._item_amount: reading.prices)
        out["price"] = _pick(price, _PRICING)
        if "recurring" in price:
            out["price"]["recurring"] = _sub(price["recurring"], ("usage_type",))
    return out


_PRICING = ("id", "currency", "billing_scheme", "tiers_mode", "tiers", "transform_quantity", "unit_amount",
            "unit_amount_decimal", "currency_options")


def slim(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """The object cut to what its rows read (expanded references to their ids)."""
    keys, ids = _KEYS[kind]
    out = _pick(obj, keys, ids)
    if kind == "customers":
        if "invoice_settings" in obj:
            out["invoice_settings"] = _sub(obj["invoice_settings"], ("default_payment_method",), ("default_payment_method",))
        if "discount" in obj:
            out["discount"] = _discount(obj["discount"])
    elif kind == "prices" and "recurring" in obj:
        out["recurring"] = _sub(obj["recurring"], ("interval", "interval_count"))
    elif kind == "subscriptions":
        if "cancellation_details" in obj:
            out["cancellation_details"] = _sub(obj["cancellation_details"], ("reason",))
        if "items" in obj:
            out["items"] = _listing(obj["items"], _item)
        if "discounts" in obj:
            out["discounts"] = _discounts(obj["discounts"])
    elif kind == "invoices":
        if "parent" in obj:
            parent = obj["parent"]
            out["parent"] = ({"subscription_details": _sub(parent.get("subscription_details"), ("subscription",),
                                                           ("subscription",))}
                             if isinstance(parent, dict) and parent else parent)
        if "status_transitions" in obj:
            out["status_transitions"] = _sub(obj["status_transitions"], ("paid_at",))
        if "lines" in obj:
            out["lines"] = _listing(obj["lines"], _line)
        if "discounts" in obj:
            out["discounts"] = _discounts(obj["discounts"])
        if "total_discount_amounts" in obj:
            totals = obj["total_discount_amounts"]
            out["total_discount_amounts"] = ([_pick(t, ("amount",)) if isinstance(t, dict) else t for t in totals]
                                             if isinstance(totals, list) else totals)
    elif kind == "disputes" and "evidence_details" in obj:
        out["evidence_details"] = _sub(obj["evidence_details"], ("due_by",))
    return out


def _customers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The customers whose PII an object can quote: itself, or its expanded ``customer``
    (a sync never expands; walking every node for nested ones cost as much as masking)."""
    if obj.get("object") == "customer":
        return [obj]
    ref = obj.get("customer")
    return [c for c in stripe_objects(ref) if c.get("object") == "customer"] if isinstance(ref, dict) else []


#: Keys ``mask_object`` treats by name (emails, names, phones, addresses, cards, tax ids,
#: metadata, custom fields, IPs): a value under one is masked unless it is None (or metadata
#: is empty), so such a key is never taken as already safe.
_SPECIAL = frozenset({"email", "customer_email", "receipt_email", "billing_email", "name", "customer_name", "phone",
                      "customer_phone", "address", "customer_address", "ip_address", "client_ip", "ip", "tax_ids",
                      "customer_tax_ids", "card", "value", "metadata", "custom_fields", "shipping"})


@lru_cache(maxsize=65536)
def _text_unchanged(text: str) -> bool:
    """Whether masking ``text`` without known strings leaves it as is (ids and enums: most
    strings; cached, as statuses, currencies and price ids repeat on every page)."""
    return mask_text(text) == text


def _safe(key: Any, value: Any, tokens: frozenset[str]) -> bool:
    """Whether ``mask_object`` would give ``value`` back unchanged under ``key``: no key it
    masks by name, every string unchanged by the patterns and free of the customer's known
    strings (``tokens``: each and its parts, lower-cased). Anything but plain JSON types
    (a str subclass...) counts as unsafe, and is masked."""
    if key in _SPECIAL:
        return value is None or (key == "metadata" and value == {})
    return _safe_value(value, tokens)


def _safe_value(value: Any, tokens: frozenset[str]) -> bool:
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is float:
        return True
    if kind is str:
        if tokens:
            low = value.lower()
            if any(t in low for t in tokens):
                return False
        return _text_unchanged(value)
    if kind is dict:
        for k, v in value.items():
            if k in _SPECIAL:
                if not (v is None or (k == "metadata" and v == {})):
                    return False
            elif not _safe_value(v, tokens):
                return False
        return True
    if kind is list:
        return all(_safe_value(v, tokens) for v in value)
    return False


def _tokens(known: list[str]) -> frozenset[str] | None:
    """The customer's known strings and their parts, lower-cased (a superset of what
    ``mask_text`` looks for); None when one is not ASCII (case-insensitive matching beyond
    ASCII is not ``str.lower``: that object is masked whole)."""
    needles = known_needles(known)
    if not all(n.isascii() for n in needles):
        return None
    return frozenset({n.lower() for n in needles} | {p.lower() for n in needles for p in _PARTS.split(n) if len(p) >= 3})


_PARTS = re.compile(r"[\s-]+")


#: Keys whose string value ``mask_object`` masks by its shape alone (``mask_email``,
#: ``mask_phone``; a customer's name by ``mask_name``), whatever the known strings: masked
#: without them, so no regex of the customer's known strings is compiled for them (a
#: customer's email and name were ~0.25 ms of every customer row).
_SHAPE_ONLY = frozenset({"email", "customer_email", "receipt_email", "billing_email", "phone", "customer_phone"})
_CUSTOMER_SHAPE_ONLY = _SHAPE_ONLY | {"name", "customer_name"}


def _masked(obj: dict[str, Any], known: list[str]) -> dict[str, Any]:
    """``mask_object(obj, known)``, through ``mask_object`` only for the top-level keys whose
    value it would change (with ``object`` for context: it masks each key on its own, by the
    key, the value and the object's kind), and without the known strings for the keys
    masked by shape alone."""
    tokens = _tokens(known)
    if tokens is None:
        return cast(dict[str, Any], mask_object(obj, known))
    risky = {k: v for k, v in obj.items() if not _safe(k, v, tokens)}
    if not risky:
        return dict(obj)
    shape_only = _CUSTOMER_SHAPE_ONLY if obj.get("object") == "customer" else _SHAPE_ONLY
    by_shape = {k: v for k, v in risky.items() if k in shape_only and type(v) is str}
    rest = {k: v for k, v in risky.items() if k not in by_shape}
    context = {"object": obj["object"]} if "object" in obj else {}
    done: dict[str, Any] = {}
    if by_shape:
        done.update(cast(dict[str, Any], mask_object({**context, **by_shape}, [])))
    if rest:
        done.update(cast(dict[str, Any], mask_object({**context, **rest}, known)))
    return {k: done[k] if k in risky else v for k, v in obj.items()}


def masked_rows(kind: str, obj: dict[str, Any], email_key: Callable[[str | None], str | None]) -> dict[str, list[Row]]:
    """``rows_for(kind, mask_object(obj))``, masking only what the rows keep, and of that
    only what masking would change; the raw email feeds ``email_key`` (a keyed hash), never
    a column."""
    known = customer_pii(_customers(obj))
    masked = _masked(slim(kind, obj), known)
    masked["_email"] = obj.get("email") if kind == "customers" else None
    return rows_for(kind, masked, email_key)
