"""Checkout sessions: create, retrieve, list, line items, expire.

Nobody fills in a hosted payment page here, so sessions stay ``open`` until they
expire (``expires_at`` passes on the customer's test clock, or ``expire`` is called)
or the billing engine marks them complete with :func:`complete_session`. Expiry is
evaluated lazily whenever sessions are read, so advancing a test clock past
``expires_at`` expires them as Stripe would.
"""

from __future__ import annotations

import copy
from typing import Any

from ..engine.pricing import line_amount
from ..errors import invalid
from ..filters import range_filter
from ..listing import list_object
from ..params import Params
from ..routing import Ctx, route
from ..store import Obj, Store

__all__ = ["complete_session", "expire_due_sessions"]

KIND = "checkout.session"
_MIN_TTL, _MAX_TTL = 30 * 60, 24 * 3600
_ACCEPTED = ("mode", "customer", "customer_email", "line_items", "success_url", "cancel_url", "expires_at",
             "metadata", "client_reference_id", "allow_promotion_codes", "billing_address_collection", "locale",
             "ui_mode", "customer_creation", "payment_method_collection", "currency", "submit_type")


def _line_item(store: Store, raw: Any, i: int, mode: str) -> Obj:
    p = Params(raw if isinstance(raw, dict) else {}, f"line_items[{i}][")
    p.allow("price", "quantity", "price_data")
    if p.sub("price_data") is not None:
        raise invalid("The sandbox supports line_items with `price` only; create the price first.",
                      f"line_items[{i}][price_data]")
    price = store.get("price", p.req("price"), f"line_items[{i}][price]")
    if not price["active"]:
        raise invalid("The price specified is inactive. This field only accepts active prices.",
                      f"line_items[{i}][price]")
    quantity = p.int("quantity", required=True) or 0
    if quantity < 1:
        raise invalid("Invalid integer: quantity must be at least 1", f"line_items[{i}][quantity]")
    if mode == "payment" and price["type"] == "recurring":
        raise invalid("You specified `payment` mode but passed a recurring price. Either switch to `subscription` "
                      "mode or use only one-time prices.", f"line_items[{i}][price]")
    product = store.maybe("product", price["product"]) or {}
    amount = line_amount(price, quantity)
    return {
        "id": store.new_id("li"), "object": "item", "amount_discount": 0, "amount_subtotal": amount,
        "amount_tax": 0, "amount_total": amount, "currency": price["currency"],
        "description": product.get("name"), "metadata": {}, "price": copy.deepcopy(price), "quantity": quantity,
    }


def _customer_details(store: Store, customer_id: str | None, email: str | None) -> dict[str, Any] | None:
    cust = store.maybe("customer", customer_id)
    if cust is None and not email:
        return None
    return {"address": copy.deepcopy(cust["address"]) if cust else None, "business_name": None,
            "email": cust["email"] if cust else email, "individual_name": None,
            "name": cust["name"] if cust else None, "phone": cust["phone"] if cust else None,
            "tax_exempt": cust["tax_exempt"] if cust else "none", "tax_ids": []}


@route("POST", "/v1/checkout/sessions", accepts=(*_ACCEPTED,))
def create_session(ctx: Ctx, p: Params) -> Obj:
    st = ctx.store
    mode = p.enum("mode", ("payment", "setup", "subscription"))
    if mode is None:
        raise invalid("Missing required param: mode.", "mode", "parameter_missing")
    customer_id, email = p.str("customer"), p.str("customer_email")
    if customer_id and email:
        raise invalid("You may only specify one of these parameters: customer, customer_email.", "customer_email")
    if customer_id:
        st.get("customer", customer_id, "customer")
    items = [_line_item(st, raw, i, mode) for i, raw in enumerate(p.list("line_items"))]
    if mode in ("payment", "subscription") and not items:
        raise invalid("Missing required param: line_items.", "line_items", "parameter_missing")
    if mode == "subscription" and not any(li["price"]["type"] == "recurring" for li in items):
        raise invalid("You must provide at least one recurring price in `subscription` mode when using prices.",
                      "line_items")
    currencies = {li["currency"] for li in items}
    if len(currencies) > 1:
        raise invalid("All prices on a Checkout Session must have the same currency.", "line_items")
    now = st.now(customer_id)
    expires_at = p.int("expires_at", now + _MAX_TTL) or now + _MAX_TTL
    if expires_at - now > _MAX_TTL:
        raise invalid("The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.", "expires_at")
    if expires_at - now < _MIN_TTL:
        raise invalid("The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.", "expires_at")
    total = sum(li["amount_total"] for li in items) if items else None
    sid = st.new_id("cs_test", 58)
    base = ctx.extra.get("base_url") or st.settings.get("base_url") or "http://127.0.0.1"
    session: Obj = {
        "id": sid, "object": KIND, "adaptive_pricing": {"enabled": False}, "after_expiration": None,
        "allow_promotion_codes": p.bool("allow_promotion_codes"), "amount_subtotal": total, "amount_total": total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": p.str("billing_address_collection"), "cancel_url": p.str("cancel_url"),
        "client_reference_id": p.str("client_reference_id"), "client_secret": None, "collected_information": None,
        "consent": None, "consent_collection": None, "created": now,
        "currency": next(iter(currencies)) if currencies else p.str("currency"), "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {"after_submit": None, "shipping_address": None, "submit": None, "terms_of_service_acceptance": None},
        "customer": customer_id, "customer_account": None,
        "customer_creation": None if customer_id or mode == "subscription" else p.str("customer_creation", "if_required"),
        "customer_details": _customer_details(st, customer_id, email), "customer_email": email, "discounts": [],
        "expires_at": expires_at, "integration_identifier": None, "invoice": None,
        "invoice_creation": None if mode != "payment" else {"enabled": False, "invoice_data": {
            "account_tax_ids": None, "custom_fields": None, "description": None, "footer": None, "issuer": None,
            "metadata": {}, "rendering_options": None}},
        "livemode": False, "locale": p.str("locale"), "managed_payments": None, "metadata": p.metadata(), "mode": mode,
        "origin_context": None,
        "payment_intent": None, "payment_link": None,
        "payment_method_collection": p.str("payment_method_collection", "always") if mode == "subscription" else None,
        "payment_method_configuration_details": None, "payment_method_options": {},
        "payment_method_types": ["card"],
        "payment_status": "no_payment_required" if mode == "setup" else "unpaid", "permissions": None,
        "phone_number_collection": {"enabled": False}, "recovered_from": None,
        "saved_payment_method_options": {"allow_redisplay_filters": ["always"], "payment_method_remove": None,
                                         "payment_method_save": None} if customer_id else None,
        "setup_intent": None, "shipping_address_collection": None, "shipping_cost": None, "shipping_options": [],
        "status": "open", "submit_type": p.str("submit_type"), "subscription": None,
        "success_url": p.str("success_url"),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0} if items else None,
        "ui_mode": p.str("ui_mode", "hosted_page"), "url": f"{base}/c/pay/{sid}", "wallet_options": None,
        "_line_items": items,
    }
    st.insert(session)
    return _with_line_items(session, p)


