"""The real case notebook, run by papermill against the seeded sandbox."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest

from billing_nb.records.handoff import HEADINGS
from billing_nb.records.markup import math_inert_md
from billing_nb.records.scan import scan
from billing_nb.records.batch import run_batch
from billing_nb.records.runner import CaseRequest, CaseResult, run_case


pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def env(demo: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cases = tmp_path_factory.mktemp("cases")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STRIPE_API_KEY", demo.key)
        mp.setenv("STRIPE_API_BASE", demo.url)
        mp.setenv("BILLING_NB_CASES_DIR", str(cases))
        yield cases


@pytest.fixture(scope="module")
def demo_runs(demo: Any, env: Path) -> list[tuple[Any, CaseResult]]:
    """One unattended dry-run case per demo customer, the story's bucket as the answer."""
    requests = [CaseRequest(lookup=c.lookup, complaint=c.complaint, bucket=c.expected_bucket) for c in demo.customers]
    results = run_batch(requests, cases_dir=env)
    return list(zip(demo.customers, results, strict=True))


def test_every_demo_customer_is_classified_as_its_story(demo_runs: list[tuple[Any, CaseResult]]) -> None:
    wrong = []
    for story, result in demo_runs:
        assert result.status == "done", (story.story, result.error)
        cls = result.record["classification"]
        if cls["suggested"] != story.expected_bucket:
            wrong.append((story.story, cls["suggested"], story.expected_bucket, cls["evidence"]))
        assert cls["bucket"] == story.expected_bucket and cls["confirmed_by"] == "parameter"
        kinds = {a["kind"] for a in result.record["billing_state"]["anomalies"]}
        assert set(story.expected_anomalies) <= kinds, (story.story, kinds)
    assert not wrong, wrong


def test_records_have_the_contract_fields(demo_runs: list[tuple[Any, CaseResult]]) -> None:
    for story, result in demo_runs:
        rec = json.loads((result.record_dir / "case.json").read_text())  # type: ignore[operator]
        for key in ("case_id", "created_at", "status", "lookup_kind", "customer", "billing_state",
                    "classification", "plan", "executed", "revenue_impact", "product_gaps", "followup", "handoff"):
            assert key in rec, (story.story, key)
        assert rec["customer"]["id"].startswith("cus_")
        assert rec["executed"] == []  # dry run
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", result.record_dir.parent.name)  # type: ignore[union-attr]


def test_lookup_kinds_cover_every_identifier(demo_runs: list[tuple[Any, CaseResult]]) -> None:
    kinds = {r.record["lookup_kind"] for _, r in demo_runs}
    assert {"email", "customer", "metadata"} <= kinds


def test_handoff_cell_and_file(demo_runs: list[tuple[Any, CaseResult]]) -> None:
    for story, result in demo_runs:
        assert result.record_dir is not None
        nb = nbformat.read(str(result.record_dir / "case.ipynb"), as_version=4)
        last = nb.cells[-1]
        assert last.cell_type == "markdown" and "handoff" in last.metadata.get("tags", [])
        text = (result.record_dir / "handoff.md").read_text()
        assert last.source == math_inert_md(text)  # the file as written; the cell the same, $ shown as $ in a notebook
        positions = [text.find(h) for h in HEADINGS]
        assert all(p >= 0 for p in positions) and positions == sorted(positions), story.story
        assert story.expected_bucket in text


def test_no_record_leaks_pii_or_secrets(demo: Any, demo_runs: list[tuple[Any, CaseResult]], env: Path) -> None:
    known: list[str] = []
    for story in demo.customers:
        cust = demo.client.v1.customers.retrieve(story.customer_id)
        known += [v for v in (cust.email, cust.name, cust.phone) if v]
        if cust.address and cust.address.line1:
            known.append(cust.address.line1)
    leaks = scan(env, known=known)
    assert leaks == []
    for _, result in demo_runs:
        text = (result.record_dir / "case.ipynb").read_text()  # type: ignore[operator]
        assert demo.key not in text and "sk_test_" not in text


def test_no_bucket_means_pending_and_exit_4(demo: Any, env: Path) -> None:
    story = demo.customers[0]
    result = run_case(CaseRequest(lookup=story.customer_id, complaint=story.complaint), cases_dir=env)
    assert result.status == "pending" and result.exit_code == 4
    assert result.record["classification"]["bucket"] is None
    assert result.record["classification"]["suggested"] == story.expected_bucket


