"""Which ``expand`` paths Stripe accepts, read from the SDK's typed resource classes.

stripe-python declares an expandable field as ``ExpandableField[X] = Union[str, X]``, so
a field whose annotation admits both an id string and an object is expandable; any other
field is not, and Stripe refuses the whole request with ``This property cannot be
expanded (<path>).`` (e.g. ``created``, ``email``). Intermediate segments may walk through
plain nested objects and lists (``items.data.price.product``). Includable properties
(``invoice.payments``, ``invoice.amount_paid_off_stripe``, ``charge.refunds``, a search's ``total_count``) are accepted too.
Where the SDK gives no class (untyped payloads such as ``event.data.object``), the
rest of the path is not checked.
"""

from __future__ import annotations

import typing
from typing import Any, ForwardRef, Union

import stripe
from stripe._list_object import ListObject
from stripe._object_classes import get_object_class
from stripe._stripe_object import StripeObject

from .errors import invalid

__all__ = ["check_expand_paths", "INCLUDABLE"]

#: Properties Stripe leaves out unless expanded, by object kind.
INCLUDABLE = {("invoice", "payments"), ("invoice", "amount_paid_off_stripe"), ("charge", "refunds"), ("search_result", "total_count"), ("price", "tiers"),
              ("price", "currency_options"), ("coupon", "currency_options")}

_LIST_KINDS = {
    "customers": "customer", "products": "product", "prices": "price", "payment_methods": "payment_method",
    "subscriptions": "subscription", "subscription_items": "subscription_item", "invoices": "invoice",
    "invoiceitems": "invoiceitem", "invoice_payments": "invoice_payment", "payment_intents": "payment_intent",
    "charges": "charge", "refunds": "refund", "credit_notes": "credit_note", "disputes": "dispute",
    "sessions": "checkout.session", "configurations": "billing_portal.configuration",
    "test_clocks": "test_helpers.test_clock", "events": "event", "coupons": "coupon",
    "subscription_schedules": "subscription_schedule",
}
_NAMESPACES = (stripe, stripe.test_helpers, stripe.checkout, stripe.billing_portal)


def _resolve(ref: Any) -> Any:
    if isinstance(ref, ForwardRef):
        ref = ref.__forward_arg__
    if isinstance(ref, str):
        for ns in _NAMESPACES:
            found = getattr(ns, ref, None)
            if isinstance(found, type):
                return found
        return None
    return ref


def _members(ann: Any) -> list[Any]:
    if typing.get_origin(ann) is Union:
        return [a for a in typing.get_args(ann) if a is not type(None)]
    return [ann]


def _fields(cls: type) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        out.update(klass.__dict__.get("__annotations__", {}))
    return out


def _kind_class(kind: str) -> type | None:
    cls = get_object_class("V1", kind)
    return None if cls is StripeObject else cls


def _refuse(path: str) -> Exception:
    return invalid(f"This property cannot be expanded ({path}).", "expand")


def _check(cls: type | None, kind: str | None, parts: list[str], path: str, node: Any) -> None:
    if not parts:
        return
    head, rest = parts[0], parts[1:]
    if kind in ("list", "search_result"):
        if kind == "search_result" and head == "total_count" and not rest:
            return
        if head != "data":
            raise _refuse(path)
        items = node.get("data") if isinstance(node, dict) else None
        item_kind = items[0].get("object") if items and isinstance(items[0], dict) else None
        if item_kind is None and isinstance(node, dict):
            item_kind = _LIST_KINDS.get(str(node.get("url", "")).split("?")[0].rstrip("/").split("/")[-1])
        if item_kind is None:
            return
        _check(_kind_class(item_kind), item_kind, rest, path, items[0] if items else None)
        return
    if (kind, head) in INCLUDABLE and not rest:  # e.g. a price's tiers ("not included by default")
        return
    if kind == "price" and head == "currency_options" and len(rest) == 2 and rest[1] == "tiers":
        return  # an option's tiers: ``currency_options.eur.tiers``
    if cls is None:
        return
    fields = _fields(cls)
    if head not in fields:
        raise _refuse(path)
    members = [_resolve(m) for raw in _members(fields[head])
               for m in (_members(typing.get_args(raw)[0]) if typing.get_origin(raw) is list else [raw])]
    expandable = str in members and any(m is not str for m in members)
    objects = [m for m in members if m is not str]
    if not rest:
        lists = any(isinstance(typing.get_origin(m) or m, type) and issubclass(typing.get_origin(m) or m, ListObject)
                    for m in objects)
        if not (expandable or lists):  # lists cover includables such as checkout.session.line_items
            raise _refuse(path)
        return
    value = node.get(head) if isinstance(node, dict) else None
    for member in objects:
        origin = typing.get_origin(member) or member
        if isinstance(origin, type) and issubclass(origin, ListObject):
            args = typing.get_args(member)
            item = _resolve(args[0]) if args else None
            if rest[0] != "data":
                raise _refuse(path)
            rows = value.get("data") if isinstance(value, dict) else None
            first = rows[0] if rows else None
            _check(item, getattr(item, "OBJECT_NAME", None), rest[1:], path, first)
            return
    target = next((m for m in objects if isinstance(m, type) and issubclass(m, StripeObject)), None)
    if target is None:
        if objects and all(m is None or not isinstance(m, type) or not issubclass(m, StripeObject) for m in objects) \
                and any(isinstance(m, type) and m in (int, bool, float) for m in objects):
            raise _refuse(path)
        return  # an untyped payload (dict, Any): Stripe's shape unknown here, accept
    _check(target, getattr(target, "OBJECT_NAME", None), rest, path, value if isinstance(value, dict) else None)


def check_expand_paths(obj: Any, paths: list[str]) -> None:
    """Refuse, as Stripe does, any path that names a property that cannot be expanded."""
    if not isinstance(obj, dict):
        return
    kind = str(obj.get("object"))
    cls = None if kind in ("list", "search_result") else _kind_class(kind)
    for path in paths:
        if kind not in ("list", "search_result") and cls is None:
            continue
        _check(cls, kind, path.split("."), path, obj)
