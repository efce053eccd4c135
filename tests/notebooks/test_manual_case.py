"""A case driven by hand is a real case: `billing-nb open` makes its record folder and
notebook, the clicks leave steps 3-5 as saved outputs, `export` finishes the record into
the one ledger and the casebook lists it. Nothing is written under notebooks/."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from billing_nb.cli import main
from billing_nb.records.runner import _execute, notebook_path  # pyright: ignore[reportPrivateUsage]

pytestmark = pytest.mark.notebook

REPO_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CASE_ID = re.compile(r"^\d{8}-\d{6}-cus_\w+-[0-9a-f]{4}$")


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _outputs_text(cell: Any) -> str:
    parts = []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        parts.append(str(data.get("text/html", "")) + str(data.get("text/markdown", "")) + str(data.get("text/plain", "")))
        parts.append(str(out.get("text", "")))
    return "\n".join(parts)


def test_open_no_browser_creates_the_record_and_prints_the_command(
        demo_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import billing_nb.notebook.lab as lab

    monkeypatch.setattr(lab, "running_server_for", lambda nb: None)
    before = _digest(REPO_NOTEBOOKS)
    story = demo_env.story("dup_personal")
    cases = tmp_path / "cases"
    assert main(["open", story.lookup, "--complaint", story.complaint, "--out", str(cases), "--no-browser"]) == 0
    out = capsys.readouterr().out
    (record,) = [p for p in cases.glob("*/*") if p.is_dir()]
    assert CASE_ID.match(record.name), record.name
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", record.parent.name)
    assert f"case {record.name}: record folder" in out and "jupyter lab" in out and "case.ipynb" in out
    nb = nbformat.read(str(record / "case.ipynb"), as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert f'case_id = "{record.name}"' in injected.source and "interactive = True" in injected.source
    assert f'cases_dir = "{cases.resolve()}"' in injected.source
    assert "@" not in injected.source.split("complaint = ")[1].split("\n")[0].replace("***@", ""), "no clear email"
    assert _digest(REPO_NOTEBOOKS) == before, "nothing written under notebooks/"


def test_open_prints_the_url_when_a_lab_serves_the_folder(
        demo_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import billing_nb.notebook.lab as lab
    import jupyter_server.serverapp as serverapp

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(serverapp, "list_running_servers",
                        lambda *a, **k: iter([{"url": "http://127.0.0.1:8899/", "root_dir": str(tmp_path), "pid": 4242}]))
    started: list[Any] = []
    monkeypatch.setattr(lab.subprocess, "call", lambda *a, **k: started.append(a) or 0)
    story = demo_env.story("dup_personal")
    assert main(["open", story.customer_id, "--out", str(tmp_path / "cases")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"open http://127\.0\.0\.1:8899/lab/tree/cases/\d{4}-\d\d-\d\d/[^/]+/case\.ipynb", out), out
    assert started == [], "no second JupyterLab"


def test_open_starts_jupyterlab_on_the_record_or_names_the_running_one(demo_env: Any, tmp_path: Path) -> None:
    """The real command (`python -m billing_nb open`) in its own process: a fake `jupyter`
    (BILLING_NB_JUPYTER) records how it was started -- `lab`, rooted where the command ran,
    opening the record's notebook by its path under that root. Running servers are found the
    way Jupyter lists them (jpserver-*.json in JUPYTER_RUNTIME_DIR, pid alive): one serving
    another folder is not used; one serving this folder gets its URL printed and no second lab
    starts. Nothing is written under the repository's notebooks/."""
    fake = tmp_path / "bin" / "jupyter"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nprintf \'%s\\n\' "$PWD" "$@" > "$FAKE_JUPYTER_LOG"\n')
    fake.chmod(0o755)
    log, runtime, work, elsewhere = tmp_path / "argv.txt", tmp_path / "runtime", tmp_path / "work", tmp_path / "other"
    for folder in (runtime, work, elsewhere):
        folder.mkdir()
    server = {"url": "http://127.0.0.1:8899/", "port": 8899, "token": "", "pid": os.getpid(), "secure": False}
    (runtime / "jpserver-1.json").write_text(json.dumps({**server, "root_dir": str(elsewhere)}))
    env = {**os.environ, "BILLING_NB_JUPYTER": str(fake), "FAKE_JUPYTER_LOG": str(log), "JUPYTER_RUNTIME_DIR": str(runtime)}
    before = _digest(REPO_NOTEBOOKS)
    story = demo_env.story("dup_personal")

    def billing_nb(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "billing_nb", *args], cwd=work, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        return done

    done = billing_nb("open", story.customer_id, "--out", "cases")
    (record,) = [p for p in (work / "cases").glob("*/*") if p.is_dir()]
    assert f"case {record.name}: record folder" in done.stdout and "starting JupyterLab" in done.stdout
    cwd, *argv = log.read_text().splitlines()
    assert Path(cwd).resolve() == work.resolve()
    assert argv[:2] == ["lab", f"--ServerApp.root_dir={work.resolve()}"], argv
    assert (work / argv[-1]).resolve() == (record / "case.ipynb").resolve() and not Path(argv[-1]).is_absolute()
    assert (record / "case.ipynb").is_file()

    log.unlink()
    (runtime / "jpserver-2.json").write_text(json.dumps({**server, "root_dir": str(work)}))
    done = billing_nb("open", str(record))  # reopening the record folder
    assert f"open http://127.0.0.1:8899/lab/tree/{argv[-1]}" in done.stdout, done.stdout
    assert not log.exists(), "no second JupyterLab"
    assert [p for p in (work / "cases").glob("*/*") if p.is_dir()] == [record], "the same record, not a new case"
    assert _digest(REPO_NOTEBOOKS) == before, "nothing written under notebooks/"


