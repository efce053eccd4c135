"""``billing-nb sweep`` over a synced demo account: each seeded problem is found once, and
the batch file is one ``billing-nb batch`` reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from billing_nb.cli import main
from billing_nb.reading.lookup import lookup_kind
from billing_nb.reading.provider import StripeReader
from billing_nb.reports.store import open_store
from billing_nb.reports.sweep import batch_lines, sweep
from billing_nb.reports.sync import sync_account


@pytest.fixture(scope="module")
def swept(demo, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    db = tmp_path_factory.mktemp("sweep") / "account.duckdb"
    with open_store(db) as store:
        sync_account(StripeReader(demo.client), store, rate_limit=None)
        yield db, sweep(store)


def _lookups(found, finding: str) -> set[str]:  # type: ignore[no-untyped-def]
    return set(found[found["finding"] == finding]["lookup"])


def test_sweep_finds_every_seeded_problem(demo, swept) -> None:  # type: ignore[no-untyped-def]
    _, found = swept
    personal, dup_customer = demo.story("dup_personal"), demo.story("dup_customer")
    assert personal.customer_id in _lookups(found, "duplicate_subscriptions")
    dup_rows = found[found["finding"] == "duplicate_subscriptions"]
    mine = dup_rows[dup_rows["lookup"] == personal.customer_id]["reason"].iloc[0]
    assert personal.objects["subscription"] in mine and personal.objects["duplicate_subscription"] in mine
    # two customer objects with one email: found by the keyed hash, the email itself masked
    cross = found[found["finding"] == "duplicate_customers"]["reason"].str.cat()
    assert dup_customer.customer_id in cross and "@" in cross and "***" in cross
    failed = demo.story("failed_renewal").objects["subscription"]
    assert failed in _lookups(found, "past_due") and failed in _lookups(found, "failing_card")
    renewal = demo.story("renewal_regret").objects["subscription"]
    assert renewal in _lookups(found, "renewal_before_cancel")
    disputes = found[found["finding"] == "open_disputes"]
    assert len(disputes) >= 1 and disputes["due"].notna().all()
    assert set(found["suggested_bucket"]) <= {"duplicate_subscription", "failed_payment", "unclear", "missing_self_serve"}
    healthy = demo.story("healthy_refund").customer_id
    assert healthy not in set(found["customer_id"])  # a healthy customer is left alone


def test_batch_lines_are_one_case_per_lookup(swept) -> None:  # type: ignore[no-untyped-def]
    _, found = swept
    lines = [json.loads(line) for line in batch_lines(found)]
    assert len({d["lookup"] for d in lines}) == len(lines) == found["lookup"].nunique()
    for d in lines:
        lookup_kind(d["lookup"])  # every lookup is one `billing-nb case` accepts
        assert d["reason"] and d["suggested_bucket"] and "bucket" not in d  # pending: nothing confirmed
    due = next(d for d in lines if "open_disputes" in d["findings"])
    assert "evidence due 20" in due["reason"]


def test_sweep_command_writes_a_batch_file_batch_runs(demo_env, swept, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    db, _ = swept
    out = tmp_path / "sweep.jsonl"
    assert main(["sweep", "--db", str(db), "--out", str(out)]) == 0
    assert "billing-nb batch" in capsys.readouterr().out
    lines = out.read_text().splitlines()
    assert lines and all(json.loads(line)["lookup"] for line in lines)
    one = tmp_path / "one.jsonl"
    one.write_text(next(line for line in lines if "open_disputes" in line) + "\n")
    code = main(["batch", str(one), "--out", str(tmp_path / "cases"), "--workers", "1"])
    assert code in (0, 4)  # done, or pending until an analyst confirms the bucket
    assert list((tmp_path / "cases").rglob("case.json"))
