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
from ..reading.prices import PriceTerms

__all__ = ["ActionKind", "Action", "Plan", "ExecutedAction", "idempotency_key", "effect_of", "split_again", "money_of_id",
           "STEP_NAMES", "COUNTED", "LANDED", "AGAIN_SEP", "REFUND_FAILED", "REFUND_PENDING_STATUSES",
           "REFUND_FAILED_STATUSES"]

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
    SCHEDULE = "schedule"  # a cancel or seat change made on the subscription schedule that manages it


@dataclass(frozen=True)
class Action:
    """One planned step. ``id`` is stable, e.g. ``refund:ch_X:1200``.

    ``params`` holds what the executor needs (customer, subscription item, reason...);
    ``exclusive`` names a group of alternatives of which at most one may be approved
    (e.g. a full or an unused-time credit note on the same charge). ``requires`` names
    actions of which one must be approved with it (or done before): the unused-time
    refund needs the cancel it pays for, a retry needs a changed card or a portal session.
    ``together`` names actions that must *all* be approved with it (or done before): the parts
    of one split refund (one credit note per paid invoice of the period) go back as one unit,
    since once the cancel they require has run, no later case proposes a part left behind.
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
    together: tuple[str, ...] = ()  # approving this needs all of these approved too (or done before)
    why: str = ""  # why the planner put it in this case's plan

    def as_case_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "target": self.target,
            "step": self.step,
            "amount": self.amount.as_dict() if self.amount else None,
            # a credit note's part credited to the customer's balance (credit_amount); the rest is refunded
            "to_balance": (Money(int(self.params["credit_amount"]), self.amount.currency).as_dict()
                           if self.amount and self.params.get("credit_amount") else None),
            # a credit note's part given back outside Stripe (out_of_band_amount): an invoice paid
            # outside Stripe has no charge to refund; the team returns it by bank transfer or as agreed
            "out_of_band": (Money(int(self.params["out_of_band_amount"]), self.amount.currency).as_dict()
                            if self.amount and self.params.get("out_of_band_amount") else None),
            "reversible": self.reversible,
            "customer_visible": self.customer_visible,
            "moves_money": self.moves_money,
            "preview": self.preview,
            "exclusive": self.exclusive,
            "requires": list(self.requires),
            "together": list(self.together),
            "why": self.why,
        }


@dataclass
class Plan:
    actions: list[Action]
    notes: list[str] = field(default_factory=list)  # e.g. "answer dispute du_X; never refund it"
    #: live subscriptions billed per seat -> (item id, seats now, the price's model, or a per-unit
    #: amount): what a ``quantity:SUB:N`` approval may change although no seat change was proposed
    seats: dict[str, tuple[str, int, Money | PriceTerms]] = field(default_factory=dict)

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
    status: str  # succeeded | recovered | already_done | refund_failed | failed | refused
    error: str | None = None
    #: the status Stripe gave the object (a refund: pending, succeeded, failed...), when it has one
    stripe_status: str | None = None

    def as_case_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "action_id": self.action_id,
            "idempotency_key": self.idempotency_key,
            "stripe_object": self.stripe_object,
            "request_id": self.request_id,
            "status": self.status,
            "error": self.error,
        }
        if self.stripe_status is not None:
            out["stripe_status"] = self.stripe_status
        return out


#: Statuses whose effect this record counts (its write landed through this run): a
#: ``recovered`` write is an interrupted run's, found in Stripe and counted here instead.
COUNTED = ("succeeded", "recovered")
#: Statuses that mean the effect exists in Stripe (counted here or by another record).
LANDED = ("succeeded", "recovered", "already_done")
#: An earlier refund of this effect that Stripe later failed (or canceled): the money did not
#: reach the customer, nothing is counted, and the same key would only replay the failed refund.
REFUND_FAILED = "refund_failed"
#: Refund statuses (Stripe's ``refund.status``) of money on its way but not yet arrived.
REFUND_PENDING_STATUSES = ("pending", "requires_action")
#: Refund statuses of money that never reached the customer.
REFUND_FAILED_STATUSES = ("failed", "canceled")
#: ``refund:ch_X:500#2``: the 2nd deliberate refund of that amount (an explicit opt-in).
AGAIN_SEP = "#"

#: Kinds whose key is per case: a portal session moves no money and a document write
#: records this case's reason; every other kind's key is its effect alone.
_PER_CASE = (ActionKind.PORTAL, ActionKind.DOCUMENT)


def split_again(action_id: str) -> tuple[str, int]:
    """``("refund:ch_X:500", 2)`` for ``refund:ch_X:500#2``; occurrence 1 without a suffix."""
    base, sep, tail = action_id.partition(AGAIN_SEP)
    if not sep:
        return action_id, 1
    if not tail.isdigit() or int(tail) < 2:
        raise UnknownActionError(f"{action_id!r}: an action id suffix is #N with N >= 2 (the Nth identical write)")
    return base, int(tail)


