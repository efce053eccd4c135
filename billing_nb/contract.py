"""The contract shape of each subscription, and exact refund options.

Shown before any action is offered: what the customer bought (interval, seats,
per-item periods, discounts), what the latest invoice paid, and for annual and
prorated states what each way out costs, to the cent and to the second from the
case's "now". Stripe's own figures (previews fetched by ``provider``) sit beside ours;
a mismatch is flagged, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .money import Money
from .snapshot import CaseSnapshot

__all__ = ["ItemShape", "ContractShape", "RefundOption", "contract_shapes", "refund_options", "shapes_frame", "options_frame"]


@dataclass(frozen=True)
class ItemShape:
    item_id: str
    price: str
    product: str
    unit_amount: Money
    interval: str
    interval_count: int
    quantity: int
    per_seat: bool
    period_start: int
    period_end: int


@dataclass(frozen=True)
class ContractShape:
    subscription_id: str
    customer: str
    status: str
    items: tuple[ItemShape, ...]
    trial_end: int | None
    discounts: tuple[str, ...]
    cancel_at_period_end: bool
    cancel_at: int | None
    pending_proration_items: tuple[str, ...]
    latest_invoice: str | None
    latest_invoice_paid: Money | None
    latest_charge: str | None
    customer_balance: Money
    is_annual: bool
    is_team: bool
    is_prorated: bool

    @property
    def recurring_total(self) -> Money:
        """What one full period costs (sum of unit_amount x quantity)."""
        raise NotImplementedError


@dataclass(frozen=True)
class RefundOption:
    """One way out for the customer, with its exact amount."""

    kind: str  # cancel_at_period_end | cancel_now_refund | credit_note_unused | downgrade_prorations
    subscription_id: str
    amount: Money  # what goes back to the customer (0 for cancel at period end)
    invoice: str | None
    charge: str | None
    explanation: str
    stripe_amount: int | None = None  # Stripe's own figure when it can compute it
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def mismatch(self) -> bool:
        return self.stripe_amount is not None and self.stripe_amount != self.amount.amount


def contract_shapes(snapshot: CaseSnapshot) -> list[ContractShape]:
    raise NotImplementedError


def refund_options(snapshot: CaseSnapshot, shape: ContractShape) -> list[RefundOption]:
    raise NotImplementedError


def shapes_frame(shapes: list[ContractShape]) -> pd.DataFrame:
    raise NotImplementedError


def options_frame(options: list[RefundOption]) -> pd.DataFrame:
    raise NotImplementedError
