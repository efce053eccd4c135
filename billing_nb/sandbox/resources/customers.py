"""Customers: create, retrieve, update, delete, list (email=), search.

This module is the pattern for every resource: build the full object shape of the
pinned API version, store it, emit the event, return it.
"""

from __future__ import annotations

import re
from typing import Any

from ..engine import core as en
from ..errors import ApiError, invalid
from ..filters import range_filter
from ..listing import list_page, search_object
from ..params import Params
from ..routing import Ctx, route
from ..store import Obj, Store

ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")


def _address(p: Params | None) -> dict[str, Any] | None:
    if p is None:
        return None
    p.allow(*ADDRESS_FIELDS)
    return {f: p.str(f) for f in ADDRESS_FIELDS}


def _shipping(p: Params | None) -> dict[str, Any] | None:
    """``shipping``: address (required), name (required), phone (API reference, Create a customer)."""
    if p is None:
        return None
    p.allow("address", "name", "phone")
    address = p.sub("address")
    if address is None:
        raise invalid("Missing required param: shipping[address].", "shipping[address]", "parameter_missing")
    return {"address": _address(address), "carrier": None, "name": p.req("name"), "phone": p.str("phone"),
            "tracking_number": None}


_TAX_EXEMPT = ("exempt", "none", "reverse")


def _invoice_settings(p: Params | None, current: dict[str, Any] | None, store: Store, customer_id: str) -> dict[str, Any]:
    empty: dict[str, Any] = {"custom_fields": None, "default_payment_method": None, "footer": None, "rendering_options": None}
    settings: dict[str, Any] = dict(current or empty)
    if p is None:
        return settings
    p.allow("default_payment_method", "custom_fields", "footer", "rendering_options")
    if p.has("default_payment_method"):
        pm_id = p.str("default_payment_method")
        if pm_id:
            pm = store.get("payment_method", pm_id, "invoice_settings[default_payment_method]")
            if pm.get("customer") != customer_id:
                raise invalid(
                    f"The payment method `{pm_id}` must be attached to the customer before it can be used as the default.",
                    "invoice_settings[default_payment_method]",
                    "resource_missing",
                )
        settings["default_payment_method"] = pm_id
    if p.has("footer"):
        settings["footer"] = p.str("footer")
    return settings


CUSTOMER_PARAMS = (
    "email", "name", "phone", "description", "metadata", "address", "shipping", "test_clock",
    "invoice_settings", "payment_method", "balance", "preferred_locales", "tax_exempt",
)


@route("POST", "/v1/customers", accepts=(*CUSTOMER_PARAMS,))
def create_customer(ctx: Ctx, p: Params) -> Obj:
    st = ctx.store
    clock_id = p.str("test_clock")
    if clock_id:
        st.get("test_helpers.test_clock", clock_id, "test_clock")
    cid = st.new_id("cus", 14)
    created = (st.maybe("test_helpers.test_clock", clock_id) or {}).get("frozen_time") if clock_id else None
    obj: Obj = {
        "id": cid,
        "object": "customer",
        "address": _address(p.sub("address")),
        "balance": p.int("balance", 0),
        "created": int(created) if created else st.wall_now(),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": p.str("description"),
        "discount": None,
        "email": p.str("email"),
        "invoice_prefix": cid[4:12].upper(),
        "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None, "rendering_options": None},
        "livemode": False,
        "metadata": p.metadata(),
        "name": p.str("name"),
        "next_invoice_sequence": 1,
        "phone": p.str("phone"),
        "preferred_locales": p.list("preferred_locales"),
        "shipping": _shipping(p.sub("shipping")),
        "tax_exempt": p.enum("tax_exempt", _TAX_EXEMPT, "none"),
        "test_clock": clock_id,
    }
    st.insert(obj)
    pm_id = p.str("payment_method")
    inv = p.sub("invoice_settings")
    if pm_id:
        from .payment_methods import attach_payment_method

        try:
            attached = attach_payment_method(st, pm_id, cid)["id"]
        except ApiError:
            st.pop("customer", cid)  # Stripe creates nothing when the card fails
            raise
        if inv is not None and inv.str("default_payment_method") == pm_id:
            inv.data["default_payment_method"] = attached  # a test token names the pm it just created
    obj["invoice_settings"] = _invoice_settings(inv, obj["invoice_settings"], st, cid)
    st.emit("customer.created", obj)
    return obj


