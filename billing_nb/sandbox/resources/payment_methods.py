"""Payment methods: Stripe's test tokens, attach/detach, list by customer.

Test tokens (``pm_card_visa``, ``pm_card_chargeDeclined``, ...) materialise a new
``pm_`` object with the test card's brand, last4 and a fingerprint derived from the
card number (so the same card on two customers shows the same fingerprint, as in
Stripe). How the card behaves when charged is kept on the object under the internal
key ``_test_behavior`` (the app strips ``_`` keys from every response);
:func:`charge_outcome` is how the billing engine reads it.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from ..errors import ApiError, invalid
from ..listing import list_object
from ..params import Params
from ..routing import Ctx, route
from ..store import Obj, Store

__all__ = [
    "TEST_CARDS",
    "attach_payment_method",
    "resolve_payment_method",
    "charge_outcome",
    "create_card_payment_method",
]

#: token -> (card number, brand, behaviour). Behaviours: succeeded, attach_declined
#: (declined on attach and on charge), customer_fail (attaches, charges fail), dispute,
#: refund_pending / refund_fail (charges succeed; refunds settle later or fail).
TEST_CARDS: dict[str, tuple[str, str, str]] = {
    "pm_card_visa": ("4242424242424242", "visa", "succeeded"),
    "pm_card_mastercard": ("5555555555554444", "mastercard", "succeeded"),
    "pm_card_amex": ("378282246310005", "amex", "succeeded"),
    "pm_card_chargeCustomerFail": ("4000000000000341", "visa", "customer_fail"),
    "pm_card_chargeDeclined": ("4000000000000002", "visa", "attach_declined"),
    "pm_card_createDispute": ("4000000000000259", "visa", "dispute"),
    # refunds of these cards move later (docs.stripe.com/testing, "Refunds"; engine/refunds.py)
    "pm_card_pendingRefund": ("4000000000007726", "visa", "refund_pending"),
    "pm_card_refundFail": ("4000000000005126", "visa", "refund_fail"),
}
#: ``tok_`` card tokens accepted by ``POST /v1/payment_methods`` with ``card[token]``.
CARD_TOKENS = {"tok_" + k[len("pm_card_"):]: k for k in TEST_CARDS}

_BILLING_FIELDS = ("address", "email", "name", "phone", "tax_id")
_ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")


def card_declined() -> ApiError:
    """The 402 CardError Stripe returns for a declined test card."""
    return ApiError(402, "Your card was declined.", type="card_error", code="card_declined",
                    decline_code="generic_decline")


def _fingerprint(number: str) -> str:
    digest = hashlib.sha256(f"billing-nb-sandbox:{number}".encode()).hexdigest()
    return "".join(c for c in digest if c.isalnum())[:16]


def _billing_details(p: Params | None, current: dict[str, Any] | None = None) -> dict[str, Any]:
    empty: dict[str, Any] = {"address": {f: None for f in _ADDRESS_FIELDS}, "email": None, "name": None,
                             "phone": None, "tax_id": None}
    result: dict[str, Any] = dict(current or empty)
    if p is None:
        return result
    p.allow(*_BILLING_FIELDS)
    for field in ("email", "name", "phone", "tax_id"):
        if p.has(field):
            result[field] = p.str(field)
    addr = p.sub("address")
    if addr is not None:
        addr.allow(*_ADDRESS_FIELDS)
        address: dict[str, Any] = dict(result["address"] or {})
        address.update({f: addr.str(f) for f in _ADDRESS_FIELDS if addr.has(f)})
        result["address"] = address
    return result


def create_card_payment_method(store: Store, token: str, customer_id: str | None = None) -> Obj:
    """A new, unattached card payment method for a ``pm_card_*`` test token."""
    if token not in TEST_CARDS:
        raise invalid(f"No such PaymentMethod: '{token}'", "payment_method", "resource_missing")
    number, brand, behaviour = TEST_CARDS[token]
    now = store.now(customer_id)
    obj: Obj = {
        "id": store.new_id("pm"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": _billing_details(None),
        "card": {
            "brand": brand,
            "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": None},
            "country": "US",
            "display_brand": brand,
            "exp_month": 12,
            "exp_year": time.gmtime(now).tm_year + 3,
            "fingerprint": _fingerprint(number),
            "funding": "credit",
            "generated_from": None,
            "last4": number[-4:],
            "networks": {"available": [brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": now,
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
        "_test_behavior": behaviour,
    }
    return store.insert(obj)


def resolve_payment_method(
    store: Store, pm_id_or_token: str, customer_id: str | None = None, *, param: str = "payment_method"
) -> Obj:
    """The payment method for an id or a test token (a token creates a new, unattached pm).

    With ``customer_id``, an existing pm attached to another customer is refused.
    """
    if pm_id_or_token in TEST_CARDS:
        return create_card_payment_method(store, pm_id_or_token, customer_id)
    pm = store.get("payment_method", pm_id_or_token, param)
    owner = pm.get("customer")
    if customer_id and owner and owner != customer_id:
        raise invalid(
            f"The PaymentMethod `{pm['id']}` belongs to the Customer `{owner}`, not to `{customer_id}`.",
            param,
        )
    return pm


def attach_payment_method(
    store: Store, pm_id_or_token: str, customer_id: str, *, param: str = "payment_method"
) -> Obj:
    """Attach a pm (or a test token, materialised first) to a customer, as Stripe does.

    A declining card (``pm_card_chargeDeclined``) is refused with a 402 CardError, because
    Stripe validates the card on attach; ``pm_card_chargeCustomerFail`` attaches fine.
    """
    store.get("customer", customer_id, "customer")
    if pm_id_or_token in TEST_CARDS:
        if TEST_CARDS[pm_id_or_token][2] == "attach_declined":
            raise card_declined()
        pm = create_card_payment_method(store, pm_id_or_token, customer_id)
    else:
        pm = store.get("payment_method", pm_id_or_token, param)
        if pm.get("customer") == customer_id:
            return pm
        if pm.get("customer"):
            raise invalid("The payment method you provided has already been attached to a customer.", param)
        if pm.get("_detached"):
            raise invalid(
                "This PaymentMethod was previously used without being attached to a Customer or was "
                "detached from a Customer, and may not be used again.", param,
            )
        if pm.get("_test_behavior") == "attach_declined":
            raise card_declined()
    pm["customer"] = customer_id
    store.emit("payment_method.attached", pm, customer_id=customer_id)
    return pm


def charge_outcome(pm: Obj) -> tuple[str, str | None, str | None]:
    """What charging this pm does: ("succeeded"|"declined"|"dispute", code, decline_code)."""
    behaviour = pm.get("_test_behavior", "succeeded")
    if behaviour in ("attach_declined", "customer_fail"):
        return ("declined", "card_declined", "generic_decline")
    if behaviour == "dispute":
        return ("dispute", None, None)
    return ("succeeded", None, None)


# ----- HTTP handlers -------------------------------------------------------------------
@route("POST", "/v1/payment_methods", accepts=("type", "card", "billing_details", "metadata", "allow_redisplay", "customer", "payment_method"))
def create_payment_method(ctx: Ctx, p: Params) -> Obj:
    if p.str("customer") or p.str("payment_method"):
        raise invalid("Cloning payment methods to connected accounts is not supported by the sandbox.", "customer")
    kind = p.req("type")
    if kind != "card":
        raise invalid(f"The sandbox only supports payment methods of type `card`, not `{kind}`.", "type")
    card = p.sub("card")
    if card is None:
        raise invalid("Missing required param: card.", "card", "parameter_missing")
    card.allow("token", "number", "exp_month", "exp_year", "cvc")
    if card.has("number"):
        raise invalid(
            "Sending credit card numbers directly to the Stripe API is generally unsafe. "
            "Use test tokens such as `tok_visa` instead.", "card[number]",
        )
    token = card.req("token")
    if token not in CARD_TOKENS:
        raise invalid(f"No such token: '{token}'", "card[token]", "resource_missing")
    pm = create_card_payment_method(ctx.store, CARD_TOKENS[token])
    pm["billing_details"] = _billing_details(p.sub("billing_details"))
    pm["metadata"] = p.metadata()
    pm["allow_redisplay"] = p.enum("allow_redisplay", ("always", "limited", "unspecified"), "unspecified")
    return pm


@route("GET", "/v1/payment_methods/{pm_id}", accepts=())
def retrieve_payment_method(ctx: Ctx, p: Params, pm_id: str) -> Obj:
    return resolve_payment_method(ctx.store, pm_id, param="id")


@route("POST", "/v1/payment_methods/{pm_id}", accepts=("billing_details", "metadata", "allow_redisplay", "card"))
def update_payment_method(ctx: Ctx, p: Params, pm_id: str) -> Obj:
    pm = ctx.store.get("payment_method", pm_id)
    if not pm.get("customer"):
        raise invalid("You must save this PaymentMethod to a customer before you can update it.")
    previous: dict[str, Any] = {}
    if p.has("billing_details"):
        previous["billing_details"] = pm["billing_details"]
        pm["billing_details"] = _billing_details(p.sub("billing_details"), pm["billing_details"])
    if p.has("metadata"):
        previous["metadata"] = dict(pm["metadata"])
        pm["metadata"] = p.metadata(pm["metadata"])
    if p.has("allow_redisplay"):
        previous["allow_redisplay"] = pm["allow_redisplay"]
        pm["allow_redisplay"] = p.enum("allow_redisplay", ("always", "limited", "unspecified"))
    card = p.sub("card")
    if card is not None:
        card.allow("exp_month", "exp_year")
        previous["card"] = dict(pm["card"])
        for field in ("exp_month", "exp_year"):
            if card.has(field):
                pm["card"][field] = card.int(field)
    ctx.store.emit("payment_method.updated", pm, previous=previous)
    return pm


@route("POST", "/v1/payment_methods/{pm_id}/attach", accepts=("customer",))
def attach(ctx: Ctx, p: Params, pm_id: str) -> Obj:
    return attach_payment_method(ctx.store, pm_id, p.req("customer"), param="id")


@route("POST", "/v1/payment_methods/{pm_id}/detach", accepts=())
def detach(ctx: Ctx, p: Params, pm_id: str) -> Obj:
    st = ctx.store
    pm = st.get("payment_method", pm_id)
    owner = pm.get("customer")
    if not owner:
        raise invalid("The payment method you provided is not attached to a customer so detachment is impossible.")
    pm["customer"] = None
    pm["_detached"] = True
    cust = st.maybe("customer", owner)
    if cust and (cust.get("invoice_settings") or {}).get("default_payment_method") == pm_id:
        cust["invoice_settings"]["default_payment_method"] = None
    st.emit("payment_method.detached", pm, customer_id=owner, previous={"customer": owner})
    return pm


def _filtered(store: Store, p: Params, customer: str | None) -> list[Obj]:
    kind = p.str("type")
    redisplay = p.enum("allow_redisplay", ("always", "limited", "unspecified")) if p.has("allow_redisplay") else None
    return [
        pm for pm in store.all("payment_method")
        if (customer is None or pm.get("customer") == customer) and (kind is None or pm.get("type") == kind)
        and (redisplay is None or pm.get("allow_redisplay") == redisplay)
    ]


@route("GET", "/v1/payment_methods", accepts=("customer", "type", "limit", "starting_after", "ending_before"))
def list_payment_methods(ctx: Ctx, p: Params) -> Obj:
    customer = p.str("customer")
    if customer:
        ctx.store.get("customer", customer, "customer")
    return list_object(p, _filtered(ctx.store, p, customer), "/v1/payment_methods")


@route("GET", "/v1/customers/{cid}/payment_methods", accepts=("type", "limit", "starting_after", "ending_before",
                                                              "allow_redisplay"))
def list_customer_payment_methods(ctx: Ctx, p: Params, cid: str) -> Obj:
    ctx.store.get("customer", cid, "customer")
    return list_object(p, _filtered(ctx.store, p, cid), f"/v1/customers/{cid}/payment_methods")


@route("GET", "/v1/customers/{cid}/payment_methods/{pm_id}", accepts=())
def retrieve_customer_payment_method(ctx: Ctx, p: Params, cid: str, pm_id: str) -> Obj:
    ctx.store.get("customer", cid, "customer")
    pm = ctx.store.get("payment_method", pm_id)
    if pm.get("customer") != cid:
        raise ApiError(404, f"No such PaymentMethod: '{pm_id}'", code="resource_missing", param="payment_method")
    return pm
