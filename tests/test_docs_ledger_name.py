"""The docs name the ledger file the code writes: README said ``ledger.sqlite3``, the file is
``ledger.sqlite`` (and ``Ledger.in_dir`` opened a second ledger under the documented wrong name)."""

from __future__ import annotations

import re
from pathlib import Path

from billing_nb.actions.ledger import LEDGER_FILENAME, Ledger
from billing_nb.records.casebook import LEDGER_NAME

ROOT = Path(__file__).resolve().parents[1]


def test_every_doc_names_the_ledger_the_code_writes(tmp_path: Path) -> None:
    assert LEDGER_FILENAME == LEDGER_NAME == "ledger.sqlite"
    assert Ledger.in_dir(tmp_path).path.name == LEDGER_NAME
    docs = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").rglob("*.md"))]
    named = {(doc.name, m) for doc in docs for m in re.findall(r"ledger\.sqlite\w*", doc.read_text())}
    assert named and {m for _, m in named} == {LEDGER_NAME}, sorted(named)
