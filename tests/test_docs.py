"""The README and docs/CASE_JSON.md say what the code does (issue 14)."""

from __future__ import annotations

import re
from pathlib import Path

from billing_nb.demo.cast import STORIES
from billing_nb.records.runner import new_case_id

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
CASE_JSON = (ROOT / "docs" / "CASE_JSON.md").read_text()


def test_readme_links_stay_in_the_repo() -> None:
    for target in re.findall(r"\]\(([^)]+)\)", README):
        assert not re.match(r"[a-z]+://", target), target
        assert (ROOT / target).exists(), target
    for url in re.findall(r"https?://[^\s`)]+", README):
        assert url.startswith("http://127.0.0.1"), url


def test_readme_says_the_sandbox_is_in_memory_unless_state() -> None:
    assert "keeps its data in memory" in README and "--state PATH" in README


def test_readme_lists_the_demo_emails() -> None:
    emails = {spec.person.email for spec in STORIES.values()}
    listed = set(re.findall(r"\| \w+ \| ([\w.]+@example\.\w+) \|", README))
    assert listed and listed <= emails
    assert all(e.split("@")[1].startswith("example.") for e in listed), "fake, reserved domains only"


def test_case_json_doc_names_real_modules_and_the_real_case_id() -> None:
    import importlib

    for name in set(re.findall(r"`(billing_nb(?:\.\w+)+)", CASE_JSON)):
        module = name
        while module:
            try:
                importlib.import_module(module)
                break
            except ModuleNotFoundError:
                module = module.rpartition(".")[0]
        assert module.count(".") >= 1, f"{name} names no module"
    example = re.search(r'case_id\s+str\s+"([^"]+)"', CASE_JSON)
    assert example is not None
    shape = re.compile(r"^\d{8}-\d{6}-cus_\w+-[0-9a-f]{4}$")
    assert shape.match(example.group(1).replace("cus_X", "cus_X0")), example.group(1)
    assert shape.match(new_case_id("cus_ABC"))
