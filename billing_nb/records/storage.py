"""Record files that survive the disk, and the status a run's writes leave behind.

Every record file is written to a temporary file beside it, flushed to disk and renamed
over the old one: a full disk, a file size limit or a kill mid-write leaves the previous
version (or nothing), never a truncated ``case.json`` or ``snapshot.json``. Failures
become one :class:`~billing_nb.exceptions.StorageError` line naming the path and cause.

A record is saved ``in_progress`` (with its writer's pid and host) before its first
Stripe write. :func:`close_interrupted` turns the records of runs that died there into
``interrupted``, filling ``executed`` from the ledger's finishes for that case, so the
casebook counts every landed write exactly once.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..actions.ledger import Ledger
from ..actions.model import COUNTED, LANDED, money_of_id, split_again
from ..exceptions import BillingNbError, CorruptFileError, StorageError
from ..money import Money

__all__ = ["atomic_write_text", "saved_atomically", "read_json", "final_status", "writer_identity",
           "close_interrupted"]


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def saved_atomically(path: Path, write: Callable[[Path], Any]) -> Path:
    """Let ``write(tmp)`` fill a temporary file beside ``path``, then rename it over ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise StorageError.of(path, err) from err
    _fsync_dir(path.parent)
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temp file + fsync + rename)."""
    return saved_atomically(path, lambda tmp: tmp.write_text(text))


def read_json(path: Path) -> dict[str, Any]:
    """A record file as a dict; a missing file is empty, a corrupt one a StorageError naming it."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise StorageError.of(path, err) from err
    try:
        data = json.loads(text)
    except ValueError as err:
        raise CorruptFileError(f"{path}: not valid JSON ({err}); the record is damaged") from None
    if not isinstance(data, dict):
        raise CorruptFileError(f"{path}: not a JSON object; the record is damaged")
    return data


def final_status(executed: list[Any]) -> str:
    """``done`` when every write landed or was refused by a guard before it; ``failed`` when one
    failed and none landed in this run; ``partial`` when one failed after others landed."""
    statuses = [getattr(e, "status", None) or (e.get("status") if isinstance(e, dict) else None) for e in executed]
    if "failed" not in statuses:
        return "done"
    return "partial" if any(s in COUNTED for s in statuses) else "failed"


def writer_identity() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname()}


def _alive(writer: dict[str, Any] | None) -> bool:
    if not writer or writer.get("host") != socket.gethostname():
        return True  # another machine's run: not ours to judge
    try:
        pid = int(writer.get("pid") or 0)
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, ValueError):
        return True
    try:  # a killed process nobody has reaped yet is a zombie: dead all the same
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return pid > 0
    return pid > 0 and state not in ("Z", "X")


def _counted_money(record: dict[str, Any]) -> dict[str, Any]:
    plan = {a.get("id"): a for a in record.get("plan") or []}
    impact = dict(record.get("revenue_impact") or {})
    sums: dict[str, int] = {"refund": 0, "credit_note": 0}
    currency = None
    for e in record.get("executed") or []:
        action = plan.get(split_again(str(e.get("action_id")))[0]) or {}
        amount = action.get("amount") or {}
        named = money_of_id(str(e.get("action_id")))
        if e.get("status") not in COUNTED:
            continue
        if action.get("kind") in sums and amount:
            sums[action["kind"]] += int(amount.get("value", 0))
            currency = amount.get("currency")
        elif named is not None:
            sums[named[0]] += named[1]
    cur = currency or (impact.get("refunded") or {}).get("currency") or "usd"
    impact["refunded"] = Money(sums["refund"], cur).as_dict()
    impact["credited"] = Money(sums["credit_note"], cur).as_dict()
    return impact


def close_interrupted(cases_dir: Path, ledger: Ledger) -> list[Path]:
    """Mark the records of dead runs (``in_progress``, writer gone) ``interrupted``; their
    ``executed`` is completed from the ledger's finishes of that case. The folders changed."""
    changed: list[Path] = []
    for row in ledger.cases():
        if row.get("status") != "in_progress":
            continue
        folder = Path(str(row["path"]))
        path = folder / "case.json"
        try:
            record = read_json(path)
        except BillingNbError:
            continue
        if record.get("status") != "in_progress" or _alive(record.get("writer")):
            continue
        seen = {str(e.get("action_id")) for e in record.get("executed") or []}
        finishes = [e for e in ledger.entries(str(record.get("case_id"))) if e.phase == "finish"]
        for entry in finishes:
            if entry.action_id not in seen:
                record.setdefault("executed", []).append({
                    "action_id": entry.action_id, "idempotency_key": entry.idempotency_key,
                    "stripe_object": entry.stripe_object, "request_id": entry.request_id,
                    "status": entry.status, "error": entry.error})
                seen.add(entry.action_id)
        record["status"] = "interrupted"
        record.pop("writer", None)
        landed = [e["action_id"] for e in record.get("executed") or [] if e.get("status") in LANDED]
        record["error"] = ("interrupted: the run stopped during its Stripe writes; "
                           f"landed per the ledger: {', '.join(landed) or 'nothing'}; a write begun and not "
                           "finished is resolved against Stripe, and counted, by the next run that approves it")
        record["revenue_impact"] = _counted_money(record)
        atomic_write_text(path, json.dumps(record, indent=2, default=str))
        ledger.index_case(record, folder)
        changed.append(folder)
    return changed
