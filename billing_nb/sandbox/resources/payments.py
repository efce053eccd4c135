"""PaymentIntents, charges, refunds and disputes over HTTP.

Refunds are refused the way Stripe refuses them (``charge_disputed``,
``charge_already_refunded``, ``amount_too_large`` with Stripe's message), because
the toolkit's safety model rests on those refusals. :func:`create_refund` is shared
with credit notes, which refund through the invoice's charge.
"""

from __future__ import annotations

from ..engine import core as en
from ..engine import invoices as ei
from ..engine.objects import fmt_amount, new_payment_intent, new_refund
from ..engine.refunds import initial_refund
from ..engine.render import with_includables
from ..errors import ApiError, invalid
from ..filters import range_filter
from ..listing import list_object, list_page
from ..params import Params
from ..routing import Ctx, route
from ..store import Obj, Store

__all__ = ["create_refund", "refundable", "OPEN_DISPUTE"]

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
OPEN_DISPUTE = ("warning_needs_response", "warning_under_review", "needs_response", "under_review")


def _out(ctx: Ctx, p: Params, obj: Obj) -> Obj:
    return with_includables(ctx.store, obj, p.expand())


def _card_error(err: Obj, pi: Obj) -> ApiError:
    public = {k: v for k, v in pi.items() if not k.startswith("_")}
    return ApiError(402, err["message"], type="card_error", code=err["code"], decline_code=err["decline_code"],
                    extra={"charge": err["charge"], "payment_intent": public,
                           "payment_method": err["payment_method"]})


def _invoice_of(store: Store, pi: Obj) -> Obj | None:
    for pay in store.all("invoice_payment"):
        if pay["payment"].get("payment_intent") == pi["id"]:
            return store.maybe("invoice", pay["invoice"])
    return None


def _confirm(store: Store, pi: Obj, pm_id: str | None) -> Obj:
    """Confirm a PaymentIntent: pays its invoice when it belongs to one."""
    from .payment_methods import resolve_payment_method

    if pi["status"] in ("succeeded", "canceled"):
        raise invalid(f"This PaymentIntent's status is {pi['status']}, so it cannot be confirmed.",
                      code="payment_intent_unexpected_state")
    pm = resolve_payment_method(store, pm_id or pi.get("payment_method") or "", pi.get("customer")) \
        if (pm_id or pi.get("payment_method")) else None
    if pm is None:
        raise invalid("You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the "
                      "PaymentIntent with " + str(pi.get("customer")) + ", specify a payment method attached to "
                      "this customer along with the customer ID.", code="payment_intent_unexpected_state")
    inv = _invoice_of(store, pi)
    if inv is not None and inv["status"] == "open":
        ok, err = en.collect(store, inv, pm["id"], schedule=False)
    else:
        ok, err = ei.charge_intent(store, pi, pm)
    if not ok and err is not None:
        raise _card_error(err, pi)
    return pi


@route("POST", "/v1/payment_intents", accepts=("amount", "currency", "customer", "payment_method", "confirm",
                                              "description", "metadata", "receipt_email", "statement_descriptor",
                                              "statement_descriptor_suffix", "automatic_payment_methods",
                                              "off_session", "return_url"))
def create_payment_intent(ctx: Ctx, p: Params) -> Obj:
    st = ctx.store
    customer = st.get("customer", p.req("customer"), "customer")["id"] if p.has("customer") else None
    amount = p.int("amount", required=True) or 0
    if amount < 50:
        raise invalid("Amount must be at least $0.50 usd", "amount", "amount_too_small")
    auto = p.sub("automatic_payment_methods")
    automatic = None
    if auto is not None:
        # API reference, Create a PaymentIntent: automatic_payment_methods.enabled (required) and
        # allow_redirects (always | never, default always). Payment methods that may redirect
        # need a return_url at confirmation; with "never" only non-redirecting ones are offered.
        enabled = auto.bool("enabled")
        if enabled is None:
            raise invalid("Missing required param: automatic_payment_methods[enabled].",
                          "automatic_payment_methods[enabled]", "parameter_missing")
        redirects = auto.enum("allow_redirects", ("always", "never"), "always")
        automatic = {"enabled": True, "allow_redirects": redirects} if enabled else None
        if enabled and redirects == "always" and p.bool("confirm") and not p.str("return_url") \
                and not p.bool("off_session"):
            raise invalid("This PaymentIntent is configured to accept payment methods enabled in your Dashboard. "
                          "Because some of these payment methods might redirect your customer off of your page, "
                          "you must provide a `return_url`. If you don't want to accept redirect-based payment "
                          "methods, set `automatic_payment_methods[enabled]` to `true` and "
                          "`automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents "
                          "and Payment Intents.", "return_url")
    p.bool("off_session")
    p.str("return_url")
    pi = new_payment_intent(st, amount=amount, currency=p.req("currency").lower(), customer=customer,
                            description=p.str("description"), payment_method=p.str("payment_method"),
                            metadata=p.metadata())
    for field in ("receipt_email", "statement_descriptor", "statement_descriptor_suffix"):
        pi[field] = p.str(field)  # stored as given (API reference, Create a PaymentIntent)
    pi["automatic_payment_methods"] = automatic
    st.emit("payment_intent.created", pi)
    if p.bool("confirm"):
        _confirm(st, pi, p.str("payment_method"))
    return pi


