"""What the analyst names in an approval: ``refund:ch_X:1500`` approves a refund (or a credit
note) of an amount the plan did not propose, on a target the plan does refund;
``quantity:sub_X:N`` sets a per-seat subscription to N seats ("why am I paying for 5
seats?" is answered by the customer's own count, which no snapshot holds).

The plan proposes the amounts a case supports (the full charge, the unused time); a real
team also settles on a partial amount ("refund half"). Approving ``KIND:TARGET:AMOUNT``
takes the plan's own action of that kind on that target as its template (same reason, same
group of alternatives, so it cannot be approved beside another amount) and adds it to the
plan, where the guards then check it like any other: above what remains refundable is
refused before anything is written (RefundTooLargeError). A seat count is built from the
plan's :attr:`~.model.Plan.seats` (the live per-seat subscriptions); 0 seats, the count it
has, or a subscription not billed per seat is refused with the reason, and the guards refuse
it if the count changed since the snapshot.
"""

from __future__ import annotations

from dataclasses import replace

from . import catalogue as cat
from .model import Action, ActionKind, Plan, money_of_id, split_again
from ..exceptions import ActionRefusedError
from ..money import Money

__all__ = ["add_named_amounts", "named_amount", "named_seats"]


def named_amount(the_plan: Plan, approval: str) -> Action | None:
    """The action an approval of an unproposed amount names, or None when it names none
    (an unknown id stays unknown)."""
    base = split_again(approval)[0]
    if base in the_plan.ids:
        return None
    if base.startswith(f"{ActionKind.QUANTITY.value}:"):
        return named_seats(the_plan, base)
    named = money_of_id(base)
    if named is None:
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
    params = dict(template.params)
    swaps = [(str(template.amount), str(money))]
    if params.get("credit_amount"):  # the balance's share of the named amount, as the proposed one splits
        old = int(params["credit_amount"])
        params["credit_amount"] = old * amount // template.amount.amount
        cur = money.currency
        swaps += [(f"refund_amount {Money(template.amount.amount - old, cur)}",
                   f"refund_amount {Money(amount - params['credit_amount'], cur)}"),
                  (f"credit_amount {Money(old, cur)}", f"credit_amount {Money(params['credit_amount'], cur)}")]
    if params.get("out_of_band_amount"):  # the part going back outside Stripe, as the proposed one splits
        old_oob = int(params["out_of_band_amount"])
        params["out_of_band_amount"] = amount - int(params.get("credit_amount") or 0) \
            if old_oob == template.amount.amount - int(template.params.get("credit_amount") or 0) \
            else old_oob * amount // template.amount.amount
        swaps.append((f"out_of_band_amount {Money(old_oob, money.currency)}",
                      f"out_of_band_amount {Money(params['out_of_band_amount'], money.currency)}"))
    preview = template.preview.replace(template.id, base)
    for was, now in swaps:
        preview = preview.replace(was, now)
    return replace(template, id=base, amount=money, params=params,
                   preview=f"{preview} Amount named in the approval (the plan proposed {template.amount} for "
                           f"this {what}).",
                   why=f"the analyst approved {money} instead of the proposed {template.amount}"
                       + (f"; {template.why}" if template.why else ""))


def named_seats(the_plan: Plan, approval: str) -> Action | None:
    """The seat change ``quantity:sub_X:N`` names (None: not that form, so it stays unknown)."""
    parts = approval.split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        return None
    sub, wanted = parts[1], int(parts[2])
    if sub not in the_plan.seats:
        billed = ", ".join(the_plan.seats) or "none"
        raise ActionRefusedError(f"{approval}: {sub} is not a live subscription billed per seat in this case "
                                 f"(per-seat subscriptions: {billed})")
    item, now, unit = the_plan.seats[sub]
    if wanted < 1:
        raise ActionRefusedError(f"{approval}: 0 seats ends the subscription; approve its cancel instead")
    if wanted == now:
        raise ActionRefusedError(f"{approval}: {sub} already has {now} seats")
    action = cat.quantity(sub, item, wanted, now, unit)
    return replace(action, preview=f"{action.preview} Seat count named in the approval.",
                   why=f"the analyst approved {wanted} seats (it has {now})")


def add_named_amounts(the_plan: Plan, approve: list[str]) -> list[Action]:
    """Put every approved unproposed amount into the plan, beside its template, so the
    record and the handoff show what was approved; the actions added."""
    added: list[Action] = []
    for approval in dict.fromkeys(approve):
        action = named_amount(the_plan, approval)
        if action is None:  # proposed already, unknown, or added by an earlier approval
            continue
        # beside its template (the same kind and target), else after the last action of its step
        near = [i for i, a in enumerate(the_plan.actions) if a.kind is action.kind and a.target == action.target]
        at = max(near) if near else max((i for i, a in enumerate(the_plan.actions) if a.step <= action.step),
                                        default=-1)
        the_plan.actions.insert(at + 1, action)
        added.append(action)
    return added
