"""Issue 9's fault-injected batch: N cases (50 by default) through ``billing-nb batch`` against
a sandbox at ``--fail-rate 0.1 --rate-limit 10``, each approving a refund of its own charge.

Checks and prints: every case ends done or failed with a reason; no charge refunded twice;
the refunds the records claim equal the refunds Stripe holds (by our metadata). Exits 1 if
any check fails. Too slow for ``make test`` (minutes on 2 cores): run by ``make bench``, or
``python benchmarks/safety_batch.py --cases 50``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import stripe

from billing_nb.config import API_VERSION
from billing_nb.sandbox.app import Knobs
from billing_nb.sandbox.server import ThreadedSandbox

KEY = "sk_test_billing_nb_safety"


def run(cases: int = 50, fail_rate: float = 0.1, rate_limit: float = 10, workers: int | None = None) -> bool:
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)  # the injected drops log tracebacks
    with ThreadedSandbox() as healthy, tempfile.TemporaryDirectory(prefix="bnb-safety-") as tmp:
        c = stripe.StripeClient(KEY, base_addresses={"api": healthy.url}, stripe_version=API_VERSION)
        price = c.v1.prices.create({"product": c.v1.products.create({"name": "Pro"}).id, "unit_amount": 2000,
                                    "currency": "usd", "recurring": {"interval": "month"}})
        charges: list[str] = []
        lines = []
        for _ in range(cases):
            cus = c.v1.customers.create({})
            pm = c.v1.payment_methods.attach("pm_card_visa", {"customer": cus.id})
            c.v1.customers.update(cus.id, {"invoice_settings": {"default_payment_method": pm.id}})
            c.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}]})
            charge = c.v1.charges.list({"customer": cus.id}).data[0].id
            charges.append(charge)
            lines.append(json.dumps({"lookup": cus.id, "complaint": "the app is broken", "bucket": "product_failure",
                                     "approve": [f"refund:{charge}:2000"]}))
        batch = Path(tmp) / "batch.jsonl"
        batch.write_text("\n".join(lines) + "\n")
        out = Path(tmp) / "cases"
        with ThreadedSandbox(Knobs(fail_rate=fail_rate, rate_limit=rate_limit, seed=9), store=healthy.store) as bad:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "BILLING_NB_"))}
            env.update({"STRIPE_API_KEY": KEY, "STRIPE_API_BASE": bad.url})
            started = time.monotonic()
            cmd = [sys.executable, "-m", "billing_nb.cli", "batch", str(batch), "--out", str(out)]
            if workers:
                cmd += ["--workers", str(workers)]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
            took = time.monotonic() - started
        recs = [json.loads(p.read_text()) for p in sorted(out.rglob("case.json"))]
        statuses: dict[str, int] = {}
        for r in recs:
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        no_reason = [r["case_id"] for r in recs if r["status"] != "done" and not r.get("error")
                     and not any(e.get("error") for e in r.get("executed") or [])]
        odd = [r["case_id"] for r in recs if r["status"] not in ("done", "failed", "partial")]
        ours = {ch: [x for x in c.v1.refunds.list({"charge": ch}).auto_paging_iter()
                     if (x.to_dict().get("metadata") or {}).get("billing_nb_action")] for ch in charges}
        twice = [ch for ch, refunds in ours.items() if len(refunds) > 1]
        held = sum(x.amount for refunds in ours.values() for x in refunds)
        claimed = sum(int((r.get("revenue_impact") or {}).get("refunded", {}).get("value", 0)) for r in recs)
        without_record = cases - len(recs)
        print(f"safety batch: {cases} cases, fail-rate {fail_rate}, rate-limit {rate_limit}/s: {took:.0f}s, "
              f"exit {done.returncode}")
        print(f"  records: {len(recs)} {statuses}; stopped before a record (reason in the table): {without_record}")
        print(f"  refunds in Stripe: {sum(len(v) for v in ours.values())} ({held} minor units); "
              f"claimed by records: {claimed}; charges refunded twice: {len(twice)}")
        print(f"  cases not done without a reason: {len(no_reason)}; other statuses: {odd}")
        ok = not twice and held == claimed and not no_reason and not odd and "Traceback" not in done.stderr
        print("  OK" if ok else "  FAILED\n" + done.stderr[-3000:])
        return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--fail-rate", type=float, default=0.1)
    parser.add_argument("--rate-limit", type=float, default=10)
    parser.add_argument("--workers", type=int)
    args = parser.parse_args()
    sys.exit(0 if run(args.cases, args.fail_rate, args.rate_limit, args.workers) else 1)


if __name__ == "__main__":
    main()