@route("GET", "/v1/payment_intents", accepts=("customer", "created", "limit", "starting_after", "ending_before"))
def list_payment_intents(ctx: Ctx, p: Params) -> Obj:
    customer, keep = p.str("customer"), range_filter(p)
    rows = [x for x in ctx.store.matching("payment_intent", customer=customer) if keep(x)]
    return _out(ctx, p, list_object(p, rows, "/v1/payment_intents"))


@route("GET", "/v1/payment_intents/{pid}", accepts=())
def retrieve_payment_intent(ctx: Ctx, p: Params, pid: str) -> Obj:
    return _out(ctx, p, ctx.store.get("payment_intent", pid))


@route("POST", "/v1/payment_intents/{pid}/confirm", accepts=("payment_method", "receipt_email"))
def confirm_payment_intent(ctx: Ctx, p: Params, pid: str) -> Obj:
    pi = ctx.store.get("payment_intent", pid)
    if p.has("receipt_email"):
        pi["receipt_email"] = p.str("receipt_email")
    return _out(ctx, p, _confirm(ctx.store, pi, p.str("payment_method")))


@route("POST", "/v1/payment_intents/{pid}/cancel", accepts=("cancellation_reason",))
def cancel_payment_intent(ctx: Ctx, p: Params, pid: str) -> Obj:
    pi = ctx.store.get("payment_intent", pid)
    if pi["status"] in ("succeeded", "canceled"):
        raise invalid(f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}. Only a "
                      "PaymentIntent with one of the following statuses may be canceled: requires_payment_method, "
                      "requires_capture, requires_reattempt, requires_confirmation, requires_action, processing.",
                      code="payment_intent_unexpected_state")
    reason = p.enum("cancellation_reason", ("abandoned", "duplicate", "fraudulent", "requested_by_customer"),
                    "requested_by_customer")
    pi.update(status="canceled", canceled_at=ctx.store.now(pi.get("customer")), cancellation_reason=reason)
    ctx.store.emit("payment_intent.canceled", pi)
    return pi


# ----- charges ------------------------------------------------------------------------
@route("GET", "/v1/charges", accepts=("customer", "payment_intent", "created", "limit", "starting_after",
                                     "ending_before", "transfer_group"))
def list_charges(ctx: Ctx, p: Params) -> Obj:
    customer, pi_id, keep = p.str("customer"), p.str("payment_intent"), range_filter(p)
    group = p.str("transfer_group")  # sandbox charges never carry one, so a filter by it finds none
    return _out(ctx, p, list_page(p, ctx.store, "charge", lambda c: (pi_id is None or c.get("payment_intent") == pi_id)
                                  and (group is None or c.get("transfer_group") == group) and keep(c),
                                  "/v1/charges", customer=customer))


@route("GET", "/v1/charges/{cid}", accepts=())
def retrieve_charge(ctx: Ctx, p: Params, cid: str) -> Obj:
    return _out(ctx, p, ctx.store.get("charge", cid))


# ----- refunds ------------------------------------------------------------------------
def refundable(charge: Obj) -> int:
    return int(charge["amount_captured"]) - int(charge["amount_refunded"])


