"""The complaint lexicon reads pathological text in linear time: 60,000 digits took about a minute
in read_text (a count pattern, ``\\d+人``, retried from every digit), on every case (session 8).
Bounded generously in a forked child, so a super-linear pattern fails fast."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable

import pytest

from billing_nb.analysis import lexicon

N = 100_000
INPUTS = {"x": "x" * N, "digits": "1" * N, "kanji-digits": "二" * N, "a.": "a." * (N // 2), "spaces": " " * N,
          "words": "not " * (N // 4), "since": "since " + "a" * N, "digit-words": "1 " * (N // 2)}


def _bounded(fn: Callable[[str], object], text: str, bound: float = 2.0) -> bool:
    child = multiprocessing.get_context("fork").Process(target=fn, args=(text,))
    child.start()
    child.join(bound)
    if child.is_alive():
        child.kill()
        child.join()
        return False
    return child.exitcode == 0


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_each_concept_pattern_is_linear(name: str) -> None:
    slow = [p.pattern[:60] for _, _, p in lexicon._CONCEPTS  # pyright: ignore[reportPrivateUsage]
            if not _bounded(lambda text, p=p: list(p.finditer(text)), INPUTS[name])]
    assert not slow, slow


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_reading_a_complaint_is_linear(name: str) -> None:
    assert _bounded(lexicon.read_text, INPUTS[name], 4.0)
    assert _bounded(lexicon.failure_report, INPUTS[name], 6.0)


def test_a_seat_count_is_still_read() -> None:
    assert lexicon.read_text("5人分のライセンス").scores["team_seats"] > 0