def _refresh(store: Store, session: Obj) -> Obj:
    if session["status"] == "open" and store.now(session.get("customer")) >= session["expires_at"]:
        _expire(store, session)
    return session


def _expire(store: Store, session: Obj) -> None:
    session["status"] = "expired"
    session["url"] = None
    store.emit("checkout.session.expired", session)


def expire_due_sessions(store: Store) -> None:
    """Expire every open session whose ``expires_at`` has passed (call after a clock advance)."""
    for session in store.all(KIND):
        _refresh(store, session)


def complete_session(store: Store, session_id: str, *, subscription: str | None = None,
                     invoice: str | None = None, payment_intent: str | None = None) -> Obj:
    """Mark an open session complete and paid, as the hosted page would on success."""
    session = _refresh(store, store.get(KIND, session_id))
    if session["status"] != "open":
        raise invalid(f"This Checkout Session is {session['status']} and can no longer be completed.")
    session.update(status="complete", payment_status="paid" if session["mode"] != "setup" else "no_payment_required",
                   url=None, subscription=subscription, invoice=invoice, payment_intent=payment_intent)
    store.emit("checkout.session.completed", session)
    return session


def _with_line_items(session: Obj, p: Params) -> Obj:
    """Add the includable ``line_items`` list when the caller expands it."""
    paths = p.expand()
    if not any(x in ("line_items", "data.line_items") or x.startswith(("line_items.", "data.line_items."))
               for x in paths):
        return session
    out = dict(session)
    out["line_items"] = {"object": "list", "data": session["_line_items"], "has_more": False,
                         "url": f"/v1/checkout/sessions/{session['id']}/line_items"}
    return out


@route("GET", "/v1/checkout/sessions/{sid}", accepts=())
def retrieve_session(ctx: Ctx, p: Params, sid: str) -> Obj:
    return _with_line_items(_refresh(ctx.store, ctx.store.get(KIND, sid, "session")), p)


@route("GET", "/v1/checkout/sessions/{sid}/line_items", accepts=("limit", "starting_after", "ending_before"))
def list_line_items(ctx: Ctx, p: Params, sid: str) -> Obj:
    session = ctx.store.get(KIND, sid, "session")
    return list_object(p, session["_line_items"], f"/v1/checkout/sessions/{sid}/line_items")


@route("POST", "/v1/checkout/sessions/{sid}/expire", accepts=())
def expire_session(ctx: Ctx, p: Params, sid: str) -> Obj:
    session = _refresh(ctx.store, ctx.store.get(KIND, sid, "session"))
    if session["status"] != "open":
        raise invalid('Only Checkout Sessions with a status in ["open"] can be expired.', "session")
    _expire(ctx.store, session)
    return _with_line_items(session, p)


@route("GET", "/v1/checkout/sessions", accepts=("customer", "status", "payment_intent", "subscription", "payment_link", "customer_details", "created", "limit", "starting_after", "ending_before"))
def list_sessions(ctx: Ctx, p: Params) -> Obj:
    st = ctx.store
    expire_due_sessions(st)
    status = p.enum("status", ("complete", "expired", "open"))
    keep = range_filter(p)
    details = p.sub("customer_details")
    email = None
    if details is not None:
        details.allow("email")
        email = details.req("email")
    want = {k: p.str(k) for k in ("customer", "payment_intent", "subscription", "payment_link") if p.str(k)}
    rows = [s for s in st.all(KIND)
            if all(s.get(k) == v for k, v in want.items()) and (status is None or s["status"] == status)
            and (email is None or (s.get("customer_details") or {}).get("email") == email) and keep(s)]
    result = list_object(p, rows, "/v1/checkout/sessions")
    result["data"] = [_with_line_items(s, p) for s in result["data"]]
    return result