def money_of_id(action_id: str) -> tuple[str, int] | None:
    """``("refund", 500)`` for ``refund:ch_X:500`` (or ``...#2``): the kind and amount an id names."""
    parts = split_again(action_id)[0].split(":") if action_id.count(AGAIN_SEP) <= 1 else []
    if len(parts) == 3 and parts[0] in (ActionKind.REFUND.value, ActionKind.CREDIT_NOTE.value) and parts[2].isdigit():
        return parts[0], int(parts[2])
    return None


def effect_of(action: Action, case_id: str = "") -> str:
    """The effect a write has on Stripe, as text: the same from any case, ledger or machine.

    ``refund|ch_X|500|usd|1``, ``credit_note|in_X|500|usd|1`` (``credit_note|in_X|500|usd|balance=200|1``
    when 200 of it goes to the customer's balance, ``...|oob=500|1`` when it goes back outside Stripe), ``cancel|sub_X|now``,
    ``quantity|sub_X|si_X|5``; the trailing number is the occurrence (``#N`` opt-in).
    Portal sessions and document writes are per case (they carry the case's own link or reason).
    """
    base, nth = split_again(action.id)
    p = action.params
    if action.kind in _PER_CASE:
        return f"{action.kind.value}|{case_id}|{base}"
    if action.kind in (ActionKind.REFUND, ActionKind.CREDIT_NOTE):
        amount = action.amount
        # a credit note's balance part is its own effect: the same total split otherwise is another write
        balance = f"|balance={int(p['credit_amount'])}" if p.get("credit_amount") else ""
        # and so is its out-of-band part (money returned outside Stripe, not refunded)
        balance += f"|oob={int(p['out_of_band_amount'])}" if p.get("out_of_band_amount") else ""
        return f"{action.kind.value}|{action.target}|{amount.amount if amount else 0}|" \
               f"{amount.currency if amount else ''}{balance}|{nth}"
    if action.kind is ActionKind.CANCEL:
        return f"cancel|{action.target}|{p.get('mode')}|{nth}"
    if action.kind is ActionKind.QUANTITY:
        return f"quantity|{action.target}|{p.get('item')}|{p.get('quantity')}|{nth}"
    if action.kind is ActionKind.DEFAULT_PM:
        return f"default_pm|{action.target}|{p.get('payment_method')}|{nth}"
    if action.kind is ActionKind.SCHEDULE:  # the schedule, what it becomes: its mode and its new terms
        terms = {"cancel_now": "", "cancel_at_period_end": f"|{p.get('ends_at')}",
                 "seats": f"|{p.get('price')}|{p.get('quantity')}"}.get(str(p.get("mode")), "")
        return f"schedule|{action.target}|{p.get('mode')}{terms}|{nth}"
    return f"{action.kind.value}|{action.target}|{nth}"  # retry, void


def idempotency_key(action: Action, case_id: str = "") -> str:
    """``bnb-`` + the first 32 hex digits of sha256(effect): two cases, ledgers or machines
    approving the same effect send the same key, so Stripe makes one object of them."""
    digest = hashlib.sha256(effect_of(action, case_id).encode()).hexdigest()
    return f"bnb-{digest[:32]}"
