"""An amount the analyst names: ``refund:ch_X:1500`` approves a refund (or a credit note)
of an amount the plan did not propose, on a target the plan does refund.

The plan proposes the amounts a case supports (the full charge, the unused time); a real
team also settles on a partial amount ("refund half"). Approving ``KIND:TARGET:AMOUNT``
takes the plan's own action of that kind on that target as its template (same reason, same
group of alternatives, so it cannot be approved beside another amount) and adds it to the
plan, where the guards then check it like any other: above what remains refundable is
refused before anything is written (RefundTooLargeError).
"""

from __future__ import annotations

from dataclasses import replace

from .model import Action, ActionKind, Plan, money_of_id, split_again
from ..exceptions import ActionRefusedError
from ..money import Money

__all__ = ["add_named_amounts", "named_amount"]


def named_amount(the_plan: Plan, approval: str) -> Action | None:
    """The action an approval of an unproposed amount names, or None when it names none
    (an unknown id stays unknown)."""
    base = split_again(approval)[0]
    named = money_of_id(base)
    if base in the_plan.ids or named is None:
        return None
    kind, amount = named
    target = base.split(":")[1]
    templates = [a for a in the_plan.actions
                 if a.kind.value == kind and a.target == target and a.amount is not None]
    if not templates:
        return None
    template = min(templates, key=lambda a: len(a.requires))  # the one that needs no other write, if any
    assert template.amount is not None
    money = Money(amount, template.amount.currency)
    if money.stripe_rounded() != money:
        raise ActionRefusedError(f"{approval}: {money} can't be charged back in {money.currency.upper()}: "
                                 f"Stripe needs a multiple of 10 minor units (e.g. {money.stripe_rounded().amount})")
    if amount <= 0:
        raise ActionRefusedError(f"{approval}: nothing to refund")
    what = "refund" if template.kind is ActionKind.REFUND else "credit note"
    preview = template.preview.replace(template.id, base).replace(str(template.amount), str(money))
    return replace(template, id=base, amount=money,
                   preview=f"{preview} Amount named in the approval (the plan proposed {template.amount} for "
                           f"this {what}).",
                   why=f"the analyst approved {money} instead of the proposed {template.amount}"
                       + (f"; {template.why}" if template.why else ""))


def add_named_amounts(the_plan: Plan, approve: list[str]) -> list[Action]:
    """Put every approved unproposed amount into the plan, beside its template, so the
    record and the handoff show what was approved; the actions added."""
    added: list[Action] = []
    for approval in dict.fromkeys(approve):
        action = named_amount(the_plan, approval)
        if action is None:  # proposed already, unknown, or added by an earlier approval
            continue
        at = max(i for i, a in enumerate(the_plan.actions) if a.kind is action.kind and a.target == action.target)
        the_plan.actions.insert(at + 1, action)
        added.append(action)
    return added
