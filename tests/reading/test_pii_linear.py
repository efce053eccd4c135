"""Every PII pattern, and masking and finding as a whole, run in linear time on pathological text:
a complaint of 60,000 x's took minutes through a case (session 8). Each run is bounded generously
(2 s for 100,000 characters, where a linear pattern takes milliseconds) in a child process that is
stopped at the bound, so a super-linear pattern fails fast instead of hanging the suite. Timing
figures themselves come from the benchmarks, not from here."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable

import pytest

from billing_nb.reading.pii import PATTERNS, find_pii, mask_text

N = 100_000
BOUND = 2.0

#: Inputs that make a careless pattern backtrack: long runs of what its repetitions accept, with
#: the one thing it needs to succeed missing at the end.
PATHOLOGICAL = {
    "x": "x" * N, "digits": "1" * N, "a.": "a." * (N // 2), "spaces": " " * N, "digit-dash": "1-" * (N // 2),
    "digit-space": "12 " * (N // 3), "at": "a@" * (N // 2), "domain": "a@" + "b." * (N // 2),
    "ssn-label": "ssn" + " " * N + "x", "cvc-label": "cvc" + " " * N + "1", "social": "social security" + "\t" * N,
    "plus": "+1 " * (N // 3), "parens": "(1)" * (N // 3), "trunk": "01 " * (N // 3), "keyish": "sk_test_" * (N // 8),
    "entities": "&#64;" * (N // 5), "escapes": "\\." * (N // 2), "percent": "%40" * (N // 3),
    "obfuscated": "a (at) " * (N // 7), "dots": "a (dot) " * (N // 8), "quoted": '"' + "a" * N,
    "house": "1 " + "Baker " * (N // 6), "rue": "12 rue " + "de " * (N // 3), "calle": "Calle " + "Mayor " * (N // 6),
    "strasse": "Haupt" * (N // 5) + "straße", "postcode": "10115 " + "Berlin-" * (N // 7), "vat": "DE 1" + " 1" * (N // 2),
    "cards": "4242 " * (N // 5), "card-x": "4242x" * (N // 5), "mixed": "x1" * (N // 2), "hex": "ab12" * (N // 4),
}


def _bounded(fn: Callable[[str], object], text: str) -> bool:
    """Whether ``fn(text)`` finishes within :data:`BOUND` seconds (run in a forked child)."""
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=fn, args=(text,))
    child.start()
    child.join(BOUND)
    if child.is_alive():
        child.kill()
        child.join()
        return False
    return child.exitcode == 0


def _finditer(kind: str) -> Callable[[str], object]:
    return lambda text: list(PATTERNS[kind].finditer(text))


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
@pytest.mark.parametrize("kind", sorted(PATTERNS))
def test_each_pattern_is_linear_on_pathological_text(kind: str, name: str) -> None:
    assert _bounded(_finditer(kind), PATHOLOGICAL[name]), f"{kind} on {name!r} takes more than {BOUND}s"


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_masking_and_finding_are_linear_on_pathological_text(name: str) -> None:
    known = ["Jane Doe", "jane@example.com", "221B Baker Street"]
    assert _bounded(lambda text: mask_text(text, known), PATHOLOGICAL[name]), f"mask_text on {name!r}"
    assert _bounded(lambda text: find_pii(text, known), PATHOLOGICAL[name]), f"find_pii on {name!r}"
