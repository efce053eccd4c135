"""Execution that can't double-charge.

An action's identity is its *effect* (:func:`~billing_nb.actions.model.idempotency_key`):
the same key from any case, ledger or machine; the case only travels in metadata.

1. With any approval: ``settings.require_writable()`` (a live key needs ``--live``).
   Approvals that the plan no longer holds but the ledger shows completed (a re-run after
   the state changed) are reported as already_done. ``ID#N`` approves the Nth identical
   refund or credit note deliberately (a different effect, so a different key).
2. Validate every approval before anything is written (:mod:`.approvals`): unknown ids
   (UnknownActionError; an unproposed amount of a planned refund or credit note joins the
   plan instead, see :mod:`.amounts`), two alternatives of one group, a pending decision or a
   money-moving action on ``unclear``, or an action whose ``requires`` is neither approved
   with it nor done before (the unused-time credit note without its cancel, a retry
   without a changed card or portal session) (ActionRefusedError).
3. Prepare every approved action, still writing nothing: the effect completed in the
   ledger (any case) or visible in Stripe (the object with this action id in metadata and
   its amount, the subscription's state) → already_done; otherwise refresh the target and
   run the guards (disputed, stale, above what remains refundable). An effect with a begin
   and no finish (a crash, or another process writing now) is left to step 4.
4. Act in plan order, each effect under the ledger's per-effect lock: claim (completed
   meanwhile → already_done; a dead run's begin → look in Stripe: found → ``recovered``,
   counted by this record; not found → replay with the dead run's case, same key), the
   Stripe write, the ledger finish, then ``progress(result)`` so the record is saved
   after every write. A write that errors is looked up in Stripe before it is called
   failed: it may have landed (then succeeded) or another case's write of the same effect
   may hold the key (idempotency_error → already_done). After a failed write the
   remaining actions are not run (status refused), except documenting the case.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from dataclasses import dataclass

import stripe

from .approvals import resolve_approvals, validate
from .crashpoints import crash_point
from .guards import check_target
from .model import (AGAIN_SEP, REFUND_FAILED, REFUND_FAILED_STATUSES, Action, ActionKind, ExecutedAction, Plan,
                    idempotency_key, split_again)
from .writer import Found, failed_refund, find_done, listed, retrieve, settle, write
from ..analysis.classify import Decision
from ..config import Settings
from ..exceptions import StripeApiError
from .ledger import Ledger
from ..reading.snapshot import CaseSnapshot

__all__ = ["run", "validate", "resolve_approvals"]

_NO_TARGET_READ = (ActionKind.PORTAL, ActionKind.DOCUMENT)
_REPEATABLE = (ActionKind.REFUND, ActionKind.CREDIT_NOTE)
Progress = Callable[[ExecutedAction], None]


@dataclass(frozen=True)
class _Prepared:
    action: Action
    key: str
    done: ExecutedAction | None = None


def _fresh(client: stripe.StripeClient, action: Action) -> dict[str, object] | None:
    return None if action.kind in _NO_TARGET_READ else retrieve(client, action.target)


_Reads = dict[str, "Future[Any]"]


def _read_ahead(pool: ThreadPoolExecutor, client: stripe.StripeClient, action: Action) -> _Reads:
    """Every Stripe read :func:`_prepare` may need for ``action``, started now: the fresh
    target, its refunds / credit notes, a credit note's charge. A plan's reads form one
    concurrent wave; an error surfaces only where :func:`_prepare` uses the read."""
    reads: _Reads = {}
    if action.kind not in _NO_TARGET_READ:
        reads["fresh"] = pool.submit(retrieve, client, action.target)
    if action.kind in _REPEATABLE:
        reads["listed"] = pool.submit(listed, client, action)
    charge_id = action.params.get("charge") if action.kind is ActionKind.CREDIT_NOTE else None
    if charge_id:
        reads["charge"] = pool.submit(retrieve, client, str(charge_id))
    return reads


def _refund_failed(action: Action, key: str, refund: dict[str, Any]) -> ExecutedAction:
    """The record of an approved refund whose earlier write Stripe later failed: not counted, not
    done, and not retried under its key (Stripe would answer it with the same failed refund)."""
    base, nth = split_again(action.id)
    why = (f"refund {refund.get('id')} of this effect is {refund.get('status')}"
           f" ({refund.get('failure_reason') or 'no reason given'}): the money did not reach the customer"
           " and went back to the account's balance. Its key only replays that refund, so it is not retried:"
           " remedy it with a new effect (a credit to the customer's balance, an out-of-band refund, or"
           f" {base}{AGAIN_SEP}{nth + 1} to refund the card again)")
    return ExecutedAction(action.id, key, str(refund.get("id")), None, REFUND_FAILED, why,
                          str(refund.get("status") or "failed"))


def _prepare(action: Action, *, case_id: str, client: stripe.StripeClient, ledger: Ledger,
             snapshot: CaseSnapshot, reads: _Reads | None = None) -> _Prepared:
    key = idempotency_key(action, case_id)
    if action.kind is ActionKind.REFUND:  # before the ledger: a refund it holds as done may have failed since
        objects = reads["listed"].result() if reads and "listed" in reads else listed(client, action)
        failed = failed_refund(action, objects or [])
        if failed is not None:
            return _Prepared(action, key, _refund_failed(action, key, failed))
    done = ledger.completed_effect(key)
    if done is not None:
        return _Prepared(action, key, ExecutedAction(action.id, key, done.stripe_object, done.request_id,
                                                     "already_done"))
    reads = reads or {}
    dangling = ledger.dangling_effect(key)
    fresh = reads["fresh"].result() if "fresh" in reads else _fresh(client, action)
    if dangling is not None:
        return _Prepared(action, key)  # resolved under the effect's lock (step 4)
    found = find_done(client, action, fresh, reads["listed"].result() if "listed" in reads else None)
    if found is not None:
        return _Prepared(action, key, ExecutedAction(action.id, key, found.object_id, None, "already_done",
                                                     stripe_status=found.status))
    if fresh is not None:
        charge_id = action.params.get("charge") if action.kind is ActionKind.CREDIT_NOTE else None
        charge = (reads["charge"].result() if "charge" in reads else retrieve(client, str(charge_id))) \
            if charge_id else None
        check_target(action, fresh, before=snapshot.by_id(action.target), charge=charge)
    return _Prepared(action, key)


def _settled(client: stripe.StripeClient, action: Action, result: ExecutedAction) -> ExecutedAction:
    """``result`` of a write found done, not made by this run (already_done, recovered, landed after an
    error): what the write owes after its main call is finished now (:func:`.writer.settle`: a cancel
    now's pending proration items, which a run killed between the cancel and their deletes left)."""
    why = settle(client, action, result.idempotency_key)
    return replace(result, error=f"{action.id} landed, but {why}") if why else result


def _stub(action_id: str) -> Action | None:
    """An action rebuilt from its id alone (kind, target, mode, amount), to look for it in Stripe."""
    from ..money import Money

    parts = split_again(action_id)[0].split(":")
    if len(parts) < 2 or parts[0] not in ActionKind.__members__.values():
        return None
    kind = ActionKind(parts[0])
    amount = Money(int(parts[2]), "usd") if kind in _REPEATABLE and len(parts) > 2 and parts[2].isdigit() else None
    params: dict[str, object] = {"mode": parts[2]} if kind is ActionKind.CANCEL and len(parts) > 2 else {}
    return Action(id=action_id, kind=kind, target=parts[1], step=0, preview="", amount=amount, params=params)


def _carried_out(action_id: str, *, case_id: str, client: stripe.StripeClient, ledger: Ledger) -> ExecutedAction | None:
    """An approval the plan no longer holds: done before (ledger), or written before a crash (Stripe)?

    A crash between the ledger's begin and finish leaves a dangling begin; when Stripe shows
    the write (the object carries this action's metadata) this run finishes it as
    ``recovered`` when the object names the dead run's case (this record counts it).
    """
    done = ledger.completed(action_id)
    stub = _stub(action_id)
    if done is not None and stub is not None and stub.kind is ActionKind.REFUND:
        failed = failed_refund(stub, listed(client, stub) or [])
        if failed is not None:  # carried out, then failed by Stripe: neither done nor counted
            result = _refund_failed(stub, done.idempotency_key, failed)
            ledger.finish(case_id, action_id, done.idempotency_key, status=REFUND_FAILED,
                          stripe_object=result.stripe_object, request_id=None, error=result.error)
            return result
    if done is not None:  # this case's finish too: the audit matches every record's executed to one
        ledger.finish(case_id, action_id, done.idempotency_key, status="already_done",
                      stripe_object=done.stripe_object, request_id=done.request_id)
        result = ExecutedAction(action_id, done.idempotency_key, done.stripe_object, done.request_id, "already_done")
        return _settled(client, stub, result) if stub is not None else result
    dangling = ledger.dangling(action_id)
    if stub is None or dangling is None:
        return None
    with ledger.lock(dangling.idempotency_key):
        again = ledger.completed(action_id)
        if again is not None:
            ledger.finish(case_id, action_id, again.idempotency_key, status="already_done",
                          stripe_object=again.stripe_object, request_id=again.request_id)
            return _settled(client, stub, ExecutedAction(action_id, again.idempotency_key, again.stripe_object,
                                                         again.request_id, "already_done"))
        found = find_done(client, stub, _fresh(client, stub))
        if found is None:
            return None
        status = "recovered" if found.case_id == dangling.case_id else "already_done"
        ledger.finish(case_id, action_id, dangling.idempotency_key, status=status, stripe_object=found.object_id,
                      request_id=None)
        return _settled(client, stub, ExecutedAction(action_id, dangling.idempotency_key, found.object_id, None,
                                                     status))


def _after_error(client: stripe.StripeClient, action: Action, meta_case: str, exc: StripeApiError
                 ) -> tuple[str, Found | None]:
    """A write raised: did it land after all (ours), or does another case's write hold the effect?

    ``("succeeded" | "already_done", found)``, ``("failed", None)`` when Stripe shows nothing,
    ``("unknown", None)`` when Stripe cannot even be asked.
    """
    tries = 3 if exc.code == "idempotency_error" else 1  # the other write may still be in flight
    for attempt in range(tries):
        try:
            found = find_done(client, action, _fresh(client, action))
        except StripeApiError:
            return "unknown", None
        if found is not None:
            return ("succeeded" if found.case_id == meta_case else "already_done"), found
        if attempt + 1 < tries:
            time.sleep(0.5 * (attempt + 1))
    return "failed", None


def _locked_write(action: Action, key: str, *, case_id: str, client: stripe.StripeClient, ledger: Ledger,
                  reveal: Callable[[str, str], None] | None, background: ThreadPoolExecutor | None = None
                  ) -> ExecutedAction:
    """Claim, write and finish one effect; the caller holds the effect's lock."""
    claim = ledger.claim(case_id, action.id, key)
    crash_point("begun")
    if claim.done is not None:  # another process of this folder finished it since we prepared
        ledger.finish(case_id, action.id, key, status="already_done", stripe_object=claim.done.stripe_object,
                      request_id=claim.done.request_id)
        return ExecutedAction(action.id, key, claim.done.stripe_object, claim.done.request_id, "already_done")
    if claim.recovering:  # a dead run began this effect: did its write land?
        found = find_done(client, action, _fresh(client, action))
        if found is not None:
            status = "recovered" if found.case_id in (claim.case_id, None) else "already_done"
            ledger.finish(case_id, action.id, key, status=status, stripe_object=found.object_id, request_id=None)
            return _settled(client, action, ExecutedAction(action.id, key, found.object_id, None, status,
                                                           stripe_status=found.status))
    try:
        out = write(client, action, case_id=claim.case_id, key=key, reveal=reveal, background=background)
    except StripeApiError as exc:
        verdict, found = _after_error(client, action, claim.case_id, exc)
        if found is not None:
            ledger.finish(case_id, action.id, key, status=verdict, stripe_object=found.object_id,
                          request_id=exc.request_id)
            return _settled(client, action, ExecutedAction(action.id, key, found.object_id, exc.request_id, verdict,
                                                           stripe_status=found.status))
        if verdict == "unknown":  # leave the begin open: the next run resolves it against Stripe
            why = f"{exc}; whether it reached Stripe is unknown (Stripe could not be asked): the next run resolves it"
            return ExecutedAction(action.id, key, None, exc.request_id, "failed", why)
        ledger.finish(case_id, action.id, key, status="failed", stripe_object=None, request_id=exc.request_id,
                      error=str(exc))
        return ExecutedAction(action.id, key, None, exc.request_id, "failed", str(exc))
    crash_point("written")
    status = "recovered" if claim.recovering else "succeeded"
    error = None
    if action.kind is ActionKind.REFUND and out.status in REFUND_FAILED_STATUSES:
        # the key replayed a refund Stripe has failed since: nothing reached the customer
        status, error = REFUND_FAILED, f"Stripe answered with refund {out.object_id}, which is {out.status}"
    ledger.finish(case_id, action.id, key, status=status, stripe_object=out.object_id, request_id=out.request_id,
                  error=error)
    crash_point("finished")
    return ExecutedAction(action.id, key, out.object_id, out.request_id, status, error, out.status)


def run(the_plan: Plan, approve: list[str], *, case_id: str, client: stripe.StripeClient, ledger: Ledger,
        settings: Settings, snapshot: CaseSnapshot, decision: Decision,
        reveal: Callable[[str, str], None] | None = None, progress: Progress | None = None) -> list[ExecutedAction]:
    if not approve:
        return []  # a dry run: the record lists the plan as proposed
    settings.require_writable()
    # An approval the current plan no longer holds because the action was already carried out
    # (a re-run after the state changed) is reported as already done, not refused.
    earlier: list[ExecutedAction] = []
    for action_id in dict.fromkeys(approve):
        if split_again(action_id)[0] not in the_plan.ids:
            found = _carried_out(action_id, case_id=case_id, client=client, ledger=ledger)
            if found is not None:
                earlier.append(found)
    approve = [a for a in approve if a not in {e.action_id for e in earlier}]
    done = {r for a in the_plan.actions for r in (*a.requires, *a.together) if ledger.completed(r) is not None}
    for item in earlier:
        if progress is not None:
            progress(item)
    approved = validate(the_plan, approve, decision, snapshot, done)
    if not approved:
        return earlier
    with ThreadPoolExecutor(max_workers=16) as pool:  # every approved action's reads: one wave
        ahead = [_read_ahead(pool, client, a) for a in approved]
        prepared = list(pool.map(lambda a, r: _prepare(a, case_id=case_id, client=client, ledger=ledger,
                                                       snapshot=snapshot, reads=r), approved, ahead))
    saving = threading.Lock()  # progress saves the record: one at a time

    def report(result: ExecutedAction) -> None:
        if progress is not None:
            with saving:
                progress(result)
                crash_point("counted")

    def act(prep: _Prepared, background: ThreadPoolExecutor) -> ExecutedAction:
        with ledger.lock(prep.key):
            return _locked_write(prep.action, prep.key, case_id=case_id, client=client, ledger=ledger,
                                 reveal=reveal, background=background)

    outcome: dict[str, ExecutedAction] = {}
    failed: str | None = None
    with ThreadPoolExecutor(max_workers=4) as background:
        # documenting the case depends on no other write (and is tried even after one failed):
        # it runs beside the writes, which keep plan order (a failed one stops those after it)
        documents = {p.action.id: background.submit(act, p, background) for p in prepared
                     if p.done is None and p.action.kind is ActionKind.DOCUMENT}
        for prep in prepared:
            action, key = prep.action, prep.key
            if action.id in documents:
                continue
            if prep.done is not None:
                ledger.finish(case_id, action.id, key, status=prep.done.status, stripe_object=prep.done.stripe_object,
                              request_id=prep.done.request_id, error=prep.done.error)
                result = _settled(client, action, prep.done)
            elif failed is not None:
                why = f"not run: {failed} failed before it"
                ledger.finish(case_id, action.id, key, status="refused", stripe_object=None, request_id=None,
                              error=why)
                result = ExecutedAction(action.id, key, None, None, "refused", why)
            else:
                result = act(prep, background)
                if result.status == "failed":
                    failed = action.id
            outcome[action.id] = result
            report(result)
        for action_id, future in documents.items():
            outcome[action_id] = future.result()
            report(outcome[action_id])
    return list(earlier) + [outcome[p.action.id] for p in prepared]
