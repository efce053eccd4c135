"""Step 2 of execution: the analyst's approvals checked against the plan before anything is
written (see :mod:`.executor`).

Every refusal here happens with Stripe untouched: unknown ids, two alternatives of one
group, a decision that forbids the action, a disputed charge, or a requirement neither
approved with it nor done before.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from .amounts import add_named_amounts
from .guards import check_decision, check_requirements
from .model import Action, ActionKind, Plan, split_again
from ..analysis.classify import Decision
from ..exceptions import ActionRefusedError, UnknownActionError
from ..reading.objects import charge_dispute
from ..reading.snapshot import CaseSnapshot

__all__ = ["resolve_approvals", "validate"]

_REPEATABLE = (ActionKind.REFUND, ActionKind.CREDIT_NOTE)


def resolve_approvals(the_plan: Plan, approve: list[str]) -> list[Action]:
    """The approved actions in plan order; ``ID#N`` is the plan's ID as its Nth identical write;
    ``refund:ch_X:AMOUNT`` with an amount the plan did not propose joins the plan
    (:mod:`.amounts`)."""
    add_named_amounts(the_plan, approve)
    unknown: list[str] = []
    wanted: dict[str, list[str]] = {}
    for approval in dict.fromkeys(approve):
        base, nth = split_again(approval)
        if base not in the_plan.ids:
            unknown.append(approval)
            continue
        wanted.setdefault(base, []).append(approval)
        if nth > 1 and the_plan.get(base).kind not in _REPEATABLE:
            raise ActionRefusedError(f"{approval}: only a refund or a credit note can be repeated deliberately")
    if unknown:
        known = ", ".join(the_plan.ids) or "none"
        hints = "".join(f"; {h}" for h in dict.fromkeys(filter(None, (_hint(the_plan, u) for u in unknown))))
        raise UnknownActionError(f"approval names actions that are not in the plan: {', '.join(unknown)}{hints} "
                                 f"(planned: {known})")
    out: list[Action] = []
    for action in the_plan.actions:
        for approval in wanted.get(action.id, []):
            nth = split_again(approval)[1]
            out.append(action if nth == 1 else replace(
                action, id=approval, preview=f"{action.preview} Approved as {approval}: deliberately the "
                f"#{nth} identical write of this effect, not a repeat of the first."))
    return out


def _hint(the_plan: Plan, approval: str) -> str | None:
    """Why an approval names nothing, when its shape says so: an amount or seat count that is
    not a whole positive number (``refund:ch_X:30.00``, ``:-100``, ``quantity:sub_X:2.5``), or a
    target no action of that kind in the plan has."""
    parts = split_again(approval)[0].split(":")
    if len(parts) == 3 and parts[0] in (ActionKind.REFUND.value, ActionKind.CREDIT_NOTE.value,
                                        ActionKind.QUANTITY.value) and not parts[2].isdigit():
        what = "a seat count" if parts[0] == ActionKind.QUANTITY.value else "an amount in minor units (3000 for 30.00)"
        return f"{approval}: the last part must be {what}, a whole positive number"
    if len(parts) >= 2:
        targets = sorted({a.target for a in the_plan.actions if a.kind.value == parts[0]})
        if targets and parts[1] not in targets:
            return f"{approval}: this plan has no {parts[0]} on {parts[1]} (only on {', '.join(targets)})"
        if not targets and parts[0] in {k.value for k in ActionKind}:
            return f"{approval}: this plan proposes no {parts[0]} at all"
    return None


def validate(the_plan: Plan, approve: list[str], decision: Decision, snapshot: CaseSnapshot,
             done: Collection[str] = ()) -> list[Action]:
    """The approved actions in plan order, or a refusal before anything is written."""
    approved = resolve_approvals(the_plan, approve)
    groups: dict[str, str] = {}
    for action in approved:
        check_decision(action, decision)
        if action.exclusive:
            if action.exclusive in groups:
                raise ActionRefusedError(f"{action.id} and {groups[action.exclusive]} are alternatives "
                                         f"({action.exclusive}); approve one of them")
            groups[action.exclusive] = action.id
        charge = action.target if action.kind is ActionKind.REFUND else action.params.get("charge")
        if action.moves_money and charge and charge_dispute(snapshot, str(charge)) is not None:
            raise ActionRefusedError(f"{action.id}: charge {charge} is disputed; answer the dispute instead")
    check_requirements(approved, done)
    return approved
