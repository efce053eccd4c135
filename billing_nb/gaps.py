"""Step 4: the operator-side product gap behind the customer's pain.

A gap is a backlog item for the product team, separate from the remediation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .classify import Decision
from .identify import IdentitySummary
from .snapshot import CaseSnapshot

__all__ = ["GAP_KINDS", "ProductGap", "find_gaps"]

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
    "no_cancellation_path",
)


@dataclass(frozen=True)
class ProductGap:
    kind: str
    title: str  # backlog item title
    evidence: tuple[str, ...]
    suggestion: str  # what the product should do
    severity: str = "medium"  # low | medium | high

    def as_case_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "evidence": list(self.evidence),
                "suggestion": self.suggestion, "severity": self.severity}


def find_gaps(snapshot: CaseSnapshot, summary: IdentitySummary, decision: Decision, complaint: str = "") -> list[ProductGap]:
    raise NotImplementedError
