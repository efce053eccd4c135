"""Case-speed benchmarks (issue 15): waves and requests of a whole ``billing-nb case``
counted at the HTTP level, case wall time against an empty notebook, ``--help`` start-up,
batches on 1 and 2 warm workers, warm vs cold vs a plain script, approval to completion.

Prints medians and ratios from one run; never part of the test suite. The machine may be
shared: read the figures as medians of noisy runs.
Usage: python benchmarks/case_speed.py [--reps N] [--only NAME,...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import json
import urllib.request
from pathlib import Path
from typing import Any

__all__ = ["count_waves", "main"]

KEY = "sk_test_billing_nb_bench"
LATENCY_MS = 100
VENV_BIN = Path(sys.executable).parent


def count_waves(log: list[dict[str, Any]]) -> int:
    """Sequential waves in a sandbox request log: a request opens a new wave when it starts
    after one of the current wave's requests has answered (it could depend on it)."""
    waves = 0
    answered_at = float("inf")
    for entry in sorted(log, key=lambda e: e["started"]):
        if waves == 0 or entry["started"] >= answered_at:
            waves += 1
            answered_at = entry["started"] + entry["ms"] / 1000
        else:
            answered_at = min(answered_at, entry["started"] + entry["ms"] / 1000)
    return waves


def _log(url: str, *, clear: bool = False) -> list[dict[str, Any]]:
    req = urllib.request.Request(f"{url}/_sandbox/requests", method="DELETE" if clear else "GET")
    with urllib.request.urlopen(req) as resp:
        return list(json.loads(resp.read())["data"])


def _sandbox(run_dir: Path, state: Path, latency: int) -> str:
    from billing_nb.sandbox.app import Knobs
    from billing_nb.sandbox.server import start

    info = start(run_dir=run_dir, state=state, knobs=Knobs(latency_ms=latency))
    os.environ["STRIPE_API_BASE"] = info.url
    os.environ["STRIPE_API_KEY"] = KEY
    return info.url


def _stop(run_dir: Path) -> None:
    from billing_nb.sandbox.server import stop

    stop(run_dir)


def seed(work: Path) -> tuple[Path, list[Any]]:
    import stripe

    from billing_nb.config import API_VERSION
    from billing_nb.demo.seed import seed_demo

    state = work / "seeded.json"
    run = work / "run-seed"
    url = _sandbox(run, state, 0)
    try:
        customers = seed_demo(stripe.StripeClient(KEY, base_addresses={"api": url}, stripe_version=API_VERSION))
    finally:
        _stop(run)
    return state, customers


def _cli(*args: str, cases: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([str(VENV_BIN / "billing-nb"), *args, "--out", str(cases)], capture_output=True, check=False)
    return time.perf_counter() - t0


def bench_waves(work: Path, state: Path, customers: list[Any], reps: int) -> None:
    """A whole ``billing-nb case`` per demo customer at --latency-ms 100, from the sandbox log."""
    run = work / "run-waves"
    url = _sandbox(run, state, LATENCY_MS)
    try:
        cost: dict[str, tuple[int, int, str]] = {}
        for c in customers:
            _log(url, clear=True)
            _cli("case", c.lookup, cases=work / "cases-waves")
            log = _log(url)
            cost[c.story] = (len(log), count_waves(log), c.lookup_kind if hasattr(c, "lookup_kind") else "")
        busiest = max(cost, key=lambda k: cost[k][0])
        print(f"whole `billing-nb case` per demo customer at --latency-ms {LATENCY_MS} (sandbox request log):")
        for story, (n, w, _) in sorted(cost.items(), key=lambda kv: -kv[1][0]):
            print(f"  {story:<22} requests {n:>3}  waves {w}")
        story = next(c for c in customers if c.story == busiest)
        counts, waves = [], []
        for _ in range(reps):
            _log(url, clear=True)
            _cli("case", story.lookup, cases=work / "cases-waves")
            log = _log(url)
            counts.append(len(log))
            waves.append(count_waves(log))
        print(f"  busiest ({busiest}), {reps} runs: requests median {statistics.median(counts):.0f} (budget 14), "
              f"waves median {statistics.median(waves):.0f} (budget 3)")
    finally:
        _stop(run)


def bench_help(reps: int) -> None:
    walls = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run([str(VENV_BIN / "billing-nb"), "--help"], capture_output=True, check=True)
        walls.append(time.perf_counter() - t0)
    bad = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run([str(VENV_BIN / "billing-nb"), "case", "not a lookup"], capture_output=True, check=False,
                       env={**os.environ, "STRIPE_API_KEY": KEY})
        bad.append(time.perf_counter() - t0)
    print(f"`billing-nb --help`, {reps} runs: median {statistics.median(walls):.2f} s (budget 0.5 s); "
          f"bad lookup error: median {statistics.median(bad):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    work = Path(tempfile.mkdtemp(prefix="bnb-speed-"))
    try:
        if not only or "help" in only:
            bench_help(max(5, args.reps))
        state, customers = seed(work)
        if not only or "waves" in only:
            bench_waves(work, state, customers, args.reps)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