def test_hand_driven_case_keeps_steps_3_to_5_and_reaches_the_casebook(
        demo_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from billing_nb.config import load_settings
    from billing_nb.records.manual import prepare_manual_case

    before = _digest(REPO_NOTEBOOKS)
    story = demo_env.story("dup_personal")
    cases = tmp_path / "cases"
    case = prepare_manual_case(story.lookup, settings=load_settings(), cases_dir=cases, complaint=story.complaint)
    # the analyst's clicks, as the widgets' own handlers run them in JupyterLab
    nb = nbformat.read(str(case.notebook), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "from billing_nb.analysis.classify import Bucket\n"
        f"nb.picker.dropdown.value = Bucket({story.expected_bucket!r})\n"
        "nb.picker.confirm.click()\n"
        "doc = next(a for a in nb.checklist.boxes if a.startswith('document:'))\n"
        "nb.checklist.boxes[doc].value = True\n"
        "nb.checklist.execute.click()"))
    nbformat.write(nb, str(case.notebook))
    # run it, as JupyterLab would, and save: the executed notebook replaces the file
    _execute(case.notebook, case.notebook, {}, 300)
    saved = nbformat.read(str(case.notebook), as_version=4)
    cells = {c.source.strip(): c for c in saved.cells if c.cell_type == "code"}
    step3 = _outputs_text(cells["nb.step3_act(approve)"])
    step4 = _outputs_text(cells["nb.step4_gaps()"])
    step5 = _outputs_text(cells["nb.step5_handoff()"])
    assert "Contract shape" in step3 and "Executed" in step3 and "succeeded" in step3, step3[:2000]
    assert "Waiting for the bucket" not in step3 + step4 + step5
    assert "## DECISION" in step5 and "Follow-up to send" in step5
    assert step4.strip() and "Waiting" not in step4
    every = "\n".join(_outputs_text(c) for c in saved.cells)
    assert "Output()" not in every and "BucketPicker(children" not in every
    assert f"confirmed by widget" in _outputs_text(cells["nb.step2_classify(bucket)"])

    rec = json.loads((case.record_dir / "case.json").read_text())
    assert rec["case_id"] == case.case_id and rec["status"] == "done"
    assert not (case.record_dir / "ledger.sqlite").exists() and (cases / "ledger.sqlite").exists(), "one ledger"
    capsys.readouterr()
    assert main(["export", str(case.record_dir)]) == 0
    assert (case.record_dir / "handoff.md").read_text() == rec["handoff"]
    assert "exported handoff for" in capsys.readouterr().out
    assert main(["casebook", "--out", str(cases), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    (row,) = [r for r in rows if r["case_id"] == case.case_id]
    assert row["status"] == "done" and row["executed"] == 1
    assert _digest(REPO_NOTEBOOKS) == before, "nothing written under notebooks/"
    assert notebook_path() == REPO_NOTEBOOKS / "case.ipynb"
