"""Credit notes on taxed invoices: which invoice lines to credit, and how much of each (pure).

Stripe computes a credit note's tax from its lines: a line of ``type=invoice_line_item``
credits ``amount`` of that invoice line (excluding exclusive tax, like the invoice line's own
amount) and Stripe adds the tax of the invoice line's rates on it; the credit note's ``total``
(and ``amount``) is then the lines less their discounts plus that exclusive tax (API reference:
Create a credit note, ``lines[].amount``; Credit Note Line Item object, ``amount`` "excluding
(exclusive) tax and discounts", ``taxes``; Credit Note object, ``amount`` "including tax").
A credit note given only an ``amount`` carries no tax breakdown, so on a taxed invoice the
toolkit credits lines: the tax goes back with the money, as the customer paid it.

:func:`credit_note_lines` spreads a wanted total (tax in) over the invoice's lines in proportion
to what each charged, each at most what is left of it to credit, with Stripe's arithmetic (each
tax rounded to the minor unit, halves away from zero), and adjusts a few minor units so the
total is exactly the one wanted. Tax rounding can leave a total no line amount reaches (20%
VAT: crediting 2 gives 2, 3 gives 4); the last minor unit then goes on a custom line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..reading.taxes import line_paid, line_taxes

__all__ = ["CreditLine", "credit_note_lines", "credited_per_line"]


def _round(value: Fraction) -> int:
    return int(math.copysign(math.floor(abs(value) + Fraction(1, 2)), value))


@dataclass(frozen=True)
class CreditLine:
    """One invoice line as a credit note sees it: its amount and discounts, what is left of it
    to credit, and its exclusive rates (percentages, exact)."""

    line_id: str
    amount: int
    discount: int
    paid: int
    left: int
    exclusive: tuple[Fraction, ...]
    rate_ids: tuple[str, ...]

    def total(self, credit: int) -> int:
        """The credit note total crediting ``credit`` of this line (its discount share off, its
        exclusive tax on): the whole line gives back exactly what it charged."""
        if credit >= self.amount:
            return self.paid
        share = _round(Fraction(self.discount * credit, self.amount)) if self.amount else 0
        base = credit - share
        return base + sum(_round(base * pct / 100) for pct in self.exclusive)

    def most_within(self, limit: int) -> int:
        """The largest credit (at most what is left) whose total is at most ``limit``."""
        if limit <= 0:
            return 0
        guess = min(self.left, int(Fraction(limit * self.amount, max(self.paid, 1))))
        while guess > 0 and self.total(guess) > limit:
            guess -= 1
        while guess < self.left and self.total(guess + 1) <= limit:
            guess += 1
        return guess


def _percent(rate_id: str | None, tax: dict[str, Any], rates: dict[str, dict[str, Any]]) -> Fraction | None:
    rate = rates.get(str(rate_id)) if rate_id else None
    if rate is not None and rate.get("percentage") is not None:
        return Fraction(str(rate["percentage"]))
    taxable = tax.get("taxable")
    if taxable:  # no rate object: the ratio the line itself shows
        return Fraction(int(tax["amount"]) * 100, int(taxable))
    return None


def _credit_lines(invoice: dict[str, Any], rates: dict[str, dict[str, Any]],
                  credited: dict[str, int]) -> list[CreditLine]:
    out = []
    for line in ((invoice.get("lines") or {}).get("data") or []):
        amount = int(line.get("amount") or 0)
        left = amount - int(credited.get(str(line.get("id")), 0))
        if amount <= 0 or left <= 0:
            continue
        taxes = line_taxes(line)
        exclusive = tuple(p for t in taxes if not t["inclusive"]
                          for p in [_percent(t["rate"], t, rates)] if p is not None)
        discount = sum(int(d.get("amount") or 0) for d in (line.get("discount_amounts") or []))
        out.append(CreditLine(str(line["id"]), amount, discount, line_paid(line), left, exclusive,
                              tuple(str(t["rate"]) for t in taxes if t["rate"] and not t["inclusive"])))
    return out


def credited_per_line(credit_notes: list[dict[str, Any]]) -> dict[str, int]:
    """How much of each invoice line earlier credit notes (not voided) credited already."""
    out: dict[str, int] = {}
    for note in credit_notes:
        if note.get("status") == "void":
            continue
        for ln in ((note.get("lines") or {}).get("data") or []):
            if ln.get("type") == "invoice_line_item" and ln.get("invoice_line_item"):
                key = str(ln["invoice_line_item"])
                out[key] = out.get(key, 0) + int(ln.get("amount") or 0)
    return out


def credit_note_lines(invoice: dict[str, Any], total: int, rates: dict[str, dict[str, Any]] | None = None,
                      credited: dict[str, int] | None = None) -> tuple[list[dict[str, Any]], int]:
    """``lines`` for a credit note on ``invoice`` whose total (tax in) is ``total``, and that
    total as Stripe will compute it (less only when the lines left to credit can't give that
    much back). ``rates``: the invoice's tax rates by id (their percentages); ``credited``: what
    earlier credit notes took of each line (:func:`credited_per_line`)."""
    lines = _credit_lines(invoice, rates or {}, credited or {})
    whole = sum(ln.total(ln.left) for ln in lines)
    if not lines or total <= 0:
        return [], 0
    if total >= whole:
        credit = {ln.line_id: ln.left for ln in lines}
    else:
        weight = sum(ln.paid for ln in lines) or 1
        credit = {ln.line_id: ln.most_within(total * ln.paid // weight) for ln in lines}
        reached = sum(ln.total(credit[ln.line_id]) for ln in lines)
        while reached < total:
            best: tuple[int, str, int] | None = None  # (gain, line, new credit)
            for ln in lines:
                now = credit[ln.line_id]
                for step in (1, 2, 3):
                    if now + step > ln.left:
                        break
                    gain = ln.total(now + step) - ln.total(now)
                    if 0 < gain <= total - reached and (best is None or gain > best[0]):
                        best = (gain, ln.line_id, now + step)
            if best is None:
                break
            credit[best[1]] = best[2]
            reached += best[0]
    params: list[dict[str, Any]] = [{"type": "invoice_line_item", "invoice_line_item": ln.line_id,
                                     "amount": credit[ln.line_id]} for ln in lines if credit[ln.line_id] > 0]
    reached = sum(ln.total(credit[ln.line_id]) for ln in lines)
    rest = min(total, whole) - reached
    if rest > 0:  # a total tax rounding skips: the last minor unit(s) on a custom line, untaxed
        params.append({"type": "custom_line_item", "description": "Rounding", "quantity": 1, "unit_amount": rest})
        reached += rest
    return params, reached
