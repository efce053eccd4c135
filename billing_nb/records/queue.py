"""The casebook as a work queue: cases by status and age, and what to run next.

Read from the casebook index in the one ledger (``cases/ledger.sqlite``). A case is
``interrupted`` when the ledger holds a write begun and never finished for it (a crash
between the two), whatever its record says; open cases carry the command that resumes
them: a hand-driven case reopens in JupyterLab, an unattended pending one re-runs from
its record (its customer and its complaint, as saved) with its suggested bucket.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..actions.ledger import Ledger
from ..exceptions import BadInputError
from ..money import Money

__all__ = ["QUEUE_ORDER", "age_words", "queue_rows", "recorded_case"]

#: The order the queue is worked in.
QUEUE_ORDER = ("pending", "failed", "interrupted", "done")


def age_words(created_at: str | None, now: datetime) -> str:
    """``3 d``, ``5 h``, ``12 min``: how long the case has been open."""
    if not created_at:
        return "?"
    seconds = max(0, int((now - datetime.fromisoformat(created_at).astimezone(UTC)).total_seconds()))
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} d"
    if seconds >= 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min"


def _interrupted(ledger: Ledger) -> set[str]:
    begun: dict[tuple[str, str], str] = {}
    for e in ledger.entries():
        if e.phase == "begin":
            begun[(e.action_id, e.idempotency_key)] = e.case_id
        else:
            begun.pop((e.action_id, e.idempotency_key), None)
    return set(begun.values())


def _hand_driven(path: Path) -> bool:
    """Whether the record's notebook was opened for JupyterLab (``interactive = True``)."""
    try:
        nb = json.loads((path / "case.ipynb").read_text())
    except (OSError, ValueError):
        return False
    for cell in nb.get("cells", []):
        if "injected-parameters" in (cell.get("metadata") or {}).get("tags", []):
            return "interactive = True" in "".join(cell.get("source") or [])
    return False


def recorded_case(lookup: str) -> tuple[str, str, tuple[str, ...]] | None:
    """The customer id, saved (masked) complaint and approved action ids of the record that
    ``lookup`` names (its folder, case.json or case.ipynb), so a case re-runs from its record
    and keeps its complaint; None when ``lookup`` is not a record."""
    path = Path(lookup)
    if path.suffix in (".json", ".ipynb"):
        path = path.parent
    try:
        if not (path / "case.json").is_file():
            return None
        record = json.loads((path / "case.json").read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInputError(f"{path / 'case.json'}: cannot read the record ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise BadInputError(f"{path / 'case.json'}: not a readable record (corrupt JSON)") from exc
    customer = (record.get("customer") or {}).get("id") if isinstance(record, dict) else None
    if not isinstance(customer, str) or not customer:
        raise BadInputError(f"{path / 'case.json'}: the record names no customer to re-run")
    approved = tuple(a for a in record.get("approved") or () if isinstance(a, str))
    return customer, str(record.get("complaint") or ""), approved


def _approved(path: Path) -> str:
    try:
        found = recorded_case(str(path))
    except BadInputError:
        found = None
    return " ".join(found[2]) if found and found[2] else "ACTION_ID ..."


def _next(row: dict[str, Any], status: str) -> str:
    path = Path(row["path"])
    if status == "done":
        return "-"
    if status == "interrupted":
        return f"billing-nb case {path} --bucket {row['bucket'] or row['suggested']} --approve {_approved(path)} " \
               "(the ledger finishes the begun write; nothing is done twice)"
    if _hand_driven(path):
        return f"billing-nb open {path}"
    if status == "pending":
        return f"billing-nb case {path} --bucket {row['suggested'] or 'BUCKET'}"
    return f"see {path / 'case.json'} (error), then billing-nb case {path}"


def queue_rows(cases_dir: Path, *, statuses: list[str] | None = None, bucket: str | None = None,
               now: datetime | None = None) -> list[dict[str, Any]]:
    """Indexed cases grouped by status (:data:`QUEUE_ORDER`), oldest first in each group."""
    ledger_path = Path(cases_dir) / "ledger.sqlite"
    if not ledger_path.exists():
        return []
    ledger = Ledger(ledger_path)
    now = now or datetime.now(UTC)
    stuck = _interrupted(ledger)
    out: list[dict[str, Any]] = []
    for r in ledger.cases():
        status = "interrupted" if r["case_id"] in stuck else (r["status"] or "failed")
        if statuses and status not in statuses:
            continue
        if bucket and (r["bucket"] or r["suggested"]) != bucket:
            continue
        cur = r["currency"] or "usd"
        out.append({
            "status": status, "age": age_words(r["created_at"], now), "created_at": r["created_at"],
            "case": r["case_id"], "case_id": r["case_id"], "customer": r["customer"],
            "bucket": r["bucket"] or f"(suggested {r['suggested']})", "executed": r["n_executed"],
            "refunded": Money(int(r["refunded"] or 0), cur).format(),
            "credited": Money(int(r["credited"] or 0), cur).format(),
            "anomalies": ",".join((r.get("summary") or {}).get("anomalies", [])) or "-",
            "path": r["path"], "next": _next(r, status),
        })
    rank = {s: i for i, s in enumerate(QUEUE_ORDER)}
    out.sort(key=lambda x: (rank.get(x["status"], len(rank)), x["created_at"] or "", x["case"]))
    return out
