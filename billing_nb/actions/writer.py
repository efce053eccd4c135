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

import random
import re
import time
from concurrent.futures import Executor
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import stripe
from stripe.params import (ChargeUpdateParams, CreditNoteCreateParams, CustomerUpdateParams, InvoiceUpdateParams,
                           RefundCreateParams, SubscriptionCancelParams, SubscriptionScheduleCancelParams,
                           SubscriptionScheduleUpdateParams, SubscriptionUpdateParams)
from stripe.params.billing_portal import SessionCreateParams

from .crashpoints import crash_point
from ..exceptions import StripeApiError
from .model import REFUND_FAILED_STATUSES, Action, ActionKind
from ..analysis.taxes import credit_note_lines, credited_per_line
from ..exceptions import StripeInvalidRequestError
from ..reading.provider import StripeReader, translate
from ..reading.taxes import is_taxed, tax_rate_ids

__all__ = ["Outcome", "Found", "metadata", "retrieve", "listed", "find_done", "failed_refund", "write", "settle",
           "RATE_LIMIT_RETRIES"]

#: 429s retried per write (on top of the SDK's retries of 5xx and dropped connections).
RATE_LIMIT_RETRIES = 6


@dataclass(frozen=True)
class Outcome:
    object_id: str | None
    request_id: str | None
    status: str | None = None  # a refund's or credit note's status as Stripe returned it


def metadata(case_id: str, action: Action) -> dict[str, str]:
    return {"billing_nb_case": case_id, "billing_nb_action": action.id}


def _request_id(obj: stripe.StripeObject) -> str | None:
    response = obj.last_response
    return response.request_id if response is not None else None


def _ours(obj: dict[str, Any], action: Action) -> bool:
    return (obj.get("metadata") or {}).get("billing_nb_action") == action.id


@dataclass(frozen=True)
class Found:
    """A Stripe object that already has the action's effect, and the case its metadata names."""

    object_id: str
    case_id: str | None
    status: str | None = None  # a refund's or credit note's status as Stripe shows it


_COMMENT = re.compile(r"billing-nb case (\S+) action (\S+)$")


def _found(obj: dict[str, Any], action: Action) -> Found:
    meta = obj.get("metadata") or {}
    case = meta.get("billing_nb_case") if meta.get("billing_nb_action") == action.id else None
    if not case:  # a cancellation names its case in its comment before its metadata is written
        said = _COMMENT.search(str((obj.get("cancellation_details") or {}).get("comment") or ""))
        case = said.group(1) if said and said.group(2) == action.id else None
    status = obj.get("status") if action.kind in (ActionKind.REFUND, ActionKind.CREDIT_NOTE) else None
    return Found(str(obj["id"]), str(case) if case else None, str(status) if status else None)


