"""N7: a customer named "Billing Team" failed the case after the refund landed: the runner's
scan, given the customer's known name, counted the follow-up's own sign-off ("The Billing Team")
while ``billing-nb scan`` on the same folder said 0. Both now read the folder the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_nb.cli import main
from billing_nb.records.runner import CaseRequest, run_case
from billing_nb.records.scan import scan

from scenarios import pointed_world

pytestmark = pytest.mark.notebook


def test_a_customer_named_billing_team_is_done_after_the_refund(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as mp, pointed_world(mp, tmp_path / "cases") as w:
        cus = w.customer("team@billing-team.example", name="Billing Team")
        w.subscribe(cus, w.price(w.product(), 2500))
        dry = run_case(CaseRequest(lookup=cus, bucket="product_failure", complaint="Broken, refund me. Billing Team"),
                       cases_dir=tmp_path / "cases")
        assert dry.status == "done", dry.error
        refund = next(a["id"] for a in dry.record["plan"] if a["kind"] == "refund")
        result = run_case(CaseRequest(lookup=cus, bucket="product_failure", approve=(refund,),
                                      complaint="Broken, refund me. Billing Team"), cases_dir=tmp_path / "cases")
        assert [c.amount_refunded for c in w.charges(cus)] == [2500]
    assert result.status == "done" and result.exit_code == 0, result.error
    assert result.record_dir is not None
    assert "The Billing Team" in (result.record_dir / "handoff.md").read_text() or \
        "The Billing Team" in result.record["followup"]
    assert scan(result.record_dir, known=w.pii) == scan(result.record_dir) == []
    assert main(["scan", str(result.record_dir)]) == 0
