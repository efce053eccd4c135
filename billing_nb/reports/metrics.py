"""Run a metric (:mod:`billing_nb.reports.queries`) on an engine: DuckDB, or any SQLGlot dialect.

The queries never call a date function: the months come from a ``calendar_months`` table
(``month_idx``, ``month`` "YYYY-MM", ``month_start``/``month_end`` unix seconds, and
``eval_at``, the instant a month's MRR is read at) built here from the span of the data,
a few hundred rows however large the account, and from an ``item_mrr`` table
(:mod:`.recurring`: each live item's MRR net of forever coupons, worked out exactly).
Everything else happens in SQL.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import pandas as pd
import sqlglot

from ..exceptions import BadInputError
from ..money import Money
from .queries import METRICS
from .queries import QUERIES
from .recurring import item_mrr

__all__ = ["METRICS", "MONEY_COLUMNS", "Engine", "DuckEngine", "SqliteEngine", "calendar", "run_metric",
           "metric_json", "formatted"]


#: Columns holding money (integer minor units of the row's ``currency``).
MONEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "mrr": ("mrr", "arr"), "movements": ("new", "expansion", "contraction", "churn", "reactivation", "mrr_end"),
    "plans": ("mrr",), "intervals": ("mrr",), "seats": ("mrr",),
    "conversion": ("mrr_to_annual", "mrr_to_monthly", "monthly_mrr", "annual_mrr"),
    "churn": ("mrr_start", "churned_mrr"), "retention": ("mrr",),
    "dunning": ("recovered_amount", "outstanding_amount"), "refunds": ("refunded", "refund_pending", "credited", "disputed",
                                                                                 "balance_out"),
}

_SPAN = """
SELECT MIN(t0), MAX(t1) FROM (
  SELECT MIN(period_start) AS t0, MAX(period_start) AS t1 FROM invoice_line_items
  UNION ALL SELECT MIN(created), MAX(created) FROM invoices
  UNION ALL SELECT MIN(created), MAX(COALESCE(canceled_at, created)) FROM subscriptions
  UNION ALL SELECT MIN(created), MAX(created) FROM refunds
  UNION ALL SELECT MIN(created), MAX(created) FROM credit_notes
  UNION ALL SELECT MIN(created), MAX(created) FROM disputes
  UNION ALL SELECT MIN(created), MAX(created) FROM balance_transactions
) spans
"""


class Engine(Protocol):
    """Somewhere the Sigma-shaped tables live and SQL runs."""

    def query(self, sql: str) -> pd.DataFrame: ...

    def put(self, name: str, frame: pd.DataFrame) -> None: ...


class DuckEngine:
    """The local store (a DuckDB connection): SQL as written."""

    def __init__(self, con: Any) -> None:
        self.con = con

    def query(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def put(self, name: str, frame: pd.DataFrame) -> None:
        self.con.register(name, frame)


class SqliteEngine:
    """SQLite through SQLGlot: the proof that the definitions are portable."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con

    def query(self, sql: str) -> pd.DataFrame:
        return pd.read_sql_query(sqlglot.transpile(sql, read="duckdb", write="sqlite")[0], self.con)

    def put(self, name: str, frame: pd.DataFrame) -> None:
        frame.to_sql(name, self.con, if_exists="replace", index=False)


def _month_start(year: int, month: int) -> int:
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp())


def calendar(first: int, last: int, as_of: int | None = None) -> pd.DataFrame:
    """One row per month from ``first``'s to ``last``'s (unix seconds, UTC); a month's MRR is
    read at its last second, or at ``as_of`` (default ``last``) when that comes earlier."""
    at = as_of if as_of is not None else last
    start = datetime.fromtimestamp(first, UTC)
    end = datetime.fromtimestamp(last, UTC)
    rows = []
    y, m, idx = start.year, start.month, 0
    while (y, m) <= (end.year, end.month):
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        s, e = _month_start(y, m), _month_start(ny, nm)
        rows.append({"month_idx": idx, "month": f"{y:04d}-{m:02d}", "month_start": s, "month_end": e,
                     "eval_at": min(e - 1, at)})
        y, m, idx = ny, nm, idx + 1
    return pd.DataFrame(rows, columns=["month_idx", "month", "month_start", "month_end", "eval_at"])


def run_metric(engine: Engine, name: str, *, as_of: int | None = None) -> pd.DataFrame:
    """One metric's rows (money in integer minor units, one ``currency`` per row)."""
    if name not in QUERIES:
        raise BadInputError(f"unknown metric {name!r}: choose one of {', '.join(METRICS)}")
    key = ("calendar_months", as_of)
    if getattr(engine, "_calendar", None) != key:  # once per engine: its tables do not change under it
        span = engine.query(_SPAN)
        first, last = span.iloc[0, 0], span.iloc[0, 1]
        if pd.isna(first) or pd.isna(last):
            first = last = int(datetime.now(UTC).timestamp())
        engine.put("calendar_months", calendar(int(first), int(last), as_of))
        engine.put("item_mrr", item_mrr(engine.query))
        setattr(engine, "_calendar", key)  # noqa: B010
    frame = engine.query(QUERIES[name])
    for col in frame.columns:
        if col in MONEY_COLUMNS.get(name, ()) or frame[col].dtype.kind == "f" and col not in _RATIOS:
            frame[col] = frame[col].fillna(0).astype("int64")
    return frame


_RATIOS = {"share", "conversion_rate", "customer_churn_rate", "mrr_churn_rate", "retention", "recovery_rate"}


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    return value


def metric_json(frame: pd.DataFrame) -> str:
    """The rows as a JSON array (integers stay integers, a missing ratio is null)."""
    rows = [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
    return json.dumps(rows, indent=1)


def formatted(name: str, frame: pd.DataFrame, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """For people: money as "$1,234.00" in its currency, ratios as percentages."""
    out = frame.copy()
    for col in MONEY_COLUMNS.get(name, ()):
        if col in out.columns and "currency" in out.columns:
            out[col] = [Money(int(a), str(c)).format() for a, c in zip(out[col], out["currency"], strict=True)]
    for col in _RATIOS & set(out.columns):
        out[col] = ["" if v is None or v != v else f"{float(v):.1%}" for v in out[col]]
    if "currency" in out.columns:
        out["currency"] = out["currency"].str.upper()
    return pd.DataFrame(out[list(columns)]) if columns else out
