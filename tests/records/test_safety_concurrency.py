"""Two analysts, one effect: real CLI processes against the sandbox at --latency-ms 800.

Idempotency keys are derived from the effect (Stripe's object + what the write does), so two
cases in two cases folders (two ledgers) send the same key and Stripe makes one object; the
loser sees an idempotency error (same key, other metadata) or the object itself and records
``already_done``. https://docs.stripe.com/api/idempotent_requests ("the same key with different
parameters ... returns an error"); https://docs.stripe.com/error-low-level#idempotency
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scenarios import run
from safety_helpers import (Faulty, annual_customer, case_args, claimed, cli, faulty_world, monthly_customer, ours,
                            records)

pytestmark = [pytest.mark.sandbox, pytest.mark.notebook]


@pytest.fixture(scope="module")
def fw() -> Iterator[Faulty]:
    with faulty_world() as f:
        yield f


def _plan(fw: Faulty, cus: str, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    for k, v in fw.env().items():
        monkeypatch.setenv(k, v)
    _, rec = run(cus, tmp_path / "dry", bucket=bucket)
    return rec["plan"]


def _start(fw: Faulty, cus: str, bucket: str, action: str | list[str], folders: list[Path]) -> list[Any]:
    actions = [action] if isinstance(action, str) else action
    return [cli(case_args(cus, bucket, actions, f), fw.env(f)) for f in folders]


def _finish(procs: list[Any]) -> list[tuple[int, dict]]:
    import json

    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        assert stdout.strip().startswith("{"), stderr[-2000:]
        out.append((p.returncode, json.loads(stdout)))
    return out


def _together(fw: Faulty, cus: str, bucket: str, action: str, folders: list[Path]) -> list[tuple[int, dict]]:
    """Start one CLI per folder at the same moment; (exit code, case.json) of each."""
    return _finish(_start(fw, cus, bucket, action, folders))


def test_two_ledgers_same_refund_and_same_credit_note_make_one_each(
        fw: Faulty, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    w = fw.world
    cus, charge = monthly_customer(w)
    annual = annual_customer(w)
    refund = next(a["id"] for a in _plan(fw, cus, "product_failure", tmp_path, monkeypatch) if a["kind"] == "refund")
    note = next(a for a in _plan(fw, annual, "product_failure", tmp_path, monkeypatch) if a["kind"] == "credit_note")
    invoice, amount = note["target"], note["amount"]["value"]
    paid = w.c.v1.invoices.retrieve(invoice).amount_paid
    assert 2 * amount <= paid, "the test needs room for two credit notes (the bug it guards)"
    fw.knobs.latency_ms = 800
    try:
        folders = [tmp_path / "alice", tmp_path / "bob"]
        refund_runs = _start(fw, cus, "product_failure", refund, folders)  # all four at once
        # the unused-time credit note is approved with the cancel it pays for (it requires it)
        note_runs = _start(fw, annual, "product_failure", [note["id"], *note["requires"][:1]],
                           [f / "annual" for f in folders])
        refunds, notes = _finish(refund_runs), _finish(note_runs)
    finally:
        fw.knobs.latency_ms = 0
    # exactly one refund of the charge and one credit note on the invoice in Stripe
    assert len(list(w.c.v1.refunds.list({"charge": charge}).auto_paging_iter())) == 1
    credit_notes = list(w.c.v1.credit_notes.list({"invoice": invoice}).auto_paging_iter())
    assert len(credit_notes) == 1 and credit_notes[0].amount == amount
    for results, kind, total, wanted in ((refunds, "refunded", 2000, refund), (notes, "refunded", amount, note["id"])):
        mine = [next(e for e in r["executed"] if e["action_id"] == wanted) for _, r in results]
        statuses = sorted(e["status"] for e in mine)
        assert statuses == ["already_done", "succeeded"], statuses  # the loser is not a failure
        assert [code for code, _ in results] == [0, 0]
        assert len({e["idempotency_key"] for e in mine}) == 1  # one effect, one key
        assert claimed([r for _, r in results], kind) == total  # counted once across the two records
    assert len(ours(credit_notes)) == 1


def test_two_processes_in_one_folder_write_once_and_count_once(
        fw: Faulty, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One cases folder: the per-effect lock lets one process call Stripe; the other waits and
    finds the ledger's finish (already_done). The casebook counts the refund once."""
    from billing_nb.records import casebook as cb

    w = fw.world
    cus, charge = monthly_customer(w, 3000)
    refund = next(a["id"] for a in _plan(fw, cus, "product_failure", tmp_path, monkeypatch) if a["kind"] == "refund")
    fw.knobs.latency_ms = 800
    try:
        folder = tmp_path / "shared"
        results = _together(fw, cus, "product_failure", refund, [folder, folder])
    finally:
        fw.knobs.latency_ms = 0
    refunds = list(w.c.v1.refunds.list({"charge": charge}).auto_paging_iter())
    assert len(refunds) == 1
    assert sorted(r["executed"][0]["status"] for _, r in results) == ["already_done", "succeeded"]
    recs = records(folder)
    assert claimed(recs, "refunded") == sum(r.amount for r in refunds) == 3000
    book = cb.open_casebook(folder)
    assert int(cb.money_totals(book.records)["refunded_minor"].sum()) == 3000
    report = cb.audit(book, client=w.c)
    assert report.ok, report.checks
