"""The toolkit's own wording: text a record holds because the toolkit wrote it, not Stripe.

A customer named like the toolkit's fixed words (``Billing Team``, signing every follow-up as
"The Billing Team"; ``Refund Options``, a view's heading) is no leak where those words stand:
the scanner (:mod:`.scan`) does not count a known name inside a fragment of fixed text the
toolkit wrote -- the templates' literal text (the folder in use and the shipped one), the
shipped notebooks' sources, and the string constants of the code that renders records and views.
A piece counts only where it holds another word than the name ("The Billing Team", not a constant
that is just "Billing Team"), a whole line only where the line is all of it ("Best regards," for a
customer named "Best Regards"), and only where it stands in the line whole: the same name rendered from
Stripe data ("Customer: Billing Team") is still a leak.
"""

from __future__ import annotations

import ast
import json
import re
from functools import lru_cache
from pathlib import Path

__all__ = ["own_fragments", "own_lines", "own_wording"]

_PACKAGE = Path(__file__).resolve().parents[1]
#: Packages whose constants are not the toolkit's wording about a case: the sandbox writes
#: Stripe's data, the demo's cast is customers' names.
_NOT_WORDING = ("sandbox", "demo")
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_LETTER = re.compile(r"[^\W\d_]")


def _template_dirs() -> list[Path]:
    from .handoff import templates_dir

    dirs = [_PACKAGE.parent / "templates", _PACKAGE / "_templates"]
    try:
        dirs.insert(0, templates_dir())
    except Exception:  # noqa: BLE001 - a missing override folder: the shipped templates still count
        pass
    return [d for d in dirs if d.is_dir()]


def _template_fragments(folder: Path) -> tuple[set[str], set[str]]:
    """A template's lines with no Jinja in them (whole lines), and the literal pieces between tags."""
    lines: set[str] = set()
    pieces: set[str] = set()
    for file in sorted(folder.rglob("*.j2")):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for line in text.splitlines():
            (pieces if _JINJA.search(line) else lines).add(line.strip())
        for piece in _JINJA.split(text):
            pieces.update(line.strip() for line in piece.splitlines())
    return lines, pieces


def _notebook_fragments() -> set[str]:
    out: set[str] = set()
    for folder in (_PACKAGE.parent / "notebooks", _PACKAGE / "_notebooks"):
        for file in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
            try:
                cells = json.loads(file.read_text(encoding="utf-8")).get("cells") or []
            except (OSError, ValueError):
                continue
            for cell in cells:
                source = cell.get("source") if isinstance(cell, dict) else None
                text = "".join(source) if isinstance(source, list) else source if isinstance(source, str) else ""
                out.update(line.strip() for line in text.splitlines())
    return out


def _code_fragments() -> set[str]:
    out: set[str] = set()
    for file in sorted(_PACKAGE.rglob("*.py")):
        if file.relative_to(_PACKAGE).parts[0] in _NOT_WORDING:
            continue
        try:
            tree = ast.parse(file.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.update(line.strip() for line in node.value.splitlines())
    return out


@lru_cache(maxsize=1)
def _fragments() -> tuple[frozenset[str], tuple[str, ...]]:
    """The toolkit's fixed text (read once per process): lines it writes whole (a template's
    lines without Jinja, a notebook's source lines), and pieces it writes inside a line (the
    literal text between a template's tags, the code's string constants)."""
    lines = _notebook_fragments()
    pieces = _code_fragments()
    for folder in _template_dirs():
        whole, part = _template_fragments(folder)
        lines |= whole
        pieces |= part
    return (frozenset(f for f in lines if _LETTER.search(f)),
            tuple(sorted(f for f in pieces | lines if _LETTER.search(f))))


def _holds(fragment: str, low: str, more: re.Pattern[str]) -> bool:
    folded = fragment.casefold()
    at = folded.find(low)
    return at >= 0 and bool(more.search(folded[:at] + " " + folded[at + len(low):]))


_MORE_CHARS = re.compile(r"\S")
#: What the toolkit puts around a line it quotes or renders: markdown quotes, bullets and headings,
#: HTML tags at the line's ends (the handoff quotes the follow-up as ``> Best regards,``).
_EDGES = re.compile(r"^(?:\s|>|#|[*-]\s|<[^<>]*>)+|(?:\s|<[^<>]*>)+$")


@lru_cache(maxsize=256)
def own_fragments(name: str) -> tuple[str, ...]:
    """The toolkit's fixed pieces of text that hold ``name`` (case-insensitively) and another word."""
    low = name.casefold()
    return tuple(sorted((f for f in _fragments()[1] if _holds(f, low, _LETTER)), key=len, reverse=True))


@lru_cache(maxsize=256)
def own_lines(name: str) -> frozenset[str]:
    """The toolkit's fixed whole lines that hold ``name`` and anything more (``Best regards,``)."""
    low = name.casefold()
    return frozenset(f for f in _fragments()[0] if _holds(f, low, _MORE_CHARS))


def own_wording(line: str, start: int, end: int) -> bool:
    """Whether ``line[start:end]`` (a known name) stands inside the toolkit's own fixed text:
    ``line`` is one of its whole lines, or holds one of its pieces, written out whole, around the name."""
    name = line[start:end]
    if _EDGES.sub("", line) in own_lines(name):
        return True
    for fragment in own_fragments(name):
        at = line.find(fragment, max(0, end - len(fragment)))
        while 0 <= at <= start:
            if at + len(fragment) >= end:
                return True
            at = line.find(fragment, at + 1)
    return False
