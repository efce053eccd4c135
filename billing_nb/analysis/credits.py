"""What the customer already got back: balance credit, credit notes and refunds (pure).

Stripe keeps a customer's credit on ``customer.balance`` (negative: credit the customer holds,
applied to the next invoices; https://docs.stripe.com/billing/customer/balance), issues credit
notes against invoices (refunded, credited to that balance, or out of band;
https://docs.stripe.com/invoicing/dashboard/credit-notes) and refunds against charges. The
record shows all three, and refund options subtract what the customer already holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..money import Money
from ..reading.objects import money_currency
from ..reading.rows import obj_id
from ..reading.snapshot import CaseSnapshot

__all__ = ["Credits", "credits_of", "Returned", "returned_on"]

_LIVE_REFUNDS = ("succeeded", "pending", "requires_action")


def _totals(amounts: list[Money]) -> list[dict[str, Any]]:
    by: dict[str, int] = {}
    for m in amounts:
        by[m.currency] = by.get(m.currency, 0) + m.amount
    return [Money(v, c).as_dict() for c, v in sorted(by.items()) if v]


@dataclass(frozen=True)
class Credits:
    """The primary customer's balance, and the refunds and credit notes of the case's customers."""

    balance: Money | None  # customer.balance; negative is a credit the customer holds
    refunds: list[dict[str, Any]] = field(default_factory=list)
    credit_notes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def credit_held(self) -> Money | None:
        """The credit on the balance (a positive amount), or None when the customer holds none."""
        if self.balance is None or self.balance.amount >= 0:
            return None
        return Money(-self.balance.amount, self.balance.currency)

    def refunded(self) -> list[dict[str, Any]]:
        """Refunds that went (or are going) back to the customer, per currency."""
        return _totals([Money(int(r["amount"]["value"]), r["amount"]["currency"]) for r in self.refunds
                        if r["status"] in _LIVE_REFUNDS])

    def credited(self) -> list[dict[str, Any]]:
        """Credit notes issued (not voided), per currency (their refunded part is in :meth:`refunded` too)."""
        return _totals([Money(int(c["amount"]["value"]), c["amount"]["currency"]) for c in self.credit_notes
                        if c["status"] != "void"])

    def as_case_json(self) -> dict[str, Any]:
        return {
            "balance": self.balance.as_dict() if self.balance is not None else None,
            "credit_held": self.credit_held.as_dict() if self.credit_held else None,
            "refunded": self.refunded(), "credited": self.credited(),
            "refunds": self.refunds, "credit_notes": self.credit_notes,
        }


def credits_of(snapshot: CaseSnapshot) -> Credits:
    """The customer's credits as the snapshot shows them, newest first."""
    primary = next((c for c in snapshot.of("customers") if c.get("id") == snapshot.primary_customer_id), {})
    balance = None
    if primary.get("balance") is not None:
        balance = Money(int(primary.get("balance") or 0), money_currency(snapshot) or "usd")
    refunds = [{
        "id": r.get("id"), "charge": obj_id(r.get("charge")),
        "amount": Money(int(r.get("amount") or 0), str(r.get("currency") or "usd")).as_dict(),
        "status": str(r.get("status") or "succeeded"), "reason": r.get("reason"), "created": r.get("created"),
        "failure_reason": r.get("failure_reason"),
    } for r in sorted(snapshot.of("refunds"), key=lambda r: -int(r.get("created") or 0))]
    notes = [{
        "id": c.get("id"), "invoice": obj_id(c.get("invoice")),
        "amount": Money(int(c.get("amount") or 0), str(c.get("currency") or "usd")).as_dict(),
        "refunded": sum(int(r.get("amount_refunded") or 0) for r in (c.get("refunds") or []) if isinstance(r, dict)),
        "out_of_band": int(c.get("out_of_band_amount") or 0),
        "to_balance": obj_id(c.get("customer_balance_transaction")) is not None,
        "status": str(c.get("status") or "issued"), "reason": c.get("reason"), "created": c.get("created"),
    } for c in sorted(snapshot.of("credit_notes"), key=lambda c: -int(c.get("created") or 0))]
    return Credits(balance, refunds, notes)


