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
from ..reading.rows import obj_id
from ..reading.snapshot import CaseSnapshot

__all__ = ["Credits", "credits_of"]

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
        balance = Money(int(primary.get("balance") or 0), str(primary.get("currency") or _first_currency(snapshot)))
    refunds = [{
        "id": r.get("id"), "charge": obj_id(r.get("charge")),
        "amount": Money(int(r.get("amount") or 0), str(r.get("currency") or "usd")).as_dict(),
        "status": str(r.get("status") or "succeeded"), "reason": r.get("reason"), "created": r.get("created"),
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


def _first_currency(snapshot: CaseSnapshot) -> str:
    for kind in ("subscriptions", "invoices", "charges"):
        for obj in snapshot.of(kind):
            if obj.get("currency"):
                return str(obj["currency"])
    return "usd"
