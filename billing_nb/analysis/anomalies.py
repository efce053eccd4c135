"""Anomaly rules of step 1, one function per kind, on a snapshot and its parsed rows.

Each rule returns the :class:`~billing_nb.analysis.identify.Anomaly` objects it finds, carrying
the ids of the objects that show it and a detail line without PII. Current API shapes:
periods on subscription items, ``invoice.parent.subscription_details.subscription``
(older ``invoice.subscription`` too), invoice-to-payment links in ``invoice.payments``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..money import Money
from ..reading.rows import Anomaly, ChargeRow, InvoiceRow, SubscriptionRow
from .refunds import failed_refund_anomalies
from ..reading.snapshot import CaseSnapshot, from_ts

__all__ = ["apart", "find_anomalies", "pause_of", "pause_words", "PAUSE_BEHAVIOUR", "LIVE", "OPEN_DISPUTE", "CANCEL_WINDOW_DAYS", "cancel_request_time", "is_proration"]

LIVE = ("active", "trialing", "past_due")
OPEN_DISPUTE = ("warning_needs_response", "warning_under_review", "needs_response", "under_review")
#: A cancellation request this many days after a renewal charge means "meant to leave first".
CANCEL_WINDOW_DAYS = 14
_DAY = 86400


def _day(ts: int | None) -> str:
    dt = from_ts(ts)
    return dt.strftime("%Y-%m-%d") if dt else "?"


def _gap(seconds: int) -> str:
    seconds = abs(seconds)
    if seconds < 60:  # a double-clicked checkout is seconds apart: "1 min" overstated it
        return "1 second" if seconds == 1 else f"{seconds} seconds"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    if seconds < 2 * _DAY:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / _DAY)} days"


def apart(seconds: int) -> str:
    """How far apart two things were created, in words: ``in the same second``, ``12 seconds apart``,
    ``7 min apart``, ``3 h apart``, ``20 days apart``."""
    return "in the same second" if abs(seconds) < 1 else f"{_gap(seconds)} apart"


def is_proration(line: dict[str, Any]) -> bool:
    """A proration line in the current shape (``parent.*_details.proration``) or the old one."""
    if line.get("proration"):
        return True
    parent = line.get("parent") or {}
    return any((parent.get(k) or {}).get("proration") for k in ("subscription_item_details", "invoice_item_details"))


def cancel_request_time(snapshot: CaseSnapshot, sub: dict[str, Any]) -> int | None:
    """When the customer asked to cancel ``sub``: the earliest event that set cancellation, else ``canceled_at``."""
    times: list[int] = []
    for ev in snapshot.of("events"):
        obj = (ev.get("data") or {}).get("object") or {}
        if obj.get("id") != sub.get("id"):
            continue
        prev = (ev.get("data") or {}).get("previous_attributes") or {}
        if ev.get("type") == "customer.subscription.deleted" or (
            ev.get("type") == "customer.subscription.updated"
            and (obj.get("cancel_at_period_end") or obj.get("cancel_at"))
            and ("cancel_at_period_end" in prev or "cancel_at" in prev)
        ):
            times.append(int(ev.get("created") or 0))
    if times:
        return min(times)
    if sub.get("canceled_at") and (sub.get("cancel_at_period_end") or sub.get("cancel_at") or sub.get("status") == "canceled"):
        return int(sub["canceled_at"])
    return None


def _duplicates(snapshot: CaseSnapshot, subs: list[SubscriptionRow]) -> list[Anomaly]:

    names = {p.get("id"): p.get("name") for p in snapshot.of("products")}

    by_product: dict[str, list[SubscriptionRow]] = defaultdict(list)
    for s in subs:
        if s.status in LIVE:
            by_product[s.product].append(s)
    out = []
    for product, group in sorted(by_product.items()):
        if len(group) < 2:
            continue
        group.sort(key=lambda s: s.created)
        owners = sorted({s.customer for s in group})
        gap = apart(group[-1].created - group[0].created)
        where = f"on {len(owners)} customer objects" if len(owners) > 1 else "on one customer"
        out.append(Anomaly("duplicate_active_subscription", tuple(s.id for s in group),
                           f"{len(group)} live subscriptions to product {product}"
                           + (f" ({names[product]})" if names.get(product) else "") + f" {where}, created {gap}"))
    return out


def _failed_renewals(invoices: list[InvoiceRow], charges: list[ChargeRow]) -> list[Anomaly]:

    out = []
    for inv in invoices:
        if inv.billing_reason != "subscription_cycle" or inv.status not in ("open", "uncollectible"):
            continue
        failed = [c for c in charges if c.status == "failed" and (c.invoice == inv.id or (inv.payment_intent and c.payment_intent == inv.payment_intent))]
        if (inv.attempt_count < 1 or inv.is_invoiced) and not failed:
            # an invoice sent to the customer to pay (send_invoice) is never charged: unpaid is not
            # failed (:func:`_overdue` names it once its due date has passed)
            continue
        codes = sorted({c.failure_code for c in failed if c.failure_code})
        objs = tuple(x for x in (inv.id, inv.subscription, *(c.id for c in failed)) if x)
        out.append(Anomaly("failed_renewal", objs,
                           f"renewal invoice of {_day(inv.created)} is {inv.status} after {inv.attempt_count} attempt(s)"
                           + (f"; declines: {', '.join(codes)}" if codes else "")))
    return out


def _incomplete(snapshot: CaseSnapshot, subs: list[SubscriptionRow]) -> list[Anomaly]:

    live_created = [s.created for s in subs if s.status in LIVE]
    later_live = (lambda t: any(c > t for c in live_created))
    objs: list[str] = []
    parts: list[str] = []
    for s in subs:
        if s.status in ("incomplete", "incomplete_expired") and not later_live(s.created):
            objs.append(s.id)
            parts.append(f"subscription {s.status} since {_day(s.created)}")
    for cs in snapshot.of("checkout_sessions"):
        if cs.get("status") in ("open", "expired") and cs.get("mode") in ("subscription", None) and not later_live(int(cs.get("created") or 0)):
            objs.append(cs["id"])
            parts.append(f"checkout session {cs.get('status')} ({_day(cs.get('created'))})")
    return [Anomaly("incomplete_checkout", tuple(objs), "; ".join(parts))] if objs else []


def _past_due(subs: list[SubscriptionRow], raw: dict[str, dict[str, Any]], invoices: list[InvoiceRow],
              charges: list[ChargeRow]) -> list[Anomaly]:

    out = []
    by_id = {i.id: i for i in invoices}
    for s in subs:
        if s.status in ("past_due", "unpaid"):
            latest = raw.get(s.id, {}).get("latest_invoice")
            latest_id = latest.get("id") if isinstance(latest, dict) else latest
            inv = by_id.get(str(latest_id)) if latest_id else None
            if inv is not None and inv.is_invoiced and not any(c.status == "failed" and c.invoice == inv.id
                                                                 for c in charges):
                continue  # a sent invoice the customer has not paid yet: overdue (:func:`_overdue`), no card failed
            objs = tuple(x for x in (s.id, latest_id) if x)
            out.append(Anomaly("past_due", objs, f"subscription is {s.status}; latest invoice unpaid"))
    return out


def _overdue(snapshot: CaseSnapshot, invoices: list[InvoiceRow]) -> list[Anomaly]:
    """Invoices sent to the customer to pay (``collection_method=send_invoice``, net terms) still open
    after their ``due_date``. Stripe charges nothing for them ("Stripe will email your customer an
    invoice with payment instructions", API reference, Create a subscription: collection_method), so
    this is not a failed payment; a subscription "becomes past_due when its invoice is not paid by
    the due date" (Billing docs, subscription statuses). Before the due date an open one is not due yet."""
    out = []
    for inv in invoices:
        if not inv.overdue(snapshot.now_ts):
            continue
        owed = Money(max(0, inv.amount_due - inv.amount_paid), inv.currency)
        objs = tuple(x for x in (inv.id, inv.subscription) if x)
        out.append(Anomaly("invoice_overdue", objs,
                           f"invoice {inv.id} of {_day(inv.created)} was sent to the customer to pay (net terms) "
                           f"and is overdue: due {_day(inv.due_date)}, {owed} unpaid; nothing was charged, "
                           "so this is not a card failure"))
    return out


def _disputes(snapshot: CaseSnapshot) -> list[Anomaly]:

    out = []
    for d in snapshot.of("disputes"):
        if d.get("status") not in OPEN_DISPUTE:
            continue
        due = (d.get("evidence_details") or {}).get("due_by")
        late = " (deadline passed)" if due and int(due) < snapshot.now_ts else ""
        out.append(Anomaly("open_dispute", tuple(x for x in (d.get("id"), d.get("charge")) if x),
                           f"dispute {d.get('status')} ({d.get('reason')}), evidence due {_day(due)}{late}"))
    return out


def _charged_after_cancel(snapshot: CaseSnapshot, invoices: list[InvoiceRow], charges: list[ChargeRow], raw: dict[str, dict[str, Any]]) -> list[Anomaly]:

    out = []
    for sub_id, sub in raw.items():
        requested = cancel_request_time(snapshot, sub)
        if requested is None:
            continue
        for inv in invoices:
            if inv.subscription != sub_id or inv.billing_reason != "subscription_cycle" or inv.amount_paid <= 0:
                continue
            paid = [c for c in charges if c.status == "succeeded" and (c.invoice == inv.id or (inv.payment_intent and c.payment_intent == inv.payment_intent))]
            charged_at = min((c.created for c in paid), default=inv.paid_at or inv.created)
            if 0 <= requested - charged_at <= CANCEL_WINDOW_DAYS * _DAY:
                objs = tuple(x for x in (sub_id, inv.id, *(c.id for c in paid)) if x)
                out.append(Anomaly("charged_after_cancel_request", objs,
                                   f"renewal charged {_day(charged_at)}, cancellation requested {_gap(requested - charged_at)} later"))
    return out


def _stale_pm(snapshot: CaseSnapshot, subs: list[SubscriptionRow], charges: list[ChargeRow]) -> list[Anomaly]:

    defaults = {c["id"]: ((c.get("invoice_settings") or {}).get("default_payment_method")) for c in snapshot.of("customers")}
    out = []
    for s in subs:
        pinned, default = s.default_payment_method, defaults.get(s.customer)
        if s.status in ("canceled", "incomplete_expired") or not pinned or not default or pinned == default:
            continue
        failed = [c for c in charges if c.status == "failed" and c.payment_method == pinned]
        if failed:
            out.append(Anomaly("subscription_payment_method_stale", (s.id, pinned, default, *(c.id for c in failed)),
                               f"subscription pins {pinned} ({len(failed)} failed charge(s)); customer default is now {default}"))
    return out


def _prorations(snapshot: CaseSnapshot) -> list[Anomaly]:

    out = []
    for inv in snapshot.of("invoices"):
        lines = (inv.get("lines") or {}).get("data") or []
        prorated = [ln for ln in lines if is_proration(ln)]
        if inv.get("billing_reason") == "subscription_update" or prorated:
            out.append(Anomaly("proration_invoice", (inv["id"],),
                               f"invoice of {_day(inv.get('created'))} ({inv.get('billing_reason')}) has {len(prorated)} proration line(s)"))
    return out


#: What Stripe does with each new invoice while collection is paused (Subscription.pause_collection;
#: docs.stripe.com/billing/subscriptions/pause-payment): the subscription stays active, access stays on.
PAUSE_BEHAVIOUR = {"void": "each new invoice is voided, nothing is charged",
                   "mark_uncollectible": "each new invoice is marked uncollectible, nothing is charged",
                   "keep_as_draft": "each new invoice stays a draft, nothing is charged until collection resumes"}


def pause_of(sub: dict[str, Any]) -> dict[str, Any] | None:
    """``{behavior, resumes_at}`` of a subscription whose payment collection is paused, else None."""
    pause = sub.get("pause_collection")
    if not isinstance(pause, dict) or not pause.get("behavior"):
        return None
    resumes = pause.get("resumes_at")
    return {"behavior": str(pause["behavior"]), "resumes_at": int(resumes) if resumes else None}


def pause_words(pause: dict[str, Any]) -> str:
    """A paused collection (:func:`pause_of`) in words: what Stripe does with each new invoice, and until when.

    Why one place: the anomaly, the customer page and the contract table say it the same way."""
    what = PAUSE_BEHAVIOUR.get(str(pause.get("behavior")), "nothing is collected")
    resumes = pause.get("resumes_at")
    until = f"resumes {_day(int(resumes))}" if resumes else "no resume date (until resumed by hand)"
    return f"payment collection paused (behavior {pause.get('behavior')}: {what}); {until}"


def _paused(raw: dict[str, dict[str, Any]]) -> list[Anomaly]:

    out = []
    for sub_id, sub in raw.items():
        pause = pause_of(sub)
        if pause is None or sub.get("status") in ("canceled", "incomplete_expired"):
            continue
        out.append(Anomaly("collection_paused", (sub_id,), pause_words(pause)))
    return out


def find_anomalies(snapshot: CaseSnapshot, subs: list[SubscriptionRow], invoices: list[InvoiceRow], charges: list[ChargeRow]) -> list[Anomaly]:
    """Every anomaly, in the order of :data:`billing_nb.analysis.identify.ANOMALY_KINDS`."""

    raw = {s["id"]: s for s in snapshot.of("subscriptions")}
    found: list[Anomaly] = []
    found += _duplicates(snapshot, subs)
    by_email: dict[str, list[str]] = defaultdict(list)
    for cust in snapshot.of("customers"):
        if cust.get("email"):
            by_email[str(cust["email"]).strip().lower()].append(cust["id"])
    for ids in by_email.values():
        if len(ids) > 1:
            found.append(Anomaly("duplicate_customer", tuple(ids), f"one email on {len(ids)} customer objects"))
    found += _failed_renewals(invoices, charges)
    found += _incomplete(snapshot, subs)
    found += _past_due(subs, raw, invoices, charges)
    found += _overdue(snapshot, invoices)
    found += _disputes(snapshot)
    found += _charged_after_cancel(snapshot, invoices, charges, raw)
    found += _stale_pm(snapshot, subs, charges)
    found += _prorations(snapshot)
    found += _paused(raw)
    found += failed_refund_anomalies(snapshot)  # a refund that never reached the customer (.refunds)
    return found
