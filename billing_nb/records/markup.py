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

All three first make control and invisible characters visible (:func:`visible_text`): an ESC or BEL
from a complaint would drive the terminal ``cat handoff.md`` runs in, and a bidi override makes
``abc\u202egnp.exe`` read as ``abcexe.png``. The markdown ones also defang URLs (:func:`_no_links`):
GFM turns a bare ``https://...`` or ``www.`` into a link, which foreign text must never make.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import datetime
from typing import Any

__all__ = ["Md", "MATH_IGNORE", "escape_md", "escape_block", "escape_html", "md_code", "visible_text", "math_inert_html",
           "math_inert_md", "dates_in_words"]


class Md(str):
    """Markdown we wrote (a filter's output): :func:`escape_md` leaves it as is."""


_INLINE = re.compile(r"([\\`*\[\]|~])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
#: A line that would open a block: a heading, quote, list or setext underline (``#``, ``-``, ``=``...)
#: or an ordered list item (``1.``, ``2)``; CommonMark escapes its ``.``/``)``, not the digit).
_LINE_START = re.compile(r"^([#>+=-])|^(\d+)([.)])")
#: What GFM (and JupyterLab's marked) turn into a link in plain text: ``scheme://``, ``www.``, ``mailto:``.
#: (No word boundary before them: ``prod_https://x`` is linked from its ``h`` on.)
_LINKY = re.compile(r"(?i)([a-z][a-z0-9+.-]*):(?=//)|(?<![a-z0-9])(www)\.(?=\w)|(?<![a-z0-9])(mailto|xmpp):(?=\S)")
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
#: Letters that render as nothing (Hangul fillers), shown like the invisible format characters.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")
_ZWJ = "\u200d"


def _mark(ch: str) -> str:
    """A control or invisible character as something a reader sees: C0 controls as their Control
    Pictures (``␛``, ``␇``), everything else as ``‹U+202E›``."""
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"\u2039U+{code:04X}\u203a"


def _joins_emoji(text: str, i: int) -> bool:
    """A zero-width joiner inside an emoji sequence (👩‍💻): the one invisible character kept."""
    if i == 0 or i + 1 >= len(text):
        return False
    return unicodedata.category(text[i - 1]) in ("So", "Sk", "Mn") and unicodedata.category(text[i + 1]) == "So"


def visible_text(value: Any) -> str:
    """Foreign text with every control, bidi, zero-width and other invisible format character shown
    as a mark (:func:`_mark`); newlines, tabs and carriage returns are kept (each escaper decides).

    ESC/BEL sequences (``\\x1b]0;title\\x07``, ``\\x1b[31m``) would act on a terminal, U+202E and
    U+2066-U+2069 reorder what is shown (``abc\\u202egnp.exe`` reads ``abcexe.png``), and zero-width
    characters hide text inside text: none of them is ever rendered as it is.
    """
    text = "" if value is None else str(value)
    if text.isascii() and not _ASCII_CONTROL.search(text):
        return text
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in "\n\t\r" or ch.isprintable() and ch not in _FILLERS:
            out.append(ch)
        elif ch == _ZWJ and _joins_emoji(text, i):
            out.append(ch)
        elif unicodedata.category(ch) in ("Zs",):  # a no-break or thin space: a space
            out.append(ch)
        else:
            out.append(_mark(ch))
    return "".join(out)


def _inline(match: re.Match[str]) -> str:
    return "\\" + match.group(0)


def _no_links(text: str) -> str:
    """``https://x`` -> ``https[:]//x``, ``www.x`` -> ``www[.]x``: still readable, never a link
    (the brackets are ours, so no escaped text can make them a link's)."""
    def defang(m: re.Match[str]) -> str:
        if m.group(1):
            return m.group(1) + "[:]"
        if m.group(2):
            return m.group(2) + "[.]"
        return m.group(3) + "[:]"
    return _LINKY.sub(defang, text)


def escape_md(value: Any) -> str:
    """One line of foreign text for inline markdown: HTML-inert, markdown-inert, link-free,
    invisible characters shown (:func:`visible_text`), newlines flattened.

    An intraword ``_`` (``cus_A``, ``price_year``) is left alone: CommonMark never reads it as emphasis.
    """
    if isinstance(value, Md):
        return value
    if value is None:
        return ""
    text = visible_text(str(value).replace("\r", ""))
    text = html.escape(text, quote=False)
    text = _no_links(_INLINE.sub(_inline, text))
    return " ".join(text.split("\n"))


def escape_block(text: Any) -> str:
    """Several lines of foreign text: each line escaped, its indent dropped (four spaces would
    open a code block, even inside a quote), and a line that would open a heading, quote or list
    (``# ``, ``> ``, ``- ``, ``1. ``) keeps its marker as text (``\\#``, ``1\\.``)."""
    lines = []
    for line in str(text or "").replace("\r", "").split("\n"):
        escaped = escape_md(line).lstrip(" \t\u00a0")
        lines.append(_LINE_START.sub(lambda m: "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3),
                                     escaped))
    return "\n".join(lines)


def md_code(value: Any) -> Md:
    """Foreign text (an id) as one markdown code span: nothing inside is markup, a link or math;
    the fence is one backtick longer than any run inside, so no backtick can close it early."""
    text = visible_text(value).replace("\r", "").replace("\n", " ")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Md(f"{fence}{pad}{text}{pad}{fence}")


def escape_html(value: Any) -> str:
    """Foreign text inside HTML we build (views, widgets): invisible characters shown
    (:func:`visible_text`), entities for ``& < > " '``."""
    return html.escape(visible_text(value), quote=True)


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
