"""Display of each step in a notebook: DataFrames and markdown, nothing else.

Each function renders one step of a :class:`~billing_nb.records.case.Case` with
``IPython.display``; called directly in unattended runs and inside Output widgets when
the analyst drives the case from JupyterLab.
"""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown, display

from ..records.case import Case
from ..records.markup import escape_md as e, no_math
from ..analysis.contract import options_frame, shapes_frame

__all__ = ["show_identity", "show_classification", "show_act", "show_gaps", "show_handoff"]


def _md(text: str) -> None:
    """Markdown we wrote (foreign values inside already escaped with ``e``), with no ``$`` math."""
    display(Markdown(no_math(text)))


def _frame(frame: pd.DataFrame) -> None:
    """A table: pandas escapes its HTML; ``$`` in any cell is kept out of MathJax's reach."""
    display(frame.map(lambda v: no_math(v) if isinstance(v, str) else v))


def show_identity(case: Case) -> None:
    s = case.summary
    others = ", ".join(s.other_customer_ids) or "none"
    _md(f"**Customer** `{s.customer_id}` ({e(s.email_masked or 'no email')}); other customer objects: {e(others)}. "
        f"Case time: {case.snapshot.now:%Y-%m-%d %H:%M:%S} UTC.")
    if s.truncated:
        _md("**Incomplete read:** " + "; ".join(f"{e(t['list'])} stopped after {t['read']} objects" for t in s.truncated)
            + ". Stripe had more; older objects are not in this case.")
    held = s.credits.credit_held
    if held is not None:
        _md(f"**Balance credit:** the customer already holds {held} (refund options are net of it).")
    for name, frame in s.frames().items():
        if frame.empty:
            continue
        _md(f"#### {name.replace('_', ' ').capitalize()}")
        _frame(frame)
    if not s.anomalies:
        _md("No anomalies found.")


def show_classification(case: Case) -> None:
    c = case.classification
    _md(f"**Suggested bucket:** `{c.suggested.value}` (confidence {c.confidence:.0%})")
    _md("**Evidence**\n\n" + "\n".join(f"- {e(line)}" for line in c.evidence))
    if c.against:
        _md("**Against**\n\n" + "\n".join(f"- {e(line)}" for line in c.against))


def show_decision(case: Case) -> None:
    d = case.decision
    if d.pending:
        _md("**Decision pending**: no bucket confirmed. Nothing will be planned to move money; "
            "the case is recorded as `pending`.")
    else:
        assert d.bucket is not None
        _md(f"**Decision:** `{d.bucket.value}`, confirmed by {e(d.confirmed_by)}.")


def show_act(case: Case) -> None:
    _md("#### Contract shape")
    if case.shapes:
        _frame(shapes_frame(case.shapes))
    else:
        _md("No subscriptions.")
    if case.options:
        _md("#### Refund options (ours beside Stripe's)")
        _frame(options_frame(case.options))
        if any(o.mismatch for o in case.options):
            _md("**Mismatch:** our figure and Stripe's differ; do not refund until explained.")
    _md("#### Plan (reversible first)")
    plan = case.plan
    if plan is None or not plan.actions:
        _md("No actions planned.")
    else:
        _frame(pd.DataFrame([a.as_case_json() for a in plan.actions]).set_index("id"))
    for note in (plan.notes if plan else []):
        _md(f"> {e(note)}")
    if case.executed:
        _md("#### Executed")
        _frame(pd.DataFrame([x.as_case_json() for x in case.executed]))
    elif plan and plan.actions:
        _md("Dry run: nothing executed (no approval).")


def show_gaps(case: Case) -> None:
    if not case.gaps:
        _md("No operator-side product gap identified.")
        return
    for gap in case.gaps:
        ev = "\n".join(f"  - {e(x)}" for x in gap.evidence)
        _md(f"- **{e(gap.title)}** (`{gap.kind}`, {gap.severity})\n{ev}\n  - Suggestion: {e(gap.suggestion)}")


def show_handoff(case: Case) -> None:
    _md(case.record()["handoff"])
