"""Escaping of text that isn't ours (Stripe data, the complaint) wherever it is rendered.

Customer names, descriptions, metadata, product names and complaints are customer- or
merchant-controlled: rendered raw into markdown or HTML, ``<script>``, ``<img onerror=...>`` or a
``[link](javascript:...)`` become live in JupyterLab and in the notebook's HTML export. Three rules:

- :func:`escape_md`: HTML's ``& < >`` become entities and markdown's inline syntax (emphasis,
  links, code, tables, strikethrough) is backslash-escaped, so the text shows as written;
- :func:`no_math`: every ``$`` on a rendered surface becomes ``＄`` (U+FF04, FULLWIDTH DOLLAR SIGN).
  JupyterLab reads ``$...$`` in markdown *and* typesets ``$`` pairs left in the rendered DOM
  (MathJax, ``processEscapes``), so neither ``\\$`` nor ``&#36;`` is shown literally there
  (https://github.com/jupyterlab/jupyterlab/issues/8645); a different code point is the one form that
  no renderer turns into math. Applied to the final handoff, views and widgets -- not to the follow-up
  message itself, which keeps ``$`` for the customer;
- :func:`escape_html`: text for an HTML widget.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

__all__ = ["Md", "escape_md", "escape_block", "escape_html", "no_math", "dates_in_words"]


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
    """Foreign text inside HTML we build (widgets): entities for ``& < > " '``, and no math."""
    return no_math(html.escape("" if value is None else str(value), quote=True))


def no_math(text: str) -> str:
    """``$`` as ``＄``, so that no ``$...$`` pair is typeset as LaTeX (see the module docstring)."""
    return text.replace("$", "\uff04")


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
