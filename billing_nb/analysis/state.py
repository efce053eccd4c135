"""Billing facts the classifier and the follow-up weigh beyond the anomalies.

Why: the anomaly list says what looks *wrong*; a decision also needs what is simply
*there*. A lost dispute means the bank already returned the money (never "no disputed
payments"); a person named in each subscription's metadata, under whatever key a team
uses (``assigned_to``, ``seat_holder_email``, ``member``...), or a quantity raised on
purpose shows seats bought deliberately; a credit balance, earlier refunds and credit
notes change what is still owed. Pure: reads a snapshot and its summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .identify import IdentitySummary, SubscriptionRow
from .refunds import refund_fact
from ..money import Money
from ..reading.objects import obj_id
from ..reading.snapshot import CaseSnapshot, from_ts

__all__ = ["DisputeFact", "QuantityChange", "StateEvidence", "read_state", "seat_holders", "OPEN_STATUSES"]

#: Dispute statuses that still need an answer (Stripe: Dispute.status).
OPEN_STATUSES = ("warning_needs_response", "warning_under_review", "needs_response", "under_review")
_PERSON_KEY = re.compile(r"(user|e-?mail|mail|seat|member|assign|owner|holder|employee|person|people|login|colleague|"
                         r"staff|name|designer|licen[cs]ee|for_whom|recipient|who)", re.I)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.I)


def _day(ts: Any) -> str:
    dt = from_ts(int(ts)) if ts else None
    return dt.strftime("%Y-%m-%d") if dt else "?"


@dataclass(frozen=True)
class DisputeFact:
    id: str
    charge: str | None
    status: str
    reason: str
    amount: Money

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def lost(self) -> bool:
        return self.status == "lost"

    def line(self) -> str:
        what = {"lost": "lost: the bank returned the money to the customer; nothing is left to refund",
                "won": "won: the money stayed with us", "warning_closed": "inquiry closed without a dispute"}
        tail = what.get(self.status, "open: answer it with evidence; a disputed charge is never refunded")
        return f"dispute {self.id} on {self.charge} ({self.amount}, reason {self.reason}) is {self.status} — {tail}"


@dataclass(frozen=True)
class QuantityChange:
    subscription: str
    old: int
    new: int
    when: int
    source: str  # the object that shows it

    def line(self) -> str:
        verb = "raised" if self.new > self.old else "lowered"
        return f"{self.subscription}: seats {verb} from {self.old} to {self.new} on {_day(self.when)} ({self.source})"


@dataclass(frozen=True)
class StateEvidence:
    disputes: tuple[DisputeFact, ...] = ()
    balance: Money | None = None  # Stripe's customer.balance: negative is a credit the customer holds
    refunds: tuple[str, ...] = ()
    credit_notes: tuple[str, ...] = ()
    holders: dict[str, str] = field(default_factory=dict)  # subscription -> the person its metadata names
    quantity_changes: tuple[QuantityChange, ...] = ()
    balance_paid: tuple[str, ...] = ()  # invoices the credit balance paid (part of): "charged" is not the card

    @property
    def open_disputes(self) -> list[DisputeFact]:
        return [d for d in self.disputes if d.open]

    @property
    def settled_against_us(self) -> list[DisputeFact]:
        return [d for d in self.disputes if d.lost]

    @property
    def seats_raised(self) -> list[QuantityChange]:
        return [q for q in self.quantity_changes if q.new > q.old]

    def balance_line(self) -> str | None:
        if self.balance is None or self.balance.amount == 0:
            return None
        if self.balance.amount < 0:
            return f"customer holds a credit balance of {Money(-self.balance.amount, self.balance.currency)} " \
                   "(applied to their next invoices)"
        return f"customer owes a balance of {self.balance} (added to their next invoice)"

    def lines(self) -> list[str]:
        out = [d.line() for d in self.disputes]
        out += [q.line() for q in self.quantity_changes]
        if (b := self.balance_line()) is not None:
            out.append(b)
        return out + list(self.balance_paid) + list(self.refunds) + list(self.credit_notes)

    def health(self, live: int) -> str:
        """The one-line summary of a state with no anomaly, true to its disputes and refunds."""
        parts = [f"{live} live subscription(s), no failed or duplicate payments"]
        if not self.disputes:
            parts[0] += " and no disputes"
        for d in self.disputes:
            parts.append(f"dispute {d.id} {d.status} ({d.reason})")
        if self.refunds:
            parts.append(f"{len(self.refunds)} earlier refund(s)")
        if self.credit_notes:
            parts.append(f"{len(self.credit_notes)} credit note(s)")
        if (b := self.balance_line()) is not None:
            parts.append(b)
        return "billing: " + "; ".join(parts)


def seat_holders(subs: list[SubscriptionRow]) -> dict[str, str]:
    """Subscription -> the person or seat its metadata names, under any key that names one."""
    out: dict[str, str] = {}
    for s in subs:
        for key, value in sorted((s.metadata or {}).items()):
            text = str(value or "").strip()
            if text and (_PERSON_KEY.search(key) or _EMAIL.fullmatch(text)):
                out[s.id] = f"{key}={text.lower()}"
                break
    return out


def _quantity_changes(snapshot: CaseSnapshot) -> list[QuantityChange]:
    found: dict[tuple[str, int], QuantityChange] = {}
    for ev in snapshot.of("events"):
        if ev.get("type") != "customer.subscription.updated":
            continue
        obj = (ev.get("data") or {}).get("object") or {}
        prev = (ev.get("data") or {}).get("previous_attributes") or {}
        old_items = {i.get("id"): i.get("quantity") for i in ((prev.get("items") or {}).get("data") or [])}
        for item in ((obj.get("items") or {}).get("data") or []):
            old = old_items.get(item.get("id"), prev.get("quantity"))
            if old is not None and int(old) != int(item.get("quantity") or 0):
                q = QuantityChange(str(obj.get("id")), int(old), int(item.get("quantity") or 0),
                                   int(ev.get("created") or 0), f"event {ev.get('id')}")
                found[(q.subscription, q.when)] = q
    for inv in snapshot.of("invoices"):
        lines = (inv.get("lines") or {}).get("data") or []
        credits = [ln for ln in lines if int(ln.get("amount") or 0) < 0]
        charges = [ln for ln in lines if int(ln.get("amount") or 0) > 0]
        for cr in credits:
            details = ((cr.get("parent") or {}).get("subscription_item_details") or {})
            if not details.get("proration"):
                continue
            item, sub = details.get("subscription_item"), details.get("subscription")
            for ch in charges:
                cd = ((ch.get("parent") or {}).get("subscription_item_details") or {})
                if cd.get("subscription_item") == item and int(ch.get("quantity") or 0) != int(cr.get("quantity") or 0):
                    sub = sub or ((inv.get("parent") or {}).get("subscription_details") or {}).get("subscription") \
                        or obj_id(inv.get("subscription"))
                    q = QuantityChange(str(sub), int(cr.get("quantity") or 0),
                                       int(ch.get("quantity") or 0), int(inv.get("created") or 0),
                                       f"proration lines on {inv.get('id')}")
                    if not any(k[0] == q.subscription and abs(k[1] - q.when) < 3600 for k in found):
                        found[(q.subscription, q.when)] = q
    return sorted(found.values(), key=lambda q: q.when)


def read_state(snapshot: CaseSnapshot, summary: IdentitySummary) -> StateEvidence:
    """Disputes by status, the balance, earlier refunds and credit notes, seat holders, seat changes."""
    disputes = tuple(DisputeFact(str(d.get("id")), obj_id(d.get("charge")), str(d.get("status")),
                                 str(d.get("reason") or "general"),
                                 Money(int(d.get("amount") or 0), str(d.get("currency") or "usd")))
                     for d in summary.disputes)
    primary = next((c for c in snapshot.of("customers") if c.get("id") == summary.customer_id), {})
    balance = Money(int(primary.get("balance") or 0), str(primary.get("currency") or "usd")) \
        if primary.get("balance") else None
    # each refund by its status: pending, sent (and when it shows), or failed and not returned (.refunds)
    refunds = tuple(refund_fact(r).line(snapshot.now_ts) for r in summary.refunds)
    notes = tuple(f"credit note {n.get('id')} of {Money(int(n.get('total') or n.get('amount') or 0), str(n.get('currency') or 'usd'))}"
                  f" on {obj_id(n.get('invoice'))} ({_day(n.get('created'))}, {n.get('reason') or 'no reason'}, "
                  f"{n.get('status')})" for n in snapshot.of("credit_notes"))
    return StateEvidence(disputes, balance, refunds, notes, seat_holders(summary.subscriptions),
                         tuple(_quantity_changes(snapshot)), tuple(_balance_paid(snapshot)))


def _balance_paid(snapshot: CaseSnapshot) -> list[str]:
    """Each paid invoice the customer's credit balance paid in whole or part (Stripe applies the balance
    before it charges: ``starting_balance`` to ``ending_balance``), newest first.

    Why: a complaint that says "I was charged $120" may be about an invoice the card paid only part
    of, or none; the evidence says what the card was charged and what the balance covered.
    """
    out: list[str] = []
    for inv in sorted(snapshot.of("invoices"), key=lambda i: -int(i.get("created") or 0)):
        if inv.get("status") != "paid":
            continue
        part = max(0, int(inv.get("ending_balance") or 0) - int(inv.get("starting_balance") or 0))
        if part <= 0:
            continue
        cur = str(inv.get("currency") or "usd")
        card = int(inv.get("amount_paid") or 0)
        total = Money(part + card, cur)
        how = "nothing was charged to the card" if card == 0 else f"{Money(card, cur)} was charged to the card"
        out.append(f"{inv.get('id')}: {Money(part, cur)} of {total} paid from the customer's credit balance, "
                   f"{how}")
    return out
