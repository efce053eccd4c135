"""A record of a customer whose name is made of ordinary words: the case's own words stay, the
name is masked whole, and the record scans clean (the scanner reads it the same way)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from billing_nb.records.scan import scan
from scenarios import World, run


def test_catalogue_and_complaint_words_survive_a_customer_named_personal_team(w: World, tmp_path: Path) -> None:
    product = w.c.v1.products.create({"name": "Team Workspace", "metadata": {"per_seat": "true"}}).id
    cus = w.customer("tp.name@example.com", name="Personal Team")
    w.subscribe(cus, (w.price(product, 1200), 2))
    case, rec = run("tp.name@example.com", tmp_path / "out", bucket="team_seats",
                    complaint="Why am I paying for 2 seats on Team Workspace? Personal use only. -- Personal Team")
    assert rec["complaint"] == "Why am I paying for 2 seats on Team Workspace? Personal use only. -- P. T."
    assert rec["billing_state"]["subscriptions"][0]["plan"] == "Team Workspace"
    folder = tmp_path / "out" / case.case_id
    snap = json.loads((folder / "snapshot.json").read_text())
    assert [p["name"] for p in snap["objects"]["products"]] == ["Team Workspace"]
    assert "T. Workspace" not in (folder / "case.json").read_text()
    assert "Personal Team" not in (folder / "case.json").read_text()
    assert scan(folder, known=w.pii) == []


def test_the_toolkits_option_text_survives_a_customer_named_cara_cancel(w: World, tmp_path: Path) -> None:
    cus = w.customer("cara.cancel@example.com", name="Cara Cancel")
    w.subscribe(cus, w.price(w.c.v1.products.create({"name": "Basic"}).id, 1000))
    case, rec = run("cara.cancel@example.com", tmp_path / "out", bucket="product_failure",
                    complaint="It has not worked for weeks, refund me. Cara Cancel")
    labels = json.dumps(rec["refund_options"])
    assert "C. now" not in labels and "Cancel now" in labels, labels
    assert rec["complaint"].endswith("refund me. C. C.")
    assert scan(tmp_path / "out" / case.case_id, known=w.pii) == []
