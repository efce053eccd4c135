"""The case notebook's views show what the record holds: masked (records.masked).

A B2B customer whose company is in its plan's name, and a product name that carries a card
number and a live key: case.json, handoff.md and snapshot.json mask them, and so must every
view in case.ipynb. Before, the views rendered from the live (unmasked) snapshot, the runner's
own scan failed the case, and the CLI called it a Stripe error (exit 3).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_nb.records.runner import CaseRequest, run_case

from scenarios import pointed_world

pytestmark = pytest.mark.notebook

CARD = "4000056655665556"
LIVE_KEY = "sk_live_" + "51Habc" * 4


def test_a_company_in_the_plan_name_is_masked_in_every_view_and_the_case_is_done(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as mp, pointed_world(mp, tmp_path / "cases") as w:
        cus = w.customer("ottoline.b@example.com", name="Ottoline Barraclough", company="Barraclough Freight Ltd")
        plan = w.c.v1.products.create({"name": "Enterprise plan - Barraclough Freight Ltd"}).id
        leaky = w.c.v1.products.create({"name": f"Add-on card {CARD} key {LIVE_KEY}"}).id
        w.subscribe(cus, w.price(plan, 9900, "month"), w.price(leaky, 500, "month"))
        result = run_case(CaseRequest(lookup="ottoline.b@example.com", complaint="please cancel",
                                      bucket="missing_self_serve"), cases_dir=tmp_path / "cases")
    assert result.status == "done", result.error
    assert result.exit_code == 0
    assert result.record_dir is not None
    notebook = (result.record_dir / "case.ipynb").read_text()
    for secret in ("Barraclough", "Ottoline", "Freight", CARD, LIVE_KEY, "ottoline.b@"):
        assert secret not in notebook, secret
        for name in ("case.json", "handoff.md", "snapshot.json"):
            assert secret not in (result.record_dir / name).read_text(), (secret, name)
    # the views still say what the customer has, in the record's masked words
    plans = [s["plan"] for s in result.record["billing_state"]["subscriptions"]]
    assert any("Enterprise plan" in p for p in plans)
    assert "Enterprise plan" in notebook


def test_a_redaction_failure_has_its_own_exit_code_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit 5 and one ``redaction scan:`` line, never exit 3 ("Stripe error")."""
    import billing_nb.records.runner as runner
    from billing_nb.records.scan import Leak

    monkeypatch.setattr(runner, "scan", lambda *_a, **_k: [Leak("x/case.ipynb", 7, "name", "B***")])
    with pointed_world(monkeypatch, tmp_path / "cases") as w:
        cus = w.customer("leak.check@example.com", name="Leak Check")
        w.subscribe(cus, w.price(w.product(), 900, "month"))
        result = run_case(CaseRequest(lookup=cus, bucket="missing_self_serve"), cases_dir=tmp_path / "cases")
    assert result.status == "failed" and result.exit_code == 5
    assert result.error is not None and result.error.startswith("redaction scan:") and "\n" not in result.error
    assert "name in case.ipynb:7" in result.error


def test_scan_command_exits_5_on_a_leak(tmp_path: Path) -> None:
    from billing_nb.cli import main

    (tmp_path / "handoff.md").write_text("write to jane.doe@example.com\n")
    assert main(["scan", str(tmp_path)]) == 5


def _outputs(notebook: dict[str, object], marker: str) -> list[str]:
    """The HTML/markdown outputs of the case notebook that contain ``marker``."""
    out: list[str] = []
    for cell in notebook["cells"]:  # type: ignore[union-attr]
        for o in cell.get("outputs", []):  # type: ignore[union-attr]
            for mime in ("text/html", "text/markdown"):
                text = "".join((o.get("data") or {}).get(mime, []))
                if marker in text:
                    out.append(text)
    return out


def test_a_paused_collection_and_a_contradicted_bucket_show_in_their_steps(tmp_path: Path) -> None:
    """T3 (session 7b): a paused collection shows on the customer page and in the contract table, and a
    confirmed bucket the evidence contradicts is said in the decision step, as the handoff's DECISION says."""
    import json

    with pytest.MonkeyPatch.context() as mp, pointed_world(mp, tmp_path / "cases") as w:
        cus = w.customer("paused.view@example.com")
        sub = w.subscribe(cus, w.price(w.product(), 1500))
        w.c.v1.subscriptions.update(sub.id, {"pause_collection": {"behavior": "void"}})
        result = run_case(CaseRequest(lookup="paused.view@example.com", complaint="my payment failed",
                                      bucket="failed_payment"), cases_dir=tmp_path / "cases")
    assert result.status == "done", result.error
    assert result.record_dir is not None
    nb = json.loads((result.record_dir / "case.ipynb").read_text())
    page = _outputs(nb, "<b>Pays for</b>")
    pays_for = page[0].split("<b>Pays for</b>", 1)[1].split("</ul>", 1)[0] if page else ""
    assert "payment collection paused (behavior void: each new invoice is voided" in pays_for, page
    contract = _outputs(nb, "<h4>Contract shape</h4>")
    assert contract and "payment collection paused (behavior void" in contract[0]
    decision = _outputs(nb, "<b>Decision:</b>")
    assert decision and "The confirmed bucket contradicts the evidence:</b> no payment failed (payment collection " \
        "is paused, behavior void)" in decision[0], decision
    assert "contradicts the evidence" in result.record["handoff"]
