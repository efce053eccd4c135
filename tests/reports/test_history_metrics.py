"""The acceptance test of issue 13: a known history, synced, gives the movements and
conversion worked out by hand to the minor unit, on DuckDB and (transpiled) on SQLite."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import stripe

from billing_nb.cli import main
from billing_nb.config import API_VERSION
from billing_nb.reading.provider import StripeReader
from billing_nb.reports.metrics import METRICS, DuckEngine, SqliteEngine, run_metric
from billing_nb.reports.store import AccountStore, open_store
from billing_nb.reports.sync import sync_account
from billing_nb.reports.tables import TABLES
from billing_nb.sandbox.server import ThreadedSandbox

sys.path.insert(0, str(Path(__file__).parent))
from history import EXPECTED_EUR, EXPECTED_USD, History, build_history  # noqa: E402

KEY = "sk_test_billing_nb_history"


@dataclass
class Synced:
    url: str
    history: History
    store: AccountStore
    db: Path


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    with ThreadedSandbox() as sb:
        client = stripe.StripeClient(KEY, base_addresses={"api": sb.url}, stripe_version=API_VERSION)
        history = build_history(client)
        db = tmp_path_factory.mktemp("history") / "account.duckdb"
        store = open_store(db)
        result = sync_account(StripeReader(client), store, rate_limit=None)
        assert result.mode == "full" and result.saved["subscriptions"] == 10
        store.close()
        with open_store(db, read_only=True) as reading:  # as `billing-nb metrics` opens it
            yield Synced(sb.url, history, reading, db)


def _by_month(frame: object, currency: str) -> dict[str, tuple[int, ...]]:
    rows = frame.to_dict(orient="records")  # type: ignore[attr-defined]
    cols = ("new", "expansion", "contraction", "churn", "reactivation", "mrr_end")
    return {r["month"]: tuple(int(r[c]) for c in cols) for r in rows if r["currency"] == currency}


def test_movements_match_the_history_to_the_minor_unit(synced: Synced) -> None:
    movements = run_metric(DuckEngine(synced.store.con), "movements")
    assert _by_month(movements, "usd") == EXPECTED_USD
    assert _by_month(movements, "eur") == EXPECTED_EUR
    # the identity ChartMogul's movements keep: each month's MRR is the last plus its movements
    for currency in ("usd", "eur"):
        rows = movements[movements.currency == currency].to_dict(orient="records")
        for before, row in zip(rows, rows[1:], strict=False):
            moved = row["new"] + row["expansion"] + row["contraction"] + row["churn"] + row["reactivation"]
            assert before["mrr_end"] + moved == row["mrr_end"]


def test_conversion_counts_the_monthly_to_annual_switches(synced: Synced) -> None:
    conv = run_metric(DuckEngine(synced.store.con), "conversion")
    rows = {(r["currency"], r["month"]): r for r in conv.to_dict(orient="records")}
    # E (USD) switched Apr 15 to 10000/year = 833/month; F (EUR) May 10 to 24000/year = 2000/month
    assert (rows[("usd", "2025-04")]["monthly_to_annual"], rows[("usd", "2025-04")]["mrr_to_annual"]) == (1, 833)
    assert (rows[("eur", "2025-05")]["monthly_to_annual"], rows[("eur", "2025-05")]["mrr_to_annual"]) == (1, 2000)
    assert rows[("usd", "2025-04")]["monthly_customers"] == 5  # A, B, C, E, G paid monthly in March
    assert rows[("usd", "2025-04")]["conversion_rate"] == pytest.approx(0.2)
    others = [r for k, r in rows.items() if k not in {("usd", "2025-04"), ("eur", "2025-05")}]
    assert all(r["monthly_to_annual"] == 0 and r["annual_to_monthly"] == 0 for r in others)
    assert rows[("usd", "2025-07")]["annual_mrr"] == 833 and rows[("eur", "2025-07")]["annual_mrr"] == 2000


def test_current_mrr_agrees_with_the_last_month_of_movements(synced: Synced) -> None:
    mrr = {r["currency"]: r for r in run_metric(DuckEngine(synced.store.con), "mrr").to_dict(orient="records")}
    assert (mrr["usd"]["mrr"], mrr["usd"]["arr"], mrr["usd"]["customers"]) == (6833, 6833 * 12, 5)
    assert (mrr["eur"]["mrr"], mrr["eur"]["live_subscriptions"]) == (2000, 1)


def test_churn_and_retention_by_cohort(synced: Synced) -> None:
    churn = {(r["currency"], r["month"]): r for r in run_metric(DuckEngine(synced.store.con), "churn").to_dict(orient="records")}
    march = churn[("usd", "2025-03")]
    assert (march["customers_start"], march["churned_customers"], march["churned_mrr"]) == (7, 2, 2000)
    retention = run_metric(DuckEngine(synced.store.con), "retention")
    jan = {r["age"]: r for r in retention.to_dict(orient="records") if r["cohort"] == "2025-01" and r["currency"] == "usd"}
    # 7 customers from January; D and H gone in March, C in May, D back in June
    assert [jan[a]["retained"] for a in range(7)] == [7, 7, 5, 5, 4, 5, 5]
    assert all(jan[a]["customers"] == 7 for a in jan)


def test_plans_intervals_and_seats(synced: Synced) -> None:
    engine = DuckEngine(synced.store.con)
    seats = {(r["currency"], r["seats"]): r["items"] for r in run_metric(engine, "seats").to_dict(orient="records")}
    assert seats[("usd", 2)] == 1 and seats[("usd", 1)] == 4
    intervals = {(r["currency"], r["billing_interval"]): r for r in run_metric(engine, "intervals").to_dict(orient="records")}
    assert intervals[("usd", "year")]["subscriptions"] == 1 and intervals[("usd", "month")]["subscriptions"] == 4
    assert intervals[("usd", "year")]["share"] == pytest.approx(0.2)
    plans = run_metric(engine, "plans")
    assert int(plans[plans.currency == "usd"]["mrr"].sum()) == 6833


def test_every_metric_runs_unchanged_on_sqlite(synced: Synced) -> None:
    """The definitions are portable: transpiled by SQLGlot to SQLite, the same rows."""
    lite = SqliteEngine(sqlite3.connect(":memory:"))
    for table in TABLES:
        lite.put(table, synced.store.query(f"SELECT * FROM {table}"))
    for name in METRICS:
        duck = run_metric(DuckEngine(synced.store.con), name)
        other = run_metric(lite, name)
        assert list(duck.columns) == list(other.columns), name
        assert duck.astype(str).values.tolist() == other.astype(str).values.tolist(), name
        assert len(duck) > 0 or name in ("dunning", "refunds"), name


def test_metrics_json_from_the_command_line(synced: Synced, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metrics", "movements", "--db", str(synced.db), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    april = next(r for r in rows if r["month"] == "2025-04" and r["currency"] == "usd")
    assert april == {"month": "2025-04", "currency": "usd", "new": 0, "expansion": 0, "contraction": -1667,
                     "churn": 0, "reactivation": 0, "mrr_end": 6833}
    assert main(["metrics", "mrr", "--db", str(synced.db)]) == 0
    assert "$68.33" in capsys.readouterr().out


def test_metrics_without_a_store_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metrics", "mrr", "--db", str(tmp_path / "none.duckdb")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "billing-nb sync" in err[0]
