"""Step 1: who is this, what do they have, and what looks wrong.

Pure: reads a :class:`CaseSnapshot`, returns plain dataclasses for the code that
follows and pandas DataFrames for display. The anomaly rules live in
:mod:`billing_nb.anomalies`.

Current API shapes are read first, older ones as a fallback: a subscription's period and
price live on its items; an invoice names its subscription in
``parent.subscription_details.subscription`` (``invoice.subscription`` before) and its
payment in ``payments.data[].payment.payment_intent``; a charge names its payment intent,
so charge -> invoice goes through that payment intent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .money import Money
from .snapshot import CaseSnapshot, from_ts

__all__ = ["ANOMALY_KINDS", "Anomaly", "SubscriptionRow", "InvoiceRow", "ChargeRow", "IdentitySummary", "identify"]

#: Anomaly kinds, named exactly as case.json and the tests expect.
ANOMALY_KINDS: tuple[str, ...] = (
    "duplicate_active_subscription",
    "duplicate_customer",
    "failed_renewal",
    "incomplete_checkout",
    "past_due",
    "open_dispute",
    "charged_after_cancel_request",
    "subscription_payment_method_stale",
    "proration_invoice",
)


@dataclass(frozen=True)
class Anomaly:
    kind: str
    objects: tuple[str, ...]
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "objects": list(self.objects), "detail": self.detail}


@dataclass(frozen=True)
class SubscriptionRow:
    id: str
    customer: str
    status: str
    price: str
    product: str
    interval: str  # "month" | "year" | ...
    interval_count: int
    quantity: int
    unit_amount: int
    currency: str
    current_period_start: int
    current_period_end: int
    cancel_at_period_end: bool
    created: int
    metadata: dict[str, str] = field(default_factory=dict)
    default_payment_method: str | None = None
    canceled_at: int | None = None
    cancel_at: int | None = None
    item_count: int = 1
    price_metadata: dict[str, str] = field(default_factory=dict)

    @property
    def recurring_total(self) -> Money:
        return Money(self.unit_amount * self.quantity, self.currency)

    def as_case_json(self) -> dict[str, Any]:
        """The case.json shape: id, status, price, product, interval, quantity, current_period_end, cancel_at_period_end."""
        return {
            "id": self.id, "status": self.status, "price": self.price, "product": self.product,
            "interval": self.interval, "quantity": self.quantity, "current_period_end": self.current_period_end,
            "cancel_at_period_end": self.cancel_at_period_end,
        }


@dataclass(frozen=True)
class InvoiceRow:
    id: str
    customer: str
    subscription: str | None
    status: str
    billing_reason: str | None
    amount_due: int
    amount_paid: int
    currency: str
    created: int
    period_start: int | None
    period_end: int | None
    attempt_count: int
    payment_intent: str | None
    charge: str | None
    paid_at: int | None = None

    def as_case_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "status": self.status, "billing_reason": self.billing_reason,
            "subscription": self.subscription, "amount_due": self.amount_due, "amount_paid": self.amount_paid,
            "currency": self.currency, "created": self.created, "attempt_count": self.attempt_count,
        }


@dataclass(frozen=True)
class ChargeRow:
    id: str
    customer: str
    payment_intent: str | None
    invoice: str | None
    status: str
    amount: int
    amount_refunded: int
    currency: str
    created: int
    disputed: bool
    card_brand: str | None
    card_last4: str | None
    failure_code: str | None
    payment_method: str | None = None


def _mask_email(email: str | None) -> str | None:
    try:
        from .redact import mask_email

        return mask_email(email)
    except NotImplementedError:  # pragma: no cover - until redact lands
        if not email:
            return None
        local, _, domain = email.partition("@")
        return f"{local[:1] or '*'}***@{domain}"


def _money(amount: int | None, currency: str) -> str:
    return Money(int(amount or 0), currency or "usd").format()


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
                 "amount_due": _money(i.amount_due, i.currency), "amount_paid": _money(i.amount_paid, i.currency),
                 "attempts": i.attempt_count, "created": when(i.created)} for i in self.invoices
            ], columns=["id", "status", "billing_reason", "subscription", "amount_due", "amount_paid", "attempts", "created"]),
            "charges": pd.DataFrame([
                {"id": c.id, "status": c.status, "amount": _money(c.amount, c.currency),
                 "refunded": _money(c.amount_refunded, c.currency), "invoice": c.invoice, "disputed": c.disputed,
                 "card": f"{c.card_brand} •••• {c.card_last4}" if c.card_last4 else None,
                 "failure_code": c.failure_code, "created": when(c.created)} for c in self.charges
            ], columns=["id", "status", "amount", "refunded", "invoice", "disputed", "card", "failure_code", "created"]),
            "refunds": pd.DataFrame([
                {"id": r.get("id"), "charge": r.get("charge"), "amount": _money(r.get("amount"), r.get("currency", "usd")),
                 "status": r.get("status"), "reason": r.get("reason"), "created": when(r.get("created"))} for r in self.refunds
            ], columns=["id", "charge", "amount", "status", "reason", "created"]),
            "disputes": pd.DataFrame([
                {"id": d.get("id"), "charge": d.get("charge"), "amount": _money(d.get("amount"), d.get("currency", "usd")),
                 "status": d.get("status"), "reason": d.get("reason"), "created": when(d.get("created"))} for d in self.disputes
            ], columns=["id", "charge", "amount", "status", "reason", "created"]),
            "anomalies": pd.DataFrame([a.as_dict() for a in self.anomalies], columns=["kind", "objects", "detail"]),
        }
        return frames

    def billing_state(self) -> dict[str, Any]:
        """case.json's ``billing_state``: subscriptions, invoices, anomalies."""
        return {
            "subscriptions": [s.as_case_json() for s in self.subscriptions],
            "invoices": [i.as_case_json() for i in self.invoices],
            "anomalies": [a.as_dict() for a in self.anomalies],
        }