def failed_refund(action: Action, objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The refund this action made that Stripe later failed (or canceled), when none of its
    refunds is live: a card refund can fail days after it was created (``failure_reason``
    expired_or_canceled_card, lost_or_stolen_card; docs.stripe.com/refunds). Stripe answers the
    same idempotency key with that same refund, so it can only be remedied by another effect."""
    if action.kind is not ActionKind.REFUND:
        return None
    want = action.amount.amount if action.amount else None
    mine = [o for o in objects if _ours(o, action) and o.get("amount") == want]
    if any(o.get("status") not in REFUND_FAILED_STATUSES for o in mine):
        return None
    return mine[-1] if mine else None


def retrieve(client: stripe.StripeClient, obj_id: str) -> dict[str, Any]:
    """A fresh copy of one object as a plain dict (through the provider's reader)."""
    return StripeReader(client).retrieve(obj_id)


def _listed(client: stripe.StripeClient, kind: ActionKind, target: str) -> list[dict[str, Any]]:
    """Every refund of the charge / credit note of the invoice (429s retried by the reader)."""
    reader = StripeReader(client)
    if kind is ActionKind.REFUND:
        page = reader.call(lambda: client.v1.refunds.list(params={"charge": target, "limit": 100}))
    else:
        page = reader.call(lambda: client.v1.credit_notes.list(params={"invoice": target, "limit": 100}))
    return [o.to_dict() for o in page.auto_paging_iter()]


def listed(client: stripe.StripeClient, action: Action) -> list[dict[str, Any]] | None:
    """What :func:`find_done` lists for ``action`` (its refunds or credit notes), or None
    when it lists nothing: read ahead, with every other check of a plan, in one wave."""
    if action.kind not in (ActionKind.REFUND, ActionKind.CREDIT_NOTE):
        return None
    try:
        return _listed(client, action.kind, action.target)
    except stripe.StripeError as exc:
        raise translate(exc) from exc


def find_done(client: stripe.StripeClient, action: Action, fresh: dict[str, Any] | None,
              objects: list[dict[str, Any]] | None = None) -> Found | None:
    """The object when Stripe already shows this action's effect: a refund of the charge (or a
    credit note of the invoice) carrying this action id in metadata *and* its amount, a
    subscription cancelled / set to cancel by us, an item already at the wanted quantity.
    ``objects``: the refunds / credit notes read moments ago (:func:`listed`), else read now."""
    want = action.amount.amount if action.amount else None
    try:
        if action.kind is ActionKind.REFUND:
            for data in objects if objects is not None else _listed(client, action.kind, action.target):
                if _ours(data, action) and data.get("amount") == want and data.get("status") not in REFUND_FAILED_STATUSES:
                    return _found(data, action)
        elif action.kind is ActionKind.CREDIT_NOTE:
            for data in objects if objects is not None else _listed(client, action.kind, action.target):
                if _ours(data, action) and data.get("status") != "void" and want in (
                        data.get("amount"), data.get("refund_amount"), data.get("total")):
                    return _found(data, action)
        elif fresh is not None and _done_on_target(action, fresh):
            return _found(fresh, action)
    except stripe.StripeError as exc:
        raise translate(exc) from exc
    return None


def _done_on_target(action: Action, fresh: dict[str, Any]) -> bool:
    status = fresh.get("status")
    if action.kind is ActionKind.CANCEL:
        comment = str((fresh.get("cancellation_details") or {}).get("comment") or "")
        mine = _ours(fresh, action) or f"action {action.id}" in comment
        if action.params.get("mode") == "now":
            return mine and status == "canceled"
        return mine and bool(fresh.get("cancel_at_period_end"))
    if action.kind is ActionKind.QUANTITY:  # the effect is the quantity itself, whoever set it
        items = ((fresh.get("items") or {}).get("data") or [])
        return any(i.get("id") == action.params["item"] and
                   int(i.get("quantity") or 0) == action.params["quantity"] for i in items)
    if action.kind is ActionKind.DEFAULT_PM:
        pm = fresh.get("default_payment_method")
        return (pm.get("id") if isinstance(pm, dict) else pm) == action.params["payment_method"]
    if action.kind is ActionKind.RETRY:
        return _ours(fresh, action) and status == "paid"
    if action.kind is ActionKind.VOID:
        return _ours(fresh, action) and status == "void"
    if action.kind is ActionKind.SCHEDULE:
        return _schedule_done(action, fresh)
    return False


def _schedule_done(action: Action, fresh: dict[str, Any]) -> bool:
    """The schedule already shows the effect: canceled by us, ending with the period and canceling,
    or billing the wanted seats in the phase the change starts in. The mode comes from the id when
    the action was rebuilt from it alone."""
    parts = action.id.split(":")
    mode = action.params.get("mode") or (parts[2] if len(parts) > 2 else "")
    phases = fresh.get("phases") or []
    if mode == "cancel_now":
        return _ours(fresh, action) and fresh.get("status") == "canceled"
    if mode == "cancel_at_period_end":
        ends = action.params.get("ends_at")
        return fresh.get("end_behavior") == "cancel" and bool(phases) and \
            (ends is None or int(phases[-1].get("end_date") or 0) == int(ends)) and fresh.get("status") in ("active", "completed")
    if mode == "seats":
        wanted = action.params.get("phases") or []
        start = int(wanted[0]["start_date"]) if wanted else None
        price, qty = action.params.get("price"), action.params.get("quantity")
        return any((start is None or int(ph.get("start_date") or 0) == start)
                   and any(str(i.get("price")) == str(price) and int(i.get("quantity") or 0) == int(qty or -1)
                           for i in ph.get("items") or []) for ph in phases)
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


def _schedule(client: stripe.StripeClient, action: Action, meta: dict[str, str], opts: stripe.RequestOptions,
              meta_opts: stripe.RequestOptions, key: str) -> stripe.StripeObject:
    """A change made on the subscription schedule (:mod:`.schedules`): cancel it (and its
    subscription) now, tagged first, since cancel takes no metadata; or replace its phases from
    the current one on (and ``end_behavior=cancel`` to end with the period)."""
    v1, target, p = client.v1.subscription_schedules, action.target, action.params
    if p.get("mode") == "cancel_now":
        v1.update(target, SubscriptionScheduleUpdateParams(metadata=meta), meta_opts)
        schedule = v1.cancel(target, SubscriptionScheduleCancelParams(invoice_now=False, prorate=False), opts)
        crash_point("cancelled")
        sub_id = str(p.get("subscription") or getattr(schedule, "subscription", "") or "")
        if sub_id:  # the subscription it managed ends with it: its pending prorations as a cancel now's
            _drop_pending_prorations(client, sub_id, str(getattr(schedule, "customer", "") or ""), key)
        return schedule
    params = SubscriptionScheduleUpdateParams(phases=cast(Any, p["phases"]), metadata=meta)
    if p.get("mode") == "cancel_at_period_end":
        params.update(end_behavior="cancel", proration_behavior="none")
    else:
        params["proration_behavior"] = "none" if p.get("proration") == "none" else "create_prorations"
    return v1.update(target, params, opts)


def _taxed_lines(client: stripe.StripeClient, invoice_id: str, amount: int) -> list[dict[str, Any]] | None:
    """The ``lines`` of a credit note giving back ``amount`` (tax in) of a taxed invoice, each
    invoice line credited its share with its own tax rates (:func:`.taxes.credit_note_lines`);
    None for an invoice without tax (a plain ``amount`` credit note then)."""
    reader = StripeReader(client)
    invoice = reader.retrieve(invoice_id)
    if not is_taxed(invoice):
        return None
    if (invoice.get("lines") or {}).get("has_more"):
        page = reader.call(lambda: client.v1.invoices.line_items.list(invoice_id, params={"limit": 100}))
        invoice["lines"] = {"data": [ln.to_dict() for ln in page.auto_paging_iter()]}
    rates = {rid: reader.retrieve(rid) for rid in tax_rate_ids(invoice)}
    credited = credited_per_line(_listed(client, ActionKind.CREDIT_NOTE, invoice_id))
    lines, total = credit_note_lines(invoice, amount, rates, credited)
    if total != amount:  # what Stripe would refuse: more than the invoice has left to credit
        raise StripeInvalidRequestError(
            f"A credit note of {amount} on {invoice_id} can't be written: its lines left to credit give back "
            f"{total} (tax in)", code="credit_note_amount_too_large", param="lines")
    return lines


def _call(client: stripe.StripeClient, action: Action, case_id: str, key: str,
          reveal: Callable[[str, str], None] | None, background: Executor | None) -> stripe.StripeObject:
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
        credit = min(amount, int(p.get("credit_amount") or 0))  # the part the customer's balance paid goes back there
        # an invoice paid outside Stripe: its part goes back outside Stripe (out_of_band_amount), never a refund
        outside = min(amount - credit, int(p.get("out_of_band_amount") or 0))
        memo = f"Refund via credit note ({comment})" if amount - credit - outside else \
            f"Returned outside Stripe via credit note ({comment})" if outside else \
            f"Credit to the customer's balance via credit note ({comment})"
        params = CreditNoteCreateParams(invoice=target, reason=str(p["reason"]), metadata=meta, memo=memo)
        if amount - credit - outside:
            params["refund_amount"] = amount - credit - outside
        if credit:
            params["credit_amount"] = credit
        if outside:
            params["out_of_band_amount"] = outside
        lines = _taxed_lines(client, target, amount)
        if lines is None:
            params["amount"] = amount
        else:  # tax goes back with the money: Stripe computes it on credited invoice lines
            params["lines"] = cast(Any, lines)
        return v1.credit_notes.create(params, opts)
    if action.kind is ActionKind.CANCEL and p.get("mode") == "now":
        sub = v1.subscriptions.cancel(target, SubscriptionCancelParams(
            cancellation_details={"comment": comment, "feedback": str(p.get("feedback") or "other")},
            prorate=False, invoice_now=False), opts)
        crash_point("cancelled")
        _drop_pending_prorations(client, target, str(getattr(sub, "customer", "") or ""), key)
        tag = lambda: v1.subscriptions.update(target, SubscriptionUpdateParams(metadata=meta), meta_opts)  # noqa: E731
        if background is not None:  # the comment already names the case and action: tag it meanwhile
            background.submit(tag)
        else:
            tag()
        return sub
    if action.kind is ActionKind.CANCEL:
        return v1.subscriptions.update(target, SubscriptionUpdateParams(
            cancel_at_period_end=True, metadata=meta,
            cancellation_details={"comment": comment, "feedback": str(p.get("feedback") or "other")}), opts)
    if action.kind is ActionKind.QUANTITY:
        return v1.subscriptions.update(target, SubscriptionUpdateParams(
            items=[{"id": str(p["item"]), "quantity": int(p["quantity"])}],
            proration_behavior="none" if p.get("proration") == "none" else "create_prorations",
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
    if action.kind is ActionKind.SCHEDULE:
        return _schedule(client, action, meta, opts, meta_opts, key)
    if action.kind is ActionKind.DOCUMENT:
        return _document(client, action, meta, opts)
    raise ValueError(f"no writer for {action.kind}")


def _drop_pending_prorations(client: stripe.StripeClient, sub_id: str, customer: str, key: str) -> None:
    """Delete the cancelled subscription's pending proration items: a cancel leaves pending
    invoice items to be "still charged at the end of the period, unless manually deleted"
    (docs.stripe.com/api/subscriptions/cancel), so a seat change made with create_prorations
    would credit or charge the customer on some later invoice. The unused-time refund already
    carries them (:func:`billing_nb.analysis.periods.unused_time`). One key per item, from the
    cancel's key: a replay deletes nothing twice."""
    if not customer:
        return
    pending = client.v1.invoice_items.list(cast(Any, {"customer": customer, "pending": True, "limit": 100}))
    for ii in pending.auto_paging_iter():
        data = ii.to_dict()
        parent = ((data.get("parent") or {}).get("subscription_details") or {})
        if data.get("proration") and parent.get("subscription") == sub_id and not data.get("invoice"):
            client.v1.invoice_items.delete(str(data["id"]), options={"idempotency_key": f"{key}-ii-{data['id']}"})


def _cancels_now(action: Action) -> bool:
    """A cancel now, of the subscription or of the schedule managing it (the mode read from the id
    when the action was rebuilt from it alone)."""
    mode = action.params.get("mode") or (action.id.split(":")[2] if action.id.count(":") >= 2 else "")
    return (action.kind is ActionKind.CANCEL and mode == "now") or (action.kind is ActionKind.SCHEDULE
                                                                   and mode == "cancel_now")


def settle(client: stripe.StripeClient, action: Action, key: str) -> str | None:
    """Finish what a landed write owes after its main call, for a write found done rather than made
    now (a re-run after a crash between its calls, a recovered begin, an error after it landed):
    a cancel now's pending proration items are deleted (:func:`_drop_pending_prorations`, one key per
    item from the cancel's: a delete made before is replayed, never made twice, and a deleted item is
    no longer listed). Nothing for any other write. Returns why it could not (None: done)."""
    if not _cancels_now(action):
        return None
    try:
        obj = retrieve(client, action.target)
        sub_id = action.target if action.kind is ActionKind.CANCEL else str(
            action.params.get("subscription") or (obj.get("subscription") if isinstance(obj.get("subscription"), str)
                                                  else (obj.get("subscription") or {}).get("id")) or "")
        if not sub_id:
            return None
        sub = obj if sub_id == action.target else retrieve(client, sub_id)
        customer = sub.get("customer")
        _drop_pending_prorations(client, sub_id, str((customer or {}).get("id") if isinstance(customer, dict)
                                                     else customer or ""), key)
    except stripe.StripeError as exc:
        return f"its pending proration items could not be deleted ({translate(exc)}): a re-run deletes them"
    except StripeApiError as exc:
        return f"its pending proration items could not be deleted ({exc}): a re-run deletes them"
    return None


def write(client: stripe.StripeClient, action: Action, *, case_id: str, key: str,
          reveal: Callable[[str, str], None] | None = None, rate_limit_retries: int = RATE_LIMIT_RETRIES,
          backoff: float = 0.5, background: Executor | None = None) -> Outcome:
    """Perform the action's write(s); the outcome names the Stripe object and the request id.

    The SDK retries connection errors, 409s and 5xx with the same idempotency key and
    honours ``Stripe-Should-Retry`` (``max_network_retries`` on the client). A 429 it
    does not retry is retried here after an exponential, jittered backoff, with the
    same key: a retry can only ever replay the one write, never make a second.
    ``background``: where a second call that only tags the object (a cancelled
    subscription's metadata) runs while the executor goes on; without it, inline.
    https://docs.stripe.com/rate-limits#handling-limiting-gracefully
    """
    for attempt in range(rate_limit_retries + 1):
        try:
            obj = _call(client, action, case_id, key, reveal, background)
            break
        except stripe.RateLimitError as exc:
            if attempt == rate_limit_retries:
                raise translate(exc) from exc
        except stripe.IdempotencyError as exc:  # the key holds another case's write of this effect
            ours = translate(exc)
            ours.code = ours.code or "idempotency_error"
            raise ours from exc
        except stripe.StripeError as exc:
            raise translate(exc) from exc
        time.sleep(min(backoff * (2 ** attempt), 8.0) * (0.5 + random.random() / 2))
    else:  # pragma: no cover - the loop either breaks or raises
        raise AssertionError("unreachable")
    obj_id = getattr(obj, "id", None)
    status = getattr(obj, "status", None) if action.kind in (ActionKind.REFUND, ActionKind.CREDIT_NOTE) else None
    return Outcome(object_id=str(obj_id) if obj_id else None, request_id=_request_id(obj),
                   status=str(status) if status else None)