def test_unknown_approval_is_refused_before_any_write(demo: Any, env: Path) -> None:
    story = demo.customers[0]
    before = len(demo.store.all("refund")) + len(demo.store.all("credit_note"))
    result = run_case(CaseRequest(lookup=story.customer_id, bucket=story.expected_bucket,
                                  approve=("refund:ch_doesnotexist:100",)), cases_dir=env)
    assert result.status == "failed" and result.exit_code == 2
    assert "UnknownActionError" in (result.error or "")
    assert len(demo.store.all("refund")) + len(demo.store.all("credit_note")) == before


@pytest.mark.parametrize("lookup", ["nobody-here@example.com", "cus_", "cus_ bad!", "prod_ABC123", "", "   "])
def test_bad_lookups_exit_2_without_a_record(demo: Any, env: Path, lookup: str) -> None:
    from billing_nb.cli import main

    before = sorted(p for p in env.rglob("case.json"))
    assert main(["case", lookup, "--out", str(env)]) == 2
    assert sorted(p for p in env.rglob("case.json")) == before


def test_outage_exits_3_without_a_record(demo: Any, env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from billing_nb.cli import main
    from billing_nb.sandbox.server import free_port

    monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")
    before = sorted(p for p in env.rglob("case.json"))
    assert main(["case", demo.customers[0].customer_id, "--out", str(env)]) == 3
    assert sorted(p for p in env.rglob("case.json")) == before


def test_nbval_passes_on_a_record(demo: Any, demo_runs: list[tuple[Any, CaseResult]], tmp_path: Path) -> None:
    """nbval re-executes an executed record (writing into a scratch folder) with no errors."""
    _, result = demo_runs[0]
    assert result.record_dir is not None
    nb = nbformat.read(str(result.record_dir / "case.ipynb"), as_version=4)
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = re.sub(r'output_dir = ".*"', f'output_dir = "{tmp_path / "rerun"}"', cell.source)
    nb.cells = [c for c in nb.cells if "handoff" not in c.metadata.get("tags", [])]
    copy = tmp_path / "case.ipynb"
    nbformat.write(nb, str(copy))
    env = {**os.environ, "STRIPE_API_KEY": demo.key, "STRIPE_API_BASE": demo.url,
           "BILLING_NB_CASES_DIR": str(tmp_path / "cases")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                           str(copy), "--rootdir", str(tmp_path)], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "passed" in done.stdout


def test_cli_approve_executes_the_plan_once_through_the_notebook(
        fresh_demo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Dry run, then approve the whole plan through the CLI, then re-run: one refund, one cancel."""
    from billing_nb.cli import main

    demo, env = fresh_demo, tmp_path / "cases"

    story = next(c for c in demo.customers if c.story == "dup_personal")
    assert main(["case", story.lookup, "--bucket", story.expected_bucket, "--json", "--out", str(env)]) == 0
    dry = json.loads(capsys.readouterr().out)
    ids = [a["id"] for a in dry["plan"]]
    assert ids and dry["executed"] == []
    refunds_before = len(demo.store.all("refund"))

    assert main(["case", story.lookup, "--bucket", story.expected_bucket, "--json", "--out", str(env),
                 "--approve", *ids]) == 0
    done = json.loads(capsys.readouterr().out)
    assert [e["action_id"] for e in done["executed"]] == ids
    assert all(e["status"] == "succeeded" and e["idempotency_key"] for e in done["executed"])
    cancelled = [a["target"] for a in dry["plan"] if a["kind"] == "cancel"]
    for sub in cancelled:
        assert demo.client.v1.subscriptions.retrieve(sub).status == "canceled"
    refunded = len(demo.store.all("refund")) - refunds_before
    assert refunded == sum(1 for a in dry["plan"] if a["kind"] == "refund")
    assert done["revenue_impact"]["refunded"]["value"] > 0

    assert main(["case", story.lookup, "--bucket", story.expected_bucket, "--json", "--out", str(env),
                 "--approve", *ids]) == 0
    again = json.loads(capsys.readouterr().out)
    money = [e for e in again["executed"] if e["action_id"].startswith(("refund:", "cancel:"))]
    assert money and all(e["status"] == "already_done" for e in money)
    assert len(demo.store.all("refund")) - refunds_before == refunded


def test_annual_refund_matches_the_clock_and_stripes_preview(demo: Any, demo_runs: list[tuple[Any, CaseResult]]) -> None:
    """Unused time = paid x (period_end - now) / (period_end - period_start), to the cent, and Stripe agrees."""
    from fractions import Fraction

    from billing_nb.money import round_half_up

    story, result = next((s, r) for s, r in demo_runs if s.story == "annual_refund")
    rec = result.record
    shape = rec["contract"][0]
    assert shape["is_annual"] and shape["interval"] == "year"
    now = int(datetime.fromisoformat(rec["now"]).timestamp())
    paid = shape["latest_invoice_paid"]["value"]
    expected = round_half_up(Fraction(paid * (shape["period_end"] - now), shape["period_end"] - shape["period_start"]))
    option = next(o for o in rec["refund_options"] if o["kind"] == "credit_note_unused")
    assert option["amount"]["value"] == expected
    assert option["stripe_amount"] == expected and option["mismatch"] is False
    assert any(a["id"] == f"credit_note:{option['invoice']}:{expected}" for a in rec["plan"])


def test_batch_runs_cases_in_a_pool_and_reports_each(demo: Any, env: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from billing_nb.cli import main

    team = next(c for c in demo.customers if c.story == "team")
    healthy = next(c for c in demo.customers if c.story == "healthy_refund")
    lines = [json.dumps({"lookup": team.lookup, "complaint": team.complaint, "bucket": "team_seats"}),
             json.dumps({"lookup": healthy.lookup}),  # no bucket: pending
             json.dumps({"lookup": "nobody@example.com"})]
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(lines) + "\n")
    code = main(["batch", str(batch), "--out", str(env), "--workers", "2"])
    out = capsys.readouterr().out
    assert code == 2  # bad input outranks pending (4) and done (0)
    rows = [l for l in out.splitlines()[1:] if l.strip()]
    assert len(rows) == 3
    assert " done " in rows[0] and " pending " in rows[1] and " failed " in rows[2]


def test_casebook_lists_the_cases_run(demo_runs: list[tuple[Any, CaseResult]], env: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from billing_nb.cli import main

    assert main(["casebook", "--out", str(env), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    indexed = {r["case_id"] for r in rows}
    assert {r.case_id for _, r in demo_runs} <= indexed
    assert main(["casebook", "--out", str(env)]) == 0
    table = capsys.readouterr().out
    assert "$0.00 USD" in table and "duplicate_subscription" in table


def test_a_cell_timeout_is_a_failed_record(demo: Any, env: Path, monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    """A cell that outlives the timeout fails the record. The runner reads Stripe before the
    notebook (the reads are no cell), so the slow cell here is the first one, made slow."""
    from billing_nb.records import runner

    story = next(c for c in demo.customers if c.story == "team")
    nb = nbformat.read(str(runner.notebook_path()), as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if "start_case(" in c.source)
    nb.cells[first].source = "import time\ntime.sleep(30)\n" + nb.cells[first].source
    slow = tmp_path / "slow-case.ipynb"
    nbformat.write(nb, str(slow))
    monkeypatch.setattr(runner, "notebook_path", lambda name="case.ipynb": slow)
    result = run_case(CaseRequest(lookup=story.customer_id, bucket="team_seats"), cases_dir=env, timeout=2)
    assert result.status == "failed" and result.exit_code == 3
    assert "timed out" in (result.error or "")
    assert result.record_dir is not None and (result.record_dir / "case.ipynb").exists()
    saved = json.loads((result.record_dir / "case.json").read_text())
    assert saved["status"] == "failed" and "timed out" in saved["error"]


_KILLED_RUN = r'''
import os, sys
from billing_nb.actions import ledger as L
from billing_nb.records.case import open_case

real_finish = L.Ledger.finish
def die_after_write(self, case_id, action_id, *a, **k):
    if not action_id.startswith("refund:"):
        return real_finish(self, case_id, action_id, *a, **k)
    os._exit(9)  # the process dies after the refund's Stripe write, before the ledger's "after" record
L.Ledger.finish = die_after_write
case = open_case(case_id="killed-1", customer=sys.argv[1], output_dir=sys.argv[2])
case.confirm("duplicate_subscription", "parameter")
refund = next(a for a in case.plan.actions if a.kind.value == "refund")
print(refund.id, flush=True)
case.execute([*refund.requires[:1], refund.id], "parameter")  # the duplicate's refund comes with its cancel
'''


def test_killed_between_ledger_records_then_rerun_leaves_one_refund(fresh_demo: Any, tmp_path: Path) -> None:
    from billing_nb.actions.ledger import Ledger

    story = fresh_demo.story("dup_personal")
    script = tmp_path / "killed.py"
    script.write_text(_KILLED_RUN)
    done = subprocess.run([sys.executable, str(script), story.customer_id, str(tmp_path / "rec1")],
                          capture_output=True, text=True, env=dict(os.environ))
    assert done.returncode == 9, done.stderr[-2000:]
    refund_id = done.stdout.strip().splitlines()[-1]
    charge = refund_id.split(":")[1]
    refunds = lambda: [r for r in fresh_demo.store.all("refund") if r["charge"] == charge]  # noqa: E731
    assert len(refunds()) == 1  # the write went through before the kill
    ledger = Ledger(Path(os.environ["BILLING_NB_CASES_DIR"]) / "ledger.sqlite")
    assert ledger.dangling(refund_id) is not None

    from billing_nb.records.case import open_case

    case = open_case(case_id="rerun-1", customer=story.customer_id, output_dir=tmp_path / "rec2")
    case.confirm("duplicate_subscription", "parameter")
    assert case.plan is not None and refund_id not in case.plan.ids  # nothing is left to refund
    results = case.execute([refund_id], "parameter")  # the analyst re-approves what they approved
    assert len(refunds()) == 1
    # the killed run never counted it: the re-run that finds it in Stripe does (recovered), once
    assert [(r.action_id, r.status) for r in results] == [(refund_id, "recovered")]
    assert case.record()["revenue_impact"]["refunded"]["value"] == refunds()[0]["amount"]
    assert ledger.dangling(refund_id) is None


def test_dry_run_speaks_of_one_alternative_not_their_sum(demo_runs: list[tuple[Any, CaseResult]]) -> None:
    """renewal_regret's plan offers the full renewal or the unused time as alternatives."""
    _, result = next((s, r) for s, r in demo_runs if s.story == "renewal_regret")
    rec = result.record
    notes = [a for a in rec["plan"] if a["kind"] == "credit_note"]
    assert len(notes) == 2 and notes[0]["exclusive"] and notes[0]["exclusive"] == notes[1]["exclusive"]
    first = notes[0]["amount"]["value"]
    assert rec["proposed_impact"]["refunded"]["value"] == first  # a credit note's refund is refunded
    assert rec["revenue_impact"]["refunded"]["value"] == 0  # nothing executed
    both = sum(n["amount"]["value"] for n in notes)
    shown = lambda v: f"${v // 100:,}.{v % 100:02d}"  # noqa: E731
    assert shown(first) in rec["followup"] and shown(both) not in rec["followup"]
    assert "If the plan is approved" in rec["handoff"]


def test_failed_first_payment_is_not_called_a_renewal(demo_runs: list[tuple[Any, CaseResult]]) -> None:
    _, first = next((s, r) for s, r in demo_runs if s.story == "incomplete_checkout")
    _, renewal = next((s, r) for s, r in demo_runs if s.story == "failed_renewal")
    assert "first payment" in first.record["followup"] and "renewal" not in first.record["followup"]
    assert "renewal payment" in renewal.record["followup"]


def test_cli_says_what_to_do_next(demo: Any, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from billing_nb.cli import main

    story = next(c for c in demo.customers if c.story == "dup_personal")
    assert main(["case", story.lookup, "--out", str(env)]) == 4
    err = capsys.readouterr().err
    assert f"--bucket {story.expected_bucket}" in err
    assert main(["case", story.lookup, "--bucket", story.expected_bucket, "--out", str(env)]) == 0
    err = capsys.readouterr().err
    assert "dry run" in err and "--approve cancel:" in err
