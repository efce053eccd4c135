"""Step 2: exactly one bucket per case, with the evidence for and against.

The billing state decides; the complaint text only supports. ``unclear`` is an answer,
and it blocks every money-moving action later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .identify import IdentitySummary
from .snapshot import CaseSnapshot

__all__ = ["Bucket", "Classification", "Decision", "classify", "decide", "parse_bucket"]


class Bucket(StrEnum):
    DUPLICATE_SUBSCRIPTION = "duplicate_subscription"
    TEAM_SEATS = "team_seats"
    FAILED_PAYMENT = "failed_payment"
    MISSING_SELF_SERVE = "missing_self_serve"
    PRODUCT_FAILURE = "product_failure"
    UNCLEAR = "unclear"


@dataclass(frozen=True)
class Classification:
    """The suggestion: bucket, confidence in [0, 1], evidence lines for and against."""

    suggested: Bucket
    confidence: float
    evidence: tuple[str, ...]
    against: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """What the analyst settled: the bucket (None while pending) and who confirmed it."""

    suggested: Bucket
    bucket: Bucket | None
    confirmed_by: str | None  # "parameter" | "widget" | None
    confidence: float
    evidence: tuple[str, ...]

    @property
    def pending(self) -> bool:
        return self.bucket is None

    def as_case_json(self) -> dict[str, Any]:
        return {
            "suggested": self.suggested.value,
            "bucket": self.bucket.value if self.bucket else None,
            "confirmed_by": self.confirmed_by,
            "confidence": self.confidence,
            "evidence": list(self.evidence),
        }


def parse_bucket(value: str | Bucket | None) -> Bucket | None:
    """A bucket from a parameter or widget value; raises UnknownBucketError on a bad name."""
    raise NotImplementedError


def classify(snapshot: CaseSnapshot, summary: IdentitySummary, complaint: str = "") -> Classification:
    """Suggest one bucket from the billing state, with the complaint as supporting evidence."""
    raise NotImplementedError


def decide(classification: Classification, bucket: str | Bucket | None, confirmed_by: str | None) -> Decision:
    """Record the analyst's answer; with no answer the decision is pending."""
    raise NotImplementedError
