"""Step 2: exactly one bucket per case, with the evidence for and against.

The billing state decides; the complaint text only supports. ``unclear`` is an answer,
and it blocks every money-moving action later. Rules, in order (the first that holds wins):

1. ``duplicate_active_subscription`` -> ``duplicate_subscription``, unless the group looks
   like a deliberate multi-seat purchase (different users named in subscription metadata,
   or a per-seat price / business customer *and* the subscriptions days apart), then
   ``team_seats``. Minutes apart, quantity 1 each, or two customer objects for one email
   all argue for an accident.
2. ``failed_renewal`` / ``past_due`` / ``incomplete_checkout`` /
   ``subscription_payment_method_stale`` -> ``failed_payment``.
3. ``open_dispute``: the bank already moved the money, so the remedy is answering the
   dispute, never a refund. The bucket follows what the customer says went wrong: product
   failure wording -> ``product_failure``; anything else -> ``unclear`` (no bucket is
   supported, and ``unclear`` blocks refunds, which is what a disputed charge needs).
4. ``charged_after_cancel_request`` -> ``missing_self_serve``: a renewal charged, then a
   cancellation request within days: the customer could not stop the renewal themselves
   in time. Product failure wording does not change that (the billing fact is stronger).
5. A live per-seat subscription with quantity > 1 and a complaint about seats/users ->
   ``team_seats``.
6. Product failure wording (broken, not working, outage, ...) on healthy billing ->
   ``product_failure``.
7. ``proration_invoice`` on healthy billing, or complaint wording about cancelling / not
   finding how / the portal -> ``missing_self_serve`` (the customer could not see or do it
   themselves); a portal configuration without that feature is added as evidence.
8. Otherwise ``unclear``: in particular a refund request on a healthy subscription, and a
   "charged twice" complaint with one subscription per product (never a duplicate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .anomalies import LIVE
from ..exceptions import BadInputError, UnknownBucketError
from .identify import IdentitySummary, SubscriptionRow
from ..money import Money
from ..reading.snapshot import CaseSnapshot

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
    against: tuple[str, ...] = ()

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
            "against": list(self.against),
        }


def parse_bucket(value: str | Bucket | None) -> Bucket | None:
    """A bucket from a parameter or widget value; raises UnknownBucketError on a bad name."""
    if value is None or isinstance(value, Bucket):
        return value
    text = str(value).strip().lower().replace("-", "_")
    if not text:
        return None
    try:
        return Bucket(text)
    except ValueError:
        names = ", ".join(b.value for b in Bucket)
        raise UnknownBucketError(f"unknown bucket {str(value)[:40]!r}; use one of: {names}") from None


# --- complaint wording: supporting evidence only --------------------------------------
_WORDS: dict[str, re.Pattern[str]] = {
    "duplicate": re.compile(r"\b(twice|double[- ]?charged|two (?:charges|subscriptions|payments)|charged two|duplicate|paying .* twice)\b", re.I),
    "seats": re.compile(r"\b(seats?|users?|licen[cs]es?|members?|per[- ]user|head ?count)\b", re.I),
    "payment": re.compile(r"\b(declined|payment (?:has )?failed|card (?:was )?(?:declined|failing|expired)|locked (?:me )?out|failing)\b", re.I),
    "self_serve": re.compile(r"(can'?t|cannot|couldn'?t|unable to|no way to|how (?:do I|to)) (?:find|cancel|see|change|stop|downgrade|unsubscribe)|"
                             r"\bno (?:cancel|cancellation) (?:button|option|link)|\bcancel\b|\bportal\b|see the price|"
                             r"don'?t understand|didn'?t (?:know|expect)|nobody (?:said|told)", re.I),
    "product": re.compile(r"\b(broken|not working|doesn'?t work|didn'?t work|never worked|stopped working|fails?|failing|"
                          r"errors?|outage|down for|bugs?|crash(?:es|ed)?|unusable|can'?t use|none of what|not as (?:described|advertised|promised))\b", re.I),
    "refund": re.compile(r"\b(refund|money back|reimburse|reverse|chargeback)\b", re.I),
}
_USER_KEYS = ("user", "user_email", "member", "assignee", "seat_holder", "seat", "owner", "employee", "team", "workspace")
_BUSINESS_KEYS = ("company", "company_name", "business", "business_name", "organization", "org", "vat", "tax_id")
_DAY = 86400


def _mentions(complaint: str) -> set[str]:
    return {name for name, pattern in _WORDS.items() if pattern.search(complaint or "")}


def _per_seat(s: SubscriptionRow, products: dict[str, dict[str, Any]]) -> bool:
    meta = {**(products.get(s.product, {}).get("metadata") or {}), **s.price_metadata}
    return s.seat_hint or str(meta.get("per_seat", "")).lower() in ("true", "1", "yes")


def _business(snapshot: CaseSnapshot, customer_id: str) -> str | None:
    cust = next((c for c in snapshot.of("customers") if c.get("id") == customer_id), {})
    meta = {k.lower(): v for k, v in (cust.get("metadata") or {}).items()}
    key = next((k for k in _BUSINESS_KEYS if meta.get(k)), None)
    if key:
        return f"customer metadata names a business ({key})"
    if cust.get("tax_ids") and ((cust.get("tax_ids") or {}).get("data")):
        return "customer has tax ids"
    return None


def _team_or_duplicate(snapshot: CaseSnapshot, group: list[SubscriptionRow], products: dict[str, dict[str, Any]]) -> tuple[bool, list[str], list[str]]:
    """(deliberate?, facts for a deliberate team purchase, facts for an accidental duplicate)."""
    team, dup = [], []
    users = {str(s.metadata.get(k)).lower() for s in group for k in _USER_KEYS if s.metadata.get(k)}
    if len(users) > 1:
        team.append(f"subscription metadata names {len(users)} different users/teams")
    gap = max(s.created for s in group) - min(s.created for s in group)
    per_seat = [s.id for s in group if _per_seat(s, products)]
    multi = [s.id for s in group if s.quantity > 1]
    business = next((b for b in (_business(snapshot, s.customer) for s in group) if b), None)
    if per_seat:
        team.append(f"per-seat price on {', '.join(per_seat)}")
    if multi:
        team.append(f"quantity > 1 on {', '.join(multi)}")
    if business:
        team.append(business)
    if gap < 3600:
        dup.append(f"created {max(1, gap // 60)} min apart (an accidental second purchase looks like this)")
    elif gap > _DAY:
        team.append(f"created {gap // _DAY} days apart")
    if not multi:
        dup.append("quantity 1 on each subscription")
    if len({s.customer for s in group}) > 1:
        dup.append("the subscriptions sit on separate customer objects for one email (a second sign-up)")
    if len({s.price for s in group}) == 1:
        dup.append("same price on each")
    deliberate = len(users) > 1 or (bool(per_seat or business or multi) and gap > _DAY)
    return deliberate, team, dup


def _portal_lacks(snapshot: CaseSnapshot, feature: str) -> str | None:
    cfg = snapshot.portal_configuration()
    if cfg is not None:
        if not ((cfg.get("features") or {}).get(feature) or {}).get("enabled"):
            return f"portal configuration {cfg.get('id')} has {feature} disabled"
    return None


def classify(snapshot: CaseSnapshot, summary: IdentitySummary, complaint: str = "") -> Classification:
    """Suggest one bucket from the billing state, with the complaint as supporting evidence."""
    said = _mentions(complaint)
    kinds = set(summary.anomaly_kinds())
    products = {p["id"]: p for p in snapshot.of("products") if p.get("id")}
    live = [s for s in summary.subscriptions if s.status in LIVE]
    evidence: list[str] = []
    against: list[str] = []

    def facts(kind: str) -> list[str]:
        return [f"{a.kind}: {a.detail} [{', '.join(a.objects)}]" for a in summary.anomalies_of(kind)]

    def done(bucket: Bucket, confidence: float) -> Classification:
        scores = {b.value: 0.0 for b in Bucket}
        scores[bucket.value] = round(min(confidence, 0.97), 2)
        return Classification(bucket, scores[bucket.value], tuple(evidence), tuple(against), scores)

    # 1. duplicates, told apart from deliberate multi-seat purchases
    for anomaly in summary.anomalies_of("duplicate_active_subscription"):
        group = [s for s in summary.subscriptions if s.id in anomaly.objects]
        deliberate, team, dup = _team_or_duplicate(snapshot, group, products)
        evidence.extend(facts("duplicate_active_subscription") + facts("duplicate_customer"))
        if deliberate:
            evidence.extend(team)
            against.extend(dup)
            return done(Bucket.TEAM_SEATS, 0.7 + 0.1 * ("seats" in said))
        evidence.extend(dup)
        against.extend(team)
        if "duplicate" in said:
            evidence.append("complaint says they were charged twice / pay twice")
        return done(Bucket.DUPLICATE_SUBSCRIPTION, 0.85 + 0.1 * ("duplicate" in said) - 0.1 * bool(team))

    # 2. failed payments
    failing = [k for k in ("failed_renewal", "past_due", "incomplete_checkout", "subscription_payment_method_stale") if k in kinds]
    if failing:
        for kind in failing:
            evidence.extend(facts(kind))
        if "payment" in said:
            evidence.append("complaint mentions a failed or declined payment")
        if "product" in said and "payment" not in said:
            against.append("complaint also describes a product problem")
        return done(Bucket.FAILED_PAYMENT, 0.85 + 0.05 * len(failing) + 0.05 * ("payment" in said))

    # 3. open disputes: the bucket follows the customer's reason; never a refund
    if "open_dispute" in kinds:
        evidence.extend(facts("open_dispute"))
        against.append("an open dispute is answered with evidence; the disputed charge is never refunded")
        if "product" in said:
            evidence.append("complaint says the product did not do what it should")
            return done(Bucket.PRODUCT_FAILURE, 0.7)
        against.append("the complaint gives no reason that supports a bucket")
        return done(Bucket.UNCLEAR, 0.5)

    # 4. renewed, then asked to cancel within days
    if "charged_after_cancel_request" in kinds:
        evidence.extend(facts("charged_after_cancel_request"))
        gap = _portal_lacks(snapshot, "subscription_cancel")
        if gap:
            evidence.append(gap)
        if "self_serve" in said:
            evidence.append("complaint says they could not cancel themselves")
        if "product" in said:
            against.append("complaint also describes a product problem")
        return done(Bucket.MISSING_SELF_SERVE, 0.75 + 0.1 * bool(gap) + 0.05 * ("self_serve" in said))

    # 5. deliberate seats the customer asks about
    seated = [s for s in live if s.quantity > 1]
    if seated and "seats" in said:
        for s in seated:
            unit = Money(s.unit_amount, s.currency).format()
            evidence.append(f"{s.id}: {s.quantity} x {unit} = {s.recurring_total.format()} per {s.interval} on {s.product}"
                            + (" (per-seat price)" if _per_seat(s, products) else ""))
        business = _business(snapshot, seated[0].customer)
        if business:
            evidence.append(business)
        evidence.append("complaint asks about seats / users")
        return done(Bucket.TEAM_SEATS, 0.8 + 0.1 * _per_seat(seated[0], products))

    healthy = f"billing is healthy: {len(live)} live subscription(s), no failed, duplicate or disputed payments"
    # 6. the product failed them
    if "product" in said:
        evidence.append("complaint describes the product not working")
        evidence.append(healthy)
        if "refund" in said:
            evidence.append("complaint asks for a refund")
        if "proration_invoice" in kinds:
            against.extend(facts("proration_invoice"))
        return done(Bucket.PRODUCT_FAILURE, 0.75 + 0.05 * ("refund" in said))

    # 7. they could not see or do it themselves
    if "proration_invoice" in kinds or "self_serve" in said:
        evidence.extend(facts("proration_invoice"))
        if "self_serve" in said:
            evidence.append("complaint says they could not find, see or do it themselves")
        features = (["subscription_update"] if "proration_invoice" in kinds else []) + (
            ["subscription_cancel"] if re.search(r"cancel", complaint, re.I) else [])
        for feature in features or ["subscription_cancel", "subscription_update"]:
            gap = _portal_lacks(snapshot, feature)
            if gap:
                evidence.append(gap)
        evidence.append(healthy)
        if "duplicate" in said:
            against.append("complaint says charged twice, but no duplicate subscription exists")
        return done(Bucket.MISSING_SELF_SERVE, 0.65 + 0.1 * ("self_serve" in said) + 0.1 * ("proration_invoice" in kinds))

    # 8. nothing supports a bucket
    evidence.append(healthy)
    if "duplicate" in said:
        against.append("complaint says charged twice, but there is one live subscription per product")
    if "refund" in said:
        against.append("a refund is asked without a reason the billing state supports")
    if "seats" in said and not seated:
        against.append("complaint mentions seats, but no subscription has more than one")
    return done(Bucket.UNCLEAR, 0.6 if said <= {"refund"} else 0.4)


def decide(classification: Classification, bucket: str | Bucket | None, confirmed_by: str | None) -> Decision:
    """Record the analyst's answer; with no answer the decision is pending."""
    chosen = parse_bucket(bucket)
    if chosen is not None and confirmed_by not in ("parameter", "widget"):
        raise BadInputError(f"confirmed_by must be 'parameter' or 'widget', not {confirmed_by!r}")
    return Decision(
        suggested=classification.suggested,
        bucket=chosen,
        confirmed_by=confirmed_by if chosen is not None else None,
        confidence=classification.confidence,
        evidence=classification.evidence,
        against=classification.against,
    )
