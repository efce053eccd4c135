"""The case as its views show it: masked exactly like the record it is saved as.

A :class:`~billing_nb.records.case.Case` analyses the snapshot as Stripe sent it (the customers'
own PII is what the complaint and the record are masked *with*), and case.json, handoff.md and
snapshot.json are masked on the way out. Every view renders from :func:`masked_case` instead of
the live case, so what a notebook shows is what its record holds: the snapshot's objects through
:func:`~billing_nb.reading.masking.mask_object` (the snapshot.json masking) and every string the
analysis produced or quoted (a product name in a subscription row, an anomaly's detail, a plan's
preview, a gap's evidence) through :func:`~billing_nb.reading.masking.mask_text` with the same
known PII. Otherwise a company name in a plan's name shows in clear in case.ipynb while the
record says ``B. F. L.``, and the runner's scan fails the case.
"""

from __future__ import annotations

import copy
import dataclasses
from enum import Enum
from typing import Any, TypeVar

from ..money import Money
from ..reading.masking import known_needles, mask_object, mask_text
from ..reading.names import NO_WORDS, Vocabulary
from ..reading.snapshot import CaseSnapshot
from .case import Case

__all__ = ["masked_case", "masked_tree"]

T = TypeVar("T")


def masked_tree(value: T, known: list[str], common: Vocabulary = NO_WORDS) -> T:
    """A copy of ``value`` with every string in it masked (dataclasses, lists, tuples, dicts and
    sets walked; dict keys, enums, money and numbers kept). ``known``: from :func:`known_needles`;
    ``common``: the case's words (:attr:`Case.words`), as its record is masked with.

    A dataclass is copied field by field without running its ``__init__``, so a frozen row or a
    plan with derived state comes back as the same kind of object.
    """
    return _masked(value, known, common)


def _masked(value: Any, known: list[str], common: Vocabulary = NO_WORDS) -> Any:
    if isinstance(value, Enum) or isinstance(value, Money) or value is None:
        return value
    if isinstance(value, str):
        masked = mask_text(value, known, common)
        return value if masked == value else type(value)(masked) if type(value) is not str else masked
    if isinstance(value, dict):
        return {k: _masked(v, known, common) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [_masked(v, known, common) for v in value]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, tuple):
        items = [_masked(v, known, common) for v in value]  # pyright: ignore[reportUnknownVariableType]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)  # pyright: ignore[reportUnknownArgumentType]
    if isinstance(value, (set, frozenset)):
        return type(value)(_masked(v, known, common) for v in value)  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = copy.copy(value)
        for f in dataclasses.fields(value):
            object.__setattr__(out, f.name, _masked(getattr(value, f.name), known, common))
        return out
    return value


def _masked_snapshot(snapshot: CaseSnapshot, known: list[str], common: Vocabulary) -> CaseSnapshot:
    """The snapshot as snapshot.json holds it (its objects masked with the case's words), the rest kept."""
    out = copy.copy(snapshot)
    out.objects = mask_object(snapshot.objects, known, common)
    out.extra = _masked(snapshot.extra, known, common)
    return out


#: What of a case a view reads: its analysis, its plan, what ran (masked in the copy).
_SHOWN = ("summary", "classification", "decision", "shapes", "options", "plan", "executed", "gaps", "error")


def masked_case(case: Case) -> Case:
    """A copy of ``case`` for rendering: its snapshot and every analysed part masked with the
    customers' known PII, as the saved record is. Cached until the case changes (a view is asked
    for each step and again after every click)."""
    key = (id(case.snapshot), *(id(getattr(case, name)) for name in _SHOWN), case.complaint, len(case.executed),
           case.status)
    cached = case.__dict__.get("_masked_view")
    if cached is not None and cached[0] == key:
        return cached[1]
    known = known_needles(case.snapshot.known_pii())
    view = copy.copy(case)
    view.__dict__.pop("_masked_view", None)
    view.__dict__.pop("_static_cache", None)
    view.snapshot = _masked_snapshot(case.snapshot, known, case.words)
    for name in _SHOWN:
        setattr(view, name, _masked(getattr(case, name), known, case.words))
    view.complaint = case.masked_complaint()  # masked once, when the case opened (as saved)
    case.__dict__["_masked_view"] = (key, view)
    return view
