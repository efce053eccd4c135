"""Append-only SQLite ledger of every executed action, and the casebook index.

Each write is recorded before the Stripe call (``begin``) and after it (``finish``),
so a crash between the two is visible and a re-run resolves it. Rows are never
updated or deleted: a begin is *resolved* by any later finish row with the same
action id and idempotency key.

The database runs in WAL mode (``busy_timeout`` and ``BEGIN IMMEDIATE`` for writes), so
several processes of a batch can share one ledger file. Each thread of each process keeps
one connection per ``Ledger`` (opening one per operation made the last close checkpoint
the WAL, an fsync per row), dropped after any error. SQLite forbids carrying a connection
across ``fork()`` ("do not open a connection, then fork, then use it in the child"): a fork
first waits until no thread is inside a ledger operation (a thread forked mid-statement
leaves SQLite's mutexes held in the child, which then hangs) and closes every connection,
so a forked child inherits none and opens its own; one inherited anyway (a fork the hook did
not see) is never used nor closed by the child -- closing it would drop the child's POSIX
locks on the file. The first open of a new file (WAL mode, schema) is one write
transaction, retried while another process holds the file's lock.

Rows are keyed by the write's idempotency key, which is derived from the effect (see
:func:`billing_nb.actions.model.idempotency_key`), so "has this effect been done?" is one
question whichever case asks it. :meth:`Ledger.lock` holds an exclusive ``flock`` on
``locks/<key>.lock`` beside the ledger for the whole begin - write - finish of one effect:
two processes in one cases folder never call Stripe for the same effect at once, and a
begin without a finish found *while holding the lock* belongs to a run that died (the
kernel releases a dead process's locks).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..exceptions import StorageError
from .caseindex import CASEBOOK_SCHEMA, UPSERT_SQL, decode_row, index_row
from .effectlock import effect_lock

__all__ = ["LedgerEntry", "Claim", "Ledger", "LEDGER_FILENAME", "DONE_STATUSES", "COUNTED_STATUSES"]

#: Default file name under the cases directory.
LEDGER_FILENAME = "ledger.sqlite"  # the one ledger under the cases folder (runner, case, casebook, queue)
#: Finish statuses that mean "the action's effect exists in Stripe".
DONE_STATUSES = ("succeeded", "recovered", "already_done")
#: Finish statuses whose case counts the effect (exactly one per idempotency key).
COUNTED_STATUSES = ("succeeded", "recovered")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    case_id TEXT NOT NULL,
    action_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    phase TEXT NOT NULL CHECK (phase IN ('begin', 'finish')),
    status TEXT,
    stripe_object TEXT,
    request_id TEXT,
    error TEXT,
    pid INTEGER
);
CREATE INDEX IF NOT EXISTS ledger_action ON ledger (action_id, seq);
CREATE INDEX IF NOT EXISTS ledger_case ON ledger (case_id, seq);
CREATE INDEX IF NOT EXISTS ledger_key ON ledger (idempotency_key, seq);
CREATE TRIGGER IF NOT EXISTS ledger_no_update BEFORE UPDATE ON ledger
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_no_delete BEFORE DELETE ON ledger
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
"""

_COLUMNS = "seq, at, case_id, action_id, idempotency_key, phase, status, stripe_object, request_id, error"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    at: str  # ISO UTC
    case_id: str
    action_id: str
    idempotency_key: str
    phase: str  # begin | finish
    status: str | None
    stripe_object: str | None
    request_id: str | None
    error: str | None