@route("GET", "/v1/customers/search", accepts=("query", "limit", "page"))
def search_customers(ctx: Ctx, p: Params) -> Obj:
    query = p.req("query")
    page = p.str("page")
    if page is not None and not page.isdigit():  # our cursors are offsets; anything else is not one of ours
        raise invalid(f"Invalid page: {page}", "page")
    matcher = parse_query(query)
    rows = [c for c in ctx.store.all("customer") if matcher(c)]
    return search_object(p, rows, "/v1/customers/search")


@route("GET", "/v1/customers/{cid}", accepts=())
def retrieve_customer(ctx: Ctx, p: Params, cid: str) -> Obj:
    found = ctx.store.maybe("customer", cid)
    if found is not None and found.get("deleted"):
        return {"id": cid, "object": "customer", "deleted": True}
    return ctx.store.get("customer", cid)


@route("POST", "/v1/customers/{cid}", accepts=set(CUSTOMER_PARAMS) - {"test_clock", "payment_method"})
def update_customer(ctx: Ctx, p: Params, cid: str) -> Obj:
    st = ctx.store
    obj = st.get("customer", cid)
    previous: dict[str, Any] = {}
    for field in ("email", "name", "phone", "description"):
        if p.has(field):
            previous[field] = obj[field]
            obj[field] = p.str(field)
    if p.has("balance"):
        previous["balance"] = obj["balance"]
        obj["balance"] = p.int("balance", 0)
    if p.has("address"):
        previous["address"] = obj["address"]
        obj["address"] = _address(p.sub("address"))
    if p.has("shipping"):
        previous["shipping"] = obj["shipping"]
        obj["shipping"] = _shipping(p.sub("shipping"))
    if p.has("preferred_locales"):
        previous["preferred_locales"] = obj["preferred_locales"]
        obj["preferred_locales"] = [str(x) for x in p.list("preferred_locales")]
    if p.has("tax_exempt"):
        previous["tax_exempt"] = obj["tax_exempt"]
        obj["tax_exempt"] = p.enum("tax_exempt", _TAX_EXEMPT, "none")
    if p.has("metadata"):
        previous["metadata"] = dict(obj["metadata"])
        obj["metadata"] = p.metadata(obj["metadata"])
    if p.has("invoice_settings"):
        previous["invoice_settings"] = dict(obj["invoice_settings"])
        obj["invoice_settings"] = _invoice_settings(p.sub("invoice_settings"), obj["invoice_settings"], st, cid)
    st.emit("customer.updated", obj, previous=previous)
    return obj


@route("DELETE", "/v1/customers/{cid}", accepts=())
def delete_customer(ctx: Ctx, p: Params, cid: str) -> Obj:
    """API reference, Delete a customer: "Also immediately cancels any active subscriptions on
    the customer"; the deleted customer stays retrievable as ``{id, object, deleted: true}``."""
    st = ctx.store
    obj = st.get("customer", cid)
    at = st.now(cid)
    for sub in st.where("subscription", customer=cid):
        if sub["status"] not in ("canceled", "incomplete_expired"):
            en.cancel_subscription(st, sub, at=at, reason="cancellation_requested")
    obj["deleted"] = True
    st.emit("customer.deleted", obj)
    return {"id": cid, "object": "customer", "deleted": True}


