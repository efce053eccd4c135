"""``$`` shown as written on every rendered surface (billing_nb.records.markup): generated text
through :func:`math_inert_md` renders, by CommonMark, to exactly the text it came from, and no
``$`` is left where JupyterLab's markdown renderer would lift a ``$...$`` pair out as math."""

from __future__ import annotations

import re

from hypothesis import given, strategies as st
import mistune

from billing_nb.records.markup import MATH_IGNORE, escape_md, math_inert_html, math_inert_md

#: A ``$`` that JupyterLab's ``removeMath`` would read as a delimiter: not escaped, outside code.
_CODE = re.compile(r"(?<!\\)(`+)[^\n]*?[^`\n]\1(?!`)")
_BARE = re.compile(r"(?<!\\)(?:\\\\)*\$")

_md = mistune.create_markdown(escape=False)  # the markdown reader of nbconvert's export


def _text_of(rendered: str) -> str:
    return re.sub(r"<[^>]+>", "", rendered).strip()


@given(st.text(alphabet=st.sampled_from(list("$\\`*_ab1. \n")), max_size=40))
def test_foreign_text_renders_as_written_and_no_bare_dollar_is_left(text: str) -> None:
    line = escape_md(text)  # foreign text, as the handoff quotes it
    out = math_inert_md(f"Complaint: {line}")
    assert out.startswith(f'<div class="{MATH_IGNORE}">\n\n') and out.endswith("\n\n</div>")
    body = out.removeprefix(f'<div class="{MATH_IGNORE}">\n\n').removesuffix("\n\n</div>")
    assert not _BARE.search(_CODE.sub("", body))
    shown = _text_of(str(_md(body))).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    assert shown == f"Complaint: {' '.join(text.replace(chr(13), '').split(chr(10)))}".strip()


def test_code_spans_keep_their_dollar_and_escaped_ones_stay_single() -> None:
    assert math_inert_md("`refund:$5` costs $5 and \\$6") == (
        f'<div class="{MATH_IGNORE}">\n\n`refund:$5` costs \\$5 and \\$6\n\n</div>')
    assert math_inert_md("a \\\\$b") == f'<div class="{MATH_IGNORE}">\n\na \\\\\\$b\n\n</div>'  # an escaped backslash, then $
    fenced = "Costs $5:\n\n```text\nrefund $5 of $10\n```\n\nand $6"  # a custom template's code block
    assert math_inert_md(fenced) == f'<div class="{MATH_IGNORE}">\n\nCosts \\$5:\n\n```text\nrefund $5 of $10\n```\n\nand \\$6\n\n</div>'
    assert math_inert_html("$1 and $2", inline=True) == f'<span class="{MATH_IGNORE}">$1 and $2</span>'