def _id(value: Any) -> str | None:
    """An id whether the field holds the id or an expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value if isinstance(value, str) and value else None


def invoice_subscription(inv: dict[str, Any]) -> str | None:
    """The invoice's subscription, in the current shape (``parent``) or the old one."""
    details = ((inv.get("parent") or {}).get("subscription_details")) or {}
    found = _id(details.get("subscription")) or _id(inv.get("subscription"))
    if found:
        return found
    for line in (inv.get("lines") or {}).get("data") or []:
        item = ((line.get("parent") or {}).get("subscription_item_details")) or {}
        found = _id(item.get("subscription")) or _id(line.get("subscription"))
        if found:
            return found
    return None


def invoice_payment_intent(inv: dict[str, Any]) -> str | None:
    """The invoice's payment intent: the default (else the newest) invoice payment's, or the old field."""
    payments = ((inv.get("payments") or {}).get("data")) or []
    payments = sorted(payments, key=lambda p: (bool(p.get("is_default")), p.get("created") or 0), reverse=True)
    for pay in payments:
        pi = _id((pay.get("payment") or {}).get("payment_intent"))
        if pi:
            return pi
    return _id(inv.get("payment_intent"))


def _sub_row(sub: dict[str, Any]) -> SubscriptionRow:
    items = ((sub.get("items") or {}).get("data")) or []
    item = max(items, key=lambda it: ((it.get("price") or {}).get("unit_amount") or 0) * (it.get("quantity") or 1), default={})
    price = item.get("price") or {}
    price = price if isinstance(price, dict) else {"id": price}
    recurring = price.get("recurring") or {}
    return SubscriptionRow(
        id=sub["id"], customer=_id(sub.get("customer")) or "", status=sub.get("status") or "",
        price=price.get("id") or "", product=_id(price.get("product")) or "",
        interval=recurring.get("interval") or "", interval_count=int(recurring.get("interval_count") or 1),
        quantity=int(item.get("quantity") or 1), unit_amount=int(price.get("unit_amount") or 0),
        currency=price.get("currency") or sub.get("currency") or "usd",
        current_period_start=int(item.get("current_period_start") or sub.get("current_period_start") or 0),
        current_period_end=int(item.get("current_period_end") or sub.get("current_period_end") or 0),
        cancel_at_period_end=bool(sub.get("cancel_at_period_end")), created=int(sub.get("created") or 0),
        metadata=dict(sub.get("metadata") or {}), default_payment_method=_id(sub.get("default_payment_method")),
        canceled_at=sub.get("canceled_at"), cancel_at=sub.get("cancel_at"), item_count=len(items) or 1,
        price_metadata=dict(price.get("metadata") or {}),
    )


