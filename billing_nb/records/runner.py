"""Run case notebooks with papermill and turn them into records.

One case: fetch the case's snapshot here (three concurrent request waves, while the
kernel starts), claim a new record folder ``cases/<YYYY-MM-DD>/<case_id>/`` (never
overwritten), hand the snapshot to the notebook through a private file outside the record
(its path is the only new parameter: no raw email or secret is ever a parameter), execute
the notebook through papermill on an ipc kernel, then post-process: the handoff as a
real markdown cell tagged ``handoff``, ``handoff.md``, ``backlog.md``, a redaction scan
of everything written, and the casebook index. Batches (:mod:`.batch`) run it on warm
kernels (:class:`~billing_nb.records.kernels.WarmKernel`), a fresh namespace per case.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import exceptions as exc
from ..config import Settings, load_settings
from .handoff import render_backlog
from .kernels import IpcKernelManager, WarmKernel, import_nbformat_without_iri_grammar, kernel_env
from .prefetch import handoff_file, read_while_kernel_starts
from ..actions.ledger import Ledger
from ..reading.provider import StripeReader, lookup_kind, make_client
from ..analysis.lexicon import case_words
from ..reading.masking import mask_text
from .markup import math_inert_md
from .scan import Leak, masked_place, scan
from .storage import atomic_write_text, close_interrupted, read_json, saved_atomically, settle_from_ledger
from ..actions.model import COUNTED

__all__ = ["CaseRequest", "CaseResult", "notebook_path", "run_case", "export_record", "new_case_id"]

DEFAULT_TIMEOUT = 300


def notebook_path(name: str = "case.ipynb") -> Path:
    """The shipped notebook: the repo's notebooks/ folder, or the installed copy."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package.parent / "notebooks" / name, package / "_notebooks" / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"notebook {name} not found")


@dataclass(frozen=True)
class CaseRequest:
    lookup: str
    complaint: str = ""
    bucket: str | None = None
    approve: tuple[str, ...] = ()
    live: bool = False
    case_id: str | None = None


@dataclass
class CaseResult:
    case_id: str
    status: str  # done | pending | failed
    record_dir: Path | None
    exit_code: int
    error: str | None = None
    record: dict[str, Any] = field(default_factory=dict)


