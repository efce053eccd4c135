"""Widgets driven through their own click(): in a real kernel and in-process."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from typing import Any

from billing_nb.records.runner import CaseRequest, export_record, notebook_path, run_case, _execute


pytestmark = pytest.mark.notebook


def _normalise(text: str, *case_ids: str) -> str:
    for cid in case_ids:
        text = text.replace(cid, "<case>")
    text = re.sub(r"\b(widget|parameter)\b", "<who>", text)
    text = re.sub(r"<who> \((unattended run|analyst in JupyterLab)\)", "<who>", text)
    return text


def test_export_after_widget_clicks_matches_unattended_handoff(demo_env: Any, tmp_path: Path) -> None:
    story = demo_env.story("team") if any(c.story == "team" for c in demo_env.customers) else demo_env.customers[0]
    cases = tmp_path / "cases"
    unattended = run_case(CaseRequest(lookup=story.customer_id, bucket=story.expected_bucket), cases_dir=cases)
    assert unattended.status == "done"

    record = tmp_path / "by-hand"
    record.mkdir()
    nb = nbformat.read(str(notebook_path()), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "from billing_nb.analysis.classify import Bucket\n"
        f"nb.picker.dropdown.value = Bucket({story.expected_bucket!r})\n"
        "nb.picker.confirm.click()\n"
        "assert nb.case.decision.confirmed_by == 'widget'"
    ))
    source = tmp_path / "case-with-clicks.ipynb"
    nbformat.write(nb, str(source))
    params = {"case_id": "by-hand-1", "customer": story.customer_id, "complaint": "", "bucket": None,
              "approve": [], "interactive": True, "output_dir": str(record), "lookup_kind": "customer"}
    _execute(source, record / "case.ipynb", params, 300)
    rec = json.loads((record / "case.json").read_text())
    assert rec["classification"]["confirmed_by"] == "widget"
    assert rec["classification"]["bucket"] == story.expected_bucket

    exported = export_record(record / "case.ipynb")
    handoff_by_hand = (record / "handoff.md").read_text()
    assert exported["handoff"] == handoff_by_hand
    cell = nbformat.read(str(record / "case.ipynb"), as_version=4).cells[-1]
    assert cell.metadata["tags"] == ["handoff"]
    assert _normalise(handoff_by_hand, "by-hand-1") == _normalise(
        unattended.record["handoff"], unattended.case_id)


def test_in_process_confirm_then_execute_rerenders_and_saves(demo_env: Any, tmp_path: Path) -> None:
    from billing_nb.notebook.cells import start_case

    story = demo_env.customers[0]
    nb = start_case(case_id="inproc-1", customer=story.customer_id, output_dir=str(tmp_path), interactive=True)
    nb.step2_classify(None)
    assert nb.picker is not None
    assert json.loads((tmp_path / "case.json").read_text())["status"] == "pending"
    nb.picker.confirm.click()
    saved = json.loads((tmp_path / "case.json").read_text())
    assert saved["classification"]["confirmed_by"] == "widget"
    assert saved["status"] == "done"
    assert nb.checklist is not None or not saved["plan"]
    if nb.checklist is not None:
        assert all(not b.value for b in nb.checklist.boxes.values()), "nothing is pre-ticked"
        nb.checklist.execute.click()  # nothing ticked: nothing executes
        assert json.loads((tmp_path / "case.json").read_text())["executed"] == []


def test_executed_actions_are_shown_done_and_not_offered_again(fresh_demo: Any, tmp_path: Path) -> None:
    from billing_nb.notebook.cells import start_case

    story = fresh_demo.story("dup_personal")
    nb = start_case(case_id="inproc-exec", customer=story.customer_id, output_dir=str(tmp_path / "rec"),
                    interactive=True)
    nb.step2_classify(None)
    assert nb.picker is not None
    nb.picker.confirm.click()
    assert nb.checklist is not None
    doc = next(a for a in nb.checklist.boxes if a.startswith("document:"))
    nb.checklist.boxes[doc].value = True
    first = nb.checklist
    first.execute.click()
    assert nb.checklist is not first, "Execute re-renders step 3"
    box = nb.checklist.boxes[doc]
    assert box.disabled and box.value and "succeeded" in box.description
    assert "succeeded" in nb.checklist.status.value
    assert nb.checklist.ticked() == []
    saved = json.loads((tmp_path / "rec" / "case.json").read_text())
    assert [e["action_id"] for e in saved["executed"]] == [doc]
    assert saved["approved_by"] == "widget"
