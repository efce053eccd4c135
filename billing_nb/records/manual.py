"""A case driven by hand: the same record folder and ledger as an unattended case.

``billing-nb open LOOKUP`` calls :func:`prepare_manual_case`: the lookup is resolved (so
no raw email reaches the notebook), a new record folder ``cases/<date>/<case_id>/`` is
claimed, and the case notebook is written there parameterised for JupyterLab
(``interactive=True``, the record folder, the cases folder for the one shared ledger).
Nothing is written beside the shipped template in ``notebooks/``.
:func:`index_record` puts the case in the casebook as it goes (pending at first);
:func:`finish_record` (``billing-nb export``) writes handoff.md/backlog.md, scans the folder
and indexes the final state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import exceptions as exc
from ..actions.ledger import Ledger
from ..config import Settings
from ..analysis.lexicon import VOCABULARY
from ..reading.masking import customer_pii, mask_text
from ..reading.provider import StripeReader, lookup_kind, make_client
from .runner import _claim_record_dir, new_case_id, notebook_path, redaction_error  # pyright: ignore[reportPrivateUsage]
from .scan import scan

__all__ = ["ManualCase", "prepare_manual_case", "manual_params", "index_record", "finish_record", "cases_dir_of"]


@dataclass(frozen=True)
class ManualCase:
    case_id: str
    record_dir: Path
    notebook: Path
    customer_id: str


def manual_params(case_id: str, customer_id: str, complaint: str, record_dir: Path, cases_dir: Path,
                  kind: str) -> dict[str, Any]:
    """The notebook parameters of a hand-driven case (absolute paths: the kernel runs in the record folder)."""
    return {"case_id": case_id, "customer": customer_id, "complaint": complaint, "bucket": None, "approve": [],
            "interactive": True, "output_dir": str(record_dir.resolve()), "lookup_kind": kind,
            "cases_dir": str(cases_dir.resolve())}


def prepare_manual_case(lookup: str, *, settings: Settings, cases_dir: Path | None = None,
                        complaint: str = "") -> ManualCase:
    """Resolve ``lookup``, claim the record folder and write its parameterised notebook.

    Raises before any folder exists when the lookup is malformed or finds nobody.
    """
    # here, not at the top: the case kernel imports this module (index_record) and nbformat's
    # validator pulls jsonschema's format checks, whose rfc3987_syntax compiles a grammar (seconds)
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    cases = cases_dir or settings.cases_dir
    kind = lookup_kind(lookup)
    resolution = StripeReader(make_client(settings)).resolve(lookup)
    customer_id = resolution.customer_ids[0]
    known = sorted(set(customer_pii(resolution.customers)) | ({lookup} if "@" in lookup else set()))
    case_id = new_case_id(customer_id)
    record_dir = _claim_record_dir(cases, case_id)
    nb = load_notebook_node(str(notebook_path()))
    nb = parameterize_notebook(nb, manual_params(case_id, customer_id, mask_text(complaint, known=known, common=VOCABULARY),
                                                 record_dir, cases, kind))
    target = record_dir / "case.ipynb"
    nbformat.write(nb, str(target))
    return ManualCase(case_id=case_id, record_dir=record_dir, notebook=target, customer_id=customer_id)


def cases_dir_of(record_dir: Path) -> Path:
    """The cases folder a record lives in: ``<cases>/<YYYY-MM-DD>/<case_id>``."""
    return record_dir.resolve().parent.parent


def index_record(record: dict[str, Any], record_dir: Path, cases_dir: Path | None = None) -> None:
    """Put (or update) the record in the casebook index of the one shared ledger."""
    Ledger((cases_dir or cases_dir_of(record_dir)) / "ledger.sqlite").index_case(record, record_dir)


def finish_record(record_dir: Path, *, cases_dir: Path | None = None) -> dict[str, Any]:
    """Scan the record folder, mark it failed if anything leaks, and index it; the record."""
    from .runner import _write_record  # pyright: ignore[reportPrivateUsage]

    path = record_dir / "case.json"
    if not path.exists():
        raise exc.RecordError(f"no case.json in {record_dir}")
    record: dict[str, Any] = json.loads(path.read_text())
    leaks = scan(record_dir)
    if leaks:
        record["status"] = "failed"
        record["error"] = redaction_error(leaks)
        _write_record(record_dir, record)
    index_record(record, record_dir, cases_dir)
    return record
