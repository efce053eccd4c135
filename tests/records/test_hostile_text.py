"""Foreign text in markdown and HTML: no links, no blocks, no invisible or terminal-driving
characters (records.markup). Each case is a complaint or Stripe text a tester planted."""

from __future__ import annotations

import re

import mistune
import pytest

from billing_nb.notebook.format import esc, link
from billing_nb.records.handoff import render_followup, render_handoff
from billing_nb.records.markup import escape_block, escape_html, escape_md, math_inert_md, visible_text

from tests.records.test_handoff import make_record

#: GFM as nbconvert renders it (mistune's url plugin autolinks bare URLs, as JupyterLab's marked does).
_GFM = mistune.create_markdown(plugins=["url", "strikethrough", "table"])

URLS = "see https://evil.example/bare or www.evil.example/x and \\[refund here\\](https://evil.example) mailto:a@b.example prod_https://evil.example/x x_www.evil.example"
CONTROLS = "charged twice \x1b]0;pwned\x07 \x1b[31mRED \u202eevil\u202c \u2066iso\u2069 zero\u200bwidth\ufeff \x7f\x85"
INVISIBLE = ["\x1b", "\x07", "\x7f", "\x85", "\u202e", "\u202c", "\u2066", "\u2069", "\u200b", "\ufeff"]


def _hostile_record() -> dict:
    record = make_record("duplicate_subscription")
    record["complaint"] = "\n".join([URLS, CONTROLS, "1. numbered", "2) also", "    four spaces in", "\tand a tab",
                                     "# heading", "- item"])
    record["billing_state"]["subscriptions"][0]["plan"] = "abc\u202egnp.exe https://evil.example/plan"
    record["billing_state"]["anomalies"][0]["detail"] = "see www.evil.example \x1b[2J"
    record["followup"] = render_followup(record)
    return record


@pytest.fixture(scope="module")
def handoff() -> str:
    return render_handoff(_hostile_record())


def test_no_url_in_foreign_text_becomes_a_link(handoff: str) -> None:
    for markdown in (handoff, math_inert_md(handoff)):
        rendered = _GFM(markdown)
        assert "<a " not in rendered, re.findall(r"<a [^>]*>", rendered)
    assert "https[:]//evil.example/bare" in handoff and "www[.]evil.example" in handoff
    assert not re.search(r"(?i)(?<![a-z0-9])www\.\w", handoff)  # marked (JupyterLab) links www. too, after a _ also


def test_line_markers_show_as_written_and_no_indented_code(handoff: str) -> None:
    quote = _GFM(handoff).split("<blockquote>", 1)[1].split("</blockquote>", 1)[0]
    assert "<ol" not in quote and "<ul" not in quote and "<h1" not in quote and "<pre" not in quote and "<code" not in quote
    assert "1. numbered" in quote and "2) also" in quote and "# heading" in quote and "- item" in quote
    assert "\\1." not in handoff and "1\\. numbered" in handoff  # CommonMark escapes the dot, not the digit
    assert "\\2)" not in handoff


def test_no_control_or_bidi_character_reaches_the_handoff(handoff: str) -> None:
    for ch in INVISIBLE:
        assert ch not in handoff, repr(ch)
    assert "␛" in handoff and "␇" in handoff and "‹U+202E›" in handoff
    assert "abc‹U+202E›gnp.exe" in handoff


@pytest.mark.parametrize("escape", [escape_md, escape_block, escape_html, esc, visible_text])
def test_every_escaper_shows_invisible_characters(escape) -> None:
    out = escape(CONTROLS + " product abc\u202egnp.exe")
    for ch in INVISIBLE:
        assert ch not in out, (escape.__name__, repr(ch))


def test_an_emoji_sequence_keeps_its_joiner_and_plain_text_is_untouched() -> None:
    assert visible_text("dev 👩\u200d💻 ok") == "dev 👩\u200d💻 ok"
    assert visible_text("Zoë Ünal — 12 €, line\nnext\ttab") == "Zoë Ünal — 12 €, line\nnext\ttab"
    assert escape_md("the data: a colon, and ratio 3:1") == "the data: a colon, and ratio 3:1"


def test_a_link_label_shows_invisible_characters() -> None:
    html = link("prod_ABCDEF123", label="abc\u202egnp.exe")
    assert "\u202e" not in html and "‹U+202E›" in html