def create_refund(store: Store, charge: Obj, amount: int | None, reason: str | None,
                  metadata: dict[str, str] | None = None) -> Obj:
    """Refund part or all of a charge, refusing exactly where Stripe refuses. A pending refund
    counts in ``amount_refunded`` from its creation; one that fails later gives it back
    (:mod:`..engine.refunds`)."""
    if any(d["status"] in OPEN_DISPUTE for d in store.where("dispute", charge=charge["id"])):
        raise invalid(f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                      code="charge_disputed")
    if charge["status"] != "succeeded":
        raise invalid(f"Charge {charge['id']} has not been successfully paid; cannot issue a refund.", "charge")
    remaining = refundable(charge)
    if remaining <= 0:
        raise invalid(f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
    value = remaining if amount is None else amount
    if value <= 0:
        raise invalid("Invalid positive integer", "amount", "parameter_invalid_integer")
    if value > remaining:
        raise invalid(f"Refund amount ({fmt_amount(value, charge['currency'])}) is greater than unrefunded amount "
                      f"on charge ({fmt_amount(remaining, charge['currency'])})", "amount", "amount_too_large")
    refund = new_refund(store, charge, value, reason, dict(metadata or {}))
    initial_refund(store, charge, refund)  # a refund test card starts it pending, or fails it later
    charge["amount_refunded"] = int(charge["amount_refunded"]) + value
    charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
    store.emit("refund.created", refund)
    store.emit("charge.refunded", charge)
    return refund


@route("POST", "/v1/refunds", accepts=("charge", "payment_intent", "amount", "reason", "metadata"))
def create_refund_route(ctx: Ctx, p: Params) -> Obj:
    st = ctx.store
    # Stripe validates parameter values before it looks objects up.
    reason = p.enum("reason", REFUND_REASONS)
    amount = p.int("amount")
    if p.has("charge"):
        charge = st.get("charge", p.req("charge"), "charge")
    elif p.has("payment_intent"):
        pi = st.get("payment_intent", p.req("payment_intent"), "payment_intent")
        charge = st.maybe("charge", pi.get("latest_charge"))
        if charge is None or pi["status"] != "succeeded":
            raise invalid(f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund.",
                          "payment_intent")
    else:
        raise invalid("One of the following params should be provided for this request: payment_intent or charge.",
                      code="parameter_missing")
    return create_refund(st, charge, amount, reason, p.metadata())


@route("GET", "/v1/refunds", accepts=("charge", "payment_intent", "created", "limit", "starting_after", "ending_before"))
def list_refunds(ctx: Ctx, p: Params) -> Obj:
    ch, pi, keep = p.str("charge"), p.str("payment_intent"), range_filter(p)
    return _out(ctx, p, list_page(p, ctx.store, "refund", lambda r: (pi is None or r.get("payment_intent") == pi)
                                  and keep(r), "/v1/refunds", charge=ch))


@route("GET", "/v1/refunds/{rid}", accepts=())
def retrieve_refund(ctx: Ctx, p: Params, rid: str) -> Obj:
    return _out(ctx, p, ctx.store.get("refund", rid))


# ----- disputes -----------------------------------------------------------------------
@route("GET", "/v1/disputes", accepts=("charge", "payment_intent", "created", "limit", "starting_after", "ending_before"))
def list_disputes(ctx: Ctx, p: Params) -> Obj:
    ch, pi, keep = p.str("charge"), p.str("payment_intent"), range_filter(p)
    return _out(ctx, p, list_page(p, ctx.store, "dispute", lambda d: (pi is None or d.get("payment_intent") == pi)
                                  and keep(d), "/v1/disputes", charge=ch))


@route("GET", "/v1/disputes/{did}", accepts=())
def retrieve_dispute(ctx: Ctx, p: Params, did: str) -> Obj:
    return _out(ctx, p, ctx.store.get("dispute", did))


@route("POST", "/v1/disputes/{did}", accepts=("evidence", "metadata", "submit"))
def update_dispute(ctx: Ctx, p: Params, did: str) -> Obj:
    d = ctx.store.get("dispute", did)
    if p.has("metadata"):
        d["metadata"] = p.metadata(d["metadata"])
    ev = p.sub("evidence")
    if ev is not None:
        ev.allow(*d["evidence"])
        for key in list(ev.data):
            d["evidence"][key] = ev.raw(key)
        d["evidence_details"]["has_evidence"] = True
    if p.bool("submit", False) and d["status"] in ("needs_response", "warning_needs_response"):
        d["status"] = "under_review" if d["status"] == "needs_response" else "warning_under_review"
        d["evidence_details"]["submission_count"] += 1
        d["evidence_details"]["submission_method"] = "manual"
    ctx.store.emit("charge.dispute.updated", d)
    return d


@route("POST", "/v1/disputes/{did}/close", accepts=())
def close_dispute(ctx: Ctx, p: Params, did: str) -> Obj:
    d = ctx.store.get("dispute", did)
    if d["status"] not in OPEN_DISPUTE:
        raise invalid("This dispute is already closed.")
    d["status"] = "lost" if not d["status"].startswith("warning") else "warning_closed"
    ctx.store.emit("charge.dispute.closed", d)
    return d
