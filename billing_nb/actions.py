"""Step 3: the action catalogue, the reversible-first plan, and idempotent execution.

Order of a plan (the rule of the trade): 1 restore self-serve (portal session with a
deep link), 2 fix the duplicate or broken state, 3 refund only the affected charge,
4 document the reason. Nothing executes without an approval naming the action id;
every write carries an idempotency key derived from the case id and the action id, and
the executor checks the ledger and Stripe before it acts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import stripe

from .classify import Decision
from .config import Settings
from .contract import ContractShape, RefundOption
from .identify import IdentitySummary
from .ledger import Ledger
from .money import Money
from .snapshot import CaseSnapshot

__all__ = ["ActionKind", "Action", "Plan", "ExecutedAction", "idempotency_key", "plan", "execute", "revenue_impact"]


class ActionKind(StrEnum):
    PORTAL = "portal"
    CANCEL = "cancel"
    REFUND = "refund"
    CREDIT_NOTE = "credit_note"
    QUANTITY = "quantity"
    RETRY = "retry"
    DEFAULT_PM = "default_pm"
    VOID = "void"
    DOCUMENT = "document"


@dataclass(frozen=True)
class Action:
    """One planned step. ``id`` is stable, e.g. ``refund:ch_X:1200``."""

    id: str
    kind: ActionKind
    target: str
    step: int  # 1 self-serve, 2 fix state, 3 refund, 4 document
    preview: str  # what changes, in words
    amount: Money | None = None
    reversible: bool = True
    customer_visible: bool = False
    moves_money: bool = False
    params: dict[str, Any] = field(default_factory=dict)

    def as_case_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "target": self.target,
            "step": self.step,
            "amount": self.amount.as_dict() if self.amount else None,
            "reversible": self.reversible,
            "customer_visible": self.customer_visible,
            "moves_money": self.moves_money,
            "preview": self.preview,
        }


@dataclass
class Plan:
    actions: list[Action]
    notes: list[str] = field(default_factory=list)  # e.g. "answer dispute du_X; never refund it"

    def get(self, action_id: str) -> Action:
        """The action with that id; UnknownActionError when the plan has none."""
        raise NotImplementedError


@dataclass(frozen=True)
class ExecutedAction:
    action_id: str
    idempotency_key: str
    stripe_object: str | None
    request_id: str | None
    status: str  # succeeded | already_done | failed | refused
    error: str | None = None

    def as_case_json(self) -> dict[str, Any]:
        return {
            "action_id": self.action_id,
            "idempotency_key": self.idempotency_key,
            "stripe_object": self.stripe_object,
            "request_id": self.request_id,
            "status": self.status,
            "error": self.error,
        }


def idempotency_key(case_id: str, action_id: str) -> str:
    raise NotImplementedError


def plan(
    snapshot: CaseSnapshot,
    summary: IdentitySummary,
    decision: Decision,
    shapes: list[ContractShape],
    options: list[RefundOption],
) -> Plan:
    raise NotImplementedError


def execute(
    the_plan: Plan,
    approve: list[str],
    *,
    case_id: str,
    client: stripe.StripeClient,
    ledger: Ledger,
    settings: Settings,
    snapshot: CaseSnapshot,
    decision: Decision,
) -> list[ExecutedAction]:
    raise NotImplementedError


def revenue_impact(the_plan: Plan, executed: list[ExecutedAction], snapshot: CaseSnapshot) -> dict[str, Any]:
    raise NotImplementedError
