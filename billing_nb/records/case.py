"""The case: one customer's complaint carried through the five steps.

``Case`` holds the snapshot and every answer so far, and writes ``case.json`` after
each change (widget handlers included: JupyterLab does not save widget state). The
notebook only calls its ``step*`` methods; the display lives in :mod:`views` and the
interactive controls in :mod:`widgets`. This module is the one place that wires the
pure steps to the two I/O ends (``provider`` to read, ``actions.execute`` to write).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from collections.abc import Callable
from typing import Any

from .. import actions as act
from ..analysis import contract as ctr
from ..analysis import figures as fig
from ..analysis.classify import Bucket, Classification, Decision, classify, decide, parse_bucket
from ..config import Settings, load_settings
from ..exceptions import NeedsConfirmationError
from ..analysis.gaps import ProductGap, find_gaps
from .handoff import render_followup, render_handoff
from .recurrence import cases_this_month
from .casejson import option_json, shape_json
from .fetch import fetch_snapshot, preview_jobs
from .storage import atomic_write_text, failed_writes, final_status, saved_atomically, writer_identity
from ..analysis.identify import IdentitySummary, identify
from ..analysis.lexicon import case_words
from ..actions.crashpoints import crash_point
from ..actions.ledger import Ledger
from ..money import Money
from ..reading.provider import StripeReader, make_client
from ..reading.masking import mask_strings, mask_text
from ..reading.objects import money_currency, plan_name
from ..reading.pii import Vocabulary
from ..reading.snapshot import CaseSnapshot

__all__ = ["Case", "open_case", "fetch_snapshot", "preview_jobs", "shape_json", "option_json"]


def _zero(currency: str) -> dict[str, Any]:
    return Money(0, currency).as_dict()


@dataclass
class Case:
    """State of one case; every mutation ends with :meth:`save`."""

    case_id: str
    complaint: str
    output_dir: Path
    snapshot: CaseSnapshot
    settings: Settings
    interactive: bool = False
    reader: StripeReader | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    summary: IdentitySummary = field(init=False)
    classification: Classification = field(init=False)
    decision: Decision = field(init=False)
    shapes: list[ctr.ContractShape] = field(default_factory=list)
    options: list[ctr.RefundOption] = field(default_factory=list)
    plan: act.Plan | None = None
    approved: list[str] = field(default_factory=list)
    approved_by: str | None = None
    executed: list[act.ExecutedAction] = field(default_factory=list)
    links_sent: list[str] = field(default_factory=list)  # portal actions whose link reached someone (reveal)
    gaps: list[ProductGap] = field(default_factory=list)
    status: str = "pending"
    error: str | None = None
    writer: dict[str, Any] | None = None  # who is writing Stripe for this record right now
    #: approvals an unattended run will execute after the bucket is confirmed: from the
    #: confirmation on, the record says ``in_progress`` (a run killed before its writes is
    #: ``interrupted`` on the next run, never ``done`` with its approval silently dropped)
    awaiting: list[str] = field(default_factory=list)

    #: the words the case itself uses (lexicon, catalogue): a lone name part that is one stays
    #: in clear in every masking of the case's text (:func:`~billing_nb.analysis.lexicon.case_words`)
    words: Vocabulary = field(init=False)

    def __post_init__(self) -> None:
        self.words = case_words(self.snapshot)
        self.complaint = mask_text(self.complaint or "", known=self.snapshot.known_pii(), common=self.words)
        self.__dict__["_masked_complaint"] = self.complaint  # masked once: see masked_complaint
        self.summary = identify(self.snapshot)
        self.classification = classify(self.snapshot, self.summary, self.complaint)
        self.decision = decide(self.classification, None, None)
        self.shapes = ctr.contract_shapes(self.snapshot)
        self.options = self._refund_options()

    # ----- step 2 ---------------------------------------------------------------------
    def confirm(self, bucket: str | Bucket | None, confirmed_by: str) -> Decision:
        """Record the analyst's bucket (None keeps the case pending) and re-plan."""
        chosen = parse_bucket(bucket)
        self.decision = decide(self.classification, chosen, confirmed_by if chosen else None)
        self.status = "pending" if self.decision.pending else "done"
        self.plan = act.plan(self.snapshot, self.summary, self.decision, self.shapes, self.options,
                             complaint=self.complaint)
        recurrence = None
        if self.decision.bucket is Bucket.PRODUCT_FAILURE:  # the product-bug item says how often it came back
            recurrence = 1 + cases_this_month(self.settings.cases_dir, Bucket.PRODUCT_FAILURE.value,
                                              self.created_at, exclude=self.case_id)
        self.gaps = find_gaps(self.snapshot, self.summary, self.decision, self.complaint, recurrence)
        if self.awaiting and not self.decision.pending:
            self._mark_writing(Ledger(self.ledger_path()))
        else:
            self.save()
        crash_point("confirmed")
        return self.decision

    def _mark_writing(self, ledger: Ledger) -> None:
        """Say ``in_progress`` with this process as the writer, indexed first (the next run's
        sweep finds it) and saved, before any Stripe write of this run."""
        self.status, self.writer = "in_progress", writer_identity()
        rec = self.record()
        ledger.index_case(rec, self.output_dir)
        self.save(rec)

    # ----- step 3 ---------------------------------------------------------------------
    def _refund_options(self) -> list[ctr.RefundOption]:
        """Our refund options, with Stripe's own figure beside each where it can compute one."""
        options = ctr.all_refund_options(self.snapshot, self.shapes)  # the balance credit netted once
        if not options:
            return options
        # Stripe's figures came with the snapshot's third wave (see fetch_snapshot); only a
        # preview it lacks is asked for now
        figures: dict[str, int] = dict(self.snapshot.extra.get("stripe_figures") or {})
        missing = [o for o in options if fig.figure_key(o) not in figures]
        if self.reader is not None and missing:
            figures.update(fig.fetch_stripe_figures(self.reader, missing))
        return fig.with_stripe_amounts(options, figures)

    def execute(self, approve: list[str], confirmed_by: str,
                reveal: Callable[[str, str], None] | None = None) -> list[act.ExecutedAction]:
        """Run the approved actions (idempotent; the ledger and Stripe are checked first).

        ``reveal(action_id, url)`` receives portal session links, which are bearer links
        and so never reach the record.
        """
        if self.plan is None or self.decision.pending:
            raise NeedsConfirmationError("confirm a bucket before approving actions")
        if not approve:
            return []
        client = make_client(self.settings)
        ledger = Ledger(self.ledger_path())
        shown: Callable[[str, str], None] | None = None
        if reveal is not None:  # without a reveal (an unattended run) the link is thrown away: never "sent"
            show = reveal

            def _shown(action_id: str, url: str) -> None:
                show(action_id, url)
                self.links_sent.append(action_id)
            shown = _shown
        if act.add_named_amounts(self.plan, list(approve)):  # an amount the analyst named joins the plan
            self.plan = replace(self.plan)  # a new plan object: the record's cached part is rebuilt
        before = "done" if self.status == "in_progress" else self.status  # in_progress: awaiting these writes
        self.approved = sorted(set(self.approved) | set(approve))
        self.approved_by = confirmed_by
        # written before the first write: a run killed from here on never leaves "done" behind
        self._mark_writing(ledger)
        crash_point("in_progress")

        def landed(result: act.ExecutedAction) -> None:
            self.executed.append(result)
            self.save(durable=False)  # the ledger's finish already holds this write

        try:
            results = act.execute(
                self.plan, list(approve), case_id=self.case_id, client=client, ledger=ledger,
                settings=self.settings, snapshot=self.snapshot, decision=self.decision, reveal=shown,
                progress=landed,
            )
        except Exception:
            # refused before any write (or an error no write followed): back to where it was
            self.status, self.writer = (final_status(self.executed) if self.executed else before), None
            self.save()
            raise
        self.status, self.writer = final_status(self.executed), None
        self.error = failed_writes(self.executed) if self.status in ("failed", "partial") else None
        rec = self.record()
        self.save(rec, crash="final_save")
        ledger.index_case(rec, self.output_dir)  # a notebook run by hand is indexed too
        return results

    def ledger_path(self) -> Path:
        root = os.environ.get("BILLING_NB_LEDGER")
        if root:
            return Path(root)
        return self.settings.cases_dir / "ledger.sqlite"

    # ----- the record -----------------------------------------------------------------
    @property
    def currency(self) -> str:
        """The case's currency for its money lines: a subscription's, else the customer's
        (Stripe's ``customer.currency``), else the newest invoice's or charge's -- a customer
        who only ever paid a one-off EUR charge is not shown "$0.00 USD"."""
        for sub in self.summary.subscriptions:
            return sub.currency
        return money_currency(self.snapshot) or "usd"

    def masked_complaint(self) -> str:
        """The complaint as masked when the case opened, not masked again by every save and view
        (a long complaint's masking was most of a case's time); a complaint set since is masked
        here, once."""
        if self.__dict__.get("_masked_complaint") != self.complaint:
            self.complaint = mask_text(self.complaint or "", known=self.snapshot.known_pii(), common=self.words)
            self.__dict__["_masked_complaint"] = self.complaint
        return self.complaint

    def _billing_state(self) -> dict[str, Any]:
        """The summary's billing state, each subscription with its plan's name (the handoff shows
        names, not price ids)."""
        state = self.summary.billing_state()
        for sub in state["subscriptions"]:
            sub["plan"] = plan_name(self.snapshot, str(sub.get("price") or ""), str(sub.get("product") or ""))
        return state

    def _static(self) -> dict[str, Any]:
        """The record's parts that only the analysis and the plan change, masked once per change
        (a run with approvals saves the record after every write: masking it all each time was
        most of the time from approval to completion)."""
        plan = self.plan
        key = (id(self.summary), id(self.decision), id(self.classification), id(plan), id(self.gaps),
               id(self.shapes), id(self.options), self.complaint, self.snapshot.lookup_kind)
        cached = self.__dict__.get("_static_cache")
        if cached is not None and cached[0] == key:
            return cached[1]
        part: dict[str, Any] = {
            "lookup_kind": self.snapshot.lookup_kind,
            "now": self.snapshot.now.isoformat(),
            "customer": {
                "id": self.summary.customer_id,
                "email": self.summary.email_masked,
                "other_customer_ids": list(self.summary.other_customer_ids),
            },
            "billing_state": self._billing_state(),
            "classification": {**self.decision.as_case_json(), "against": list(self.classification.against)},
            "contract": [shape_json(s) for s in self.shapes],
            "refund_options": [option_json(o) for o in self.options],
            "plan": [a.as_case_json() for a in plan.actions] if plan else [],
            "plan_notes": list(plan.notes) if plan else [],
            "proposed_impact": act.proposed_impact(plan, self.snapshot) if plan else None,
            "product_gaps": [g.as_case_json() for g in self.gaps],
        }
        part = mask_strings(part, self.snapshot.known_pii(), self.words)
        part["complaint"] = self.masked_complaint()  # masked already: once per case
        self.__dict__["_static_cache"] = (key, part)
        return part

    def record(self) -> dict[str, Any]:
        """case.json as of now (docs/CASE_JSON.md)."""
        cur = self.currency
        plan = self.plan
        static = self._static()
        # evidence, details, previews and notes quote Stripe text (product names, comments): the
        # same masking as the snapshot, before anything is rendered from the record
        dynamic = mask_strings({
            "approved": list(self.approved),
            "approved_by": self.approved_by,
            "executed": [e.as_case_json() for e in self.executed],
            "links_sent": list(dict.fromkeys(self.links_sent)),
            "revenue_impact": act.revenue_impact(plan, self.executed, self.snapshot) if plan else {
                k: _zero(cur) for k in ("refunded", "refund_pending", "credited", "mrr_change", "arr_change")},
            "error": self.error,
        }, self.snapshot.known_pii(), self.words)
        rec: dict[str, Any] = {
            "case_id": self.case_id,
            "created_at": self.created_at.isoformat(),
            "status": self.status,
            **{k: static[k] for k in ("lookup_kind", "complaint", "now", "customer", "billing_state",
                                      "classification", "contract", "refund_options", "plan", "plan_notes")},
            **{k: dynamic[k] for k in ("approved", "approved_by", "executed", "links_sent", "revenue_impact")},
            "proposed_impact": static["proposed_impact"],
            "product_gaps": static["product_gaps"],
            "followup": "",
            "handoff": "",
            "error": dynamic["error"],
        }
        rec = json.loads(json.dumps(rec, default=str))  # the cached part is never shared with a caller
        if self.writer is not None:
            rec["writer"] = self.writer
        rec["followup"] = render_followup(rec, self.settings.templates_dir)
        rec["handoff"] = render_handoff(rec, self.settings.templates_dir)
        return rec

    def save(self, record: dict[str, Any] | None = None, *, crash: str | None = None, durable: bool = True) -> Path:
        """Write case.json (``record``, or the record as of now) atomically beside the notebook
        record (temp file, fsync, rename; ``durable=False``: no fsync, see ``saved_atomically``)."""
        path = self.output_dir / "case.json"
        atomic_write_text(path, json.dumps(record or self.record(), indent=2, default=str), crash=crash,
                          durable=durable)
        return path