def _invoice_row(inv: dict[str, Any], charge_by_pi: dict[str, str]) -> InvoiceRow:
    pi = invoice_payment_intent(inv)
    return InvoiceRow(
        id=inv["id"], customer=_id(inv.get("customer")) or "", subscription=invoice_subscription(inv),
        status=inv.get("status") or "", billing_reason=inv.get("billing_reason"),
        amount_due=int(inv.get("amount_due") or 0), amount_paid=int(inv.get("amount_paid") or 0),
        currency=inv.get("currency") or "usd", created=int(inv.get("created") or 0),
        period_start=inv.get("period_start"), period_end=inv.get("period_end"),
        attempt_count=int(inv.get("attempt_count") or 0), payment_intent=pi,
        charge=(charge_by_pi.get(pi) if pi else None) or _id(inv.get("charge")),
        paid_at=((inv.get("status_transitions") or {}).get("paid_at")),
    )


def _charge_row(ch: dict[str, Any], invoice_by_pi: dict[str, str]) -> ChargeRow:
    card = ((ch.get("payment_method_details") or {}).get("card")) or {}
    pi = _id(ch.get("payment_intent"))
    return ChargeRow(
        id=ch["id"], customer=_id(ch.get("customer")) or "", payment_intent=pi,
        invoice=(invoice_by_pi.get(pi) if pi else None) or _id(ch.get("invoice")), status=ch.get("status") or "",
        amount=int(ch.get("amount") or 0), amount_refunded=int(ch.get("amount_refunded") or 0),
        currency=ch.get("currency") or "usd", created=int(ch.get("created") or 0), disputed=bool(ch.get("disputed")),
        card_brand=card.get("brand"), card_last4=card.get("last4"), failure_code=ch.get("failure_code"),
        payment_method=_id(ch.get("payment_method")),
    )


def identify(snapshot: CaseSnapshot) -> IdentitySummary:
    """Summarise the snapshot and name its anomalies."""
    from .anomalies import find_anomalies

    raw_invoices = sorted(snapshot.of("invoices"), key=lambda i: i.get("created") or 0, reverse=True)
    invoice_by_pi = {pi: inv["id"] for inv in reversed(raw_invoices) if (pi := invoice_payment_intent(inv))}
    raw_charges = sorted(snapshot.of("charges"), key=lambda c: c.get("created") or 0, reverse=True)
    charge_by_pi: dict[str, str] = {}
    for ch in reversed(raw_charges):  # oldest first, so a later success wins over an earlier failure
        pi = _id(ch.get("payment_intent"))
        if pi and (ch.get("status") == "succeeded" or pi not in charge_by_pi):
            charge_by_pi[pi] = ch["id"]
    subs = sorted((_sub_row(s) for s in snapshot.of("subscriptions")), key=lambda s: s.created, reverse=True)
    invoices = [_invoice_row(i, charge_by_pi) for i in raw_invoices]
    charges = [_charge_row(c, invoice_by_pi) for c in raw_charges]
    customers = snapshot.of("customers")
    primary = next((c for c in customers if c.get("id") == snapshot.primary_customer_id), {})
    return IdentitySummary(
        customer_id=snapshot.primary_customer_id,
        email_masked=_mask_email(primary.get("email")),
        other_customer_ids=[c for c in snapshot.customer_ids[1:]],
        subscriptions=subs,
        invoices=invoices,
        charges=charges,
        refunds=sorted(snapshot.of("refunds"), key=lambda r: r.get("created") or 0, reverse=True),
        disputes=sorted(snapshot.of("disputes"), key=lambda d: d.get("created") or 0, reverse=True),
        anomalies=find_anomalies(snapshot, subs, invoices, charges),
        customers=[{"id": c["id"], "email": _mask_email(c.get("email")), "created": c.get("created"),
                    "test_clock": _id(c.get("test_clock"))} for c in customers],
    )
