"""The contract shapes and refund options in their ``case.json`` form (docs/CASE_JSON.md).

Kept apart from :mod:`.case` so the record's layout is one short file to read against the
documented schema.
"""

from __future__ import annotations

from typing import Any

from ..analysis import contract as ctr

__all__ = ["shape_json", "option_json"]


def shape_json(shape: ctr.ContractShape) -> dict[str, Any]:
    """A contract shape in case.json form (first item carries the period)."""
    first = shape.items[0] if shape.items else None
    return {
        "subscription_id": shape.subscription_id,
        "status": shape.status,
        "interval": first.interval if first else None,
        "interval_count": first.interval_count if first else None,
        "quantity": sum(i.quantity for i in shape.items),
        "per_seat": any(i.per_seat for i in shape.items),
        "period_start": first.period_start if first else None,
        "period_end": first.period_end if first else None,
        "recurring_total": shape.recurring_total.as_dict() if shape.items else None,
        "latest_invoice": shape.latest_invoice,
        "latest_invoice_paid": shape.latest_invoice_paid.as_dict() if shape.latest_invoice_paid else None,
        "is_annual": shape.is_annual,
        "is_team": shape.is_team,
        "is_prorated": shape.is_prorated,
        "cancel_at_period_end": shape.cancel_at_period_end,
        "customer_balance": shape.customer_balance.as_dict(),  # negative: a credit the customer holds
        # the subscription schedule managing it: coming phases (date, prices, quantities) and its end
        "schedule": shape.schedule.as_case_json() if shape.schedule else None,
    }


def option_json(option: ctr.RefundOption) -> dict[str, Any]:
    return {
        "kind": option.kind,
        "subscription_id": option.subscription_id,
        "amount": option.amount.as_dict(),
        "invoice": option.invoice,
        "charge": option.charge,
        "explanation": option.explanation,
        "stripe_amount": option.stripe_amount,
        "mismatch": option.mismatch,
    }
