"""scan's excerpts are masked whole before they are cut: no cut shows part of a card, an IBAN or
a phone (``4000 0566 5566`` of a card after an email) -- the casebook's leaks table shows these."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_nb.records.scan import scan

# (the PII, its clear fragments that no excerpt may show)
VALUES = [("4000 0566 5566 5556", ["4000", "0566", "5566"]),
          ("GB82 WEST 1234 5698 7654 32", ["GB82", "WEST", "1234", "5698"]),
          ("+44 20 7946 0958", ["+44", "7946"]),
          ("1-415-555-0132", ["415-555", "-415"]),
          ("DE89 3704 0044 0532 0130 00", ["DE89", "3704", "0532"])]


@pytest.mark.parametrize(("value", "fragments"), VALUES)
def test_an_excerpt_beside_an_email_shows_no_fragment(tmp_path: Path, value: str, fragments: list[str]) -> None:
    file = tmp_path / "line.txt"
    file.write_text(f"contact ops.lead@gmail.com thanks for the quick fix {value} ok\n")
    leaks = scan(file)
    assert {leak.kind for leak in leaks} >= {"email"} and len(leaks) == 2, leaks
    for leak in leaks:
        assert not any(f in leak.excerpt for f in fragments), leak.excerpt
        assert "ops.lead" not in leak.excerpt


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pick=st.sampled_from(VALUES), before=st.lists(st.sampled_from(["thanks", "for", "the", "fix", "x" * 40, "ok"]),
                                                     max_size=8),
       after=st.lists(st.sampled_from(["ok", "bye", "y" * 50, "see", "you"]), max_size=6), email_first=st.booleans())
def test_no_cut_shows_a_fragment_wherever_the_values_stand(tmp_path: Path, pick: tuple[str, list[str]],
                                                           before: list[str], after: list[str],
                                                           email_first: bool) -> None:
    value, fragments = pick
    parts = ["ops.lead@gmail.com", *before, value] if email_first else [value, *before, "ops.lead@gmail.com"]
    file = tmp_path / "line.txt"
    file.write_text(" ".join([*parts, *after]) + "\n")
    for leak in scan(file):
        assert not any(f in leak.excerpt for f in fragments), leak.excerpt
        assert "ops.lead" not in leak.excerpt
