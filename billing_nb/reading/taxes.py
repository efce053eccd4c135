"""Tax on invoices as Stripe shows it (pure readers).

An invoice line's ``amount`` excludes exclusive tax and already includes inclusive tax; the
tax per rate is in the line's ``taxes[]`` (``amount``, ``tax_behavior``,
``tax_rate_details.tax_rate``; 2025-03-31.basil and later) or, in older shapes,
``tax_amounts[]`` (``amount``, ``inclusive``, ``tax_rate``). What the customer paid for a
line is its amount net of discounts plus its exclusive tax; the invoice's ``total`` is the sum
of that over its lines (API reference, Invoice and Invoice Line Item objects). MRR and ARR
count no tax (support.stripe.com/questions/billing-analytics: "We don't consider taxes ... to
be revenue"), so nothing here feeds them.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any



def obj_id(value: Any) -> str | None:
    """An expandable field's id (``rows.obj_id``'s rule; rows reads taxes, so not imported from it)."""
    if isinstance(value, dict):
        return str(value["id"]) if value.get("id") else None
    return str(value) if value else None

__all__ = ["line_taxes", "line_tax", "line_paid", "invoice_tax", "tax_rate_ids", "tax_name", "is_taxed",
           "inclusive_percent"]


def inclusive_percent(item: dict[str, Any], subscription: dict[str, Any]) -> Fraction:
    """The inclusive tax percentages in a subscription item's price: its own ``tax_rates``, else
    the subscription's ``default_tax_rates`` (rates read expanded; an id alone says nothing)."""
    rates = item.get("tax_rates") or subscription.get("default_tax_rates") or []
    return sum((Fraction(str(r.get("percentage") or 0)) for r in rates if isinstance(r, dict) and r.get("inclusive")),
               Fraction(0))


def line_taxes(line: dict[str, Any]) -> list[dict[str, Any]]:
    """The line's taxes as ``{"amount", "inclusive", "rate", "taxable"}``, either API shape."""
    out: list[dict[str, Any]] = []
    for t in line.get("taxes") or []:
        if isinstance(t, dict):
            out.append({"amount": int(t.get("amount") or 0), "inclusive": t.get("tax_behavior") == "inclusive",
                        "rate": obj_id((t.get("tax_rate_details") or {}).get("tax_rate")),
                        "taxable": t.get("taxable_amount")})
    if not out:
        for t in line.get("tax_amounts") or []:
            if isinstance(t, dict):
                out.append({"amount": int(t.get("amount") or 0), "inclusive": bool(t.get("inclusive")),
                            "rate": obj_id(t.get("tax_rate")), "taxable": t.get("taxable_amount")})
    return out


def line_tax(line: dict[str, Any]) -> tuple[int, int]:
    """(inclusive, exclusive) tax on one invoice or credit note line."""
    taxes = line_taxes(line)
    return (sum(t["amount"] for t in taxes if t["inclusive"]), sum(t["amount"] for t in taxes if not t["inclusive"]))


def _discounts(line: dict[str, Any]) -> int:
    return sum(int(d.get("amount") or 0) for d in (line.get("discount_amounts") or []) if isinstance(d, dict))


def line_paid(line: dict[str, Any]) -> int:
    """What the customer was charged for a line: its amount less its discounts, plus exclusive
    tax (inclusive tax is in the amount already)."""
    return int(line.get("amount") or 0) - _discounts(line) + line_tax(line)[1]


def invoice_tax(invoice: dict[str, Any]) -> int:
    """The invoice's tax, inclusive and exclusive: ``total_taxes`` (or the older
    ``total_tax_amounts``), else the sum over the lines shown."""
    listed = invoice.get("total_taxes")
    if not listed:
        listed = invoice.get("total_tax_amounts")
    if listed:
        return sum(int(t.get("amount") or 0) for t in listed if isinstance(t, dict))
    return sum(sum(line_tax(ln)) for ln in ((invoice.get("lines") or {}).get("data") or []) if isinstance(ln, dict))


def is_taxed(invoice: dict[str, Any]) -> bool:
    """Whether any tax rate applies to the invoice (even at 0%)."""
    if invoice.get("total_taxes") or invoice.get("total_tax_amounts"):
        return True
    return any(line_taxes(ln) for ln in ((invoice.get("lines") or {}).get("data") or []) if isinstance(ln, dict))


def tax_rate_ids(invoice: dict[str, Any]) -> list[str]:
    """The tax rates the invoice's taxes name, first seen first."""
    ids: list[str] = []
    for t in (invoice.get("total_taxes") or []):
        rid = obj_id((t.get("tax_rate_details") or {}).get("tax_rate")) if isinstance(t, dict) else None
        if rid and rid not in ids:
            ids.append(rid)
    for ln in ((invoice.get("lines") or {}).get("data") or []):
        for t in line_taxes(ln) if isinstance(ln, dict) else []:
            if t["rate"] and t["rate"] not in ids:
                ids.append(str(t["rate"]))
    return ids


def tax_name(invoice: dict[str, Any], rates: dict[str, dict[str, Any]]) -> str:
    """What to call the invoice's tax: the ``display_name`` of its rates ("VAT", "Sales tax"),
    found in ``rates`` (tax rates by id) or the invoice's ``default_tax_rates``; else "tax"."""
    known = dict(rates)
    for r in invoice.get("default_tax_rates") or []:
        if isinstance(r, dict) and r.get("id"):
            known.setdefault(str(r["id"]), r)
    names: list[str] = []
    for rid in tax_rate_ids(invoice):
        name = str((known.get(rid) or {}).get("display_name") or "").strip()
        if name and name not in names:
            names.append(name)
    return " + ".join(names) if names else "tax"
