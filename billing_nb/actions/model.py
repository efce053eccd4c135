"""The plain data of step 3: action kinds, actions, plans, executed actions, keys.

Re-exported by :mod:`billing_nb.actions`; kept apart so the catalogue, the planner and
the executor can share it without importing each other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..exceptions import UnknownActionError
from ..money import Money

__all__ = ["ActionKind", "Action", "Plan", "ExecutedAction", "idempotency_key", "STEP_NAMES"]

STEP_NAMES = {1: "restore self-serve", 2: "fix the billing state", 3: "refund the affected charge",
              4: "document the reason"}


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
    """One planned step. ``id`` is stable, e.g. ``refund:ch_X:1200``.

    ``params`` holds what the executor needs (customer, subscription item, reason...);
    ``exclusive`` names a group of alternatives of which at most one may be approved
    (e.g. a full or an unused-time credit note on the same charge). ``requires`` names
    actions of which one must be approved with it (or done before): the unused-time
    refund needs the cancel it pays for, a retry needs a changed card or a portal session.
    """

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
    exclusive: str | None = None
    requires: tuple[str, ...] = ()  # approving this needs one of these approved too (or done before)
    why: str = ""  # why the planner put it in this case's plan

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
            "exclusive": self.exclusive,
            "requires": list(self.requires),
            "why": self.why,
        }


@dataclass
class Plan:
    actions: list[Action]
    notes: list[str] = field(default_factory=list)  # e.g. "answer dispute du_X; never refund it"

    def get(self, action_id: str) -> Action:
        """The action with that id; UnknownActionError when the plan has none."""
        for action in self.actions:
            if action.id == action_id:
                return action
        known = ", ".join(a.id for a in self.actions) or "none"
        raise UnknownActionError(f"action {action_id!r} is not in the plan (planned: {known})")

    @property
    def ids(self) -> list[str]:
        return [a.id for a in self.actions]

    def as_case_json(self) -> list[dict[str, Any]]:
        return [a.as_case_json() for a in self.actions]

    def preferred(self) -> list[Action]:
        """The plan as it would run if approved whole: the first of each group of alternatives."""
        seen: set[str] = set()
        chosen: list[Action] = []
        for action in self.actions:
            if action.exclusive:
                if action.exclusive in seen:
                    continue
                seen.add(action.exclusive)
            chosen.append(action)
        return chosen


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
    """Deterministic per (case, action): ``bnb-`` + the first 32 hex digits of sha256(case|action)."""
    digest = hashlib.sha256(f"{case_id}|{action_id}".encode()).hexdigest()
    return f"bnb-{digest[:32]}"
