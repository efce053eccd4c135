"""A folder scan reads every regular text file, whatever its name, in UTF-8 or UTF-16, and the
text cells of a SQLite file; binary files are skipped."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from billing_nb.records.scan import scan

EMAIL = "josefina.ardmore@example.com"


@pytest.mark.parametrize(("name", "content"), [
    ("batch.jsonl", f'{{"complaint": "mail {EMAIL}"}}\n{{"ok": 1}}\n'),
    ("batch.ndjson", '{"complaint": "mail josefina.ardmore\\u0040example.com"}\n'),
    ("rows.tsv", f"id\tcomplaint\n1\tmail {EMAIL}\n"),
    ("config.yaml", f"contact: {EMAIL}\n"),
    ("config.yml", f"contact: {EMAIL}\n"),
    ("NOTES", f"contact {EMAIL}\n"),
    ("notes.rst", f"contact {EMAIL}\n"),
])
def test_a_folder_scan_reads_every_text_file(tmp_path: Path, name: str, content: str) -> None:
    (tmp_path / name).write_text(content)
    leaks = scan(tmp_path)
    assert [leak.kind for leak in leaks] == ["email"], leaks


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-8-sig", "utf-32"])
def test_a_text_file_with_a_bom_is_decoded(tmp_path: Path, codec: str) -> None:
    data = f"contact {EMAIL}\n".encode(codec)
    if codec == "utf-16-le":
        data = b"\xff\xfe" + data
    (tmp_path / "export.txt").write_bytes(data)
    assert [leak.kind for leak in scan(tmp_path)] == ["email"]


def test_binary_files_are_skipped_and_sqlite_text_cells_are_read(tmp_path: Path) -> None:
    (tmp_path / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + EMAIL.encode())
    assert scan(tmp_path) == []
    con = sqlite3.connect(tmp_path / "copy.sqlite")
    con.execute("CREATE TABLE notes (id INTEGER, body TEXT)")
    con.execute("INSERT INTO notes VALUES (1, ?)", (f"mail {EMAIL}",))
    con.commit()
    con.close()
    assert [leak.kind for leak in scan(tmp_path)] == ["email"]
