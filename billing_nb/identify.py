"""Step 1: who is this, what do they have, and what looks wrong.

Pure: reads a :class:`CaseSnapshot`, returns plain dataclasses for the code that
follows and pandas DataFrames for display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .snapshot import CaseSnapshot

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

    def as_case_json(self) -> dict[str, Any]:
        """The case.json shape: id, status, price, product, interval, quantity, current_period_end, cancel_at_period_end."""
        raise NotImplementedError


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

    @property
    def active_subscriptions(self) -> list[SubscriptionRow]:
        return [s for s in self.subscriptions if s.status in ("active", "trialing", "past_due")]

    @property
    def canceled_subscriptions(self) -> list[SubscriptionRow]:
        return [s for s in self.subscriptions if s.status in ("canceled", "incomplete_expired")]

    def anomaly_kinds(self) -> list[str]:
        return [a.kind for a in self.anomalies]

    def frames(self) -> dict[str, pd.DataFrame]:
        """DataFrames for display: customers, subscriptions, invoices, charges, refunds, disputes, anomalies."""
        raise NotImplementedError

    def billing_state(self) -> dict[str, Any]:
        """case.json's ``billing_state``: subscriptions, invoices, anomalies."""
        raise NotImplementedError


def identify(snapshot: CaseSnapshot) -> IdentitySummary:
    """Summarise the snapshot and name its anomalies."""
    raise NotImplementedError
