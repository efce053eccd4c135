"""Benchmark: ``billing-nb sync`` of a large sandbox account, and the sandbox's page cost.

The account is built by a bulk loader used only here: ``--base`` customers, each with a
monthly subscription, are created through the SDK (concurrently), then each customer's
objects (customer, subscription, invoices, charges, payment intents, payments) are cloned
with fresh ids straight into the sandbox's store until it holds ``--subs`` subscriptions,
and the store is saved as a ``--state`` file. Two syncs then read it from a sandbox process:
at ``--rate-limit 25`` (the sandbox enforcing 25/s, so any burst would be a 429) and with
no limit, each in its own process (time, requests, share of the limit, peak memory).

Page cost: a 100-object ``subscriptions.list`` page from the middle of the list, median
of 30, with 1k and with 50k subscriptions in the store.

Usage: python benchmarks/sync.py [--subs N (50000: the acceptance size)] [--base B (100)]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import stripe

from billing_nb.config import API_VERSION
from billing_nb.sandbox.server import ThreadedSandbox, free_port, wait_ready
from billing_nb.sandbox.store import Store

KEY = "sk_test_billing_nb_bench_sync"
_IDS = re.compile(r'"((?:cus|sub|si|in|il|ch|pi|inpay|py|txn)_[A-Za-z0-9_]+)"')
_KINDS = ("customer", "subscription", "invoice", "charge", "payment_intent", "invoice_payment", "balance_transaction")


def _client(url: str) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": url}, stripe_version=API_VERSION)


def build_base(client: stripe.StripeClient, base: int) -> None:
    """``base`` customers with a monthly subscription each, through the public API."""
    price = client.v1.prices.create(params={"currency": "usd", "unit_amount": 1500, "recurring": {"interval": "month"},
                                            "product_data": {"name": "Bench"}})

    def one(i: int) -> None:
        cust = client.v1.customers.create(params={"email": f"bench{i}@example.com", "payment_method": "pm_card_visa",
                                                  "invoice_settings": {"default_payment_method": "pm_card_visa"}})
        client.v1.subscriptions.create(params={"customer": cust.id, "items": [{"price": price.id, "quantity": 1 + i % 5}]})

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(base)))


def clone(store: Store, subscriptions: int) -> None:
    """Copy each customer's objects with new ids until the store holds ``subscriptions``."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for kind in _KINDS:
        for obj in store.objects.get(kind, {}).values():
            owner = obj["id"] if kind == "customer" else obj.get("customer")
            if isinstance(owner, str):
                groups.setdefault(owner, []).append(obj)
    texts = [json.dumps(g) for g in groups.values()]
    have, k = len(store.objects.get("subscription", {})), 0
    while have < subscriptions:
        for text in texts:
            k += 1
            for obj in json.loads(_IDS.sub(lambda m: f'"{m.group(1)}x{k}"', text)):
                store.insert(obj)
                have += obj["object"] == "subscription"
            if have >= subscriptions:
                break


def _get(url: str) -> Any:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {KEY}"})
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())


def page_cost(store_size: int, template: list[dict[str, Any]]) -> float:
    """Median ms of a 100-subscription page from the middle of ``store_size`` subscriptions."""
    store = Store()
    for i in range(store_size):
        obj = copy.deepcopy(template[i % len(template)])
        obj["id"] = f"sub_bench{i:07d}"
        store.insert(obj)
    with ThreadedSandbox(store=store) as sb:
        middle = f"sub_bench{store_size // 2:07d}"
        walls = []
        for _ in range(30):
            t0 = time.perf_counter()
            page = _get(f"{sb.url}/v1/subscriptions?limit=100&starting_after={middle}")
            walls.append(time.perf_counter() - t0)
            assert len(page["data"]) == 100
    return statistics.median(walls) * 1000


def _sync(url: str, db: Path, rate: float) -> dict[str, Any]:
    env = {**os.environ, "STRIPE_API_KEY": KEY, "STRIPE_API_BASE": url}
    # peak memory is the child's own VmHWM: ru_maxrss survives exec on Linux, so it reported the
    # benchmark's own peak (the 50k store it built: 3.7 GB) as the sync's
    code = ("import resource, sys, time; from billing_nb.cli import main; t = time.process_time(); "
            "rc = main(sys.argv[1:]); u = resource.getrusage(resource.RUSAGE_SELF); "
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')]; "
            "print('peak_kb', hwm[0].split()[1] if hwm else u.ru_maxrss); print('cpu_s', u.ru_utime + u.ru_stime); "
            "print('sync_cpu_s', time.process_time() - t); sys.exit(rc)")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, "sync", "--db", str(db), "--rate-limit", str(rate),
                           "--no-progress", "--full"], capture_output=True, text=True, env=env, check=True)
    wall = time.perf_counter() - t0
    line = next(x for x in done.stdout.splitlines() if " requests in " in x)
    requests = int(re.search(r"(\d+) requests in", line).group(1))  # type: ignore[union-attr]
    seconds = float(re.search(r"in ([\d.]+) s", line).group(1))  # type: ignore[union-attr]
    peak = int(next(x for x in done.stdout.splitlines() if x.startswith("peak_kb")).split()[1]) / 1024
    cpu = float(next(x for x in done.stdout.splitlines() if x.startswith("cpu_s")).split()[1])
    sync_cpu = float(next(x for x in done.stdout.splitlines() if x.startswith("sync_cpu_s")).split()[1])
    return {"wall": wall, "seconds": seconds, "requests": requests, "peak_mb": peak, "cpu": cpu, "sync_cpu": sync_cpu,
            "line": line}