@dataclass(frozen=True)
class Returned:
    """What already went back against one paid invoice, each amount counted once.

    A post-payment credit note's total is split between a refund on the invoice's charge,
    credit to the customer's balance and an out-of-band part ("the sum of refunds, customer
    balance credits, and outside of Stripe credits must equal the post_payment_amount",
    docs.stripe.com/api/credit_notes/create). Its refund also shows on the charge's
    ``amount_refunded``, so only the charge's refunds *not* made by a credit note count beside
    the credit notes. ``to_balance``: the credit notes' balance part (it may still sit on the
    customer's balance, where it must not be netted a second time).
    """

    invoice: str
    credit_noted: int = 0  # post-payment credit notes on the invoice (all their parts)
    refunded: int = 0  # refunds of the invoice's charge not made by one of those credit notes
    to_balance: int = 0
    notes: tuple[str, ...] = ()
    refunds: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return self.credit_noted + self.refunded


def _note_refunded(note: dict[str, Any]) -> tuple[int, list[str]]:
    """A credit note's refund part and the refunds it made or linked (``refunds[]``; an older
    API version names one ``refund``)."""
    total, ids = 0, []
    for ref in note.get("refunds") or []:
        if isinstance(ref, dict):
            total += int(ref.get("amount_refunded") or 0)
            if obj_id(ref.get("refund")):
                ids.append(str(obj_id(ref.get("refund"))))
    legacy = note.get("refund")
    if not ids and legacy:
        ids.append(str(obj_id(legacy)))
        total += int(legacy.get("amount") or 0) if isinstance(legacy, dict) else 0
    return total, ids


def returned_on(snapshot: CaseSnapshot, invoice: dict[str, Any], charge: dict[str, Any] | None) -> Returned:
    """What the customer already got back against ``invoice``: its post-payment credit notes
    (refunded, credited or out of band) and the other refunds of ``charge``, the charge that
    paid it. The invoice's ``post_payment_credit_notes_amount`` and the charge's
    ``amount_refunded`` are Stripe's own totals and win over the lists the snapshot holds."""
    inv_id = str(invoice.get("id"))
    notes = [c for c in snapshot.of("credit_notes") if obj_id(c.get("invoice")) == inv_id and c.get("status") != "void"]
    listed_post = sum(int(c.get("post_payment_amount", c.get("amount")) or 0) for c in notes)
    field = invoice.get("post_payment_credit_notes_amount")
    credit_noted = int(field) if field is not None else listed_post
    note_refunded, note_refund_ids = 0, set()
    to_balance = 0
    for note in notes:
        refunded, ids = _note_refunded(note)
        note_refunded += refunded
        note_refund_ids.update(ids)
        post = int(note.get("post_payment_amount", note.get("amount")) or 0)
        to_balance += max(0, post - refunded - int(note.get("out_of_band_amount") or 0))
    refunds: list[str] = []
    refunded = 0
    if charge is not None:
        live = [r for r in snapshot.of("refunds") if obj_id(r.get("charge")) == charge.get("id")
                and str(r.get("status") or "succeeded") in _LIVE_REFUNDS]
        refunds = [str(r.get("id")) for r in sorted(live, key=lambda r: int(r.get("created") or 0))
                   if str(r.get("id")) not in note_refund_ids]
        charged_back = int(charge.get("amount_refunded") or 0) or sum(int(r.get("amount") or 0) for r in live)
        refunded = max(0, charged_back - note_refunded)
    return Returned(inv_id, credit_noted, refunded, to_balance, tuple(str(c.get("id")) for c in notes), tuple(refunds))
