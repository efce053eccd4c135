"""Where each refund stands: pending, on its way, arrived, or failed (pure).

A Stripe refund is not money returned until its ``status`` says so: ``pending`` and
``requires_action`` are on their way, ``succeeded`` was sent to the card, ``failed`` and
``canceled`` never reached the customer (docs.stripe.com/api/refunds/object). A card refund can
fail days after it was made (``failure_reason`` expired_or_canceled_card, lost_or_stolen_card,
unknown); its amount then goes back to the account's balance and the charge's
``amount_refunded`` drops (docs.stripe.com/refunds). A succeeded card refund shows on the
customer's statement 5-10 business days later (support.stripe.com, "Customer refund processing
time"); past ten, the refund's acquirer reference number (``destination_details.card.reference``)
lets the customer's bank trace it.

So the billing state tells each refund's status, a failed refund is an anomaly whose follow-up
gives the customer the money another way (the reversible remedy first), and a "where is my
refund" complaint is answered from the refund's status and the arrival window, never with a
second refund.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..money import Money
from ..reading.objects import obj_id
from ..reading.rows import Anomaly
from ..reading.snapshot import CaseSnapshot, from_ts
from .lexicon import normalise

__all__ = ["RefundFact", "refund_facts", "refund_fact", "unresolved_failures", "failed_refund_anomalies", "refund_notes",
           "asks_where_refund", "FAILED_REFUND", "ARRIVAL_BUSINESS_DAYS"]

#: The anomaly kind of a refund Stripe failed or canceled.
FAILED_REFUND = "failed_refund"
#: Business days a succeeded card refund takes to show on the customer's statement.
ARRIVAL_BUSINESS_DAYS = (5, 10)
_PENDING = ("pending", "requires_action")
_FAILED = ("failed", "canceled")

#: "where is my refund", "I never got my refund", "the refund hasn't arrived", "still waiting
#: for the refund": the customer asks where a refund is, not for one.
_WHERE = re.compile(
    r"\bwhere(?:'s| is| are)?\s+(?:my|the|our)\s+(?:refund|money)"
    r"|\b(?:never|not yet|(?:have|has|did|do)(?: not|n't))\s+(?:got(?:ten)?|get|received?|seen|see)\b[^.?!]{0,20}\b(?:refund|money back)"
    r"|\brefund\w*\b[^.?!]{0,40}\b(?:never|not yet|(?:has|have|did|does)(?: not|n't)|yet to)\s+(?:\w+\s+)?"
    r"(?:arriv\w*|come|came|show\w*|appear\w*|receiv\w*|reach\w*|land\w*|hit|go(?:ne)? through|been)"
    r"|\b(?:still|been)\s+waiting\s+(?:for|on)\s+(?:my|the|a|our)?\s*refund"
    r"|\brefund\w*\b[^.?!]{0,30}\b(?:missing|not (?:on|in) my (?:statement|account|card))")


def asks_where_refund(complaint: str) -> bool:
    """The complaint asks where a refund is (it was promised or made), not for a new one."""
    return bool(_WHERE.search(normalise(complaint or "")))


def _day(ts: int) -> date | None:
    dt = from_ts(ts) if ts else None
    return dt.date() if dt else None


def _business_days(start: date, n: int) -> date:
    day = start
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


@dataclass(frozen=True)
class RefundFact:
    """One refund as Stripe shows it, with what it means for the customer's money."""

    id: str
    charge: str | None
    amount: Money
    status: str
    created: int
    reason: str | None = None
    failure_reason: str | None = None
    method: str = "card"  # destination_details.type
    reference: str | None = None  # the card refund's acquirer reference number, when Stripe has it

    @property
    def failed(self) -> bool:
        return self.status in _FAILED

    @property
    def pending(self) -> bool:
        return self.status in _PENDING

    def window(self) -> tuple[date, date] | None:
        """The days a succeeded card refund shows on the statement (5-10 business days after)."""
        start = _day(self.created)
        if start is None or self.status != "succeeded" or self.method != "card":
            return None
        return _business_days(start, ARRIVAL_BUSINESS_DAYS[0]), _business_days(start, ARRIVAL_BUSINESS_DAYS[1])

    def where(self, now: int | None = None) -> str:
        """Where the money is, in words (the status first)."""
        day = _day(self.created)
        when = day.isoformat() if day else "?"
        if self.failed:
            why = f": {self.failure_reason}" if self.failure_reason else ""
            return (f"{self.status.upper()}{why} -- money not returned (the amount went back to our Stripe balance; "
                    "the customer still needs it)")
        if self.status == "requires_action":
            return f"requires action since {when}: the customer must give refund details before it is sent -- not returned yet"
        if self.pending:
            return (f"pending since {when}: not sent yet; once it succeeds, "
                    f"{'a card shows it' if self.method == 'card' else 'it arrives'} "
                    f"{ARRIVAL_BUSINESS_DAYS[0]}-{ARRIVAL_BUSINESS_DAYS[1]} business days later")
        window = self.window()
        if self.status == "succeeded" and window is not None:
            first, last = window
            text = (f"succeeded on {when}: sent to the card; it shows on the statement "
                    f"{ARRIVAL_BUSINESS_DAYS[0]}-{ARRIVAL_BUSINESS_DAYS[1]} business days later "
                    f"({first.isoformat()} to {last.isoformat()})")
            today = _day(now) if now else None
            if today is not None and today > last:
                trace = f" (reference {self.reference})" if self.reference else ""
                text += f"; that window has passed: the customer's bank can trace it with its reference number{trace}"
            return text
        if self.status == "succeeded":
            return f"succeeded on {when}: sent to the {self.method.replace('_', ' ')}"
        return f"{self.status} since {when}"

    def line(self, now: int | None = None) -> str:
        """The billing state's line (the ``earlier refund <id> of <amount>`` of the record, then its status)."""
        return (f"earlier refund {self.id} of {self.amount} on {self.charge} ({self.reason or 'no reason'}) "
                f"{self.where(now)}")


