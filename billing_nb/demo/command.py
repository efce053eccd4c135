"""``make demo``: a sandbox, the demo account, and a case per demo customer.

The demo plays the analyst: each case is run unattended with the bucket its story
implies given as the confirmed answer (``confirmed_by: parameter``) and no approvals,
so every record is a dry run that shows the plan it would execute.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import stripe

from ..config import API_VERSION

__all__ = ["DEMO_KEY", "start_demo_sandbox", "run_demo", "seed_command"]

DEMO_KEY = "sk_test_billing_nb_demo"
DEMO_PORT = 12111
STATE_NAME = "demo-state.json"


def _run_dir() -> Path:
    """The managed sandbox's folder (pid file, log, the demo's state), read at call time."""
    return Path(os.environ.get("BILLING_NB_SANDBOX_DIR", ".sandbox"))


def start_demo_sandbox() -> str:
    """Start (or reuse) the sandbox this toolkit started, with a saved state; returns its URL.

    Another server on the demo port is never adopted (the sandbox's pid file and instance
    token tell ours from it): the demo then says so and starts its own on a free port.
    """
    from ..sandbox.server import port_in_use, start, status

    run_dir = _run_dir()
    run_dir.mkdir(parents=True, exist_ok=True)
    state = run_dir / STATE_NAME
    running = status(run_dir)
    if running is not None:
        info = running
    elif port_in_use(DEMO_PORT):
        print(f"note: 127.0.0.1:{DEMO_PORT} is in use by a server this demo did not start; "
              "starting the demo sandbox on a free port instead", file=sys.stderr)
        info = start(None, run_dir=run_dir, state=state)
    else:
        info = start(DEMO_PORT, run_dir=run_dir, state=state)
    os.environ["STRIPE_API_BASE"] = info.url
    os.environ["STRIPE_API_KEY"] = DEMO_KEY
    return info.url


def _table(rows: list[dict[str, Any]]) -> None:
    from ..records.console import print_table

    print_table(rows)


def run_demo(*, out: Path = Path("cases"), run_cases: bool = True) -> int:
    from .seed import demo_table, seed_demo

    from ..sandbox.server import SandboxStartError

    try:
        url = start_demo_sandbox()
    except SandboxStartError as err:
        print(f"billing-nb demo: {err}", file=sys.stderr)
        return 1
    print(f"sandbox: {url}  (export STRIPE_API_BASE={url} STRIPE_API_KEY={DEMO_KEY} to use it)")
    client = stripe.StripeClient(DEMO_KEY, base_addresses={"api": url}, stripe_version=API_VERSION)
    customers = seed_demo(client)
    print(f"\nDemo customers ({len(customers)}):")
    _table(demo_table(customers))
    if not run_cases:
        return 0
    from ..records.console import progress
    from ..records.batch import run_batch
    from ..records.runner import CaseRequest

    requests = [CaseRequest(lookup=c.lookup, complaint=c.complaint, bucket=c.expected_bucket) for c in customers]
    print(f"\nRunning {len(requests)} cases (papermill, process pool)...", flush=True)
    with progress(len(requests), "cases") as bar:
        results = run_batch(requests, cases_dir=out, on_done=lambda r: bar.step(f"{r.case_id or '?'} {r.status}"))
    rows = []
    for demo, res in zip(customers, results, strict=True):
        cls = res.record.get("classification", {})
        anomalies = sorted({a["kind"] for a in res.record.get("billing_state", {}).get("anomalies", [])})
        rows.append({
            "story": demo.story,
            "customer": res.record.get("customer", {}).get("id", demo.customer_id),
            "suggested": cls.get("suggested", "-"),
            "confidence": f"{cls.get('confidence', 0):.0%}" if cls else "-",
            "anomalies": ",".join(anomalies) or "-",
            "status": res.status,
            "record": str(res.record_dir or res.error),
        })
    print()
    _table(rows)
    first = next((r for r in results if r.record.get("plan")), None)
    if first is not None:
        ids = " ".join(a["id"] for a in first.record["plan"][:2])
        print(f"\nEvery case above is a dry run. To carry out a plan, approve its action ids, e.g.:\n"
              f"  STRIPE_API_BASE={url} STRIPE_API_KEY={DEMO_KEY} \\\n"
              f"  .venv/bin/billing-nb case {first.record['customer']['id']} "
              f"--bucket {first.record['classification']['bucket']} --approve {ids}")
    print(f"Records are in {out}/; `billing-nb sandbox stop` stops the sandbox.")
    failed = [r for r in results if r.status == "failed"]
    if failed:
        print(f"\n{len(failed)} case(s) failed")
        return 1
    return 0


def seed_command(url: str | None) -> int:
    """``billing-nb sandbox seed``: the demo account at ``url``, STRIPE_API_BASE, the background
    sandbox, or (with a test key and no URL) a real Stripe test-mode account; the exit code."""
    from ..sandbox.cli import SANDBOX_KEY, url_of_running
    from .seed import seed_demo

    url = url or os.environ.get("STRIPE_API_BASE") or url_of_running()
    key = os.environ.get("STRIPE_API_KEY") or (SANDBOX_KEY if url else "")
    if not key:
        print("billing-nb sandbox seed: no sandbox running and STRIPE_API_KEY not set; "
              "run `billing-nb sandbox start` first", file=sys.stderr)
        return 2
    if key.startswith(("sk_live_", "rk_live_")):
        print("billing-nb sandbox seed: refusing to seed with a live key", file=sys.stderr)
        return 2
    options: dict[str, Any] = {"stripe_version": API_VERSION}
    if url:
        options["base_addresses"] = {"api": url}
    customers = seed_demo(stripe.StripeClient(key, **options))
    print(f"seeded {len(customers)} demo customers at {url or 'api.stripe.com (test mode)'}")
    return 0
