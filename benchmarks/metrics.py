"""Benchmark: every metric over N synthetic subscriptions (default 1M) written straight into
the store by ``benchmarks/generator.py``, the portable definitions (``run_metric``) against
hand-written DuckDB SQL for the same numbers (date functions, ``unnest(generate_series)``
instead of a calendar range join, ``FILTER``); both must give identical rows.

Prints per metric: median seconds of each, the ratio (target <= 1.5x), and the process's
peak memory (target <= 2 GB). Usage: python benchmarks/metrics.py [--subs N] [--reps R]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from generator import generate  # noqa: E402

from billing_nb.reports.metrics import METRICS, DuckEngine, run_metric  # noqa: E402
from billing_nb.reports.queries import BASE, QUERIES  # noqa: E402

# The customer-month MRR, the DuckDB way: each segment's months by arithmetic on dates and
# unnest(generate_series(...)), then an equality join on the month (no range join).
_MONTH_OF = ("((year(to_timestamp({t})) - (SELECT year(to_timestamp(MIN(month_start))) FROM calendar_months)) * 12"
             " + month(to_timestamp({t})) - (SELECT month(to_timestamp(MIN(month_start))) FROM calendar_months))")
_CM_PORTABLE = BASE[BASE.index("cm AS ("):BASE.index("pairs AS (")]
_CM_DUCK = f"""cm AS (
  SELECT seg.customer_id, seg.currency, c.month_idx, SUM(seg.rate) AS mrr,
         SUM(seg.rate) FILTER (WHERE seg.billing_interval = 'year') AS annual,
         SUM(seg.rate) FILTER (WHERE seg.billing_interval = 'month') AS monthly
  FROM (SELECT *, unnest(generate_series({_MONTH_OF.format(t='seg_start')},
                                        {_MONTH_OF.format(t='greatest(seg_end - 1, seg_start)')})) AS m
        FROM seg WHERE rate > 0 AND seg_end > seg_start) seg
  JOIN calendar_months c ON c.month_idx = seg.m
  WHERE seg.seg_start <= c.eval_at AND seg.seg_end > c.eval_at
  GROUP BY ALL
),
"""
_BY_MONTH = "strftime(to_timestamp({t}), '%Y-%m')"
BASELINE: dict[str, str] = {name: QUERIES[name].replace(_CM_PORTABLE, _CM_DUCK)
                            for name in ("movements", "conversion", "churn", "retention")}
BASELINE["mrr"] = QUERIES["mrr"]  # one join and one GROUP BY: nothing to hand-optimise
BASELINE["plans"] = QUERIES["plans"]
BASELINE["intervals"] = QUERIES["intervals"]
BASELINE["seats"] = QUERIES["seats"]
BASELINE["dunning"] = f"""
SELECT {_BY_MONTH.format(t='created')} AS month, currency, COUNT(*)::BIGINT AS failed_invoices,
       COUNT(*) FILTER (WHERE status = 'paid')::BIGINT AS recovered,
       COALESCE(SUM(amount_paid) FILTER (WHERE status = 'paid'), 0)::BIGINT AS recovered_amount,
       COALESCE(SUM(amount_remaining) FILTER (WHERE status <> 'paid'), 0)::BIGINT AS outstanding_amount,
       ROUND(COUNT(*) FILTER (WHERE status = 'paid') / COUNT(*), 4) AS recovery_rate
FROM invoices WHERE attempt_count >= 1 AND status IN ('paid', 'open', 'uncollectible')
  AND (status <> 'paid' OR attempt_count > 1)
GROUP BY ALL ORDER BY currency, month"""
BASELINE["refunds"] = f"""
WITH moved AS (
  SELECT created, currency, amount, (status = 'succeeded')::INT AS r, 0 AS c, 0 AS d, 0 AS o,
         (status <> 'succeeded')::INT AS p FROM refunds WHERE status IN ('succeeded', 'pending', 'requires_action')
  UNION ALL SELECT created, currency, total, 0, 1, 0, 0, 0 FROM credit_notes WHERE status <> 'void'
  UNION ALL SELECT created, currency, amount, 0, 0, 1, 0, 0 FROM disputes
  UNION ALL SELECT created, currency, -amount, 0, 0, 0, 1, 0 FROM balance_transactions
  WHERE reporting_category IN ('refund', 'refund_failure', 'dispute', 'dispute_reversal'))
SELECT {_BY_MONTH.format(t='created')} AS month, currency, SUM(r)::BIGINT AS refunds,
       SUM(r * amount)::BIGINT AS refunded, SUM(p * amount)::BIGINT AS refund_pending, SUM(c)::BIGINT AS credit_notes, SUM(c * amount)::BIGINT AS credited,
       SUM(d)::BIGINT AS disputes, SUM(d * amount)::BIGINT AS disputed, SUM(o * amount)::BIGINT AS balance_out
FROM moved GROUP BY ALL ORDER BY currency, month"""


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subs", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--db", type=Path, help="reuse (or keep) the generated store here")
    parser.add_argument("--memory-limit", default="1300MB", help="DuckDB's memory_limit (the target is 2 GB in all)")
    parser.add_argument("--slow", type=float, default=30.0, help="a metric whose first run takes longer runs once")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bnb-metrics-"))
    db = args.db or work / "synthetic.duckdb"
    if not db.exists():
        t0 = time.perf_counter()
        counts = generate(db, args.subs)
        print(f"generated {args.subs:,} subscriptions in {time.perf_counter() - t0:.0f} s: "
              + ", ".join(f"{k} {v:,}" for k, v in counts.items() if v) + f"; peak {_peak_mb():,.0f} MB", flush=True)
    con = duckdb.connect(str(db), read_only=True)
    for setting in ("SET enable_progress_bar = false", "SET TimeZone = 'UTC'",
                    f"SET memory_limit = '{args.memory_limit}'", "SET threads = 2"):
        con.execute(setting)
    engine = DuckEngine(con)
    run_metric(engine, "mrr")  # untimed: registers the calendar (from the data's span) and warms the cache
    print(f"metrics over {args.subs:,} synthetic subscriptions, median of {args.reps} (1 when a run takes over "
          f"{args.slow:g} s); portable SQL vs hand-written DuckDB SQL, same rows checked, the two alternating:")
    worst = 0.0
    for name in METRICS:
        ours: list[float] = []
        base: list[float] = []
        got = want = None
        rep = 0
        while rep < args.reps:
            for which in ((0, 1) if rep % 2 == 0 else (1, 0)):  # who runs first alternates (cache warmth)
                t0 = time.perf_counter()
                if which == 0:
                    got = run_metric(engine, name)
                    ours.append(time.perf_counter() - t0)
                else:
                    want = con.execute(BASELINE[name]).df()
                    base.append(time.perf_counter() - t0)
            rep += 1
            if rep == 1 and max(ours[0], base[0]) > args.slow:
                break
        assert got is not None and want is not None
        same = got.astype(str).values.tolist() == want.astype(str).values.tolist()
        ratio = statistics.median(ours) / max(statistics.median(base), 1e-9)
        worst = max(worst, ratio)
        print(f"  {name:<11} ours {statistics.median(ours):7.2f} s  baseline {statistics.median(base):7.2f} s  "
              f"ratio {ratio:4.2f}x  runs {len(ours)}  rows {len(got):>5}  {'same rows' if same else 'ROWS DIFFER'}  "
              f"peak {_peak_mb():,.0f} MB", flush=True)
    print(f"  worst ratio {worst:.2f}x (target <= 1.5x); peak memory {_peak_mb():,.0f} MB (target <= 2048 MB)")


if __name__ == "__main__":
    main()
