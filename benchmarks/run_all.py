"""Benchmarks: snapshot waves/requests, approval-to-execution time, and the case-speed
benchmarks of :mod:`case_speed` (whole-case waves, --help, case vs empty notebook, batches).

Prints medians and ratios measured in one run. Never part of the test suite.
Usage: python benchmarks/run_all.py [--reps N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import urllib.request
import json
from pathlib import Path
from typing import Any

import stripe

import case_speed
from billing_nb.reading.waves import build_snapshot
from billing_nb.config import API_VERSION, load_settings
from billing_nb.sandbox.app import Knobs
from billing_nb.sandbox.server import start, stop

KEY = "sk_test_billing_nb_bench"
LATENCY_MS = 100


def _client(url: str) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": url}, stripe_version=API_VERSION)


def _requests(url: str, *, clear: bool = False) -> list[dict[str, Any]]:
    req = urllib.request.Request(f"{url}/_sandbox/requests", method="DELETE" if clear else "GET")
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())["data"]


def _sandbox(run_dir: Path, state: Path, latency: int) -> str:
    info = start(run_dir=run_dir, state=state, knobs=Knobs(latency_ms=latency))
    os.environ["STRIPE_API_BASE"] = info.url
    os.environ["STRIPE_API_KEY"] = KEY
    return info.url


def seed(work: Path) -> tuple[Path, list[Any]]:
    from billing_nb.demo.seed import seed_demo

    state = work / "seeded.json"
    run = work / "run-seed"
    url = _sandbox(run, state, 0)
    try:
        customers = seed_demo(_client(url))
    finally:
        stop(run)
    return state, customers


def bench_snapshot(work: Path, state: Path, customers: list[Any], reps: int) -> None:
    from billing_nb.reading.provider import StripeReader, make_client

    run = work / "run-snap"
    url = _sandbox(run, state, LATENCY_MS)
    try:
        reader = StripeReader(make_client(load_settings()))
        # the busiest customer is the one whose snapshot needs the most requests
        cost = {}
        for c in customers:
            _requests(url, clear=True)
            build_snapshot(reader, c.lookup)
            cost[c.story] = len(_requests(url))
        busiest = next(c for c in customers if c.story == max(cost, key=lambda k: cost[k]))
        walls, counts, waves, lookups = [], [], [], []
        for _ in range(reps):
            _requests(url, clear=True)
            t0 = time.perf_counter()
            snap = build_snapshot(reader, busiest.lookup)
            walls.append(time.perf_counter() - t0)
            counts.append(len(_requests(url)))
            waves.append(snap.waves)
            lookups.append(int(snap.extra.get("lookup_requests", 0)))
        wall = statistics.median(walls)
        wv = statistics.median(waves)
        lk = statistics.median(lookups)
        lat = LATENCY_MS / 1000
        print(f"snapshot of the busiest demo customer ({busiest.story}, lookup by {snap.lookup_kind}) "
              f"at --latency-ms {LATENCY_MS}, {reps} runs:")
        print(f"  requests in all (sandbox log):        median {statistics.median(counts):.0f}  (budget 14)")
        print(f"  lookup requests:                      median {lk:.0f}")
        print(f"  sequential waves, lookup included:    median {wv:.0f}  (budget 3)")
        print(f"  wall time:                            median {wall * 1000:.0f} ms")
        print(f"  ratio wall / (waves x {LATENCY_MS} ms):          {wall / (max(wv, 1) * lat):.2f}")
    finally:
        stop(run)


def bench_execute(work: Path, state: Path, customers: list[Any], reps: int) -> None:
    from billing_nb.records.case import open_case

    walls = []
    chosen: list[str] = []
    for i in range(reps):
        fresh = work / f"exec-{i}.json"
        shutil.copy(state, fresh)
        run = work / f"run-exec-{i}"
        _sandbox(run, fresh, LATENCY_MS)
        os.environ["BILLING_NB_CASES_DIR"] = str(work / f"exec-cases-{i}")
        try:
            story = next(c for c in customers if c.expected_bucket == "duplicate_subscription")
            case = open_case(case_id=f"bench-exec-{i}", customer=story.customer_id, output_dir=work / f"exec-rec-{i}")
            case.confirm(story.expected_bucket, "parameter")
            assert case.plan is not None
            chosen = [a.id for a in case.plan.actions][:3]
            t0 = time.perf_counter()
            results = case.execute(chosen, "parameter")
            walls.append(time.perf_counter() - t0)
            assert all(r.status == "succeeded" for r in results), results
        finally:
            stop(run)
    print(f"approval to completed execution, 3-action plan {chosen}, --latency-ms {LATENCY_MS}, {reps} runs:")
    print(f"  wall time: median {statistics.median(walls) * 1000:.0f} ms"
          f"  (= {statistics.median(walls) / (LATENCY_MS / 1000):.1f} x latency)")


def bench_account() -> None:
    """The account-wide benchmarks (issue 13), each its own script: sync and page cost, the
    sandbox's ``--state`` journal and scoped rollback, then every metric over synthetic
    subscriptions (sizes from BILLING_NB_BENCH_SYNC_SUBS, BILLING_NB_BENCH_STATE_SUBS,
    BILLING_NB_BENCH_METRIC_SUBS)."""
    import subprocess
    import sys

    here = Path(__file__).parent
    subprocess.run([sys.executable, str(here / "sync.py"), "--subs", os.environ.get("BILLING_NB_BENCH_SYNC_SUBS", "50000")],
                   check=True)
    subprocess.run([sys.executable, str(here / "state_journal.py"),
                    "--subs", os.environ.get("BILLING_NB_BENCH_STATE_SUBS", "50000")], check=True)
    subprocess.run([sys.executable, str(here / "metrics.py"),
                    "--subs", os.environ.get("BILLING_NB_BENCH_METRIC_SUBS", "1000000")], check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    import classifier  # benchmarks/classifier.py: held-out accuracy and confusion matrix

    classifier.report("heldout")
    work = Path(tempfile.mkdtemp(prefix="bnb-bench-"))
    try:
        state, customers = seed(work)
        bench_snapshot(work, state, customers, args.reps)
        bench_execute(work, state, customers, 3)
        case_speed.run(work, state, customers, reps=max(3, args.reps // 2))
        from safety_batch import run as safety_batch  # issue 9: the fault-injected batch of 50

        safety_batch(50)
        bench_account()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