def new_case_id(customer_id: str, now: datetime | None = None) -> str:
    """``YYYYMMDD-HHMMSS-<customer>-<4 hex>``: sortable, unique, safe as a folder name."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{customer_id}-{secrets.token_hex(2)}"


def _claim_record_dir(cases_dir: Path, case_id: str) -> Path:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    target = cases_dir / day / case_id
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.mkdir()
    except FileExistsError:
        if target.is_dir():
            raise exc.RecordError(f"record {target} exists; a re-run needs a new case id") from None
        raise exc.StorageError(f"{target.parent}: a part of the path is a file, not a folder") from None
    except OSError as err:
        raise exc.StorageError.of(target, err) from err
    return target


def redaction_error(leaks: list[Leak], landed: list[str] | None = None) -> str:
    """The one line a case the redaction scan failed ends with (exit 5, not a Stripe error):
    what showed in clear and where, so the view or field that rendered it can be found -- and,
    when approved writes landed before the scan, that they did (money moved; a re-run finds
    them done and does not redo them)."""
    where = ", ".join(f"{leak.kind} in {masked_place(Path(leak.path).name)}:{leak.line}" for leak in leaks[:5])
    more = f" and {len(leaks) - 5} more" if len(leaks) > 5 else ""
    moved = (f"; its approved writes landed all the same ({', '.join(landed)}): a re-run finds them done"
             if landed else "")
    return (f"redaction scan: the saved record shows PII or a secret in clear ({where}{more}); "
            f"the case is failed and its record must not be shared (billing-nb scan FOLDER lists them){moved}")


def _exit_code_for(ename: str | None) -> int:
    cls = getattr(exc, ename or "", None)
    if isinstance(cls, type) and issubclass(cls, exc.BillingNbError):
        return cls.exit_code
    return 3


def _execute(nb_in: Path, nb_out: Path, params: dict[str, Any], timeout: int, *, progress: bool = False) -> None:
    import_nbformat_without_iri_grammar()
    import papermill as pm

    for attempt in (1, 2):
        try:
            pm.execute_notebook(
                str(nb_in), str(nb_out), parameters=params, kernel_name="python3",
                progress_bar=progress, execution_timeout=timeout, start_timeout=60,
                cwd=str(nb_out.parent), kernel_manager_class=IpcKernelManager,
            )
            return
        except RuntimeError as err:  # kernel died or failed to start: retry once
            if attempt == 2 or "kernel" not in str(err).lower() or nb_out.exists() and _executed_any(nb_out):
                raise


def _executed_any(path: Path) -> bool:
    import_nbformat_without_iri_grammar()
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    return any(c.get("execution_count") for c in nb.cells if c.cell_type == "code")


def _read_record(record_dir: Path) -> dict[str, Any]:
    return read_json(record_dir / "case.json")


def _write_record(record_dir: Path, record: dict[str, Any]) -> None:
    atomic_write_text(record_dir / "case.json", json.dumps(record, indent=2))


def export_record(notebook: Path, record: dict[str, Any] | None = None) -> dict[str, Any]:
    """Add the handoff markdown cell (tagged ``handoff``) and write handoff.md/backlog.md.

    Works on a runner's record and on a notebook driven by hand in JupyterLab (the
    widgets' handlers wrote case.json beside it).
    """
    import_nbformat_without_iri_grammar()
    import nbformat

    record_dir = notebook.parent
    rec = record if record is not None else _read_record(record_dir)
    if not rec:
        raise exc.RecordError(f"no case.json beside {notebook}")
    nb = nbformat.read(str(notebook), as_version=4)
    nb.cells = [c for c in nb.cells if "handoff" not in c.get("metadata", {}).get("tags", [])]
    cell = nbformat.v4.new_markdown_cell(math_inert_md(rec.get("handoff", "")))
    cell.metadata["tags"] = ["handoff"]
    nb.cells.append(cell)
    saved_atomically(notebook, lambda tmp: nbformat.write(nb, str(tmp)))
    atomic_write_text(record_dir / "handoff.md", rec.get("handoff", ""))
    if rec.get("product_gaps"):
        atomic_write_text(record_dir / "backlog.md", render_backlog(rec))
    return rec


def run_case(request: CaseRequest, *, settings: Settings | None = None, cases_dir: Path | None = None,
             timeout: int = DEFAULT_TIMEOUT, kernel: WarmKernel | None = None) -> CaseResult:
    """Fetch, execute and record one case. Raises BadInputError/StripeApiError before any record exists.

    ``kernel``: a warm kernel to run on (a batch worker's); without one, a kernel is
    started while the snapshot is read and stopped afterwards.
    """
    settings = settings or load_settings(live=request.live)
    if request.approve:  # refuse before any read or record: approvals mean writes
        settings.require_writable()
    cases = cases_dir or settings.cases_dir
    kind = lookup_kind(request.lookup)
    reader = StripeReader(make_client(settings))
    snapshot, own = read_while_kernel_starts(reader, request.lookup, start_kernel=kernel is None)
    customer_id = snapshot.customer_ids[0]
    # the snapshot holds the customers: no extra request for what the scan must find
    known = sorted(set(snapshot.known_pii()) | ({request.lookup} if "@" in request.lookup else set()))
    case_id = request.case_id or new_case_id(customer_id)
    try:
        ledger = Ledger(cases / "ledger.sqlite")  # a corrupt or unwritable ledger stops here, before any record
        close_interrupted(cases, ledger)
        record_dir = _claim_record_dir(cases, case_id)
    except BaseException:
        if own is not None:
            own.shutdown()
        raise
    nb_out = record_dir / "case.ipynb"
    prefetched = handoff_file(snapshot)
    params = {
        "case_id": case_id, "customer": customer_id, "complaint": mask_text(request.complaint, known=known, common=case_words(snapshot)),
        "bucket": request.bucket, "approve": list(request.approve), "interactive": False,
        "output_dir": str(record_dir.resolve()), "lookup_kind": kind, "prefetched": str(prefetched),
    }
    # the kernel runs in the record folder: give it the cases folder (and ledger) absolutely
    os.environ["BILLING_NB_CASES_DIR"] = str(cases.resolve())
    error: str | None = None
    code = 0
    if kernel is not None:
        try:
            kernel.wait_ready()  # a batch worker's kernel, launched early; one that failed to boot
        except Exception:  # noqa: BLE001 - is replaced by its worker, and this case runs on its own kernel
            kernel = None
    runner = kernel or own
    try:
        if runner is not None:
            runner.execute(notebook_path(), nb_out, params, timeout=timeout, env=kernel_env())
        else:
            _execute(notebook_path(), nb_out, params, timeout)
    except Exception as err:  # noqa: BLE001 - every failure becomes a failed record
        ename = getattr(err, "ename", None)
        evalue = getattr(err, "evalue", None)
        if ename:
            error = f"{ename}: {evalue}"
        elif type(err).__name__ == "CellTimeoutError":
            error = f"cell timed out after {timeout}s"
        else:
            error = f"{type(err).__name__}: {err}"
        code = _exit_code_for(ename)
        if kernel is not None and not ename:  # timed out or died: a batch worker replaces it
            kernel.broken = True
            kernel.stop()  # a timed-out kernel may still be writing: stop it before its record is settled
    finally:
        shutil.rmtree(prefetched.parent, ignore_errors=True)
        if own is not None:
            own.shutdown()
    try:
        record = _read_record(record_dir)
    except exc.BillingNbError as err:
        record, error, code = {}, error or str(err), code or err.exit_code
    record.setdefault("case_id", case_id)
    if error:
        _settle_failed_run(record, ledger, mask_text(error))
    if nb_out.exists() and record.get("handoff") is not None:
        export_record(nb_out, record)
    leaks = scan(record_dir, known=known)
    if leaks:
        record["status"] = "failed"
        record["error"] = redaction_error(leaks, [str(e.get("action_id")) for e in record.get("executed") or []
                                                  if e.get("status") in COUNTED])
        code = code or exc.RedactionError.exit_code
    _write_record(record_dir, record)
    ledger.index_case(record, record_dir)
    if not error and record.get("status") == "pending" and not code:
        code = exc.NeedsConfirmationError.exit_code
    if record.get("status") in ("failed", "partial", "interrupted", "in_progress") and not code:
        code = exc.StripeApiError.exit_code  # a write failed: never exit 0 for it
    return CaseResult(case_id=case_id, status=record.get("status", "failed"), record_dir=record_dir,
                      exit_code=code, error=record.get("error"), record=record)


def _settle_failed_run(record: dict[str, Any], ledger: Ledger, error: str) -> None:
    """A notebook that failed or whose kernel died: its record becomes final here.

    A kernel killed during its writes can leave a ledger finish its record never listed
    (the finish comes before the save): the record takes it from the ledger and counts it,
    so the money is counted by exactly one record (``storage.settle_from_ledger``).
    """
    if record.get("status") == "in_progress":
        settle_from_ledger(record, ledger)
    landed = any(e.get("status") in COUNTED for e in record.get("executed") or [])
    record["status"] = "partial" if landed else "failed"
    record["error"] = error
    record.pop("writer", None)