def refund_fact(refund: dict[str, Any]) -> RefundFact:
    """A refund object (as the snapshot holds it) read as a :class:`RefundFact`."""
    dest = refund.get("destination_details") or {}
    method = str(dest.get("type") or "card")
    reference = (dest.get(method) or {}).get("reference") if isinstance(dest.get(method), dict) else None
    return RefundFact(str(refund.get("id")), obj_id(refund.get("charge")),
                      Money(int(refund.get("amount") or 0), str(refund.get("currency") or "usd")),
                      str(refund.get("status") or "succeeded"), int(refund.get("created") or 0),
                      refund.get("reason"), refund.get("failure_reason"), method,
                      str(reference) if reference else None)


def refund_facts(snapshot: CaseSnapshot) -> list[RefundFact]:
    """Every refund of the snapshot, newest first."""
    return [refund_fact(r) for r in sorted(snapshot.of("refunds"), key=lambda r: -int(r.get("created") or 0))]


def _remedies(fact: RefundFact) -> str:
    return (f"give the customer {fact.amount} another way, the reversible remedy first: credit it to their "
            "customer balance (a credit note's credit_amount, or a customer balance transaction: it can be "
            "reversed, and pays their next invoices), or refund it out of band (a bank transfer, booked as a "
            "credit note's out_of_band_amount); a second card refund goes to the same card and may fail again")


def unresolved_failures(snapshot: CaseSnapshot) -> list[RefundFact]:
    """Refunds Stripe failed or canceled that no later refund of the same charge made good."""
    facts = refund_facts(snapshot)
    out: list[RefundFact] = []
    for fact in facts:
        if not fact.failed:
            continue
        made_good = sum(f.amount.amount for f in facts if f.charge == fact.charge and not f.failed
                        and f.created >= fact.created and f.id != fact.id)
        if made_good < fact.amount.amount:
            out.append(fact)
    return out


def failed_refund_anomalies(snapshot: CaseSnapshot) -> list[Anomaly]:
    """A refund that never reached the customer is an anomaly: they still need the money."""
    return [Anomaly(FAILED_REFUND, tuple(x for x in (f.id, f.charge) if x),
                    f"refund of {f.amount} {f.where()}; {_remedies(f)}") for f in unresolved_failures(snapshot)]


def refund_notes(snapshot: CaseSnapshot, complaint: str = "") -> list[str]:
    """The plan's notes on earlier refunds: each failed one's remedy, and, when the complaint asks
    where a refund is, each refund's status and arrival window (a second refund is not the answer)."""
    failed = unresolved_failures(snapshot)
    notes = [f"Refund {f.id} of {f.amount} on {f.charge} {f.where()}: {_remedies(f)}." for f in failed]
    if asks_where_refund(complaint):
        facts = [f for f in refund_facts(snapshot) if not f.failed]
        if facts:
            notes.append("The customer asks where their refund is: tell them its status; do not refund again: "
                         + "; ".join(f"{f.id} of {f.amount} {f.where(snapshot.now_ts)}" for f in facts) + ".")
        elif not failed:
            notes.append("The customer asks where their refund is, but Stripe shows no refund of theirs: check "
                         "what was promised (and to which customer) before refunding.")
    return notes
