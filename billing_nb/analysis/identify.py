"""Step 1: who is this, what do they have, and what looks wrong.

Pure: reads a :class:`CaseSnapshot`, returns plain dataclasses for the code that
follows and pandas DataFrames for display. The anomaly rules live in
:mod:`billing_nb.analysis.anomalies`.

Current API shapes are read first, older ones as a fallback: a subscription's period and
price live on its items; an invoice names its subscription in
``parent.subscription_details.subscription`` (``invoice.subscription`` before) and its
payment in ``payments.data[].payment.payment_intent``; a charge names its payment intent,
so charge -> invoice goes through that payment intent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .anomalies import find_anomalies, pause_of
from .charges import OneOffCharge, one_off_charges
from .credits import Credits, credits_of
from .schedules import schedule_shape
from ..reading.masking import mask_email
from ..reading.rows import (Anomaly, ChargeRow, InvoiceRow, SubscriptionRow, charge_row, invoice_payment_intent, invoice_row,
                   money_text, obj_id, sub_row)
from ..reading.snapshot import CaseSnapshot, from_ts

if TYPE_CHECKING:  # pandas loads where a frame is built: the runner and the CLI never need it
    import pandas as pd

__all__ = ["ANOMALY_KINDS", "Anomaly", "SubscriptionRow", "InvoiceRow", "ChargeRow", "IdentitySummary", "identify"]

#: Anomaly kinds, named exactly as case.json and the tests expect.
ANOMALY_KINDS: tuple[str, ...] = (
    "duplicate_active_subscription",
    "duplicate_customer",
    "failed_renewal",
    "incomplete_checkout",
    "past_due",
    "invoice_overdue",
    "open_dispute",
    "charged_after_cancel_request",
    "subscription_payment_method_stale",
    "proration_invoice",
    "collection_paused",
    "failed_refund",
)


@dataclass
class IdentitySummary:
    """Step 1's answer: the customer(s), their billing objects, and anomalies."""

    customer_id: str
    email_masked: str | None
    other_customer_ids: list[str]
    subscriptions: list[SubscriptionRow]
    invoices: list[InvoiceRow]
    charges: list[ChargeRow]
    refunds: list[dict[str, Any]]
    disputes: list[dict[str, Any]]
    anomalies: list[Anomaly]
    customers: list[dict[str, Any]] = field(default_factory=list)  # id, email (masked), created, test_clock
    credits: Credits = field(default_factory=lambda: Credits(None))  # balance, credit notes, refunds
    truncated: list[dict[str, Any]] = field(default_factory=list)  # lists cut at the reader's page cap
    #: per subscription, facts its row lacks (per-seat product, unit price, paused collection): the follow-up
    #: may state only what the record shows, so the record must show them
    sub_facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: charges that paid no invoice (a setup fee, a manual charge), newest first: no subscription explains them
    one_off: list[OneOffCharge] = field(default_factory=list)

    @property
    def active_subscriptions(self) -> list[SubscriptionRow]:
        return [s for s in self.subscriptions if s.status in ("active", "trialing", "past_due")]

    @property
    def canceled_subscriptions(self) -> list[SubscriptionRow]:
        return [s for s in self.subscriptions if s.status in ("canceled", "incomplete_expired")]

    def anomaly_kinds(self) -> list[str]:
        return [a.kind for a in self.anomalies]

    def anomalies_of(self, kind: str) -> list[Anomaly]:
        return [a for a in self.anomalies if a.kind == kind]

    def frames(self) -> dict[str, pd.DataFrame]:
        """DataFrames for display: customers, subscriptions, invoices, charges, refunds, disputes, anomalies."""
        import pandas as pd

        def when(ts: Any) -> Any:
            return from_ts(int(ts)) if ts else None

        frames = {
            "customers": pd.DataFrame([
                {"id": c["id"], "email": c.get("email"), "primary": c["id"] == self.customer_id,
                 "created": when(c.get("created")), "test_clock": c.get("test_clock")} for c in self.customers
            ], columns=["id", "email", "primary", "created", "test_clock"]),
            "subscriptions": pd.DataFrame([
                {"id": s.id, "customer": s.customer, "status": s.status, "product": s.product, "price": s.price,
                 "interval": f"{s.interval_count} {s.interval}" if s.interval_count != 1 else s.interval,
                 "quantity": s.quantity, "amount": s.recurring_total.format(), "created": when(s.created),
                 "current_period_end": when(s.current_period_end), "cancel_at_period_end": s.cancel_at_period_end}
                for s in self.subscriptions
            ], columns=["id", "customer", "status", "product", "price", "interval", "quantity", "amount", "created",
                        "current_period_end", "cancel_at_period_end"]),
            "invoices": pd.DataFrame([
                {"id": i.id, "status": i.status, "billing_reason": i.billing_reason, "subscription": i.subscription,
                 "amount_due": money_text(i.amount_due, i.currency), "amount_paid": money_text(i.amount_paid, i.currency),
                 "attempts": i.attempt_count, "created": when(i.created)} for i in self.invoices
            ], columns=["id", "status", "billing_reason", "subscription", "amount_due", "amount_paid", "attempts", "created"]),
            "charges": pd.DataFrame([
                {"id": c.id, "status": c.status, "amount": money_text(c.amount, c.currency),
                 "refunded": money_text(c.amount_refunded, c.currency), "invoice": c.invoice, "disputed": c.disputed,
                 "card": f"{c.card_brand} •••• {c.card_last4}" if c.card_last4 else None,
                 "failure_code": c.failure_code, "created": when(c.created)} for c in self.charges
            ], columns=["id", "status", "amount", "refunded", "invoice", "disputed", "card", "failure_code", "created"]),
            "refunds": pd.DataFrame([
                {"id": r.get("id"), "charge": r.get("charge"), "amount": money_text(r.get("amount"), r.get("currency", "usd")),
                 "status": r.get("status"), "reason": r.get("reason"), "created": when(r.get("created"))} for r in self.refunds
            ], columns=["id", "charge", "amount", "status", "reason", "created"]),
            "disputes": pd.DataFrame([
                {"id": d.get("id"), "charge": d.get("charge"), "amount": money_text(d.get("amount"), d.get("currency", "usd")),
                 "status": d.get("status"), "reason": d.get("reason"), "created": when(d.get("created"))} for d in self.disputes
            ], columns=["id", "charge", "amount", "status", "reason", "created"]),
            "anomalies": pd.DataFrame([a.as_dict() for a in self.anomalies], columns=["kind", "objects", "detail"]),
        }
        return frames

    def billing_state(self) -> dict[str, Any]:
        """case.json's ``billing_state``: subscriptions, invoices, anomalies, disputes (any status),
        what the customer already got back (``credits``), any list cut at the page cap (``truncated``),
        and the charges that paid no invoice (``one_off_charges``: what each took and can still give back)."""
        return {
            "subscriptions": [{**s.as_case_json(), **self.sub_facts.get(s.id, {})} for s in self.subscriptions],
            "invoices": [i.as_case_json() for i in self.invoices],
            "anomalies": [a.as_dict() for a in self.anomalies],
            "credits": self.credits.as_case_json(),
            "truncated": list(self.truncated),
            "disputes": [{"id": d.get("id"), "charge": obj_id(d.get("charge")), "status": d.get("status"),
                          "reason": d.get("reason"), "amount": {"value": int(d.get("amount") or 0),
                                                                "currency": str(d.get("currency") or "usd")}}
                         for d in self.disputes],
            "one_off_charges": [c.as_case_json() for c in self.one_off],
        }


