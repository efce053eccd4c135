"""The facts a product-gap rule reads: the gap's shape, the case's topics (from the
complaint, the anomalies and the bucket) and the portal configuration customers meet.

Kept apart from the rules in :mod:`.gaps` so each file has one job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .classify import Bucket, Decision
from .identify import IdentitySummary
from ..reading.snapshot import CaseSnapshot, from_ts

__all__ = ["GAP_KINDS", "ProductGap", "GapFacts", "portal_in_use", "day", "ref_id", "mentions", "ACTIVE"]

GAP_KINDS: tuple[str, ...] = (
    "no_portal_configuration",
    "portal_missing_cancellation",
    "portal_missing_payment_method_update",
    "portal_missing_invoice_history",
    "portal_missing_plan_switching",
    "no_duplicate_subscription_guard",
    "no_seat_explanation",
    "no_usage_visibility",
    "dunning_never_reached_customer",
    "checkout_no_way_to_finish",
    "no_cancellation_path",
    "product_bug",
)


@dataclass(frozen=True)
class ProductGap:
    kind: str
    title: str  # backlog item title
    evidence: tuple[str, ...]
    suggestion: str  # what the product should do
    severity: str = "medium"  # low | medium | high
    area: str = "billing operations"  # who fixes it: the operator's billing setup, or the product itself

    def as_case_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "evidence": list(self.evidence),
                "suggestion": self.suggestion, "severity": self.severity, "area": self.area}


# --- what the case is about ------------------------------------------------------------
_TOPICS: dict[str, re.Pattern[str]] = {
    # trouble cancelling (a self-serve complaint), not "please cancel and refund"
    "cancel": re.compile(r"\b((?:can[’']?t|cannot|couldn[’']?t|unable to|no way to|how (?:do i|to|can i)|tried to|trying to"
                         r"|meant to|want(?:ed)? to|where (?:do|can) i)(?:\s+\w+){0,4}?\s+(?:cancel\w*|unsubscrib\w*)"
                         r"|no (?:\w+ )?cancel\w*|cancel(?:lation)? (?:button|option|link|page))", re.I),
    "cancel_word": re.compile(r"\b(cancel\w*|unsubscrib\w*|stop (?:my |the )?(?:subscription|plan|billing))\b", re.I),
    "payment": re.compile(r"\b(card|payment method|payment failed|declin\w*|expired)\b", re.I),
    "plan": re.compile(r"\b(upgrad\w*|downgrad\w*|switch\w* (?:to|plans?)|change (?:my |the )?(?:plan|seats?)|moved me to"
                       r"|(?:add|remove|reduce|fewer|more) (?:\w+ )?seats?|prorat\w*)\b", re.I),
    "seats": re.compile(r"\b(seats?|users?|members?|licen[cs]es?)\b", re.I),
    "invoices": re.compile(r"\b(invoices?|receipts?|billing history)\b", re.I),
    "usage": re.compile(r"\b(limits?|usage|rate[- ]?limit\w*|rate|quotas?|throttl\w*|429|api calls?|overages?)\b", re.I),
}
_SELF_SERVE = ("cancel", "payment", "plan", "invoices")
ACTIVE = ("active", "trialing", "past_due", "unpaid")


def day(unix: int | None) -> str:
    """A date as an analyst reads it (\"18 Aug 2027\")."""
    dt = from_ts(unix)
    return "unknown date" if dt is None else f"{dt.day} {dt:%b %Y}"


def ref_id(value: Any) -> str | None:
    """A Stripe reference that may be an id or an expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value if isinstance(value, str) else None


def mentions(kind: str, complaint: str) -> str | None:
    match = _TOPICS[kind].search(complaint or "")
    return match.group(0).lower() if match else None


class GapFacts:
    """The facts the rules share: topics, anomalies, the active portal configuration."""

    def __init__(self, snapshot: CaseSnapshot, summary: IdentitySummary, decision: Decision, complaint: str):
        self.snapshot, self.summary, self.complaint = snapshot, summary, complaint
        self.bucket = decision.bucket or decision.suggested
        self.anomalies = {a.kind: a for a in summary.anomalies}
        self.customers = {summary.customer_id, *summary.other_customer_ids}
        self.topics: dict[str, str] = {}  # topic -> why it applies (no PII)
        for topic in _TOPICS:
            word = mentions(topic, complaint)
            if word:
                self.topics[topic] = f"the complaint mentions '{word}'"
        by_anomaly = {"charged_after_cancel_request": "cancel", "failed_renewal": "payment", "past_due": "payment",
                      "subscription_payment_method_stale": "payment", "proration_invoice": "plan"}
        for kind, topic in by_anomaly.items():
            if kind in self.anomalies:
                self.topics.setdefault(topic, f"anomaly {kind}")
        if self.bucket is Bucket.FAILED_PAYMENT:
            self.topics.setdefault("payment", "bucket failed_payment")
        if self.bucket is Bucket.TEAM_SEATS:
            self.topics.setdefault("seats", "bucket team_seats")
        if self.bucket is Bucket.MISSING_SELF_SERVE:
            if "cancel_word" in self.topics:
                self.topics.setdefault("cancel", self.topics["cancel_word"] + " (bucket missing_self_serve)")
            if not set(_SELF_SERVE) & set(self.topics):
                for topic in _SELF_SERVE:
                    self.topics[topic] = "bucket missing_self_serve"
        self.portal: dict[str, Any] | None = portal_in_use(snapshot)

    def feature(self, name: str) -> dict[str, Any]:
        assert self.portal is not None
        return (self.portal.get("features") or {}).get(name) or {}

    def active_subscriptions(self) -> list[dict[str, Any]]:
        return [s for s in self.snapshot.of("subscriptions") if s.get("status") in ACTIVE]


def portal_in_use(snapshot: CaseSnapshot) -> dict[str, Any] | None:
    """The portal configuration customers meet (see :meth:`CaseSnapshot.portal_configuration`)."""
    return snapshot.portal_configuration()


# --- the rules ---------------------------------------------------------------------------
