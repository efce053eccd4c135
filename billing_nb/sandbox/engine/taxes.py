"""Tax rates on invoices and credit notes (manual Tax Rates, not Stripe Tax).

Rules from docs.stripe.com (Tax rates guide; API reference: Tax Rate, Invoice, Invoice Line
Item, Credit Note, Credit Note Line Item objects; changelog 2025-03-31.basil "total_taxes"):

- A line's rates are its own (``tax_rates`` of the subscription item or invoice item), else the
  invoice's ``default_tax_rates`` (a subscription's ``default_tax_rates`` become its invoices').
- Tax is computed per line on the line's amount after its discounts. An ``exclusive`` rate
  adds ``percentage`` of it on top; an ``inclusive`` rate is already in it: the tax is the part
  ``percentage / (100 + inclusive percentages)`` of the amount. Each tax is rounded to the
  currency's minor unit, halves away from zero (the sandbox's rounding everywhere).
- Line ``taxes[]`` and invoice ``total_taxes[]`` (one entry per rate and behaviour, summed):
  ``amount``, ``tax_behavior``, ``tax_rate_details.tax_rate``, ``taxability_reason``,
  ``taxable_amount`` (the amount net of inclusive tax), ``type: tax_rate_details``.
- ``subtotal`` is the sum of line amounts (inclusive tax in it), ``subtotal_excluding_tax``
  that less inclusive tax; ``total`` = subtotal - discounts + exclusive tax;
  ``total_excluding_tax`` = total less all tax. Credit notes use the same arithmetic with
  the credited line's rates (credit note line ``amount`` excludes exclusive tax).
"""

from __future__ import annotations

import copy
import math
from fractions import Fraction
from typing import Any

from ..store import Obj, Store

__all__ = ["public_rate", "rates_param", "line_taxes", "apply", "totals", "split", "rates_of_line"]

#: What ``taxability_reason`` says for a manual tax rate (Stripe Tax fills in a real reason).
_REASON = "not_available"


def _round(value: Fraction) -> int:
    return int(math.copysign(math.floor(abs(value) + Fraction(1, 2)), value))


def public_rate(rate: Obj) -> Obj:
    """A copy of the stored tax rate, as embedded in subscriptions, items and credit note lines."""
    return {k: copy.deepcopy(v) for k, v in rate.items() if not k.startswith("_")}


def rates_param(store: Store, ids: list[Any], param: str) -> list[Obj]:
    """``tax_rates[]`` / ``default_tax_rates[]``: the rates named (``""`` clears: an empty list).
    An inactive rate "cannot be used with new applications" (Tax Rate object, ``active``)."""
    from ..errors import invalid

    out: list[Obj] = []
    for n, rid in enumerate(x for x in ids if x not in ("", None)):
        rate = store.get("tax_rate", str(rid), f"{param}[{n}]")
        if not rate.get("active", True):
            raise invalid(f"Tax rate {rid} is inactive and cannot be applied.", f"{param}[{n}]")
        out.append(public_rate(rate))
    if len(out) > 10:
        raise invalid("You may only specify up to 10 tax rates.", param)
    if len({r["id"] for r in out}) != len(out):
        raise invalid("You cannot apply the same tax rate more than once.", param)
    return out


def line_taxes(base: int, rates: list[Obj]) -> list[Obj]:
    """``taxes[]`` for an amount ``base`` (after discounts) under ``rates``."""
    if not rates:
        return []
    inclusive_pct = sum((Fraction(str(r["percentage"])) for r in rates if r.get("inclusive")), Fraction(0))
    out: list[Obj] = []
    incl_amounts = []
    for r in rates:
        pct = Fraction(str(r["percentage"]))
        if r.get("inclusive"):
            amount = _round(Fraction(base) * pct / (100 + inclusive_pct))
            incl_amounts.append(amount)
        else:
            amount = _round(Fraction(base) * pct / 100)
        out.append({"amount": amount, "tax_behavior": "inclusive" if r.get("inclusive") else "exclusive",
                    "tax_rate_details": {"tax_rate": r["id"]}, "taxability_reason": _REASON,
                    "taxable_amount": 0, "type": "tax_rate_details"})
    taxable = base - sum(incl_amounts)
    for t in out:
        t["taxable_amount"] = taxable
    return out


def totals(per_line: list[list[Obj]]) -> list[Obj]:
    """``total_taxes[]``: the lines' taxes summed per rate and behaviour, in first-seen order."""
    acc: dict[tuple[str, str], Obj] = {}
    for taxes in per_line:
        for t in taxes:
            key = (str(t["tax_rate_details"]["tax_rate"]), str(t["tax_behavior"]))
            if key not in acc:
                acc[key] = {**copy.deepcopy(t), "amount": 0, "taxable_amount": 0}
            acc[key]["amount"] += int(t["amount"])
            acc[key]["taxable_amount"] += int(t["taxable_amount"] or 0)
    return list(acc.values())


def split(taxes: list[Obj]) -> tuple[int, int]:
    """(inclusive, exclusive) tax in ``taxes``."""
    inc = sum(int(t["amount"]) for t in taxes if t["tax_behavior"] == "inclusive")
    exc = sum(int(t["amount"]) for t in taxes if t["tax_behavior"] == "exclusive")
    return inc, exc


def rates_of_line(inv: Obj, line: Obj) -> list[Obj]:
    """The rates that apply to an invoice line: its own, else the invoice's default ones."""
    own = line.get("_tax_rates")
    return list(own) if own else list(inv.get("default_tax_rates") or [])


def apply(inv: Obj) -> None:
    """Set every line's ``taxes`` and the invoice's tax totals; discounts are already applied
    (``total`` is subtotal less discounts on entry)."""
    per_line = []
    for line in inv["_lines"]:
        base = int(line["amount"]) - sum(int(d["amount"]) for d in line.get("discount_amounts") or [])
        line["taxes"] = line_taxes(base, rates_of_line(inv, line))
        per_line.append(line["taxes"])
    inc, exc = split([t for taxes in per_line for t in taxes])
    total = int(inv["total"]) + exc
    inv.update(total_taxes=totals(per_line), subtotal_excluding_tax=int(inv["subtotal"]) - inc, total=total,
               total_excluding_tax=total - inc - exc)