class _ForkGate:
    """Ledger operations in flight across this process's threads, so a fork can wait for none.

    Operations enter and leave freely; ``before_fork`` waits (up to ``wait`` seconds) until
    none is in flight, keeps new ones out until the fork is done, and closes every ledger's
    connections: the child starts with no SQLite state from its parent."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._forking = False
        self.ledgers: weakref.WeakSet[Ledger] = weakref.WeakSet()

    def enter(self) -> None:
        with self._cond:
            while self._forking:
                self._cond.wait()
            self._active += 1

    def leave(self) -> None:
        with self._cond:
            self._active -= 1
            if self._active <= 0:
                self._cond.notify_all()

    def before_fork(self, wait: float = 30.0) -> None:
        self._cond.acquire()
        self._forking = True
        deadline = time.monotonic() + wait
        while self._active > 0 and time.monotonic() < deadline:
            self._cond.wait(max(0.0, deadline - time.monotonic()))
        for ledger in list(self.ledgers):
            ledger._close_all(idle_only=self._active > 0)

    def after_fork_parent(self) -> None:
        self._forking = False
        self._cond.notify_all()
        self._cond.release()

    def after_fork_child(self) -> None:
        # the other threads are gone: a fresh gate; every connection was closed before the fork
        self._cond = threading.Condition()
        self._active = 0
        self._forking = False


_GATE = _ForkGate()
#: Connections a child inherited while in use (the gate timed out, or a fork it did not see):
#: kept referenced so the child never closes them (closing drops the child's own POSIX locks).
_INHERITED: list[sqlite3.Connection] = []
if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_GATE.before_fork, after_in_parent=_GATE.after_fork_parent,
                        after_in_child=_GATE.after_fork_child)

_TRANSIENT = ("database is locked", "database is busy", "database table is locked")


def _transient(err: BaseException) -> bool:
    return isinstance(err, sqlite3.OperationalError) and any(t in str(err).lower() for t in _TRANSIENT)


def _first(cur: sqlite3.Cursor) -> tuple[Any, ...] | None:
    """The first row, the statement run to its end: a kept connection never holds an old read
    snapshot open (a half-read SELECT would keep WAL's view from moving on)."""
    rows = cur.fetchall()
    return rows[0] if rows else None


def _entry(row: tuple[Any, ...]) -> LedgerEntry:
    return LedgerEntry(*row)


@dataclass(frozen=True)
class Claim:
    """What ``Ledger.claim`` decided: write with ``key`` on behalf of ``case_id``, or nothing (``done``)."""

    key: str
    case_id: str  # the case whose key and metadata the write must use
    done: LedgerEntry | None = None
    seq: int | None = None  # the begin row written for this attempt
    recovering: bool = False  # an earlier run began this write and died before its finish


_COMPLETED_SQL = (f"SELECT {_COLUMNS} FROM ledger WHERE action_id = ? AND phase = 'finish'"
                  " AND status IN (?, ?, ?) ORDER BY seq LIMIT 1")
_DANGLING_SQL = (f"SELECT {_COLUMNS} FROM ledger AS b WHERE b.action_id = ? AND b.phase = 'begin'"
                 " AND NOT EXISTS (SELECT 1 FROM ledger AS f WHERE f.phase = 'finish'"
                 " AND f.action_id = b.action_id AND f.idempotency_key = b.idempotency_key AND f.seq > b.seq)"
                 " ORDER BY b.seq DESC LIMIT 1")
_COMPLETED_KEY_SQL = (f"SELECT {_COLUMNS} FROM ledger WHERE idempotency_key = ? AND phase = 'finish'"
                      " AND status IN (?, ?, ?) ORDER BY seq LIMIT 1")
_DANGLING_KEY_SQL = (f"SELECT {_COLUMNS} FROM ledger AS b WHERE b.idempotency_key = ? AND b.phase = 'begin'"
                     " AND NOT EXISTS (SELECT 1 FROM ledger AS f WHERE f.phase = 'finish'"
                     " AND f.idempotency_key = b.idempotency_key AND f.seq > b.seq)"
                     " ORDER BY b.seq LIMIT 1")
_INSERT_SQL = ("INSERT INTO ledger (at, case_id, action_id, idempotency_key, phase, status, stripe_object,"
               " request_id, error, pid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


class Ledger:
    """The ledger file (created on first use). ``Ledger.in_dir(cases_dir)`` for the default place."""

    def __init__(self, path: Path, *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._conns: dict[int, tuple[int, sqlite3.Connection]] = {}  # thread ident -> (pid, connection)
        self._conns_lock = threading.Lock()
        self._busy: set[int] = set()  # id() of the connections inside an operation now
        _GATE.ledgers.add(self)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StorageError.of(self.path, err) from err
        self._first_open()

    def _first_open(self) -> None:
        """WAL mode and the schema, idempotently: several processes may open a new file at
        once, and a lock held by another one is waited out (then one clear line)."""
        deadline = time.monotonic() + self.timeout
        pause = 0.01
        while True:
            try:
                with self._connect() as conn:
                    if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                        conn.execute("PRAGMA journal_mode=WAL")
                    conn.executescript("BEGIN IMMEDIATE;\n" + _SCHEMA + CASEBOOK_SCHEMA + "\nCOMMIT;")
                return
            except StorageError as err:
                cause = err.__cause__
                if not (cause is not None and _transient(cause)) or time.monotonic() >= deadline:
                    raise
            except (OSError, sqlite3.Error) as err:
                if not _transient(err) or time.monotonic() >= deadline:
                    raise StorageError.of(self.path, err) from err
            time.sleep(pause)
            pause = min(pause * 2, 0.25)

    @classmethod
    def in_dir(cls, cases_dir: Path) -> Ledger:
        return cls(Path(cases_dir) / LEDGER_FILENAME)

    def _open(self) -> sqlite3.Connection:
        me = threading.get_ident()
        with self._conns_lock:
            held = self._conns.get(me)
            if held is not None and held[0] == os.getpid():
                return held[1]
            if held is not None:  # inherited across a fork the gate did not close: never used, never closed
                _INHERITED.append(held[1])
                del self._conns[me]
        try:
            # one thread uses it at a time (its own); the fork hook may close it from another
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
            conn.execute("PRAGMA synchronous=NORMAL")
        except (OSError, sqlite3.Error) as err:
            raise StorageError.of(self.path, err) from err
        with self._conns_lock:
            self._conns[me] = (os.getpid(), conn)
        return conn

    def _drop(self) -> None:
        with self._conns_lock:
            held = self._conns.pop(threading.get_ident(), None)
        if held is None:
            return
        if held[0] != os.getpid():
            _INHERITED.append(held[1])
            return
        try:
            held[1].close()
        except sqlite3.Error:
            pass

    def _close_all(self, *, idle_only: bool = False) -> None:
        """Close every thread's connection (before a fork); one in a transaction is kept when
        ``idle_only``: one inside an operation is kept (the gate stopped waiting for it)."""
        with self._conns_lock:
            for ident, (pid, conn) in list(self._conns.items()):
                if pid != os.getpid() or (idle_only and id(conn) in self._busy):
                    continue
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
                del self._conns[ident]

    def close(self) -> None:
        """Close this thread's connection (the next operation opens another)."""
        _GATE.enter()
        try:
            self._drop()
        finally:
            _GATE.leave()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        _GATE.enter()
        try:
            with self._connected() as conn:
                yield conn
        finally:
            _GATE.leave()

    @contextmanager
    def _connected(self) -> Iterator[sqlite3.Connection]:
        conn = self._open()
        self._busy.add(id(conn))
        try:
            yield conn
        except sqlite3.Error as err:  # a corrupt file, a full disk, a read-only folder
            self._drop()  # a half-open transaction dies with its connection
            raise StorageError.of(self.path, err) from err
        except BaseException:
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    self._drop()
            raise
        finally:
            self._busy.discard(id(conn))

    def _append(self, case_id: str, action_id: str, key: str, phase: str, status: str | None,
                stripe_object: str | None, request_id: str | None, error: str | None) -> int:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            cur = conn.execute(_INSERT_SQL, (_now(), case_id, action_id, key, phase, status, stripe_object,
                                             request_id, error, os.getpid()))
            conn.execute("COMMIT")
            return int(cur.lastrowid or 0)

    # --- the two records around a write -------------------------------------------------
    def begin(self, case_id: str, action_id: str, key: str) -> int:
        """Record an attempt before the Stripe call; returns the row's sequence number."""
        return self._append(case_id, action_id, key, "begin", None, None, None, None)

    def finish(self, case_id: str, action_id: str, key: str, *, status: str, stripe_object: str | None,
               request_id: str | None, error: str | None = None) -> int:
        """Record the outcome after the call (succeeded | already_done | failed | refused)."""
        return self._append(case_id, action_id, key, "finish", status, stripe_object, request_id, error)

    def claim(self, case_id: str, action_id: str, key: str) -> Claim:
        """Atomically (across processes), for the effect ``key``: completed → nothing to do; an
        unresolved begin → write on behalf of *its* case (``recovering``: under :meth:`lock`
        its owner is dead), so Stripe's idempotency returns the original object if the
        write went through; else begin on behalf of ``case_id``."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = _first(conn.execute(_COMPLETED_KEY_SQL, (key, *DONE_STATUSES)))
                if row:
                    return Claim(row[4], row[2], done=_entry(row))
                row = _first(conn.execute(_DANGLING_KEY_SQL, (key,)))
                use_case = row[2] if row else case_id
                cur = conn.execute(_INSERT_SQL, (_now(), case_id, action_id, key, "begin", None, None, None,
                                                 None, os.getpid()))
                return Claim(key, use_case, seq=int(cur.lastrowid or 0), recovering=row is not None)
            finally:
                conn.execute("COMMIT")

    @contextmanager
    def lock(self, key: str, timeout: float = 600.0) -> Iterator[None]:
        """Hold the effect's exclusive lock, ``locks/<key>.lock`` beside the ledger (waits
        for another process holding it)."""
        with effect_lock(self.path.parent / "locks", key, timeout):
            yield

    def completed_effect(self, key: str) -> LedgerEntry | None:
        """The first finish that says this effect exists in Stripe, in any case."""
        with self._connect() as conn:
            row = _first(conn.execute(_COMPLETED_KEY_SQL, (key, *DONE_STATUSES)))
        return _entry(row) if row else None

    def dangling_effect(self, key: str) -> LedgerEntry | None:
        """The oldest begin of this effect with no later finish (a crash, or a write in flight)."""
        with self._connect() as conn:
            row = _first(conn.execute(_DANGLING_KEY_SQL, (key,)))
        return _entry(row) if row else None

    # --- questions the executor asks ----------------------------------------------------
    def completed(self, action_id: str) -> LedgerEntry | None:
        """The succeeded entry for this action id in any case, if there is one."""
        with self._connect() as conn:
            row = _first(conn.execute(_COMPLETED_SQL, (action_id, *DONE_STATUSES)))
        return _entry(row) if row else None

    def dangling(self, action_id: str) -> LedgerEntry | None:
        """A begin with no finish (a crash in between), if there is one: the latest such begin."""
        with self._connect() as conn:
            row = _first(conn.execute(_DANGLING_SQL, (action_id,)))
        return _entry(row) if row else None

    def entries(self, case_id: str | None = None) -> list[LedgerEntry]:
        with self._connect() as conn:
            if case_id is None:
                rows = conn.execute(f"SELECT {_COLUMNS} FROM ledger ORDER BY seq").fetchall()
            else:
                rows = conn.execute(f"SELECT {_COLUMNS} FROM ledger WHERE case_id = ? ORDER BY seq",
                                    (case_id,)).fetchall()
        return [_entry(r) for r in rows]

    # --- casebook index ---------------------------------------------------------------------
    def index_case(self, record: dict[str, Any], path: Path) -> None:
        """Add or update the casebook index row for a record (a case.json dict)."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(UPSERT_SQL, index_row(record, path, _now()))
            conn.execute("COMMIT")

    def cases(self) -> list[dict[str, Any]]:
        """Every indexed case, oldest first, as plain dicts (``summary`` decoded)."""
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute("SELECT * FROM casebook ORDER BY created_at, case_id").fetchall()
        return [decode_row(dict(r)) for r in rows]
