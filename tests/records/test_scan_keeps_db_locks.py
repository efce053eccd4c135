"""A scan in a process that has the ledger open keeps the ledger's locks: closing a plain file
descriptor on a database file (or its WAL and shared-memory files) drops every POSIX lock the
process holds on it (sqlite.org/howtocorrupt.html, 2.2), which let another writer in while this
process was mid-transaction -- the "database disk image is malformed" a full test run met."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from billing_nb.records.scan import scan

_OTHER_WRITER = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)
try:
    con.execute("BEGIN IMMEDIATE")
except sqlite3.OperationalError as err:
    print("locked" if "locked" in str(err) else f"error {err}")
else:
    print("got the write lock")
"""


def test_a_write_transaction_stays_locked_through_a_folder_scan(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite"
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE t (x TEXT)")
    con.execute("INSERT INTO t VALUES ('hello')")
    con.execute("BEGIN IMMEDIATE")  # this process now holds the write lock (in the -shm file)
    con.execute("INSERT INTO t VALUES ('mid-transaction')")
    assert (tmp_path / "ledger.sqlite-shm").exists()
    scan(tmp_path)
    other = subprocess.run([sys.executable, "-c", _OTHER_WRITER, str(db)], capture_output=True, text=True, timeout=60)
    assert other.stdout.strip() == "locked", other.stdout + other.stderr
    con.execute("COMMIT")
    con.close()
