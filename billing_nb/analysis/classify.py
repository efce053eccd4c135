"""Step 2: exactly one bucket per case, weighing the billing state and the complaint.

The billing state decides where it is unambiguous; the complaint, read by an
:class:`~billing_nb.analysis.textmodel.IntentModel` (by default the multilingual lexicon
with negation plus a small naive-Bayes model shipped as JSON), decides between what the
state allows. ``unclear`` is an answer, and it blocks every money-moving action later.
Rules, in order (the first that holds wins):

1. ``duplicate_active_subscription`` -> ``duplicate_subscription``, unless the group looks
   like a deliberate purchase: different people named in subscription metadata (any key
   naming a user, email, seat, member, holder...), a per-seat price / business customer /
   quantity > 1 *and* the subscriptions days apart, or a complaint that says so ("not a
   duplicate, we need both", "for my colleague"), then ``team_seats``.
2. ``failed_renewal`` / ``past_due`` / ``incomplete_checkout`` /
   ``subscription_payment_method_stale`` -> ``failed_payment``.
3. A dispute that is open or lost: the bank moved (or is moving) the money, so the remedy
   is never a refund. Product-failure wording -> ``product_failure``; anything else ->
   ``unclear``. A won dispute is only evidence.
4. ``charged_after_cancel_request`` -> ``missing_self_serve``.
5. A live subscription with quantity > 1 and a complaint about seats/users ->
   ``team_seats``, unless the complaint is more about the product failing (an outage
   that hits "our users") -> ``product_failure``.
6. On otherwise healthy billing the complaint decides: product failure wording (a trust
   break too: a broken promise, misleading advertising, a price rise or fee nobody announced,
   support that never answers) -> ``product_failure``; not being able to see, stop, pause
   or change something themselves (a card, billing details, invoices, the interval; or a
   charge they never expected / authorised, or a proration invoice) ->
   ``missing_self_serve``; otherwise ``unclear`` (a refund request without a reason, a
   "charged twice" with one subscription per product).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .anomalies import LIVE
from .asks import product_not_held
from ..exceptions import BadInputError, UnknownBucketError
from .identify import IdentitySummary, SubscriptionRow
from .lexicon import normalise
from .purchases import business_hint as _business
from .purchases import per_seat as _per_seat
from .purchases import plan_switch as _plan_switch
from .purchases import team_or_duplicate as _team_or_duplicate
from .state import read_state
from .textmodel import IntentModel, IntentReading, default_model
from ..money import Money
from ..reading.objects import plan_name
from ..reading.snapshot import CaseSnapshot

__all__ = ["Bucket", "Classification", "Decision", "IntentModel", "classify", "decide", "parse_bucket"]


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
    text_scores: dict[str, float] = field(default_factory=dict)  # what the complaint alone says, per intent


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


_PRODUCT, _SELF, _TEAM = "product_failure", "missing_self_serve", "team_seats"


def _portal_lacks(snapshot: CaseSnapshot, feature: str) -> str | None:
    cfg = snapshot.portal_configuration()
    if cfg is not None:
        if not ((cfg.get("features") or {}).get(feature) or {}).get("enabled"):
            return f"portal configuration {cfg.get('id')} has {feature} disabled"
    return None


def _top(reading: IntentReading, among: tuple[str, ...], floor: float = 1.2) -> str | None:
    """The strongest of ``among`` if it clears ``floor`` and beats the 'none of them' reading."""
    best = max(among, key=lambda i: (reading.scores.get(i, 0.0), -among.index(i)))
    score = reading.scores.get(best, 0.0)
    if score < floor or score <= reading.scores.get("unclear", 0.0):
        return None
    return best


def _denials(reading: IntentReading, bucket: Bucket) -> tuple[dict[str, list[str]], bool]:
    """The complaint's negated words and the model lines set aside for them, per intent, and
    whether the complaint negates ``bucket`` without also saying it.

    Why: "not charged twice, just the wrong amount" names the duplicate only to deny it; the
    words are evidence *against* the duplicate bucket (filed so when it is suggested) and a
    reason for any other bucket.
    """
    out: dict[str, list[str]] = {b.value: [] for b in Bucket}
    for intent in out:
        negated = reading.signals.words(intent, negated=True)
        if not negated:
            continue
        quoted = ", ".join(f"'{w}'" for w in negated[:3])
        if intent == bucket.value:
            said = bool(reading.signals.words(intent))
            out[intent].append(f"complaint negates {intent} words: {quoted}"
                               + ("" if said else " (the customer says it is not this)"))
        else:
            out[intent].append(f"complaint negates {intent} words, so not {intent}: {quoted}")
    for intent, line in reading.set_aside:
        out.setdefault(intent, []).append(line)
    own = bool(reading.signals.words(bucket.value, negated=True)) and not reading.signals.words(bucket.value)
    return out, own


def _seat_team(group: list[SubscriptionRow], products: dict[str, dict[str, Any]],
               sc: dict[str, float]) -> tuple[bool, list[str]]:
    """(do the seat facts outweigh the same-product match?, the extra facts that say so).

    Why: two per-seat subscriptions each bought in quantity are how a business buys seats for
    two departments; an accidental second purchase repeats the first one, seat count and all.
    So every subscription per seat with quantity > 1, plus either different seat counts or a
    complaint about seats / people (and not mainly about being charged twice), is a team.
    """
    seated = [s for s in group if s.quantity > 1 and _per_seat(s, products)]
    counts = [s.quantity for s in group]
    extra: list[str] = []
    if len(set(counts)) > 1:
        extra.append(f"different seat counts ({' and '.join(str(n) for n in counts)}): "
                     "an accidental second purchase repeats the first one's count")
    team_words = sc.get(_TEAM, 0.0)
    said_team = team_words >= 1.5 and team_words > sc.get("duplicate_subscription", 0.0)
    strong = len(seated) == len(group) and (said_team or len(set(counts)) > 1) \
        and not (sc.get("duplicate_subscription", 0.0) >= 1.5 and not said_team)
    if strong and said_team:
        extra.append("complaint asks about seats / people, not about being charged twice")
    return strong, extra


def classify(snapshot: CaseSnapshot, summary: IdentitySummary, complaint: str = "",
             model: IntentModel | None = None) -> Classification:
    """Suggest one bucket from the billing state and the complaint (read by ``model``)."""
    reading = (model or default_model()).read(complaint or "")
    sc, flags = reading.scores, reading.signals.flags
    state = read_state(snapshot, summary)
    kinds = set(summary.anomaly_kinds())
    products = {p["id"]: p for p in snapshot.of("products") if p.get("id")}
    live = [s for s in summary.subscriptions if s.status in LIVE]
    evidence: list[str] = []
    against: list[str] = []

    def facts(kind: str) -> list[str]:
        return [f"{a.kind}: {a.detail} [{', '.join(a.objects)}]" for a in summary.anomalies_of(kind)]

    paused = facts("collection_paused")  # no payment is attempted while it holds: weighs on every bucket

    held = [plan_name(snapshot, s.price, s.product) for s in summary.subscriptions]
    unheld = product_not_held(complaint, held) if "lookup_object" not in snapshot.extra else None

    def done(bucket: Bucket, confidence: float) -> Classification:
        if unheld:
            against.append(f'complaint names "{unheld}", which is not on the account (its plans: '
                           f'{", ".join(dict.fromkeys(held)) or "none"}): ask the customer which product they mean')
        if paused and sc.get("failed_payment", 0) >= 1.5 and bucket is not Bucket.FAILED_PAYMENT:
            against.append("complaint mentions a failed payment, but payment collection is paused: "
                           "no payment was attempted")
        denials, denied_own = _denials(reading, bucket)
        against.extend(denials[bucket.value])
        if denied_own:  # the billing state chose it, the customer says it is not it: less sure
            confidence -= 0.1
        text_lines = list(reading.evidence) + [line for i, lines in denials.items() if i != bucket.value
                                               for line in lines]
        lines = list(dict.fromkeys(evidence + paused + [e for e in state.lines() if e not in evidence]
                                   + text_lines))
        conf = round(max(0.3, min(confidence, 0.97)), 2)
        scores = {b.value: (conf if b is bucket else 0.0) for b in Bucket}
        text = {b.value: round(float(sc.get(b.value, 0.0)), 3) for b in Bucket}
        return Classification(bucket, conf, tuple(lines), tuple(dict.fromkeys(against)), scores, text)

    # 1. duplicates, told apart from deliberate multi-seat purchases
    for anomaly in summary.anomalies_of("duplicate_active_subscription"):
        group = [s for s in summary.subscriptions if s.id in anomaly.objects]
        deliberate, team, dup = _team_or_duplicate(snapshot, group, products, state)
        evidence.extend(facts("duplicate_active_subscription") + facts("duplicate_customer"))
        said_deliberate = "deliberate" in flags
        seated_team, more_team = _seat_team(group, products, sc)
        team.extend(more_team)
        if deliberate or said_deliberate or seated_team:
            evidence.extend(team)
            if said_deliberate:
                evidence.append("complaint says the second subscription is wanted: "
                                + ", ".join(f"'{h.words}'" for h in reading.signals.hits if h.concept == "deliberate"))
            against.extend(dup)
            return done(Bucket.TEAM_SEATS, 0.7 + 0.1 * (sc.get(_TEAM, 0) >= 1)
                        + 0.1 * ((deliberate or seated_team) and said_deliberate))
        switch, not_accident = _plan_switch(group)
        # an accidental second purchase repeats the first one, quantity and all: one of 1 and one of 3
        # is more often seats bought for more people than a double click
        quantities = [s.quantity for s in group]
        differ = len(set(quantities)) > 1
        said_dup = sc.get("duplicate_subscription", 0) >= 1.5
        said_people = sc.get(_TEAM, 0) >= 1.5 and sc.get(_TEAM, 0) >= sc.get("duplicate_subscription", 0) * 0.75
        if differ and not switch and said_people:
            evidence.extend(team + [f"different quantities ({' and '.join(map(str, quantities))}) and a complaint "
                                    "about seats / people: seats bought for more people, not a repeat purchase"])
            against.extend(dup)
            return done(Bucket.TEAM_SEATS, 0.65)
        evidence.extend(dup + switch)
        against.extend(not_accident + [t for t in team if not t.startswith("different seat counts")])
        if differ:
            against.append(f"different quantities ({' and '.join(map(str, quantities))}): an accidental second "
                           "purchase repeats the first one's quantity; these may be seats for more people (ask)")
        return done(Bucket.DUPLICATE_SUBSCRIPTION, 0.85 + 0.1 * said_dup - 0.1 * bool(team) - 0.3 * differ)

    # 2. failed payments
    failing = [k for k in ("failed_renewal", "past_due", "incomplete_checkout", "subscription_payment_method_stale") if k in kinds]
    if failing:
        for kind in failing:
            evidence.extend(facts(kind))
        if sc.get("failed_payment", 0) >= 1.5:
            evidence.append("complaint mentions a failed or declined payment")
        elif _top(reading, (_PRODUCT,)):
            against.append("complaint describes a product problem (a locked-out account after a failed payment reads so)")
        return done(Bucket.FAILED_PAYMENT, 0.85 + 0.05 * len(failing) + 0.05 * (sc.get("failed_payment", 0) >= 1.5))

    # 3. disputes the bank opened or decided for the customer: never a refund
    disputed = state.open_disputes + state.settled_against_us
    if disputed:
        evidence.extend(d.line() for d in disputed)
        against.append("a disputed charge is answered with evidence (or already returned by the bank); never refunded")
        if "fraud" not in flags and _top(reading, (_PRODUCT, _SELF, _TEAM, "duplicate_subscription",
                                                   "failed_payment")) == _PRODUCT:
            evidence.append("complaint says the product did not do what it should")
            return done(Bucket.PRODUCT_FAILURE, 0.7)
        if "fraud" in flags:
            against.append("complaint reports fraud: not a bucket of this playbook; hand to risk")
        against.append("the complaint gives no reason that supports a bucket")
        return done(Bucket.UNCLEAR, 0.5)

    # 4. renewed, then asked to cancel within days
    if "charged_after_cancel_request" in kinds:
        evidence.extend(facts("charged_after_cancel_request"))
        gap = _portal_lacks(snapshot, "subscription_cancel")
        if gap:
            evidence.append(gap)
        if sc.get(_SELF, 0) >= 1.5:
            evidence.append("complaint says they could not cancel themselves")
        if _top(reading, (_PRODUCT,)):
            against.append("complaint also describes a product problem")
        return done(Bucket.MISSING_SELF_SERVE, 0.75 + 0.1 * bool(gap) + 0.05 * (sc.get(_SELF, 0) >= 1.5))

    # 5a. a plan not sold per seat, bought in quantity, and a complaint about paying double: an accidental
    #     quantity is a duplicate inside one subscription
    extra_qty = [s for s in live if s.quantity > 1 and not _per_seat(s, products)]
    named = {s.id: plan_name(snapshot, s.price, s.product) for s in summary.subscriptions}  # the plan as people read it
    extra_lines = [f"{s.id}: quantity {s.quantity} on {named[s.id]}, which is not sold per seat: {s.price_text} "
                   f"per {s.interval}" + (f" ({s.recurring_total.format()} over all items)" if s.item_count > 1 else "")
                   + " (an accidental quantity looks like this)" for s in extra_qty]
    if extra_qty and sc.get("duplicate_subscription", 0) >= 1.5 and sc.get("duplicate_subscription", 0) >= sc.get(_TEAM, 0):
        evidence.extend(extra_lines)
        evidence.append("complaint says they pay double")
        return done(Bucket.DUPLICATE_SUBSCRIPTION, 0.75)

    # 5. seats the customer asks about (or an outage that hits their users)
    seated = [s for s in live if s.quantity > 1]
    if seated and _top(reading, (_TEAM, _PRODUCT), floor=0.8) == _TEAM:
        for s in seated:
            evidence.append(f"{s.id}: {s.price_text} per {s.interval} on {named[s.id]}"
                            + (f" ({s.recurring_total.format()} over all items)" if s.item_count > 1 else "")
                            + (" (per-seat price)" if _per_seat(s, products) else ""))
        business = _business(snapshot, seated[0].customer)
        if business:
            evidence.append(business)
        evidence.append("complaint asks about seats / users")
        if _top(reading, (_PRODUCT,), floor=1.5):
            against.append("complaint also describes the product failing")
        return done(Bucket.TEAM_SEATS, 0.8 + 0.1 * _per_seat(seated[0], products))

    healthy = state.health(len(live))
    intent = _top(reading, (_PRODUCT, _SELF, _TEAM, "duplicate_subscription", "failed_payment"))
    if intent == "failed_payment" and not paused and sc.get(_SELF, 0) >= 1.5:
        # no payment failed: "change my card, there is no option" names the card to say what they cannot change
        intent = _SELF
        evidence.append("complaint names a card or payment method, but no payment failed: what it says it cannot "
                        "change itself is a self-serve control")
    # 6. the product failed them
    if intent == _PRODUCT:
        evidence.append("complaint describes the product not working")
        if "trust_break" in flags:
            evidence.append("complaint describes a trust break: a promise, an advertised term, a price or fee it was not "
                            "told of, or support that did not answer")
        evidence.append(healthy)
        if seated:
            against.append(f"{len(seated)} multi-seat subscription(s), but the complaint is about an outage, not seats")
        if "refund" in flags:
            evidence.append("complaint asks for a refund")
        if "proration_invoice" in kinds:
            against.extend(facts("proration_invoice"))
        return done(Bucket.PRODUCT_FAILURE, 0.7 + 0.05 * ("refund" in flags) + 0.05 * (sc.get(_PRODUCT, 0) > 3))

    # 7. they could not see, stop or change it themselves
    if "proration_invoice" in kinds or intent == _SELF:
        evidence.extend(facts("proration_invoice"))
        if intent == _SELF:
            evidence.append("complaint says they could not find, see, stop or expect it themselves")
        features = (["subscription_update"] if "proration_invoice" in kinds else []) + (
            ["subscription_cancel"] if reading.signals.words(_SELF) and "cancel" in normalise(complaint) else [])
        for feature in features or ["subscription_cancel", "subscription_update"]:
            gap = _portal_lacks(snapshot, feature)
            if gap:
                evidence.append(gap)
        evidence.append(healthy)
        if sc.get("duplicate_subscription", 0) >= 1.5:
            against.append("complaint says charged twice, but no duplicate subscription exists")
        return done(Bucket.MISSING_SELF_SERVE, 0.65 + 0.1 * (intent == _SELF) + 0.1 * ("proration_invoice" in kinds))

    # 8. nothing supports a bucket
    evidence.append(healthy)
    if intent == "duplicate_subscription" or sc.get("duplicate_subscription", 0) >= 1.5:
        against.append("complaint says charged twice, but there is one live subscription per product"
                       + (" (though one is bought in quantity: see the evidence)" if extra_lines else ""))
    evidence.extend(extra_lines)
    if "refund" in flags:
        against.append("a refund is asked without a reason the billing state supports")
    if intent == _TEAM and not seated:
        against.append("complaint mentions seats, but no subscription has more than one")
    if intent == "failed_payment" and not paused:
        against.append("complaint mentions a payment problem, but no payment failed")
    if "not_broken" in flags:
        against.append("complaint says nothing is broken")
    return done(Bucket.UNCLEAR, 0.6 if intent is None else 0.45)


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
