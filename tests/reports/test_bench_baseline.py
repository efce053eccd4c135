"""The metrics benchmark compares like with like: on a small synthetic store (the
benchmark's own generator), the hand-written DuckDB baseline gives exactly the rows of the
portable definitions, and SQLite (through SQLGlot) gives them too, dunning and refunds
included (the known-history account has few of those)."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from generator import generate  # noqa: E402
from metrics import BASELINE  # noqa: E402

from billing_nb.reports.metrics import METRICS, DuckEngine, SqliteEngine, run_metric  # noqa: E402
from billing_nb.reports.store import open_store  # noqa: E402
from billing_nb.reports.tables import TABLES  # noqa: E402


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    db = tmp_path_factory.mktemp("bench") / "synthetic.duckdb"
    counts = generate(db, 400)
    assert counts["subscriptions"] == 400 and counts["balance_transactions"] > 0 and counts["disputes"] > 0
    with open_store(db, read_only=True) as opened:
        opened.con.execute("SET TimeZone = 'UTC'")
        yield opened


@pytest.mark.parametrize("name", METRICS)
def test_baseline_gives_the_same_rows(store, name: str) -> None:  # type: ignore[no-untyped-def]
    ours = run_metric(DuckEngine(store.con), name)
    want = store.con.execute(BASELINE[name]).df()
    assert len(ours) > 0 and list(ours.columns) == list(want.columns)
    assert ours.astype(str).values.tolist() == want.astype(str).values.tolist()


def test_generated_store_runs_unchanged_on_sqlite(store) -> None:  # type: ignore[no-untyped-def]
    lite = SqliteEngine(sqlite3.connect(":memory:"))
    for table in TABLES:
        lite.put(table, store.query(f"SELECT * FROM {table}"))
    duck = DuckEngine(store.con)
    for name in ("dunning", "refunds", "mrr", "intervals"):
        a, b = run_metric(duck, name), run_metric(lite, name)
        assert len(a) > 0 and a.astype(str).values.tolist() == b.astype(str).values.tolist(), name
