"""One-off charges: payments that paid no invoice (pure).

A setup fee or a manual charge is taken with a PaymentIntent (or a Charge) created directly,
not through an invoice: ``PaymentIntent.create(customer=, amount=, currency=, confirm=True,
payment_method=)``. Nothing about a subscription explains it, so the case lists it on its own,
and a refund of it is a refund of that charge (https://docs.stripe.com/refunds: a charge
refunds up to what was captured, less what was already refunded: ``amount_captured -
amount_refunded``).

A charge paid an invoice when an invoice payment names its payment intent
(``invoice.payments.data[].payment.payment_intent``), or, in older API versions, when the
charge or its payment intent names the invoice (``charge.invoice``, ``invoice.charge``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..money import Money, exponent
from ..reading.objects import invoice_payment_intents, obj_id, refundable
from ..reading.snapshot import CaseSnapshot, from_ts
from .lexicon import normalise
from .terms import RefundOption

__all__ = ["OneOffCharge", "one_off_charges", "one_off_options", "named_charges", "ONE_OFF_KIND"]

#: The refund option kind of a one-off charge (``RefundOption.charge`` names it; no subscription).
ONE_OFF_KIND = "refund_one_off_charge"

#: An amount as a complaint writes it: "$49", "49.00", "1,250.50 EUR", "49€".
_AMOUNT = re.compile(r"(?<![\w.,])(\d{1,3}(?:[ ,.']\d{3})+|\d+)(?:[.,](\d{1,3}))?(?![\d])")
#: Words too common to say which charge a complaint means.
_COMMON = frozenset("the and for from with your this that charge charged payment paid fee fees one off oneoff "
                    "manual card invoice order".split())


@dataclass(frozen=True)
class OneOffCharge:
    """A charge that paid no invoice, with what it took and what is left to give back."""

    id: str
    customer: str | None
    payment_intent: str | None
    status: str
    amount: Money  # what was asked (``amount``)
    captured: int  # ``amount_captured``: what was really taken
    refunded: int  # ``amount_refunded``
    description: str | None
    created: int
    disputed: bool

    @property
    def refundable(self) -> int:
        """What can still go back: captured less refunded (0 while disputed or not succeeded)."""
        if self.disputed or self.status != "succeeded":
            return 0
        return max(0, self.captured - self.refunded)

    def as_case_json(self) -> dict[str, Any]:
        cur = self.amount.currency
        return {
            "id": self.id, "payment_intent": self.payment_intent, "status": self.status,
            "amount": self.amount.as_dict(), "captured": Money(self.captured, cur).as_dict(),
            "refunded": Money(self.refunded, cur).as_dict(), "refundable": Money(self.refundable, cur).as_dict(),
            "description": self.description, "created": self.created, "disputed": self.disputed,
        }


def _invoice_payments(snapshot: CaseSnapshot) -> tuple[set[str], set[str]]:
    """The payment intents and charges that paid (or tried to pay) the snapshot's invoices."""
    pis: set[str] = set()
    charges: set[str] = set()
    for inv in snapshot.of("invoices"):
        pis.update(invoice_payment_intents(inv))
        if obj_id(inv.get("charge")):
            charges.add(str(obj_id(inv.get("charge"))))
    return pis, charges