def known_tax_rates(snapshot: CaseSnapshot) -> dict[str, dict[str, Any]]:
    """The tax rates the snapshot embeds (subscriptions' ``default_tax_rates``, their items'
    ``tax_rates``), by id: what an invoice's tax is called."""
    rates: dict[str, dict[str, Any]] = {}
    for sub in snapshot.of("subscriptions"):
        found = list(sub.get("default_tax_rates") or [])
        for item in ((sub.get("items") or {}).get("data") or []):
            found += list(item.get("tax_rates") or [])
        for rate in found:
            if isinstance(rate, dict) and rate.get("id"):
                rates[str(rate["id"])] = rate
    return rates


def identify(snapshot: CaseSnapshot) -> IdentitySummary:
    """Summarise the snapshot and name its anomalies."""
    raw_invoices = sorted(snapshot.of("invoices"), key=lambda i: i.get("created") or 0, reverse=True)
    invoice_by_pi = {pi: inv["id"] for inv in reversed(raw_invoices) if (pi := invoice_payment_intent(inv))}
    raw_charges = sorted(snapshot.of("charges"), key=lambda c: c.get("created") or 0, reverse=True)
    charge_by_pi: dict[str, str] = {}
    for ch in reversed(raw_charges):  # oldest first, so a later success wins over an earlier failure
        pi = obj_id(ch.get("payment_intent"))
        if pi and (ch.get("status") == "succeeded" or pi not in charge_by_pi):
            charge_by_pi[pi] = ch["id"]
    subs = sorted((sub_row(s) for s in snapshot.of("subscriptions")), key=lambda s: s.created, reverse=True)
    rates = known_tax_rates(snapshot)
    invoices = [invoice_row(i, charge_by_pi, rates) for i in raw_invoices]
    charges = [charge_row(c, invoice_by_pi) for c in raw_charges]
    customers = snapshot.of("customers")
    primary = next((c for c in customers if c.get("id") == snapshot.primary_customer_id), {})
    return IdentitySummary(
        customer_id=snapshot.primary_customer_id,
        email_masked=mask_email(primary.get("email")),
        other_customer_ids=[c for c in snapshot.customer_ids[1:]],
        subscriptions=subs,
        invoices=invoices,
        charges=charges,
        refunds=sorted(snapshot.of("refunds"), key=lambda r: r.get("created") or 0, reverse=True),
        disputes=sorted(snapshot.of("disputes"), key=lambda d: d.get("created") or 0, reverse=True),
        anomalies=find_anomalies(snapshot, subs, invoices, charges),
        customers=[{"id": c["id"], "email": mask_email(c.get("email")), "created": c.get("created"),
                    "test_clock": obj_id(c.get("test_clock"))} for c in customers],
        credits=credits_of(snapshot),
        truncated=list(snapshot.extra.get("truncated") or []),
        sub_facts=_sub_facts(snapshot, subs),
        one_off=one_off_charges(snapshot),
    )


def _sub_facts(snapshot: CaseSnapshot, subs: list[SubscriptionRow]) -> dict[str, dict[str, Any]]:
    """Per subscription: sold per seat (the price or product says so, whatever the quantity), the unit
    price, the interval count (a plan switch is told by its billing terms), and a paused collection (``{behavior, resumes_at}`` or None)."""
    products = {p.get("id"): p for p in snapshot.of("products")}
    raw = {s.get("id"): s for s in snapshot.of("subscriptions")}
    out: dict[str, dict[str, Any]] = {}
    for s in subs:
        meta = {**((products.get(s.product) or {}).get("metadata") or {}), **s.price_metadata}
        per_seat = s.seat_hint or str(meta.get("per_seat", "")).lower() in ("true", "1", "yes")
        sched = schedule_shape(snapshot, raw.get(s.id) or {})
        out[s.id] = {"per_seat": per_seat, "unit_amount": {"value": s.unit_amount, "currency": s.currency},
                     "interval_count": s.interval_count, "pause_collection": pause_of(raw.get(s.id) or {}),
                     "schedule": sched.as_case_json() if sched else None}
    return out
