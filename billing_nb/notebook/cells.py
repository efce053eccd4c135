"""What the case notebook's cells call: one method per step.

Unattended (``interactive=False``) each step renders straight into its cell, taking the
bucket and approvals from the parameters. Interactive, step 2 shows the picker and
steps 3-5 show placeholders with a display id; the Confirm and Execute handlers update
those displays with the same static HTML an unattended run writes (JupyterLab applies
``update_display_data`` to the cell's outputs, so a saved and reopened notebook keeps
them) and put the live controls (the checklist) in a display of their own.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w
from IPython.display import HTML, Markdown, display

from . import views
from ..analysis.classify import Bucket
from ..exceptions import BadInputError, NeedsConfirmationError
from ..reading.masking import mask_text
from ..records.case import Case, open_case
from ..records.manual import index_record
from ..records.markup import escape_html, math_inert_html, math_inert_md
from ..records.masked import masked_case
from .widgets import ActionChecklist, BucketPicker

__all__ = ["CaseNotebook", "start_case", "TEMPLATE_CASE_ID"]

#: The case id of the shipped template notebook: opening it directly is not a case.
TEMPLATE_CASE_ID = "manual"

_WAITING = "<p><i>Waiting for the bucket: press <b>Confirm</b> in step 2.</i></p>"


class CaseNotebook:
    """Drives a :class:`Case` from notebook cells."""

    def __init__(self, case: Case, *, interactive: bool) -> None:
        self.case = case
        self.interactive = interactive
        self.handles: dict[str, Any] = {}
        self.links = w.HTML("")  # portal links: shown live, never written to the record
        self.picker: BucketPicker | None = None
        self.checklist: ActionChecklist | None = None

    def _new(self, name: str, obj: Any) -> None:
        """A new display for the step in the running cell (a re-run cell gets a fresh one)."""
        self.handles[name] = display(obj, display_id=True)

    def _show(self, name: str, obj: Any) -> None:
        """Replace what the step's display shows (from a handler: the cell ran long ago)."""
        handle = self.handles.get(name)
        if handle is None:
            self._new(name, obj)
        else:
            handle.update(obj)

    # ----- steps ----------------------------------------------------------------------
    def step1_identify(self) -> None:
        views.show_identity(self.case)

    def step2_classify(self, bucket: str | None = None) -> None:
        views.show_classification(self.case)
        if self.interactive:
            self.picker = BucketPicker(self.case.classification, self._confirmed)
            display(self.picker)
            self._new("decision", HTML(views.decision_html(self.case)))
            return
        self.case.confirm(bucket, "parameter")
        views.show_decision(self.case)

    def step3_act(self, approve: list[str] | None = None) -> None:
        if self.interactive:
            self._new("act", HTML(views.act_html(self.case) if self.case.plan else _WAITING))
            self._new("checklist", HTML(""))
            return
        approve = list(approve or [])
        if approve and self.case.decision.pending:
            raise NeedsConfirmationError(
                "approvals were given but no bucket was confirmed: pass `bucket` as well"
            )
        if approve:
            self.case.execute(approve, "parameter")
        views.show_act(self.case)

    def step4_gaps(self) -> None:
        if self.interactive:
            self._new("gaps", HTML(views.gaps_html(self.case) if self.case.plan else _WAITING))
            return
        views.show_gaps(self.case)

    def step5_handoff(self) -> None:
        if self.interactive:
            rec = self.case.record()
            self._new("handoff", Markdown(math_inert_md(rec["handoff"])) if self.case.plan else HTML(_WAITING))
            self._new("followup", HTML(views.followup_html(rec["followup"]) if self.case.plan and rec["followup"]
                                        else ""))
            return
        views.show_handoff(self.case)

    # ----- handlers -------------------------------------------------------------------
    def _shown_failure(self, what: str, display_name: str, step: Callable[[], None]) -> None:
        """Run a click's work; if it fails, say so in the step instead of nowhere: JupyterLab
        sends a widget callback's traceback to its log console, which the analyst never sees."""
        try:
            step()
        except Exception as exc:  # shown to the analyst; the traceback goes to the kernel log
            traceback.print_exc(file=sys.stderr)
            text = escape_html(mask_text(f"{type(exc).__name__}: {exc}", self.case.snapshot.known_pii()))
            self._show(display_name, HTML(math_inert_html(
                '<div class="bnb-error" style="color:#a00; border:1px solid #a00; padding:6px;">'
                f"<b>{escape_html(what)} failed:</b> {text}. The record (case.json) keeps what happened; "
                "re-run the cell or try again.</div>")))

    def _confirmed(self, bucket: Bucket) -> None:
        self._shown_failure("Confirm", "decision", lambda: self._confirm(bucket))

    def _executed(self, approve: list[str]) -> None:
        self._shown_failure("Execute", "checklist", lambda: self._execute(approve))

    def _confirm(self, bucket: Bucket) -> None:
        self.case.confirm(bucket, "widget")
        self._show("decision", HTML(views.decision_html(self.case)))
        self._render_act()
        self._render_tail()
        self.index()

    def _execute(self, approve: list[str]) -> None:
        self.case.execute(approve, "widget", reveal=self._reveal)
        self._render_act()
        self._render_tail()
        self.index()

    def index(self) -> None:
        """A hand-driven case is in the casebook from the start and after every click (an
        unattended run is indexed by its runner once it ends)."""
        if self.interactive:
            index_record(self.case.record(), self.case.output_dir, self.case.settings.cases_dir.resolve())

    def _reveal(self, action_id: str, url: str) -> None:
        self.links.value += (f'<div>{escape_html(action_id)}: <a href="{escape_html(url)}" target="_blank" '
                             'rel="noopener">open portal session</a></div>')

    def _render_act(self) -> None:
        self._show("act", HTML(views.act_html(self.case)))
        if self.case.plan is not None and self.case.plan.actions:
            done = {e.action_id: e.status for e in self.case.executed}
            self.checklist = ActionChecklist(self.case.plan, self._executed, done,
                                             describe=lambda ids: views.describe_actions(self.case, ids),
                                             shown=masked_case(self.case).plan)
            self._show("checklist", w.VBox([self.checklist, self.links]))
        else:
            self._show("checklist", HTML(""))

    def _render_tail(self) -> None:
        rec = self.case.record()
        self._show("gaps", HTML(views.gaps_html(self.case)))
        self._show("handoff", Markdown(math_inert_md(rec["handoff"])))
        self._show("followup", HTML(views.followup_html(rec["followup"]) if rec["followup"] else ""))


