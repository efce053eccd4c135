"""A refund amount the analyst names in the approval, through the Case the cells call: the
record's plan holds it, its revenue impact and the casebook count what landed."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_nb.actions.ledger import Ledger

pytestmark = [pytest.mark.sandbox]


def test_the_record_shows_the_named_amount_and_counts_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the Case the cells call: the saved record's plan holds the named action and its
    revenue impact and the casebook count what landed (the record's cached plan was stale)."""
    from billing_nb.records import casebook as cb
    from billing_nb.records.case import open_case
    from safety_helpers import claimed, faulty_world, monthly_customer, records

    with faulty_world() as fw:
        cases = tmp_path / "cases"
        for key, value in fw.env(cases).items():
            monkeypatch.setenv(key, value)
        cus, charge = monthly_customer(fw.world)
        case = open_case(case_id="c-named", customer=cus, output_dir=cases / "2026-12-02" / "c-named")
        case.confirm("product_failure", "parameter")
        case.execute([f"refund:{charge}:450"], "parameter")
        [record] = records(cases)
        assert f"refund:{charge}:450" in [a["id"] for a in record["plan"]]
        assert [e["status"] for e in record["executed"]] == ["succeeded"]
        assert claimed([record], "refunded") == 450
        Ledger(cases / "ledger.sqlite").index_case(case.record(), case.output_dir)
        report = cb.audit(cb.open_casebook(cases), client=fw.world.c)
        assert report.ok, report.checks.to_string()
