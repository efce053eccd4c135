"""A case whose write failed says why in its record's ``error`` (CASE_JSON.md: "why a failed case
failed"), not only deep in ``executed[].error``; a later run that completes clears it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from billing_nb.records.storage import failed_writes

pytestmark = [pytest.mark.sandbox]


def test_failed_writes_names_the_first_failure_and_counts_the_rest() -> None:
    executed = [{"action_id": "cancel:sub_1:now", "status": "succeeded", "error": None},
                {"action_id": "refund:ch_1:500", "status": "failed", "error": "Stripe is unavailable"},
                {"action_id": "document:cus_1", "status": "failed", "error": None}]
    line = failed_writes(executed)
    assert line is not None and "\n" not in line
    assert line.startswith("2 of 3 approved actions failed: refund:ch_1:500: Stripe is unavailable")
    assert "(and 1 more)" in line
    assert failed_writes(executed[:1]) is None
    assert failed_writes([]) is None


def test_a_write_that_fails_sets_the_records_error_and_a_rerun_that_lands_clears_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from billing_nb.records.case import open_case
    from safety_helpers import faulty_world, monthly_customer

    with faulty_world() as fw:
        cases = tmp_path / "cases"
        for key, value in fw.env(cases).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("STRIPE_MAX_NETWORK_RETRIES", "0")
        cus, charge = monthly_customer(fw.world)
        out = cases / "2026-12-03" / "c-fail"
        case = open_case(case_id="c-fail", customer=cus, output_dir=out)
        case.confirm("product_failure", "parameter")
        action = next(a.id for a in case.plan.actions if a.kind.value == "refund")
        fw.knobs.fail_writes_to, fw.knobs.fail_rate = "/v1/refunds", 1.0  # the write fails, its checks read fine
        try:
            case.execute([action], "parameter")
        finally:
            fw.knobs.fail_rate, fw.knobs.fail_writes_to = 0.0, ""
        record = json.loads((out / "case.json").read_text())
        assert record["status"] == "failed"
        assert record["error"] and action in record["error"] and "failed" in record["error"]
        case.execute([action], "parameter")  # the same approval again, Stripe healthy: it lands once
        record = json.loads((out / "case.json").read_text())
        assert record["status"] == "done" and record["error"] is None, record["error"]


def test_an_action_that_failed_then_landed_is_landed() -> None:
    from billing_nb.records.storage import final_status

    retried = [{"action_id": "refund:ch_1:500", "status": "failed", "error": "Stripe is unavailable"},
               {"action_id": "refund:ch_1:500", "status": "succeeded", "error": None}]
    assert final_status(retried) == "done" and failed_writes(retried) is None
    assert final_status(retried[::-1]) == "failed"  # the last word is the failure
    assert final_status([*retried, {"action_id": "document:cus_1", "status": "failed"}]) == "partial"