def _cpu_of(pid: int) -> float:
    """CPU seconds a process has used so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class _Served:
    """A sandbox process serving ``state`` (``python -m billing_nb.sandbox serve``), ready
    after its load (``server.start`` waits 20 s: loading a 50k-subscription state file, ~600 MB
    of JSON, takes longer on a shared machine), stopped by its pid when done."""

    def __init__(self, state: Path, rate: float, log: Path) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        t0 = time.perf_counter()
        with open(log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "billing_nb.sandbox", "serve", "--port", str(port),
                                          "--rate-limit", str(rate), "--state", str(state)],
                                         stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_ready(self.url, timeout=600, proc=self.proc)
        except BaseException:
            self.stop()
            raise
        self.load_seconds = time.perf_counter() - t0
        self.pid = self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subs", type=int, default=50_000)
    parser.add_argument("--base", type=int, default=100)
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)  # the child that builds the account
    args = parser.parse_args()
    if args.build:
        build(args.subs, args.base, args.build)
        return
    work = Path(tempfile.mkdtemp(prefix="bnb-sync-"))
    try:
        _bench(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the state file alone is ~600 MB at 50k


def build(subs: int, base: int, state: Path) -> None:
    """The account into ``state`` (and the SDK-built subscriptions, the page-cost template,
    beside it); run in a child process so the benchmark itself stays small."""
    with ThreadedSandbox() as sb:
        build_base(_client(sb.url), base)
        template = list(sb.store.objects["subscription"].values())
        state.with_suffix(".template.json").write_text(json.dumps(template))
        clone(sb.store, subs)
        sb.store.save(state)
        held = {k: len(sb.store.objects.get(k, {})) for k in ("customer", "subscription", "invoice", "charge")}
    print(json.dumps(held))


def _mb_of(pid: int) -> float:
    """A process's peak resident memory so far (Linux VmHWM; 0 elsewhere)."""
    try:
        line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmHWM"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration, ValueError):
        return 0.0


def _bench(args: argparse.Namespace, work: Path) -> None:
    state = work / "state.json"
    t0 = time.perf_counter()
    made = subprocess.run([sys.executable, __file__, "--build", str(state), "--subs", str(args.subs),
                           "--base", str(args.base)], capture_output=True, text=True, check=True)
    held = json.loads(made.stdout.strip().splitlines()[-1])
    template = json.loads(state.with_suffix(".template.json").read_text())
    print(f"account built in {time.perf_counter() - t0:.0f} s ({args.base} through the SDK, the rest cloned): {held}; "
          f"state file {state.stat().st_size / 1e6:.0f} MB", flush=True)
    for rate in (25.0, 0.0):
        info = _Served(state, rate, work / f"sandbox-{rate:g}.log")
        try:
            before = _cpu_of(info.pid)
            got = _sync(info.url, work / f"sync-{rate}.duckdb", rate)
            sandbox_cpu = _cpu_of(info.pid) - before
            sandbox_mb = _mb_of(info.pid)
            log = _get(f"{info.url}/_sandbox/requests")["data"]
            rejected = sum(1 for r in log if r["status"] == 429)
            served = statistics.median(r["ms"] for r in log) if log else 0.0
        finally:
            info.stop()
        print(f"sandbox process ready in {info.load_seconds:.1f} s (loading the state file), "
              f"peak {sandbox_mb:.0f} MB", flush=True)
        per_s = got["requests"] / got["seconds"]
        share = f", {per_s / rate:.0%} of the limit" if rate else ""
        print(f"sync at --rate-limit {rate:g}: {got['seconds']:.1f} s ({got['wall']:.1f} s with start-up), "
              f"{got['requests']} requests = {per_s:.1f}/s{share}, {rejected} answered 429, "
              f"peak memory {got['peak_mb']:.0f} MB; the sandbox took a median {served:.0f} ms per request; "
              f"CPU per request: client {got['sync_cpu'] / got['requests'] * 1000:.1f} ms "
              f"({got['cpu'] / got['requests'] * 1000:.1f} ms with start-up), "
              f"sandbox {sandbox_cpu / got['requests'] * 1000:.1f} ms (on a free core each, the client alone "
              f"could make {got['requests'] / max(got['sync_cpu'], 1e-9):.0f} req/s, the sandbox "
              f"{got['requests'] / max(sandbox_cpu, 1e-9):.0f})", flush=True)
    small, large = page_cost(1_000, template), page_cost(50_000, template)
    print(f"subscriptions.list page of 100: {small:.1f} ms at 1k, {large:.1f} ms at 50k "
          f"(ratio {large / small:.2f}x, target <= 2x)")


if __name__ == "__main__":
    main()
