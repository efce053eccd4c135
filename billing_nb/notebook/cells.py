"""What the case notebook's cells call: one method per step.

Unattended (``interactive=False``) each step renders straight into its cell, taking the
bucket and approvals from the parameters. Interactive, step 2 shows the picker and
steps 3-5 show Output widgets that the Confirm and Execute handlers fill.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
from IPython.display import display

from . import views
from ..records.case import Case, open_case
from ..analysis.classify import Bucket
from ..exceptions import NeedsConfirmationError
from .widgets import ActionChecklist, BucketPicker

__all__ = ["CaseNotebook", "start_case"]


class CaseNotebook:
    """Drives a :class:`Case` from notebook cells."""

    def __init__(self, case: Case, *, interactive: bool) -> None:
        self.case = case
        self.interactive = interactive
        self.outputs = {name: w.Output() for name in ("act", "gaps", "handoff")}
        self.links = w.HTML("")  # portal links: shown live, never written to the record
        self.picker: BucketPicker | None = None
        self.checklist: ActionChecklist | None = None

    # ----- steps ----------------------------------------------------------------------
    def step1_identify(self) -> None:
        views.show_identity(self.case)

    def step2_classify(self, bucket: str | None = None) -> None:
        views.show_classification(self.case)
        if self.interactive:
            self.picker = BucketPicker(self.case.classification, self._confirmed)
            display(self.picker)
            return
        self.case.confirm(bucket, "parameter")
        views.show_decision(self.case)

    def step3_act(self, approve: list[str] | None = None) -> Any:
        if self.interactive:
            return self.outputs["act"]
        approve = list(approve or [])
        if approve and self.case.decision.pending:
            raise NeedsConfirmationError(
                "approvals were given but no bucket was confirmed: pass `bucket` as well"
            )
        if approve:
            self.case.execute(approve, "parameter")
        views.show_act(self.case)
        return None

    def step4_gaps(self) -> Any:
        if self.interactive:
            return self.outputs["gaps"]
        views.show_gaps(self.case)
        return None

    def step5_handoff(self) -> Any:
        if self.interactive:
            return self.outputs["handoff"]
        views.show_handoff(self.case)
        return None

    # ----- handlers -------------------------------------------------------------------
    def _confirmed(self, bucket: Bucket) -> None:
        self.case.confirm(bucket, "widget")
        self._render_act()
        self._render_tail()

    def _executed(self, approve: list[str]) -> None:
        self.case.execute(approve, "widget", reveal=self._reveal)
        self._render_act()
        self._render_tail()

    def _reveal(self, action_id: str, url: str) -> None:
        self.links.value += f'<div>{action_id}: <a href="{url}" target="_blank">open portal session</a></div>'

    def _render_act(self) -> None:
        out = self.outputs["act"]
        out.clear_output()
        with out:
            views.show_act(self.case)
            if self.case.plan is not None and self.case.plan.actions:
                done = {e.action_id: e.status for e in self.case.executed}
                self.checklist = ActionChecklist(self.case.plan, self._executed, done)
                display(self.checklist, self.links)

    def _render_tail(self) -> None:
        for name, show in (("gaps", views.show_gaps), ("handoff", views.show_handoff)):
            out = self.outputs[name]
            out.clear_output()
            with out:
                show(self.case)


def start_case(
    *,
    case_id: str,
    customer: str,
    complaint: str = "",
    output_dir: str = ".",
    interactive: bool = True,
    lookup_kind: str | None = None,
    snapshot_path: str | None = None,
    prefetched: str | None = None,
) -> CaseNotebook:
    """Open the case (fetch, take the runner's prefetched snapshot, or load a saved one)
    and return its notebook driver."""
    case = open_case(case_id=case_id, customer=customer, complaint=complaint, output_dir=output_dir,
                     interactive=interactive, lookup_kind=lookup_kind, snapshot_path=snapshot_path,
                     prefetched=prefetched)
    return CaseNotebook(case, interactive=interactive)
