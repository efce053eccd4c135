"""Guards: when an action does not apply, refuse it with the reason.

The same checks run twice: when planning (on the snapshot's objects, so a refused
action is never offered) and just before execution (on freshly retrieved objects,
compared with the snapshot's copy, so a target that changed since is refused).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from .model import Action, ActionKind
from ..analysis.classify import Bucket, Decision
from ..exceptions import ActionRefusedError, RefundTooLargeError, StaleTargetError
from ..money import Money
from ..reading.objects import invoice_refundable, refundable
from ..reading.rows import paid_from_balance

__all__ = ["check_decision", "check_requirements", "check_target", "refusal", "seat_limit"]

_ENDED = ("canceled", "incomplete_expired")


def seat_limit(seats: int) -> int:
    """The most seats a case may set a subscription of ``seats`` to: double, or five more,
    whichever is larger. A case answers "why am I paying for N seats?"; an increase beyond this
    is a typo far more often than a request (100000000 for 10 would bill millions), and the
    next invoice would charge it at once."""
    return max(2 * seats, seats + 5)


def check_decision(action: Action, decision: Decision) -> None:
    """Pending decisions allow nothing; ``unclear`` allows nothing that moves money."""
    if decision.bucket is None:
        raise ActionRefusedError(f"{action.id}: the case is pending (no confirmed bucket); nothing executes")
    if decision.bucket is Bucket.UNCLEAR and action.moves_money:
        raise ActionRefusedError(f"{action.id}: the case is classified unclear; no money-moving action")


def check_requirements(approved: list[Action], done: Collection[str] = ()) -> None:
    """Refuse, before any write, an approval whose required action (one of ``requires``, every one of
    ``together``) is neither approved nor done before."""
    ids = {a.id for a in approved} | set(done)
    for action in approved:
        if action.requires and not ids & set(action.requires):
            need = " or ".join(action.requires)
            raise ActionRefusedError(f"{action.id} requires {need}: approve it too "
                                     f"({action.why or 'the one pays for or enables the other'})")
        missing = [t for t in action.together if t not in ids]
        if missing:
            raise ActionRefusedError(f"{action.id} is one part of a refund split over {len(action.together) + 1} "
                                     f"paid invoices: approve it with {', '.join(missing)} (all parts, or none)")


def _changed(field: str, fresh: dict[str, Any], before: dict[str, Any] | None) -> bool:
    return before is not None and (fresh.get(field) or 0) != (before.get(field) or 0)


def _money_back(action: Action, charge: dict[str, Any] | None, remaining: int, before: dict[str, Any] | None,
                fresh: dict[str, Any]) -> None:
    amount = action.amount or Money(0, "usd")
    if charge is not None:
        if charge.get("disputed"):
            raise ActionRefusedError(f"{action.id}: charge {charge.get('id')} is disputed; answer the dispute "
                                     "instead of refunding")
        if str(charge.get("currency", amount.currency)).lower() != amount.currency:
            raise ActionRefusedError(f"{action.id}: amount is in {amount.currency}, the charge in "
                                     f"{charge.get('currency')}")
    if amount.amount <= 0:
        raise ActionRefusedError(f"{action.id}: nothing to refund")
    if amount.amount > remaining:
        raise RefundTooLargeError(f"{action.id}: {amount} is above what remains refundable "
                                  f"({Money(max(0, remaining), amount.currency)})")
    if before is not None and any(_changed(f, fresh, before) for f in ("amount_refunded",
                                                                        "post_payment_credit_notes_amount")):
        raise StaleTargetError(f"{action.id}: {fresh.get('id')} was refunded or credited since the snapshot; "
                               "re-plan the case")


def _balance_part(action: Action, fresh: dict[str, Any], charge: dict[str, Any] | None, credit: int) -> None:
    """A credit note's ``credit_amount`` returns to the customer's balance what the balance paid of the
    invoice (``ending_balance - starting_balance``), never more; its refund part is the card's, at most
    what the invoice and its charge still refund (checked with the total below); the whole at most what
    the invoice still credits (its total less the credit notes after payment)."""
    amount = action.amount or Money(0, "usd")
    paid = max(0, paid_from_balance(fresh))
    if credit > paid:
        raise RefundTooLargeError(f"{action.id}: {Money(credit, amount.currency)} back to the balance is above what "
                                  f"the balance paid of {fresh.get('id')} ({Money(paid, amount.currency)})")
    if credit > amount.amount:
        raise ActionRefusedError(f"{action.id}: its balance part is above the credit note's amount")
    left = int(fresh.get("total") or 0) - int(fresh.get("post_payment_credit_notes_amount") or 0)
    if amount.amount > left:
        raise RefundTooLargeError(f"{action.id}: {amount} is above what invoice {fresh.get('id')} can still credit "
                                  f"({Money(max(0, left), amount.currency)})")


def check_target(action: Action, fresh: dict[str, Any], *, before: dict[str, Any] | None = None,
                 charge: dict[str, Any] | None = None) -> None:
    """Refuse the action if its target (``fresh``) does not allow it, or changed since ``before``."""
    status = fresh.get("status")
    if action.kind is ActionKind.REFUND:
        remaining = refundable(fresh)  # captured less refunded: never above what was paid
        if fresh.get("refunded") or status not in (None, "succeeded"):
            raise StaleTargetError(f"{action.id}: charge {fresh.get('id')} is {status}, refunded={fresh.get('refunded')}")
        _money_back(action, fresh, remaining, before, fresh)
    elif action.kind is ActionKind.CREDIT_NOTE:
        if status != "paid":
            raise StaleTargetError(f"{action.id}: invoice {fresh.get('id')} is {status}, not paid")
        credit = int(action.params.get("credit_amount") or 0)
        if credit:
            _balance_part(action, fresh, charge, credit)
        if int(action.params.get("out_of_band_amount") or 0) and charge is not None:
            # money given back outside Stripe is for an invoice paid outside Stripe; a card-paid one is refunded
            raise ActionRefusedError(f"{action.id}: invoice {fresh.get('id')} was paid by charge {charge.get('id')}: "
                                     "refund it to the card, not outside Stripe (out_of_band_amount)")
        # the card's part at most what the invoice and its charge still refund (never below 0: credit
        # notes that credited a balance-paid invoice back to the balance refunded no card), the balance's
        # part checked above
        remaining = max(0, invoice_refundable(fresh, charge)) + credit
        _money_back(action, charge, remaining, before, fresh)
    elif action.kind in (ActionKind.CANCEL, ActionKind.QUANTITY, ActionKind.DEFAULT_PM):
        if status in _ENDED:
            raise StaleTargetError(f"{action.id}: subscription {fresh.get('id')} is already {status}")
        if action.kind is ActionKind.CANCEL and action.params.get("mode") == "at_period_end" and \
                fresh.get("cancel_at_period_end"):
            raise StaleTargetError(f"{action.id}: {fresh.get('id')} is already set to cancel at period end")
        if action.kind is ActionKind.QUANTITY:
            items = {i.get("id"): i for i in ((fresh.get("items") or {}).get("data") or [])}
            item = items.get(action.params.get("item"))
            if item is None or int(item.get("quantity") or 0) != int(action.params.get("old") or 0):
                raise StaleTargetError(f"{action.id}: the seat count changed since the snapshot")
            limit = seat_limit(int(action.params.get("old") or 0))
            if int(action.params.get("quantity") or 0) > limit:
                raise ActionRefusedError(
                    f"{action.id}: {int(action.params.get('quantity') or 0):,} seats is far above the "
                    f"{int(action.params.get('old') or 0)} it has (a typo?); a case raises a seat count to "
                    f"{limit} at most: make a larger increase in the Dashboard")
    elif action.kind in (ActionKind.RETRY, ActionKind.VOID):
        if status != "open":
            raise StaleTargetError(f"{action.id}: invoice {fresh.get('id')} is {status}, not open")
    elif action.kind is ActionKind.SCHEDULE:
        _schedule_target(action, fresh)


def _schedule_target(action: Action, fresh: dict[str, Any]) -> None:
    """A schedule change needs the schedule still driving its subscription, with the phases the plan
    was made on (a phase changed since would be overwritten), and a sane seat count."""
    status = fresh.get("status")
    if status not in ("not_started", "active"):
        raise StaleTargetError(f"{action.id}: subscription schedule {fresh.get('id')} is {status}; it no longer "
                               "manages the subscription: re-plan the case")
    seen = action.params.get("seen") or []
    start = int(seen[0][0]) if seen else 0
    now = [[int(p["start_date"]), int(p["end_date"]),
            [[str(i["price"]["id"] if isinstance(i.get("price"), dict) else i["price"]), int(i.get("quantity") or 1)]
             for i in p.get("items") or []]]
           for p in fresh.get("phases") or [] if int(p["end_date"]) > start]
    if seen and now != [[s[0], s[1], [list(i) for i in s[2]]] for s in seen]:
        raise StaleTargetError(f"{action.id}: the phases of {fresh.get('id')} changed since the snapshot; re-plan the case")
    if action.params.get("mode") == "seats":
        old, new = int(action.params.get("old") or 0), int(action.params.get("quantity") or 0)
        if new > seat_limit(old):
            raise ActionRefusedError(f"{action.id}: {new:,} seats is far above the {old} it has (a typo?); a case "
                                     f"raises a seat count to {seat_limit(old)} at most: make a larger increase in "
                                     "the Dashboard")


def refusal(action: Action, fresh: dict[str, Any] | None, **kw: Any) -> str | None:
    """The guard's reason as text (None when the action applies); for the planner's notes."""
    if fresh is None:
        return None
    try:
        check_target(action, fresh, **kw)
    except ActionRefusedError as exc:
        return str(exc)
    return None