@route("GET", "/v1/customers", accepts=("email", "limit", "starting_after", "ending_before", "created", "test_clock"))
def list_customers(ctx: Ctx, p: Params) -> Obj:
    email = p.str("email")
    clock = p.str("test_clock")
    keep = range_filter(p)
    # Stripe: "The response will not include customers with test clocks if this parameter
    # is not set" (https://docs.stripe.com/api/customers/list#list_customers-test_clock)
    return list_page(p, ctx.store, "customer", lambda c: (email is None or (c.get("email") or "") == email)
                     and c.get("test_clock") == clock and keep(c), "/v1/customers")


# ----- Stripe search query language (the subset we need) ---------------------------
_CLAUSE = re.compile(
    r"""(?P<field>metadata\[['"](?P<mkey>[^'"]+)['"]\]|[a-z_]+)\s*(?P<op>:|~|>=|<=|>|<)\s*"""
    r"""(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?\d+|null)""",
    re.IGNORECASE,
)


_FIELDS = ("created", "email", "metadata", "name", "phone")
_JOINER = re.compile(r"\s+(?:(AND|OR)\s+)?", re.IGNORECASE)


def _split(text: str) -> tuple[str, list[tuple[bool, re.Match[str]]]]:
    """Clauses separated by whitespace, ``AND`` or ``OR`` (keywords case-insensitive)."""
    clauses: list[tuple[bool, re.Match[str]]] = []
    joiners: set[str] = set()
    pos = 0
    while True:
        negate = text.startswith("-", pos)
        m = _CLAUSE.match(text, pos + negate)
        if not m:
            rest = text[pos:].split()[0] if text[pos:].split() else text[pos:]
            raise invalid(f"Invalid search query: could not parse `{rest}`.", "query")
        clauses.append((negate, m))
        pos = m.end()
        if pos >= len(text):
            break
        j = _JOINER.match(text, pos)
        if not j:
            raise invalid(f"Invalid search query: could not parse `{text[pos:]}`.", "query")
        joiners.add((j.group(1) or "AND").upper())
        pos = j.end()
    if len(joiners) > 1:
        raise invalid("Search queries cannot mix AND and OR.", "query")
    return (joiners.pop() if joiners else "AND"), clauses


def parse_query(query: str) -> Any:
    """Compile ``email:'x' AND metadata['k']:'v'``, ``name~'y' OR phone:'z'`` into a predicate.

    Per docs.stripe.com/search: clauses join with a space or AND/OR (case-insensitive, not
    mixed), ``-`` negates, and a field outside the resource's query fields is refused.
    """
    text = query.strip()
    if not text:
        raise invalid("Search query is empty", "query")
    joiner, clauses = _split(text)
    for _, m in clauses:
        field = m.group("field").lower()
        if not m.group("mkey") and field not in _FIELDS:
            raise invalid(f"Field `{m.group('field')}` is an unsupported search field for resource `customers`. "
                          "See http://stripe.com/docs/search#query-fields-for-customers for a list of supported fields.",
                          "query")

    def value_of(obj: Obj, m: re.Match[str]) -> Any:
        if m.group("mkey"):
            return (obj.get("metadata") or {}).get(m.group("mkey"))
        return obj.get(m.group("field").lower())

    def test(obj: Obj, negate: bool, m: re.Match[str]) -> bool:
        raw = m.group("value")
        # docs.stripe.com/search: "You can escape quotes inside of quotes with a backslash (\\)".
        want: Any = None if raw == "null" else re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw[0] in "'\"" else int(raw)
        have = value_of(obj, m)
        op = m.group("op")
        if op == ":":
            ok = (have is None) if want is None else (str(have).lower() == str(want).lower() if have is not None else False)
        elif op == "~":
            ok = have is not None and str(want).lower() in str(have).lower()
        else:
            ok = have is not None and {">": have > want, "<": have < want, ">=": have >= want, "<=": have <= want}[op]
        return ok != negate

    def predicate(obj: Obj) -> bool:
        results = [test(obj, neg, m) for neg, m in clauses]
        return any(results) if joiner == "OR" else all(results)

    return predicate
