"""Revenue impact of the actions that succeeded in this run, or that the plan proposes.

- ``refunded``: money back to the customer's card: refunds, and the ``refund_amount`` of credit
  notes (a credit note's refund is a refund of the charge); ``credited``: money that went to the
  customer's credit balance only (a credit note's ``credit_amount``), which they spend on later invoices.
- ``mrr_change``: a cancellation (now or at period end: committed churn) removes the
  subscription's MRR; a seat change adds (new - old) seats. MRR is the exact annualised
  amount / 12 rounded once, half away from zero (an annual $1,000.00 price is
  $83.33 MRR); ``arr_change`` is the exact annualised amount rounded once (not MRR x 12).
- A refund is booked by the status Stripe gave it (``stripe_status``): a ``pending`` (or
  ``requires_action``) refund is money on its way, ``refund_pending``, not yet ``refunded``; a
  refund Stripe failed is not booked at all (the executor reports it ``refund_failed``).
- Amounts are integer minor units; the currency is the actions' (or the case's).
  Actions reported ``already_done`` were done (and are counted) by another record; a
  ``recovered`` write is an interrupted run's, counted by the record that recovered it.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from .catalogue import credit_parts
from .model import COUNTED, REFUND_PENDING_STATUSES, ActionKind, ExecutedAction, Plan, money_of_id, split_again
from ..analysis.contract import contract_shapes
from ..money import Money, round_half_up
from ..reading.objects import money_currency
from ..reading.snapshot import CaseSnapshot

__all__ = ["impact", "proposed"]


def _currency(the_plan: Plan, snapshot: CaseSnapshot) -> str:
    for action in the_plan.actions:
        if action.amount is not None:
            return action.amount.currency
    for shape in contract_shapes(snapshot):
        return shape.currency
    return money_currency(snapshot) or "usd"


def impact(the_plan: Plan, executed: list[ExecutedAction], snapshot: CaseSnapshot) -> dict[str, Any]:
    """What this run's landed writes changed (succeeded or recovered; ``ID#N`` counts as ID)."""
    counted: dict[str, int] = {}
    pending: dict[str, int] = {}  # refunds Stripe holds pending: on their way, not yet back
    for e in executed:
        if e.status in COUNTED:
            base = split_again(e.action_id)[0]
            counted[base] = counted.get(base, 0) + 1
            if e.stripe_status in REFUND_PENDING_STATUSES and base.startswith(ActionKind.REFUND.value + ":"):
                pending[base] = pending.get(base, 0) + 1
    out = _impact_of(the_plan, set(counted), snapshot, counted)
    out["refund_pending"] = _pending(the_plan, pending, out["refunded"]["currency"])
    out["refunded"] = {**out["refunded"], "value": out["refunded"]["value"] - out["refund_pending"]["value"]}
    for action_id, n in counted.items():  # carried out, but no longer in the plan (a re-run after a crash)
        named = money_of_id(action_id)
        if action_id not in the_plan.ids and named is not None:
            # an id names a credit note's total only: the toolkit's credit notes refund it to the card
            # unless the plan that made them says what part went to the balance
            out["refunded"] = {**out["refunded"], "value": out["refunded"]["value"] + named[1] * n}
    return out


def _pending(the_plan: Plan, pending: dict[str, int], currency: str) -> dict[str, Any]:
    """What of the counted refunds is still pending at Stripe (their ids name their amounts)."""
    total = 0
    for action_id, n in pending.items():
        action = next((a for a in the_plan.actions if a.id == action_id), None)
        named = money_of_id(action_id)
        amount = action.amount.amount if action is not None and action.amount is not None else (
            named[1] if named is not None else 0)
        total += amount * n
    return Money(total, currency).as_dict()


def proposed(the_plan: Plan, snapshot: CaseSnapshot) -> dict[str, Any]:
    """What approving the whole plan would change (the first of each group of alternatives)."""
    return _impact_of(the_plan, {a.id for a in the_plan.preferred()}, snapshot)


def _impact_of(the_plan: Plan, done: set[str], snapshot: CaseSnapshot,
               times: dict[str, int] | None = None) -> dict[str, Any]:
    currency = _currency(the_plan, snapshot)
    shapes = {s.subscription_id: s for s in contract_shapes(snapshot)}
    refunded = credited = mrr = 0
    arr = Fraction(0)
    for action in the_plan.actions:
        if action.id not in done:
            continue
        n = (times or {}).get(action.id, 1)
        if action.kind in (ActionKind.REFUND, ActionKind.CREDIT_NOTE) and action.amount is not None:
            to_card, to_balance = credit_parts(action)
            refunded += to_card * n
            credited += to_balance * n
            continue
        # a change made through the subscription's schedule counts as the same change on it
        mode = action.params.get("mode") if action.kind is ActionKind.SCHEDULE else None
        target = str(action.params.get("subscription")) if mode else action.target
        if (action.kind is ActionKind.CANCEL or mode in ("cancel_now", "cancel_at_period_end")) and target in shapes:
            mrr -= shapes[target].mrr.amount
            arr -= shapes[target].arr.amount
        elif (action.kind is ActionKind.QUANTITY or mode == "seats") and target in shapes:
            for item in shapes[target].items:
                if item.item_id == action.params.get("item") and item.quantity:
                    # the annual amount at the new count less today's, each under the price's own model
                    # (volume tiers reprice every seat at a new count; graduated ones only the seats added),
                    # without the inclusive tax in the price (Stripe's MRR counts no tax)
                    delta = ((item.annual_at(int(action.params["quantity"])) - item.annual_amount)
                             * 100 / (100 + item.inclusive_tax) * shapes[target].percent_factor(item))
                    mrr += round_half_up(delta / 12)
                    arr += delta
    return {
        "refunded": Money(refunded, currency).as_dict(),
        "credited": Money(credited, currency).as_dict(),
        "mrr_change": Money(mrr, currency).as_dict(),
        "arr_change": Money(round_half_up(arr), currency).as_dict(),
    }
