"""A customer with no subscription is shown in their own currency: a one-off EUR charge is not
summed as "$0.00 USD" in the record's money lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.sandbox]


def test_a_one_off_eur_charge_makes_the_record_eur(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from billing_nb.records.case import open_case
    from safety_helpers import faulty_world

    with faulty_world() as fw:
        cases = tmp_path / "cases"
        for key, value in fw.env(cases).items():
            monkeypatch.setenv(key, value)
        c = fw.world.c
        cus = c.v1.customers.create({"email": "marta@example.com"})
        c.v1.payment_intents.create({"customer": cus.id, "amount": 4321, "currency": "eur",
                                     "payment_method": "pm_card_visa", "confirm": True})
        out = cases / "2026-12-03" / "c-eur"
        case = open_case(case_id="c-eur", customer=cus.id, output_dir=out)
        case.confirm("product_failure", "parameter")
        assert case.currency == "eur"
        record = json.loads((out / "case.json").read_text())
        currencies = {v["currency"] for v in (record.get("revenue_impact") or {}).values()
                      if isinstance(v, dict) and "currency" in v}
        assert currencies == {"eur"}, record.get("revenue_impact")
