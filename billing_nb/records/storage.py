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
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..actions.crashpoints import crash_point
from ..actions.ledger import Ledger
from ..actions.model import COUNTED, LANDED, REFUND_FAILED, REFUND_PENDING_STATUSES, money_of_id, split_again
from ..exceptions import BillingNbError, CorruptFileError, StorageError
from ..money import Money

__all__ = ["atomic_write_text", "saved_atomically", "read_json", "final_status", "failed_writes", "writer_identity",
           "settle_from_ledger", "close_interrupted"]


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


def saved_atomically(path: Path, write: Callable[[Path], Any], *, crash: str | None = None,
                     durable: bool = True) -> Path:
    """Let ``write(tmp)`` fill a temporary file beside ``path``, then rename it over ``path``
    (``crash``: a test's kill point between the two, see :mod:`billing_nb.actions.crashpoints`).

    ``durable=False`` skips the fsyncs: still atomic against a killed process (the page cache
    survives it), only a power cut may undo the rename - for a save whose content the ledger
    already holds (a record's progress between its writes)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        if durable:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        if crash:
            crash_point(crash)
        os.replace(tmp, path)
    except OSError as err:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise StorageError.of(path, err) from err
    if durable:
        _fsync_dir(path.parent)
    return path


def atomic_write_text(path: Path, text: str, *, crash: str | None = None, durable: bool = True) -> Path:
    """Write ``text`` to ``path`` atomically (temp file + fsync + rename)."""
    return saved_atomically(path, lambda tmp: tmp.write_text(text), crash=crash, durable=durable)


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
    failed and none landed in this run; ``partial`` when one failed after others landed. A refund
    Stripe failed after it was written (``refund_failed``) is a failed write: the money never
    reached the customer, so the case is not done."""
    statuses = [_get(e, "status") for e in latest_outcomes(executed)]
    if not _FAILED.intersection(statuses):
        return "done"
    return "partial" if any(s in COUNTED for s in statuses) else "failed"


def failed_writes(executed: list[Any]) -> str | None:
    """Why a run's writes left the case failed or partial, in one line (``None`` when none failed):
    the record's ``error`` says it, not only each action's own ``error`` deep in ``executed``."""
    latest = latest_outcomes(executed)
    failed = [e for e in latest if _get(e, "status") in _FAILED]
    if not failed:
        return None
    first = failed[0]
    more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
    return (f"{len(failed)} of {len(latest)} approved actions failed: {_get(first, 'action_id')}: "
            f"{_get(first, 'error') or 'no reason given'}{more}")


#: Outcomes that leave a case failed (or partial): a write that failed, a refund Stripe failed since.
_FAILED = frozenset({"failed", REFUND_FAILED})


def _get(entry: Any, key: str) -> Any:
    return entry.get(key) if isinstance(entry, dict) else getattr(entry, key, None)


def latest_outcomes(executed: list[Any]) -> list[Any]:
    """Each action's last outcome, in first-seen order: a write that failed and then landed on a
    later approval is landed, not failed (the record keeps both entries as its history)."""
    last: dict[Any, Any] = {}
    for entry in executed:
        last[_get(entry, "action_id") or id(entry)] = entry
    return list(last.values())


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
    # a credit note's refund_amount is refunded like a refund; only its credit_amount (``to_balance``)
    # went to the customer's balance (actions.revenue books them so)
    refunded = credited = pending = 0
    currency = None
    for e in record.get("executed") or []:
        action = plan.get(split_again(str(e.get("action_id")))[0]) or {}
        amount = action.get("amount") or {}
        named = money_of_id(str(e.get("action_id")))
        if e.get("status") not in COUNTED:
            continue
        if action.get("kind") == "refund" and amount and e.get("stripe_status") in REFUND_PENDING_STATUSES:
            pending += int(amount.get("value", 0))  # on its way: booked pending (actions.revenue)
            currency = amount.get("currency")
        elif action.get("kind") in ("refund", "credit_note") and amount:
            back = min(int(amount.get("value", 0)), int((action.get("to_balance") or {}).get("value", 0)))
            refunded += int(amount.get("value", 0)) - back
            credited += back
            currency = amount.get("currency")
        elif named is not None:
            refunded += named[1]
    cur = currency or (impact.get("refunded") or {}).get("currency") or "usd"
    impact["refunded"] = Money(refunded, cur).as_dict()
    impact["credited"] = Money(credited, cur).as_dict()
    impact["refund_pending"] = Money(pending, cur).as_dict()
    return impact


def settle_from_ledger(record: dict[str, Any], ledger: Ledger) -> list[str]:
    """Complete a dead run's ``executed`` from the ledger's finishes of its case, and its money.

    The ledger's finish of a write comes before the save of the record that lists it: a run
    killed between the two leaves a finish that only the ledger knows. The run is dead (its
    record can no longer change), so its record takes every finish of its case it lacks (the
    latest finish of each action wins) and counts them: the money is counted by this record,
    exactly once (the next run of the effect sees the finish and is ``already_done``). A
    begin with no finish is not the dead run's to count: the run that resolves it against
    Stripe counts it. Returns the action ids that landed (per the record, now complete).
    """
    executed = [dict(e) for e in record.get("executed") or []]
    where = {str(e.get("action_id")): i for i, e in enumerate(executed)}
    finishes = [e for e in ledger.entries(str(record.get("case_id"))) if e.phase == "finish"]
    for entry in finishes:
        item = {"action_id": entry.action_id, "idempotency_key": entry.idempotency_key,
                "stripe_object": entry.stripe_object, "request_id": entry.request_id,
                "status": entry.status, "error": entry.error}
        if entry.action_id in where:
            old = executed[where[entry.action_id]]
            if old.get("status") != entry.status or old.get("stripe_object") != entry.stripe_object:
                executed[where[entry.action_id]] = {**old, **item}
        else:
            where[entry.action_id] = len(executed)
            executed.append(item)
    record["executed"] = executed
    record["revenue_impact"] = _counted_money(record)
    return [str(e["action_id"]) for e in executed if e.get("status") in LANDED]


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
        landed = settle_from_ledger(record, ledger)
        record["status"] = "interrupted"
        record.pop("writer", None)
        record["error"] = ("interrupted: the run stopped during its Stripe writes; "
                           f"landed per the ledger: {', '.join(landed) or 'nothing'}; a write begun and not "
                           "finished is resolved against Stripe, and counted, by the next run that approves it")
        atomic_write_text(path, json.dumps(record, indent=2, default=str))
        ledger.index_case(record, folder)
        changed.append(folder)
    return changed
