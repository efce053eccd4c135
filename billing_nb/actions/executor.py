"""Execution that can't double-charge.

1. With any approval: ``settings.require_writable()`` (a live key needs ``--live``).
   Approvals that the plan no longer holds but the ledger shows completed (a re-run after
   the state changed) are reported as already_done.
2. Validate every approval before anything is written: unknown ids
   (UnknownActionError), two alternatives of one group, a pending decision or a
   money-moving action on ``unclear`` (ActionRefusedError).
3. Prepare every approved action, still writing nothing: already completed in the
   ledger (any case) or visible in Stripe with this action's metadata → already_done;
   a dangling begin (a crash between begin and finish) that Stripe does not show done →
   replay with *its* key, case and params, so Stripe's idempotency returns the original
   object if the write went through (the target guards are skipped: the change they
   would see may be our own write; Stripe still refuses a refund above what remains);
   otherwise refresh the target and run the guards (disputed, stale, above what remains
   refundable).
4. Act in plan order: ledger claim (an atomic begin that adopts the key of an unresolved
   begin, so two processes approving the same action make one Stripe object), the
   Stripe write, ledger finish. After a failed
   write the remaining actions are not run (status refused, with the reason), except
   documenting the case.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import stripe

from .guards import check_decision, check_target
from .model import Action, ActionKind, ExecutedAction, Plan, idempotency_key
from ..reading.objects import charge_dispute
from .writer import find_done, retrieve, write
from ..analysis.classify import Decision
from ..config import Settings
from ..exceptions import ActionRefusedError, StripeApiError, UnknownActionError
from .ledger import Ledger
from ..reading.snapshot import CaseSnapshot

__all__ = ["run", "validate"]

_NO_TARGET_READ = (ActionKind.PORTAL, ActionKind.DOCUMENT)


@dataclass(frozen=True)
class _Prepared:
    action: Action
    key: str
    meta_case: str  # the case named in metadata (the original case when replaying a crash)
    done: ExecutedAction | None = None


def validate(the_plan: Plan, approve: list[str], decision: Decision, snapshot: CaseSnapshot) -> list[Action]:
    """The approved actions in plan order, or a refusal before anything is written."""
    unknown = [a for a in dict.fromkeys(approve) if a not in the_plan.ids]
    if unknown:
        known = ", ".join(the_plan.ids) or "none"
        raise UnknownActionError(f"approval names actions that are not in the plan: {', '.join(unknown)} "
                                 f"(planned: {known})")
    wanted = set(approve)
    approved = [a for a in the_plan.actions if a.id in wanted]
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
    return approved


def _prepare(action: Action, *, case_id: str, client: stripe.StripeClient, ledger: Ledger,
             snapshot: CaseSnapshot) -> _Prepared:
    done = ledger.completed(action.id)
    if done is not None:
        return _Prepared(action, done.idempotency_key, done.case_id, ExecutedAction(
            action.id, done.idempotency_key, done.stripe_object, done.request_id, "already_done"))
    dangling = ledger.dangling(action.id)
    key, meta_case = (dangling.idempotency_key, dangling.case_id) if dangling else \
        (idempotency_key(case_id, action.id), case_id)
    # the checks' reads are independent of each other: one concurrent wave, not three in a row
    # (a refund's or credit note's earlier write is found by listing, without the target)
    charge_id = action.params.get("charge") if action.kind is ActionKind.CREDIT_NOTE and dangling is None else None
    listed = action.kind in (ActionKind.REFUND, ActionKind.CREDIT_NOTE)
    with ThreadPoolExecutor(max_workers=3) as pool:
        fresh_f = None if action.kind in _NO_TARGET_READ else pool.submit(retrieve, client, action.target)
        found_f = pool.submit(find_done, client, action, None) if listed else None
        charge_f = pool.submit(retrieve, client, str(charge_id)) if charge_id else None
    fresh = fresh_f.result() if fresh_f else None
    found = found_f.result() if found_f else find_done(client, action, fresh)
    if found is not None:
        return _Prepared(action, key, meta_case, ExecutedAction(action.id, key, found, None, "already_done"))
    if fresh is not None and dangling is None:
        charge = charge_f.result() if charge_f else None
        check_target(action, fresh, before=snapshot.by_id(action.target), charge=charge)
    return _Prepared(action, key, meta_case)


def _carried_out(action_id: str, *, case_id: str, client: stripe.StripeClient, ledger: Ledger) -> ExecutedAction | None:
    """An approval the plan no longer holds: done before (ledger), or written before a crash (Stripe)?

    A crash between the ledger's begin and finish leaves a dangling begin; when Stripe shows
    the write (the object carries this action's metadata) the ledger is finished here, so the
    re-run resolves it instead of refusing the approval.
    """
    done = ledger.completed(action_id)
    if done is not None:
        return ExecutedAction(action_id, done.idempotency_key, done.stripe_object, done.request_id, "already_done")
    dangling = ledger.dangling(action_id)
    parts = action_id.split(":")
    if dangling is None or len(parts) < 2 or parts[0] not in ActionKind.__members__.values():
        return None
    kind = ActionKind(parts[0])
    stub = Action(id=action_id, kind=kind, target=parts[1], step=0, preview="",
                  params={"mode": parts[2]} if kind is ActionKind.CANCEL and len(parts) > 2 else {})
    fresh = None if kind in _NO_TARGET_READ else retrieve(client, stub.target)
    found = find_done(client, stub, fresh)
    if found is None:
        return None
    ledger.finish(case_id, action_id, dangling.idempotency_key, status="already_done", stripe_object=found,
                  request_id=None)
    return ExecutedAction(action_id, dangling.idempotency_key, found, None, "already_done")


def run(the_plan: Plan, approve: list[str], *, case_id: str, client: stripe.StripeClient, ledger: Ledger,
        settings: Settings, snapshot: CaseSnapshot, decision: Decision,
        reveal: Callable[[str, str], None] | None = None) -> list[ExecutedAction]:
    if not approve:
        return []  # a dry run: the record lists the plan as proposed
    settings.require_writable()
    # An approval the current plan no longer holds because the action was already carried out
    # (a re-run after the state changed) is reported as already done, not refused.
    earlier: list[ExecutedAction] = []
    for action_id in dict.fromkeys(approve):
        if action_id not in the_plan.ids:
            found = _carried_out(action_id, case_id=case_id, client=client, ledger=ledger)
            if found is not None:
                earlier.append(found)
    approve = [a for a in approve if a not in {e.action_id for e in earlier}]
    approved = validate(the_plan, approve, decision, snapshot)
    if not approved:
        return earlier
    with ThreadPoolExecutor(max_workers=min(8, len(approved))) as pool:  # independent reads, in parallel
        prepared = list(pool.map(lambda a: _prepare(a, case_id=case_id, client=client, ledger=ledger,
                                                    snapshot=snapshot), approved))
    results: list[ExecutedAction] = list(earlier)
    failed: str | None = None
    for prep in prepared:
        action, key = prep.action, prep.key
        if prep.done is not None:
            ledger.finish(case_id, action.id, key, status="already_done", stripe_object=prep.done.stripe_object,
                          request_id=prep.done.request_id)
            results.append(prep.done)
            continue
        if failed is not None and action.kind is not ActionKind.DOCUMENT:
            why = f"not run: {failed} failed before it"
            ledger.finish(case_id, action.id, key, status="refused", stripe_object=None, request_id=None, error=why)
            results.append(ExecutedAction(action.id, key, None, None, "refused", why))
            continue
        claim = ledger.claim(case_id, action.id, key)
        if claim.done is not None:  # another process finished it since we prepared
            ledger.finish(case_id, action.id, claim.key, status="already_done",
                          stripe_object=claim.done.stripe_object, request_id=claim.done.request_id)
            results.append(ExecutedAction(action.id, claim.key, claim.done.stripe_object, claim.done.request_id,
                                          "already_done"))
            continue
        key = claim.key
        try:
            out = write(client, action, case_id=claim.case_id, key=key, reveal=reveal)
        except StripeApiError as exc:
            ledger.finish(case_id, action.id, key, status="failed", stripe_object=None, request_id=exc.request_id,
                          error=str(exc))
            results.append(ExecutedAction(action.id, key, None, exc.request_id, "failed", str(exc)))
            failed = action.id
            continue
        ledger.finish(case_id, action.id, key, status="succeeded", stripe_object=out.object_id,
                      request_id=out.request_id)
        results.append(ExecutedAction(action.id, key, out.object_id, out.request_id, "succeeded"))
    return results