def start_case(
    *,
    case_id: str,
    customer: str,
    complaint: str = "",
    output_dir: str = ".",
    interactive: bool = True,
    lookup_kind: str | None = None,
    snapshot_path: str | None = None,
    cases_dir: str | None = None,
    prefetched: str | None = None,
    approve: list[str] | None = None,
) -> CaseNotebook:
    """Open the case (fetch, take the runner's prefetched snapshot, or load a saved one)
    and return its notebook driver.

    The shipped template (case id ``manual``, no record folder) is refused: a case driven
    by hand starts with ``billing-nb open LOOKUP``, which makes its record folder and a
    notebook of its own there, so nothing is written beside the template.
    """
    if case_id == TEMPLATE_CASE_ID or not customer:
        raise BadInputError(
            "this is the case template, not a case: run `billing-nb open LOOKUP [--complaint TEXT]`, which "
            "creates cases/<date>/<case_id>/ with its own notebook and opens it in JupyterLab")
    out = Path(output_dir)
    if out.resolve() == Path(__file__).resolve().parents[2] / "notebooks":
        raise BadInputError("a case record is never written under the repository's notebooks/: "
                            "use `billing-nb open LOOKUP`")
    if cases_dir:  # the one ledger and casebook, wherever the kernel runs
        os.environ["BILLING_NB_CASES_DIR"] = str(cases_dir)
    case = open_case(case_id=case_id, customer=customer, complaint=complaint, output_dir=output_dir,
                     interactive=interactive, lookup_kind=lookup_kind, snapshot_path=snapshot_path,
                     prefetched=prefetched, approve=None if interactive else approve)
    driver = CaseNotebook(case, interactive=interactive)
    driver.index()
    return driver
