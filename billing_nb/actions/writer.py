"""The executor's Stripe calls: fresh reads, "already done?" checks, and the writes.

Every write goes through the ``StripeClient`` with the action's idempotency key
(a second call of a two-call action uses the key plus ``-meta``) and metadata
``billing_nb_case``/``billing_nb_action`` where the object takes metadata. Portal
sessions take none; their URL (a bearer link) goes only to the ``reveal`` callback.
Stripe's exceptions are translated once, by :func:`billing_nb.reading.provider.translate`.

Cancelling now uses ``prorate=false, invoice_now=false``: money back is always a
separate, explicit refund or credit note action, never a silent balance credit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stripe
from stripe.params import (ChargeUpdateParams, CreditNoteCreateParams, CustomerUpdateParams, InvoiceUpdateParams,
                           RefundCreateParams, SubscriptionCancelParams, SubscriptionUpdateParams)
from stripe.params.billing_portal import SessionCreateParams

from .model import Action, ActionKind
from ..reading.provider import StripeReader, translate

__all__ = ["Outcome", "metadata", "retrieve", "find_done", "write"]


@dataclass(frozen=True)
class Outcome:
    object_id: str | None
    request_id: str | None


def metadata(case_id: str, action: Action) -> dict[str, str]:
    return {"billing_nb_case": case_id, "billing_nb_action": action.id}


def _request_id(obj: stripe.StripeObject) -> str | None:
    response = obj.last_response
    return response.request_id if response is not None else None


def _ours(obj: dict[str, Any], action: Action) -> bool:
    return (obj.get("metadata") or {}).get("billing_nb_action") == action.id


def retrieve(client: stripe.StripeClient, obj_id: str) -> dict[str, Any]:
    """A fresh copy of one object as a plain dict (through the provider's reader)."""
    return StripeReader(client).retrieve(obj_id)


def find_done(client: stripe.StripeClient, action: Action, fresh: dict[str, Any] | None) -> str | None:
    """The Stripe object id when Stripe already shows this action's effect (carrying its metadata)."""
    try:
        if action.kind is ActionKind.REFUND:
            for refund in client.v1.refunds.list(params={"charge": action.target, "limit": 100}).auto_paging_iter():
                data = refund.to_dict()
                if _ours(data, action) and data.get("status") not in ("failed", "canceled"):
                    return str(data["id"])
        elif action.kind is ActionKind.CREDIT_NOTE:
            for note in client.v1.credit_notes.list(params={"invoice": action.target, "limit": 100}).auto_paging_iter():
                data = note.to_dict()
                if _ours(data, action) and data.get("status") != "void":
                    return str(data["id"])
        elif fresh is not None and _done_on_target(action, fresh):
            return str(fresh.get("id"))
    except stripe.StripeError as exc:
        raise translate(exc) from exc
    return None


def _done_on_target(action: Action, fresh: dict[str, Any]) -> bool:
    status = fresh.get("status")
    if action.kind is ActionKind.CANCEL:
        comment = str((fresh.get("cancellation_details") or {}).get("comment") or "")
        mine = _ours(fresh, action) or action.id in comment
        if action.params.get("mode") == "now":
            return mine and status == "canceled"
        return mine and bool(fresh.get("cancel_at_period_end"))
    if action.kind is ActionKind.QUANTITY:
        items = ((fresh.get("items") or {}).get("data") or [])
        return _ours(fresh, action) and any(i.get("id") == action.params["item"] and
                                            int(i.get("quantity") or 0) == action.params["quantity"] for i in items)
    if action.kind is ActionKind.DEFAULT_PM:
        pm = fresh.get("default_payment_method")
        return (pm.get("id") if isinstance(pm, dict) else pm) == action.params["payment_method"]
    if action.kind is ActionKind.RETRY:
        return _ours(fresh, action) and status == "paid"
    if action.kind is ActionKind.VOID:
        return _ours(fresh, action) and status == "void"
    return False


def _document(client: stripe.StripeClient, action: Action, meta: dict[str, str], opts: stripe.RequestOptions
              ) -> stripe.StripeObject:
    meta = {**meta, "billing_nb_reason": str(action.params.get("reason", ""))}
    target, v1 = action.target, client.v1
    if target.startswith("cus_"):
        return v1.customers.update(target, CustomerUpdateParams(metadata=meta), opts)
    if target.startswith("sub_"):
        return v1.subscriptions.update(target, SubscriptionUpdateParams(metadata=meta), opts)
    if target.startswith("in_"):
        return v1.invoices.update(target, InvoiceUpdateParams(metadata=meta), opts)
    if target.startswith("ch_"):
        return v1.charges.update(target, ChargeUpdateParams(metadata=meta), opts)
    raise ValueError(f"cannot document {target!r}")


def _call(client: stripe.StripeClient, action: Action, case_id: str, key: str,
          reveal: Callable[[str, str], None] | None) -> stripe.StripeObject:
    meta = metadata(case_id, action)
    opts: stripe.RequestOptions = {"idempotency_key": key}
    meta_opts: stripe.RequestOptions = {"idempotency_key": f"{key}-meta"}
    v1, target, p = client.v1, action.target, action.params
    comment = f"billing-nb case {case_id} action {action.id}"
    if action.kind is ActionKind.PORTAL:
        params = SessionCreateParams(customer=str(p["customer"]))
        if p.get("flow") == "payment_method_update":
            params["flow_data"] = {"type": "payment_method_update"}
        elif p.get("flow") == "subscription_cancel":
            params["flow_data"] = {"type": "subscription_cancel",
                                   "subscription_cancel": {"subscription": str(p["subscription"])}}
        elif p.get("flow") == "subscription_update":
            params["flow_data"] = {"type": "subscription_update",
                                   "subscription_update": {"subscription": str(p["subscription"])}}
        if p.get("return_url"):
            params["return_url"] = str(p["return_url"])
        if p.get("configuration"):
            params["configuration"] = str(p["configuration"])
        session = v1.billing_portal.sessions.create(params, opts)
        if reveal is not None:
            reveal(action.id, str(session.url))
        return session
    if action.kind is ActionKind.REFUND:
        amount = action.amount.amount if action.amount else 0
        return v1.refunds.create(RefundCreateParams(charge=target, amount=amount, reason=str(p["reason"]),
                                                    metadata=meta), opts)
    if action.kind is ActionKind.CREDIT_NOTE:
        amount = action.amount.amount if action.amount else 0
        return v1.credit_notes.create(CreditNoteCreateParams(
            invoice=target, amount=amount, refund_amount=amount, reason=str(p["reason"]), metadata=meta,
            memo=f"Refund via credit note ({comment})"), opts)
    if action.kind is ActionKind.CANCEL and p.get("mode") == "now":
        sub = v1.subscriptions.cancel(target, SubscriptionCancelParams(
            cancellation_details={"comment": comment, "feedback": str(p.get("feedback") or "other")},
            prorate=False, invoice_now=False), opts)
        v1.subscriptions.update(target, SubscriptionUpdateParams(metadata=meta), meta_opts)
        return sub
    if action.kind is ActionKind.CANCEL:
        return v1.subscriptions.update(target, SubscriptionUpdateParams(
            cancel_at_period_end=True, metadata=meta,
            cancellation_details={"comment": comment, "feedback": str(p.get("feedback") or "other")}), opts)
    if action.kind is ActionKind.QUANTITY:
        return v1.subscriptions.update(target, SubscriptionUpdateParams(
            items=[{"id": str(p["item"]), "quantity": int(p["quantity"])}], proration_behavior="create_prorations",
            metadata=meta), opts)
    if action.kind is ActionKind.DEFAULT_PM:
        return v1.subscriptions.update(target, SubscriptionUpdateParams(
            default_payment_method=str(p["payment_method"]), metadata=meta), opts)
    if action.kind is ActionKind.RETRY:
        v1.invoices.update(target, InvoiceUpdateParams(metadata=meta), meta_opts)
        return v1.invoices.pay(target, options=opts)
    if action.kind is ActionKind.VOID:
        v1.invoices.update(target, InvoiceUpdateParams(metadata=meta), meta_opts)
        return v1.invoices.void_invoice(target, options=opts)
    if action.kind is ActionKind.DOCUMENT:
        return _document(client, action, meta, opts)
    raise ValueError(f"no writer for {action.kind}")


def write(client: stripe.StripeClient, action: Action, *, case_id: str, key: str,
          reveal: Callable[[str, str], None] | None = None) -> Outcome:
    """Perform the action's write(s); the outcome names the Stripe object and the request id."""
    try:
        obj = _call(client, action, case_id, key, reveal)
    except stripe.StripeError as exc:
        raise translate(exc) from exc
    obj_id = getattr(obj, "id", None)
    return Outcome(object_id=str(obj_id) if obj_id else None, request_id=_request_id(obj))