def _description(snapshot: CaseSnapshot, charge: dict[str, Any]) -> str | None:
    pi = snapshot.by_id(str(obj_id(charge.get("payment_intent")))) if obj_id(charge.get("payment_intent")) else None
    for value in (charge.get("description"), (pi or {}).get("description"), charge.get("statement_descriptor"),
                  charge.get("statement_descriptor_suffix")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def one_off_charges(snapshot: CaseSnapshot, *, succeeded_only: bool = False) -> list[OneOffCharge]:
    """The case's charges that paid no invoice, newest first (``succeeded_only``: those that took money)."""
    pis, invoiced = _invoice_payments(snapshot)
    out: list[OneOffCharge] = []
    for ch in snapshot.of("charges"):
        pi = obj_id(ch.get("payment_intent"))
        pi_obj = snapshot.by_id(pi) if pi else None
        if (pi and pi in pis) or ch.get("id") in invoiced or obj_id(ch.get("invoice")) \
                or obj_id((pi_obj or {}).get("invoice")):
            continue
        status = str(ch.get("status") or "")
        if succeeded_only and status != "succeeded":
            continue
        captured = ch.get("amount_captured")
        taken = int(captured) if captured is not None else (int(ch.get("amount") or 0) if ch.get("captured", True) else 0)
        out.append(OneOffCharge(
            id=str(ch.get("id")), customer=obj_id(ch.get("customer")), payment_intent=pi, status=status,
            amount=Money(int(ch.get("amount") or 0), str(ch.get("currency") or "usd")),
            captured=taken if status == "succeeded" else 0, refunded=int(ch.get("amount_refunded") or 0),
            description=_description(snapshot, ch), created=int(ch.get("created") or 0),
            disputed=bool(ch.get("disputed")) or any(obj_id(d.get("charge")) == ch.get("id")
                                                     and d.get("status") != "won" for d in snapshot.of("disputes")),
        ))
    out.sort(key=lambda c: (-c.created, c.id))
    return out


def one_off_options(snapshot: CaseSnapshot) -> list[RefundOption]:
    """A refund option per one-off charge with something left to give back: the whole of what
    remains (captured less refunded); a smaller amount is approved as ``refund:ch_X:AMOUNT``."""
    out: list[RefundOption] = []
    for ch in one_off_charges(snapshot, succeeded_only=True):
        left = ch.refundable
        if left <= 0:
            continue
        cur = ch.amount.currency
        what = f" ({ch.description!r})" if ch.description else ""
        when = from_ts(ch.created)
        earlier = f", less {Money(ch.refunded, cur)} already refunded" if ch.refunded else ""
        partial = f" ({Money(ch.captured, cur)} of {ch.amount} captured)" if ch.captured < ch.amount.amount else ""
        out.append(RefundOption(
            ONE_OFF_KIND, "", Money(left, cur), None, ch.id,
            f"Refund one-off charge {ch.id}{what} of {when:%Y-%m-%d} (it paid no invoice): "
            f"{Money(ch.captured, cur)} paid{partial}{earlier}; at most {Money(left, cur)} can go back to the "
            "card, a part of it by approving refund:" + ch.id + ":AMOUNT.",
            details={"charge": ch.id, "payment_intent": ch.payment_intent, "captured": ch.captured,
                     "refunded": ch.refunded, "description": ch.description}))
    return out


def _amounts(text: str) -> set[tuple[int, str | None]]:
    """(whole units, fraction digits as written or None) of each number a complaint writes;
    "1,250" is read both as 1250 and as 1 with a fraction (a comma is a decimal mark in much of Europe)."""
    found: set[tuple[int, str | None]] = set()
    for m in _AMOUNT.finditer(text):
        whole = int(re.sub(r"\D", "", m.group(1)))
        found.add((whole, m.group(2)))
        if m.group(2) and len(m.group(2)) == 3 and re.fullmatch(r"\d{1,3}", m.group(1)):
            found.add((whole * 1000 + int(m.group(2)), None))
    return found


def _names_amount(text: str, money: Money) -> bool:
    """Whether the complaint writes this amount: "$49" or "49.00" for 49.00, "49.5" for 49.50."""
    digits = exponent(money.currency)
    whole, frac = divmod(money.amount, 10 ** digits) if digits else (money.amount, 0)
    for w, f in _amounts(text):
        if w != whole:
            continue
        if f is None and frac == 0:
            return True
        if f is not None and digits and len(f) <= digits and int(f.ljust(digits, "0")) == frac:
            return True
    return False


def _names_description(words: str, description: str | None) -> bool:
    """Whether the complaint uses the charge's description ("setup fee", "onboarding")."""
    if not description:
        return False
    desc = normalise(description)
    if len(desc) > 3 and re.search(rf"\b{re.escape(desc)}\b", words):
        return True
    tokens = [t for t in re.findall(r"[^\W\d_]{4,}", desc) if t not in _COMMON]
    return bool(tokens) and all(re.search(rf"\b{re.escape(t)}", words) for t in tokens)


def named_charges(snapshot: CaseSnapshot, complaint: str) -> tuple[list[OneOffCharge], str]:
    """The one-off charges a case is about, and how they were chosen: the one the case looked
    up (its ``ch_`` or ``pi_`` id), else those whose amount (what was paid or what is left) or
    description the complaint names; empty when nothing points at one."""
    charges = one_off_charges(snapshot, succeeded_only=True)
    looked = str(snapshot.extra.get("lookup_object") or "")
    if looked:
        hit = [c for c in charges if looked in (c.id, c.payment_intent)]
        if hit:
            return hit, f"the case looked up {looked}"
    words = normalise(complaint or "")
    by_amount = [c for c in charges if _names_amount(words, Money(c.captured, c.amount.currency))
                 or _names_amount(words, c.amount) or (c.refunded and _names_amount(words, Money(c.refundable, c.amount.currency)))]
    by_words = [c for c in charges if _names_description(words, c.description)]
    both = [c for c in by_amount if c in by_words]
    if both:
        return both, "the complaint names its amount and what it was for"
    if by_words:
        return by_words, "the complaint names what it was for"
    if by_amount:
        return by_amount, "the complaint names its amount"
    return [], ""
