"""A run SIGKILLed at each exact point of an approved refund, then a re-run: one refund in
Stripe, the killed record never ``done``, the amount counted by exactly one record, the audit
clean against Stripe.

The kill is deterministic (``BILLING_NB_TEST_CRASH_AT``, :mod:`billing_nb.actions.crashpoints`):
the run kills itself at the point, so no test depends on timing. The case runs as the
notebook runs it (sweep, open, confirm, execute) in a forked child without a kernel, so a
point costs seconds; the real CLI and its kernel are killed in test_safety_crash.py.
The windows that used to fail: killed after the ledger's finish and before the record that
counts it was saved (``finished``), the re-run's ``already_done`` had no ledger finish of its
own (the audit's ledger/record mismatch).
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_nb.actions.crashpoints import CRASH_ENV, POINTS
from billing_nb.actions.ledger import Ledger
from billing_nb.records import casebook as cb

from safety_helpers import Faulty, claimed, faulty_world, monthly_customer, records

pytestmark = [pytest.mark.sandbox]


def _case(case_id: str, cus: str, folder: Path, approve: list[str]) -> str:
    """The runner's order for one case, without papermill: sweep dead runs, open (with the approvals it
    will execute, as the notebook passes them), confirm, execute."""
    from billing_nb.records.case import open_case
    from billing_nb.records.storage import close_interrupted

    ledger = Ledger(folder / "ledger.sqlite")
    close_interrupted(folder, ledger)
    case = open_case(case_id=case_id, customer=cus, output_dir=folder / "2026-12-02" / case_id, approve=approve)
    case.confirm("product_failure", "parameter")
    case.execute(approve, "parameter")
    ledger.index_case(case.record(), case.output_dir)
    return case.status


@pytest.fixture(scope="module")
def fw() -> Iterator[Faulty]:
    with faulty_world() as f:
        yield f


@pytest.fixture()
def folder(fw: Faulty, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cases = tmp_path / "cases"
    for key, value in fw.env(cases).items():
        monkeypatch.setenv(key, value)
    return cases


def _killed(case_id: str, cus: str, folder: Path, approve: list[str], crash: str) -> None:
    """Run the case in a forked child that SIGKILLs itself at ``crash``; assert it died so."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.environ[CRASH_ENV] = crash
            _case(case_id, cus, folder, approve)
        except BaseException:  # noqa: BLE001 - reported through the exit code
            code = 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"not killed at {crash}: {status}"


def _check_counted_once(fw: Faulty, folder: Path, charge: str, killed_id: str, amount: int) -> None:
    refunds = list(fw.world.c.v1.refunds.list({"charge": charge}).auto_paging_iter())
    assert len(refunds) == 1, f"{len(refunds)} refunds"
    recs = records(folder)
    killed = next(r for r in recs if r["case_id"] == killed_id)
    assert killed["status"] != "done"
    assert claimed(recs, "refunded") == refunds[0].amount == amount, (
        [(r["case_id"], r["status"], r["executed"]) for r in recs], Ledger(folder / "ledger.sqlite").entries())
    report = cb.audit(cb.open_casebook(folder), client=fw.world.c)
    assert report.ok, (report.checks.to_string(), report.mismatches.to_string())


@pytest.mark.parametrize("point", POINTS)
def test_killed_at_each_point_then_rerun_counts_once(fw: Faulty, folder: Path, point: str) -> None:
    cus, charge = monthly_customer(fw.world)
    rid = f"refund:{charge}:2000"
    _killed("killed", cus, folder, [rid], point)
    [before] = records(folder)
    assert before["status"] == "in_progress", before["status"]  # never "done" from the killed run
    assert _case("rerun", cus, folder, [rid]) == "done"
    recs = {r["case_id"]: r for r in records(folder)}
    assert recs["killed"]["status"] == "interrupted"  # closed by the re-run's sweep
    _check_counted_once(fw, folder, charge, "killed", 2000)
    rerun_status = [e["status"] for e in recs["rerun"]["executed"]]
    # killed once the ledger knew the refund: the dead run's record counts it, the re-run finds it done
    if POINTS.index(point) >= POINTS.index("finished"):
        assert rerun_status == ["already_done"]
        assert [e["status"] for e in recs["killed"]["executed"]] == ["succeeded"]
    elif point in ("begun", "written"):  # a begin with no finish: the re-run resolves it and counts it
        assert rerun_status == ["recovered"]
    else:
        assert rerun_status == ["succeeded"]


def test_a_third_run_after_recovery_changes_nothing(fw: Faulty, folder: Path) -> None:
    """The sweep runs again on every run: an interrupted record is settled once, not recounted."""
    cus, charge = monthly_customer(fw.world)
    rid = f"refund:{charge}:2000"
    _killed("killed", cus, folder, [rid], "finished")
    for name in ("second", "third"):
        assert _case(name, cus, folder, [rid]) == "done"
    recs = {r["case_id"]: r for r in records(folder)}
    assert [e["status"] for e in recs["third"]["executed"]] == ["already_done"]
    assert json.dumps(recs["killed"]["executed"]).count('"succeeded"') == 1
    _check_counted_once(fw, folder, charge, "killed", 2000)
