"""SIGKILL the real CLI (and its kernel) before, during and after an approved refund, re-run,
and count: one refund in Stripe, no ``done`` record from the killed run, the amount counted
once across the records, the audit clean against Stripe.

The kills are deterministic: the kernel kills itself and the CLI's process group at an exact
point (``BILLING_NB_TEST_CRASH_AT``, :mod:`billing_nb.actions.crashpoints`), so no kill
depends on the machine's speed. "During" is 0.25 s after the ledger's begin while Stripe
(``--latency-ms 600``) holds the POST. The four scenarios run side by side (one customer and
one cases folder each): two CLI waves in all. Every point one by one: test_crash_points.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_nb.actions.crashpoints import CRASH_ENV
from billing_nb.actions.ledger import Ledger
from billing_nb.records import casebook as cb

from safety_helpers import Faulty, case_args, claimed, cli, faulty_world, monthly_customer, records

pytestmark = [pytest.mark.sandbox, pytest.mark.notebook]

#: scenario -> (kill spec, exit code of the killed CLI, the killed record's status after the re-run)
SCENARIOS = {
    "before": ("in_progress:tree", -9, "interrupted"),  # record in_progress, nothing in the ledger
    "during": ("begun+0.25:tree", -9, "interrupted"),  # the POST in flight (Stripe slow: 600 ms)
    "after": ("finished:tree", -9, "interrupted"),  # the ledger's finish written, the record not saved
    "kernel": ("finished", 3, "partial"),  # only the kernel dies there: the CLI settles its record
}


@pytest.fixture(scope="module")
def fw() -> Iterator[Faulty]:
    with faulty_world() as f:
        yield f


def _statuses(folder: Path) -> dict[str, str]:
    """customer id -> the status of its record (one record each before the re-run)."""
    return {r["customer"]["id"]: r["status"] for r in records(folder)}


def test_sigkill_before_during_after_a_write_then_rerun_counts_the_refund_once(fw: Faulty, tmp_path: Path) -> None:
    w = fw.world
    people = {name: monthly_customer(w) for name in SCENARIOS}
    folder = tmp_path / "cases"  # one folder: the re-run's sweep closes every dead run in it
    fw.knobs.latency_ms = 600
    try:
        procs = {}
        for name, (spec, _, _) in SCENARIOS.items():
            cus, charge = people[name]
            procs[name] = cli(case_args(cus, "product_failure", [f"refund:{charge}:2000"], folder),
                              {**fw.env(folder), CRASH_ENV: spec})
        for name, proc in procs.items():
            _, stderr = proc.communicate(timeout=300)
            assert proc.returncode == SCENARIOS[name][1], (name, proc.returncode, stderr[-2000:])
    finally:
        fw.knobs.latency_ms = 0
    time.sleep(1.0)  # a POST in flight when its client died is handled on the server side (or never)
    killed = _statuses(folder)
    for name in ("before", "during", "after"):
        # never "done"; a killed run may already be closed by the sweep of a CLI that started later
        assert killed[people[name][0]] in ("in_progress", "interrupted"), (name, killed)
    assert killed[people["kernel"][0]] == "partial"  # the refund landed, then the kernel died: exit 3
    # the re-run: one batch (one warm kernel) approving the same refunds again
    batch = tmp_path / "rerun.jsonl"
    batch.write_text("".join(json.dumps({"lookup": cus, "bucket": "product_failure",
                                         "approve": [f"refund:{charge}:2000"]}) + "\n"
                             for cus, charge in people.values()))
    rerun = cli(["batch", str(batch), "--out", str(folder), "--workers", "1"], fw.env(folder))
    stdout, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, (stdout[-2000:], stderr[-2000:])
    recs = records(folder)
    assert len(recs) == 2 * len(SCENARIOS)
    for name, (cus, charge) in people.items():
        refunds = list(w.c.v1.refunds.list({"charge": charge}).auto_paging_iter())
        assert len(refunds) == 1, f"killed {name}: {len(refunds)} refunds"
        mine = sorted((r for r in recs if r["customer"]["id"] == cus), key=lambda r: r["created_at"])
        assert [r["status"] for r in mine] == [SCENARIOS[name][2], "done"], (name, [r["status"] for r in mine])
        assert claimed(mine, "refunded") == refunds[0].amount == 2000, (
            name, [(r["case_id"], r["status"], r["executed"]) for r in mine])
    report = cb.audit(cb.open_casebook(folder), client=w.c)
    assert report.ok, (report.checks.to_string(), report.mismatches.to_string(),
                       Ledger(folder / "ledger.sqlite").entries())
