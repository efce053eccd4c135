"""Escaping of text that isn't ours (Stripe data, the complaint) wherever it is rendered.

Customer names, descriptions, metadata, product names and complaints are customer- or
merchant-controlled: rendered raw into markdown or HTML, ``<script>``, ``<img onerror=...>`` or a
``[link](javascript:...)`` become live in JupyterLab and in the notebook's HTML export. Three rules:

- :func:`escape_md`: HTML's ``& < >`` become entities and markdown's inline syntax (emphasis,
  links, code, tables, strikethrough) is backslash-escaped, so the text shows as written;
- :func:`math_inert_html` and :func:`math_inert_md`: every rendered surface (views, tables,
  widgets, the handoff cell) sits in an element of MathJax's "ignore" classes, so a ``$`` shows as
  ``$``. JupyterLab typesets ``$...$`` pairs in HTML outputs and markdown cells alike (MathJax,
  ``processEscapes``; https://github.com/jupyterlab/jupyterlab/issues/8645): two amounts in one
  table would otherwise become LaTeX. ``mathjax_ignore`` is MathJax 3's class (JupyterLab,
  Notebook 7), ``tex2jax_ignore`` MathJax 2's (nbconvert's HTML export). Markdown also gets its
  ``$`` backslash-escaped outside code, because JupyterLab's markdown renderer lifts ``$...$``
  out of the source as math before any HTML exists. Files meant for a ticket (``handoff.md``,
  ``backlog.md``) and the follow-up message keep plain ``$``;
- :func:`escape_html`: text for an HTML widget.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

__all__ = ["Md", "MATH_IGNORE", "escape_md", "escape_block", "escape_html", "math_inert_html", "math_inert_md",
           "dates_in_words"]


class Md(str):
    """Markdown we wrote (a filter's output): :func:`escape_md` leaves it as is."""


_INLINE = re.compile(r"([\\`*\[\]|~])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])")


def _inline(match: re.Match[str]) -> str:
    return "\\" + match.group(0)


def escape_md(value: Any) -> str:
    """One line of foreign text for inline markdown: HTML-inert, markdown-inert, newlines flattened.

    An intraword ``_`` (``cus_A``, ``price_year``) is left alone: CommonMark never reads it as emphasis.
    """
    if isinstance(value, Md):
        return value
    if value is None:
        return ""
    text = html.escape(str(value), quote=False).replace("\r", "")
    text = _INLINE.sub(_inline, text)
    return " ".join(text.split("\n"))


def escape_block(text: Any) -> str:
    """Several lines of foreign text: each line escaped, and a line that would open a heading,
    quote or list (``# ``, ``> ``, ``- ``, ``1. ``) keeps its marker as text."""
    lines = []
    for line in str(text or "").replace("\r", "").split("\n"):
        escaped = escape_md(line)
        lines.append(_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped))
    return "\n".join(lines)


def escape_html(value: Any) -> str:
    """Foreign text inside HTML we build (views, widgets): entities for ``& < > " '``."""
    return html.escape("" if value is None else str(value), quote=True)


#: MathJax's "leave this alone" classes: MathJax 3's (JupyterLab, Notebook 7), MathJax 2's (nbconvert).
MATH_IGNORE = "mathjax_ignore tex2jax_ignore"

#: Code as JupyterLab's markdown renderer finds it before it looks for math -- a fenced block
#: (a custom handoff template may have one) or a one-line code span whose opening backticks are
#: not escaped; ``$`` inside code is never math there, and a backslash there would show.
_CODE = re.compile(r"^(?P<fence>`{3,}|~{3,})[^`\n]*\n[\s\S]*?^(?P=fence)[`~]*$"
                   r"|(?<!\\)(?P<ticks>`+)[^\n]*?[^`\n](?P=ticks)(?!`)", re.M)
_BARE_DOLLAR = re.compile(r"(?<!\\)((?:\\\\)*)\$")  # a ``$`` after an even number of backslashes


def math_inert_html(fragment: str, *, inline: bool = False) -> str:
    """HTML in which MathJax typesets nothing: wrapped in an element of :data:`MATH_IGNORE`
    (``inline``: a ``<span>``, for a widget's line; else a ``<div>``)."""
    tag = "span" if inline else "div"
    return f'<{tag} class="{MATH_IGNORE}">{fragment}</{tag}>'


def _escape_dollars(text: str) -> str:
    return _BARE_DOLLAR.sub(lambda m: m.group(1) + "\\$", text)


def math_inert_md(markdown: str) -> str:
    """Markdown that a notebook shows as written: every ``$`` outside code backslash-escaped
    (JupyterLab's renderer takes no math out of the source, CommonMark shows ``$``), and the
    whole inside a ``<div>`` of :data:`MATH_IGNORE` (MathJax leaves the rendered text alone)."""
    out, last = [], 0
    for code in _CODE.finditer(markdown):
        out += [_escape_dollars(markdown[last:code.start()]), code.group(0)]
        last = code.end()
    out.append(_escape_dollars(markdown[last:]))
    return f'<div class="{MATH_IGNORE}">\n\n' + "".join(out).strip("\n") + "\n\n</div>"


_ISO_DAY = re.compile(r"(?<![\d/])(\d{4}-\d\d-\d\d)(?:[T ](\d\d:\d\d)(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?(?![\d/])")


def _day_words(match: re.Match[str]) -> str:
    try:
        when = datetime.fromisoformat(match.group(1))
    except ValueError:
        return match.group(0)
    return f"{when.day} {when:%b %Y}" + (f" {match.group(2)}" if match.group(2) else "")


def dates_in_words(text: Any) -> str:
    """ISO dates written for case.json (``2026-11-04``, ``2026-11-04 12:00:00``) as people read
    them (``4 Nov 2026``, ``4 Nov 2026 12:00``), for the page and the handoff; a date inside a
    path (``cases/2026-12-02/...``) is left alone."""
    return _ISO_DAY.sub(_day_words, "" if text is None else str(text))