def open_case(
    *,
    case_id: str,
    customer: str,
    complaint: str = "",
    output_dir: str | Path = ".",
    interactive: bool = False,
    lookup_kind: str | None = None,
    snapshot_path: str | Path | None = None,
    live: bool = False,
    prefetched: str | Path | None = None,
    approve: list[str] | None = None,
) -> Case:
    """Fetch the snapshot (or load a saved one) and run steps 1-2's analysis.

    ``prefetched``: a snapshot the runner fetched moments ago for this case (raw, in a
    private folder it deletes afterwards), so the notebook reads nothing again. Once it is
    gone (a record re-executed by hand or by nbval), the snapshot is fetched afresh.
    ``approve``: what an unattended run will execute once the bucket is confirmed.
    """
    out = Path(output_dir)
    if prefetched and Path(prefetched).is_file():
        settings = load_settings(live=live)
        reader = StripeReader(make_client(settings))
        snap = CaseSnapshot.load(Path(prefetched))
        Path(prefetched).unlink(missing_ok=True)  # PII in clear: gone once read, whatever happens next
    elif snapshot_path:
        settings = load_settings(live=live, require_key=False)
        snap = CaseSnapshot.load(Path(snapshot_path))
        reader = None
    else:
        settings = load_settings(live=live)
        reader = StripeReader(make_client(settings))
        snap = fetch_snapshot(reader, customer)
    if lookup_kind:
        snap.lookup_kind = lookup_kind
    if os.environ.get("BILLING_NB_PORTAL_CONFIGURATION"):
        snap.extra["portal_configuration"] = os.environ["BILLING_NB_PORTAL_CONFIGURATION"]
    case = Case(case_id=case_id, complaint=complaint, output_dir=out, snapshot=snap,
                settings=settings, interactive=interactive, reader=reader, awaiting=list(approve or []))
    saved_atomically(out / "snapshot.json", lambda tmp: snap.save(tmp, common=case.words))
    case.save()
    return case
