"""A redaction failure after approved writes landed says they landed: the money moved, and a
re-run finds the writes done rather than redoing them."""

from __future__ import annotations

from billing_nb.records.runner import redaction_error
from billing_nb.records.scan import Leak


def _leak() -> Leak:
    return Leak(path="/x/case.json", line=12, kind="name", excerpt="B. T.")


def test_the_line_names_the_writes_that_landed() -> None:
    line = redaction_error([_leak()], ["refund:ch_1:2500"])
    assert "\n" not in line and "name in case.json:12" in line
    assert "approved writes landed all the same (refund:ch_1:2500)" in line


def test_without_writes_it_says_nothing_of_them() -> None:
    assert "landed" not in redaction_error([_leak()], [])
