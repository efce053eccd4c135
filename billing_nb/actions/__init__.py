"""Step 3: the action catalogue, the reversible-first plan, and idempotent execution.

Order of a plan (the rule of the trade): 1 restore self-serve (portal session with a
deep link), 2 fix the duplicate or broken state, 3 refund only the affected charge,
4 document the reason. Nothing executes without an approval naming the action id;
every write carries an idempotency key derived from its effect (the Stripe object and what
the write does to it; the case id only travels in metadata), and the executor checks the
ledger and Stripe before it acts.

The pieces live in ``actions_*`` modules: ``actions_model`` (the data),
``actions_catalogue`` (ids and previews), ``actions_guards`` (refusals),
``actions_plan`` (per-bucket rules), ``actions_exec`` (the writes),
``actions_impact`` (revenue impact). This module is the public face.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import stripe

from .amounts import add_named_amounts
from .executor import run
from .revenue import impact, proposed
from .model import Action, ActionKind, ExecutedAction, Plan, idempotency_key
from .planner import build_plan
from ..analysis.classify import Decision
from ..config import Settings
from ..analysis.contract import ContractShape, RefundOption
from ..analysis.identify import IdentitySummary
from .ledger import Ledger
from ..reading.snapshot import CaseSnapshot

__all__ = ["add_named_amounts", "ActionKind", "Action", "Plan", "ExecutedAction", "idempotency_key", "plan", "execute", "revenue_impact", "proposed_impact"]


def plan(
    snapshot: CaseSnapshot,
    summary: IdentitySummary,
    decision: Decision,
    shapes: list[ContractShape],
    options: list[RefundOption],
    *,
    seats: int | None = None,
    complaint: str = "",
) -> Plan:
    """The ordered plan for the confirmed bucket (empty while pending). ``seats``: a team's wanted seat count;
    ``complaint``: the customer's words (a seat reduction needs them, or the state, to say seats are unused)."""
    return build_plan(snapshot, summary, decision, shapes, options, seats=seats, complaint=complaint)


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
    reveal: Callable[[str, str], None] | None = None,
    progress: Callable[[ExecutedAction], None] | None = None,
) -> list[ExecutedAction]:
    """Run exactly the approved actions, in plan order; see :mod:`billing_nb.actions.executor`.

    ``reveal(action_id, url)`` receives each portal session's URL (a bearer link that is
    never stored in the results or the ledger) so the caller can show it once;
    ``progress(result)`` is called after each action's ledger finish (the record saves there).
    """
    return run(the_plan, approve, case_id=case_id, client=client, ledger=ledger, settings=settings,
               snapshot=snapshot, decision=decision, reveal=reveal, progress=progress)


def revenue_impact(the_plan: Plan, executed: list[ExecutedAction], snapshot: CaseSnapshot) -> dict[str, Any]:
    """refunded, credited, mrr_change, arr_change (Money dicts) of the actions that succeeded in this run."""
    return impact(the_plan, executed, snapshot)


def proposed_impact(the_plan: Plan, snapshot: CaseSnapshot) -> dict[str, Any]:
    """The same figures if the plan were approved whole (first of each group of alternatives)."""
    return proposed(the_plan, snapshot)
