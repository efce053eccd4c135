"""The local copy of the account: a DuckDB file with Sigma-shaped tables and sync state.

Why DuckDB: it is embedded (one file, no server), columnar, and runs the metric queries
over millions of rows in seconds on a laptop. The file lives in ``.billing-nb/`` of the
working directory (ignored by git) unless ``--db`` names another path.

``sync_state`` keeps, per listed kind, the cursor of the last page saved (so an
interrupted sync resumes after it) and whether the kind's listing finished; ``sync_meta``
keeps when the last complete sync started (the incremental sync's starting point) and the
key of ``email_key``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from ..exceptions import ConfigError
from .tables import TABLES, Row

__all__ = ["DEFAULT_DB", "AccountStore", "open_store", "default_db_path"]

DEFAULT_DB = Path(".billing-nb") / "account.duckdb"
#: Seconds of pages one transaction holds: an interrupted sync re-reads at most these.
COMMIT_EVERY = 1.0

_STATE_DDL = [
    "CREATE TABLE IF NOT EXISTS sync_state (kind VARCHAR PRIMARY KEY, cursor VARCHAR, complete BOOLEAN, "
    "rows BIGINT, run_started BIGINT, mode VARCHAR)",
    "CREATE TABLE IF NOT EXISTS sync_meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
]


def default_db_path() -> Path:
    """``BILLING_NB_DB`` when set, else ``.billing-nb/account.duckdb`` in the current folder."""
    import os

    return Path(os.environ.get("BILLING_NB_DB") or DEFAULT_DB)


class AccountStore:
    """One DuckDB connection, its writes serialized (the sync writes from several threads)."""

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path)
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise ConfigError(f"no account store at {self.path}: run `billing-nb sync` first (or pass --db)")
        try:
            try:
                self.con = duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.ConnectionException as err:
                if not (read_only and "different configuration" in str(err)):
                    raise
                # this process already holds the file open for writing: share that instance
                self.con = duckdb.connect(str(self.path))
        except duckdb.Error as err:
            raise ConfigError(f"cannot open the account store {self.path}: {str(err).splitlines()[0]}") from err
        self.con.execute("SET enable_progress_bar = false")
        self.lock = threading.RLock()  # one connection: every statement under it
        self._email_hash_key: str | None = None
        self._tx_started: float | None = None  # when the pages held in memory began (see upsert)
        self._rows: dict[str, dict[Any, Row]] = {}
        self._parents: dict[str, tuple[str, set[str]]] = {}
        self._states: dict[str, tuple[Any, ...]] = {}
        if not read_only:
            self.create()

    def create(self) -> None:
        """Every table (idempotent). A table of an older layout (a column added since) is
        dropped, and the sync forgotten so the next one reads the account in full."""
        stale = False
        for name, cols in TABLES.items():
            held = [r[0] for r in self.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                [name]).fetchall()]
            if held and held != [c for c, _ in cols]:
                self.con.execute(f"DROP TABLE {name}")
                stale = True
        for name, cols in TABLES.items():
            body = ", ".join(f"{c} {t}" + (" PRIMARY KEY" if i == 0 else "") for i, (c, t) in enumerate(cols))
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({body})")
            for col, typ in cols[1:]:  # a store made before a column was added (subscription_items.amount)
                self.con.execute(f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS {col} {typ}")
        for ddl in _STATE_DDL:
            self.con.execute(ddl)
        if stale:
            for table in TABLES:
                self.con.execute(f"DELETE FROM {table}")
            self.con.execute("DELETE FROM sync_state")
            self.con.execute("DELETE FROM sync_meta WHERE key <> 'email_hash_key' AND key <> 'source'")

    def close(self) -> None:
        self.commit()
        self.con.close()

    def __enter__(self) -> AccountStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writes -------------------------------------------------------------------------
    def upsert(self, rows: dict[str, list[Row]], *, state: tuple[str, str | None, bool, int, int, str] | None = None,
               replace_children: dict[str, tuple[str, list[str]]] | None = None) -> None:
        """Insert or replace rows of several tables and the kind's cursor: a page and its
        cursor are saved together or not at all.

        ``replace_children`` maps a child table to (parent column, parent ids) whose old
        children are deleted first (an invoice's lines, a subscription's items). Pages are
        held in memory and written in one transaction at most every :data:`COMMIT_EVERY`
        seconds (a statement costs DuckDB tens of milliseconds however few its rows: one per
        table per second instead of one per table per page); a killed sync loses at most
        that second, its cursors with it.
        """
        with self.lock:
            if self._tx_started is None:
                self._tx_started = time.monotonic()
            for table, (column, parents) in (replace_children or {}).items():
                if not parents:
                    continue
                gone = set(parents)
                self._parents.setdefault(table, (column, set()))[1].update(gone)
                at = [c for c, _ in TABLES[table]].index(column)
                held = self._rows.get(table, {})
                for key in [k for k, r in held.items() if r[at] in gone]:
                    del held[key]
            for table, data in rows.items():
                held = self._rows.setdefault(table, {})
                for row in data:
                    held.pop(row[0], None)  # a later version goes last
                    held[row[0]] = row
            if state is not None:
                self._states[state[0]] = state
            if time.monotonic() - self._tx_started >= COMMIT_EVERY:
                self.commit()

    def _frame(self, table: str, data: list[Row]) -> pd.DataFrame:
        """Rows as typed columns (nullable integers and booleans), built column by column."""
        cols: dict[str, Any] = {}
        for j, (name, sql_type) in enumerate(TABLES[table]):
            values = [r[j] for r in data]
            cols[name] = (pd.array(values, dtype="Int64") if sql_type == "BIGINT" else
                          pd.array(values, dtype="boolean") if sql_type == "BOOLEAN" else
                          pd.array(values, dtype="Float64") if sql_type == "DOUBLE" else pd.Series(values, dtype=object))
        return pd.DataFrame(cols)

    def commit(self) -> None:
        """Write and commit the pages held so far (see :meth:`upsert`)."""
        with self.lock:
            if self._tx_started is None:
                return
            rows, parents, states = self._rows, self._parents, self._states
            self._rows, self._parents, self._states, self._tx_started = {}, {}, {}, None
            self.con.execute("BEGIN")
            try:
                for table, (column, ids) in parents.items():
                    frame = pd.DataFrame({"pid": sorted(ids)})  # noqa: F841 - read by DuckDB below
                    self.con.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT pid FROM frame)")
                for table, held in rows.items():
                    if held:
                        self.con.register("page_rows", self._frame(table, list(held.values())))
                        self.con.execute(f"INSERT OR REPLACE INTO {table} SELECT * FROM page_rows")
                        self.con.unregister("page_rows")
                for state in states.values():
                    self.con.execute("INSERT OR REPLACE INTO sync_state VALUES (?, ?, ?, ?, ?, ?)", list(state))
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise

    def wipe(self) -> None:
        """Empty every table and forget the sync (the key of ``email_key`` stays)."""
        self.commit()
        with self.lock:
            for table in TABLES:
                self.con.execute(f"DELETE FROM {table}")
            self.con.execute("DELETE FROM sync_state")
            self.con.execute("DELETE FROM sync_meta WHERE key <> 'email_hash_key'")

    def mark_deleted(self, table: str, ids: list[str]) -> None:
        """Objects gone from Stripe: customers are kept flagged (their history still counts),
        anything else removed."""
        self.commit()
        with self.lock:
            for obj_id in ids:
                if table == "customers":
                    self.con.execute("UPDATE customers SET deleted = TRUE WHERE id = ?", [obj_id])
                else:
                    self.con.execute(f"DELETE FROM {table} WHERE id = ?", [obj_id])

    # --- state ----------------------------------------------------------------------------
    def state(self) -> dict[str, dict[str, Any]]:
        self.commit()
        with self.lock:
            rows = self.con.execute("SELECT kind, cursor, complete, rows, run_started, mode FROM sync_state").fetchall()
        return {r[0]: {"cursor": r[1], "complete": bool(r[2]), "rows": int(r[3] or 0), "run_started": r[4],
                       "mode": r[5]} for r in rows}

    def clear_state(self) -> None:
        self.commit()
        with self.lock:
            self.con.execute("DELETE FROM sync_state")

    def meta(self, key: str) -> str | None:
        with self.lock:
            row = self.con.execute("SELECT value FROM sync_meta WHERE key = ?", [key]).fetchall()
            row = row[0] if row else None
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.commit()
        with self.lock:
            self.con.execute("INSERT OR REPLACE INTO sync_meta VALUES (?, ?)", [key, value])

    def email_key(self, email: str | None) -> str | None:
        """A keyed hash of the lower-cased email: equal for equal emails, useless without the
        database's key. Duplicate customers are found by it; the email itself is masked."""
        if not email:
            return None
        with self.lock:
            key = self._email_hash_key or self.meta("email_hash_key")
            if key is None:
                key = secrets.token_hex(16)
                self.set_meta("email_hash_key", key)
            self._email_hash_key = key
        return hmac.new(bytes.fromhex(key), email.strip().lower().encode(), hashlib.sha256).hexdigest()[:24]

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        self.commit()
        return {t: int(self.con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in TABLES}  # type: ignore[index]

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        self.commit()
        with self.lock:
            return self.con.execute(sql, params or []).df()


def open_store(path: Path | str | None = None, *, read_only: bool = False) -> AccountStore:
    """The store at ``path`` (default :func:`default_db_path`)."""
    return AccountStore(Path(path) if path else default_db_path(), read_only=read_only)
