"""The account notebooks (portfolio, portal, casebook) run by `billing-nb report` against a
seeded demo sandbox, their outputs checked, the reports scanned for PII, and nbval on copies."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
import stripe

from billing_nb.cli import main
from billing_nb.config import API_VERSION
from billing_nb.reading.masking import mask_email
from billing_nb.records.scan import scan
from billing_nb.records.runner import CaseRequest, CaseResult, run_case
from billing_nb.demo.seed import seed_demo
from billing_nb.sandbox.server import ThreadedSandbox

pytestmark = pytest.mark.notebook

KEY = "sk_test_billing_nb_account_notebooks"


@dataclass
class Seeded:
    url: str
    client: stripe.StripeClient
    customers: list[Any]
    key: str

    def story(self, name: str) -> Any:
        return next(c for c in self.customers if c.story == name)


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    """The demo account seeded into this module's own sandbox: the session's shared one is
    written to by other tests (a CLI test cancels dup_personal's duplicate), and this module
    executes an action too, so neither depends on the other's order."""
    with ThreadedSandbox() as sb:
        client = stripe.StripeClient(KEY, base_addresses={"api": sb.url}, stripe_version=API_VERSION)
        yield Seeded(sb.url, client, seed_demo(client), KEY)


@pytest.fixture(scope="module")
def env(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("account-notebooks")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STRIPE_API_KEY", seeded.key)
        mp.setenv("STRIPE_API_BASE", seeded.url)
        mp.setenv("BILLING_NB_CASES_DIR", str(root / "cases"))
        mp.setenv("BILLING_NB_DB", str(root / "account.duckdb"))  # the portfolio's store, synced by the notebook
        yield root


@pytest.fixture(scope="module")
def cases(seeded: Seeded, env: Path) -> list[CaseResult]:
    """Three cases: one confirmed dry run, one pending, one that executes its document action."""
    folder = env / "cases"
    dup, team, healthy = seeded.story("dup_personal"), seeded.story("team"), seeded.story("healthy_refund")
    results = [run_case(CaseRequest(lookup=dup.lookup, complaint=dup.complaint, bucket=dup.expected_bucket), cases_dir=folder),
               run_case(CaseRequest(lookup=team.lookup, complaint=team.complaint), cases_dir=folder)]
    request = CaseRequest(lookup=healthy.lookup, complaint=healthy.complaint, bucket=healthy.expected_bucket)
    document = [a["id"] for a in run_case(request, cases_dir=folder).record["plan"] if a["kind"] == "document"]
    results.append(run_case(CaseRequest(**{**request.__dict__, "approve": tuple(document)}), cases_dir=folder))
    assert [r.status for r in results] == ["done", "pending", "done"], [r.error for r in results]
    assert [e["status"] for e in results[-1].record["executed"]] == ["succeeded"]
    return results


@pytest.fixture(scope="module")
def reports(env: Path, cases: list[CaseResult]) -> dict[str, Path]:
    out = env / "reports"
    for name in ("portfolio", "portal", "casebook"):
        assert main(["report", name, "--out", str(out), "--cases", str(env / "cases")]) == 0, name
    found = {p.name.split("-")[0]: p for p in out.glob("*/*.ipynb")}
    assert set(found) == {"portfolio", "portal", "casebook"}
    assert all(p.parent.name == p.parent.name[:10] and len(p.parent.name) == 10 for p in found.values())  # <date>/
    return found


def outputs(path: Path) -> dict[str, str]:
    """Each tagged cell's output text (plain, html and markdown), by tag."""
    nb = nbformat.read(str(path), as_version=4)
    texts: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for tag in cell.metadata.get("tags", []):
            parts = []
            for out in cell.get("outputs", []):
                assert out.get("output_type") != "error", (tag, out.get("evalue"))
                data = out.get("data", {})
                parts += [data.get("text/plain", ""), data.get("text/html", ""), data.get("text/markdown", ""),
                          out.get("text", "")]
            texts[tag] = "\n".join(parts)
    return texts


def test_portfolio_finds_duplicates_and_the_team(seeded: Seeded, reports: dict[str, Path]) -> None:
    out = outputs(reports["portfolio"])
    personal, team = seeded.story("dup_personal"), seeded.story("team")
    assert mask_email(personal.email) in out["duplicates"] and mask_email(seeded.story("dup_customer").email) in out["duplicates"]
    assert personal.objects["duplicate_subscription"] in out["duplicates"] or personal.objects["subscription"] in out["duplicates"]
    assert team.objects["subscription"] in out["seats"] and ">5<" in out["seats"]
    assert "past_due" in out["churn-risk"] and "USD" in out["mrr"]
    account = out["account"].split("<table")[0]  # the plain-text rendering
    assert "invoice_line_items" in account and "disputes" in account and "completely" in account  # no sample


def test_portfolio_draws_static_charts_and_lists_the_sweep(seeded: Seeded, reports: dict[str, Path]) -> None:
    """Charts are PNGs stored in the saved notebook (they show with no kernel); the sweep
    lists the account's problems as cases to open."""
    nb = nbformat.read(str(reports["portfolio"]), as_version=4)
    pngs = {tag for cell in nb.cells for tag in cell.metadata.get("tags", [])
            for out in cell.get("outputs", []) if out.get("data", {}).get("image/png")}
    assert {"movements-chart", "intervals-chart", "seats-chart", "cohorts-chart"} <= pngs
    out = outputs(reports["portfolio"])
    assert "open_disputes" in out["sweep"] and "failed_payment" in out["sweep"] and "duplicate_subscription" in out["sweep"]
    assert "$" in out["movements"] and "USD" in out["movements"]


def test_portal_flags_cancellation_disabled(reports: dict[str, Path]) -> None:
    out = outputs(reports["portal"])
    assert "subscription_cancel off" in out["configurations"]
    assert "Customers meet portal configuration `bpc_" in out["in-use"]
    assert "cannot cancel" in out["abilities"] and "billing_nb_demo_team" in out["abilities"]
    team = next(line for line in out["findings"].splitlines() if "billing_nb_demo_team" in line)
    assert "cannot cancel" in team and "cannot change seats" in team


#: What no report table cell may show: a Money dict, NaN/None/NaT, a raw price id, an ISO date.
BAD_CELL = re.compile(r"\{'value'|'currency':|^(NaN|nan|None|NaT)$|price_[A-Za-z0-9]{12,}|^\d{4}-\d\d-\d\d")


def test_report_tables_are_for_people(reports: dict[str, Path]) -> None:
    """The executed portfolio and casebook tables read like the case's: no index column, no
    dict, NaN or ISO date in a cell, prices by name (before: price ids in the plan mix, ISO
    dates and NaN in the casebook, a numbered index on every table)."""
    for name in ("portfolio", "casebook", "portal"):  # portal: raw pandas tables with an index before
        tables = 0
        for tag, html_out in html_outputs(reports[name]).items():
            if "<table" not in html_out:
                continue
            tables += 1
            bodies = re.findall(r"<tbody>(.*?)</tbody>", html_out, re.S)
            assert bodies and not any("<th" in b for b in bodies), (name, tag, "an index column")
            cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", html_out, re.S)]
            assert cells, (name, tag)
            assert [c for c in cells if BAD_CELL.search(c)] == [], (name, tag)
        assert tables >= (3 if name == "portal" else 5), name
    plans = html_outputs(reports["portfolio"])["plan-mix"]
    assert "Pro" in plans and "price_" not in plans


def html_outputs(path: Path) -> dict[str, str]:
    nb = nbformat.read(str(path), as_version=4)
    return {tag: "\n".join(str(o.get("data", {}).get("text/html", "")) for o in cell.get("outputs", []))
            for cell in nb.cells if cell.cell_type == "code" for tag in cell.metadata.get("tags", [])}


def test_casebook_finds_the_cases_and_no_leaks(cases: list[CaseResult], reports: dict[str, Path]) -> None:
    out = outputs(reports["casebook"])
    for result in cases:
        assert result.case_id in out["cases"]
    assert "pending" in out["status"] and "duplicate_subscription" in out["buckets"]
    checks = out["checks"].split("<table")[0]  # the plain-text rendering
    assert "no PII or secrets in clear" in checks and "False" not in checks
    assert "Empty DataFrame" in out["leaks"] and "Empty DataFrame" in out["mismatches"]
    assert "no_duplicate_subscription_guard" in out["gaps"]
    nb = nbformat.read(str(reports["casebook"]), as_version=4)
    pngs = {tag for cell in nb.cells for tag in cell.metadata.get("tags", [])
            for o in cell.get("outputs", []) if o.get("data", {}).get("image/png")}
    assert {"cases-chart", "money-chart", "gaps-chart"} <= pngs  # static: they show without a kernel


def test_reports_hold_no_pii_or_key(seeded: Seeded, env: Path, reports: dict[str, Path]) -> None:
    known: list[str] = []
    for story in seeded.customers:
        cust = seeded.client.v1.customers.retrieve(story.customer_id)
        known += [v for v in (cust.email, cust.name, cust.phone) if v]
        if cust.address and cust.address.line1:
            known.append(cust.address.line1)
    assert scan(env / "reports", known=known) == []
    for path in reports.values():
        assert seeded.key not in path.read_text()


def test_report_without_a_key_exits_2_before_a_kernel(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_API_KEY")
    assert main(["report", "portfolio", "--out", str(env / "nokey")]) == 2
    assert not list((env / "nokey").rglob("*.ipynb"))


def test_nbval_passes_on_the_reports(seeded: Seeded, env: Path, reports: dict[str, Path], tmp_path: Path) -> None:
    """nbval re-executes copies of the executed reports with no errors."""
    copies = [shutil.copy(p, tmp_path / f"{name}.ipynb") for name, p in reports.items()]
    run_env = {**os.environ, "STRIPE_API_KEY": seeded.key, "STRIPE_API_BASE": seeded.url,
               "BILLING_NB_CASES_DIR": str(env / "cases"), "BILLING_NB_DB": str(env / "account.duckdb")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                           *map(str, copies), "--rootdir", str(tmp_path)],
                          capture_output=True, text=True, env=run_env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "passed" in done.stdout
