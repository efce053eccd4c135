"""`billing-nb case --json` keeps stdout the record a script parses and still says why a case
failed on stderr (a refused approval, a failed write printed nothing there)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.sandbox]


def test_a_refused_approval_under_json_says_why_on_stderr(tmp_path: Path) -> None:
    from safety_helpers import case_args, cli, faulty_world, monthly_customer

    with faulty_world() as fw:
        cus, charge = monthly_customer(fw.world)
        cases = tmp_path / "cases"
        proc = cli(case_args(cus, "product_failure", [f"refund:{charge}:999999"], cases), fw.env(cases))
        out, err = proc.communicate(timeout=180)
    assert proc.returncode == 2, err[-2000:]
    record = json.loads(out)  # stdout is the record, nothing else
    assert record["status"] in ("failed", "done")
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert lines and "above what remains refundable" in lines[-1], err[-2000:]
