"""Markup from customers stays text: an executed case notebook, exported to HTML by nbconvert.

A complaint, a customer's name, description and metadata, a product name: all customer- or
merchant-controlled. Planted ``<script>``, ``<img onerror=...>`` and ``javascript:`` links must reach
the HTML export as text, never as a tag, an event handler or a link; and every ``$`` amount is shown
as written, not read as LaTeX (billing_nb.records.markup).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

from billing_nb.records.runner import CaseRequest, run_case

from scenarios import KEY, world

pytestmark = pytest.mark.notebook

SCRIPT = "<script>alert('xss')</script>"
IMG = "<img src=x onerror=alert(1)>"
LINK = "[refund me](javascript:alert(2))"
COMPLAINT = (f"I was charged $200.00 USD or the unused time $194.59 USD. {SCRIPT} {IMG} {LINK} "
             "and a | pipe | table * breaker _ ~~ ` here")


#: Where MathJax never looks for math (its default ``skipHtmlTags``).
_SKIPPED = {"script", "noscript", "style", "textarea", "pre", "code"}
#: MathJax's ignore classes (2: nbconvert's export; 3: JupyterLab): nothing inside is typeset.
_IGNORE = {"tex2jax_ignore", "mathjax_ignore"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Tags(HTMLParser):
    """Every tag, its attributes, each script's body, the text MathJax would typeset
    (``texts``) and the text it leaves alone because of an ignore class (``ignored``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.attrs: list[tuple[str, str, str]] = []
        self.scripts: list[str] = []
        self.texts: list[str] = []
        self.ignored: list[str] = []
        self._open: list[tuple[str, bool, bool]] = []  # (tag, skipped, ignored) of every open element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attrs += [(tag, k, v or "") for k, v in attrs]
        if tag in _VOID:
            return
        classes = set((dict(attrs).get("class") or "").split())
        outer_skip, outer_ignore = (self._open[-1][1], self._open[-1][2]) if self._open else (False, False)
        self._open.append((tag, outer_skip or tag in _SKIPPED, outer_ignore or bool(classes & _IGNORE)))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        tag, skipped, ignored = self._open[-1] if self._open else ("", False, False)
        if tag == "script":
            self.scripts.append(data)
        elif ignored and not skipped:
            self.ignored.append(data)
        elif not skipped:
            self.texts.append(data)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict, nbformat.NotebookNode]:
    tmp = tmp_path_factory.mktemp("markup")
    with world() as w, pytest.MonkeyPatch.context() as mp:
        mp.setenv("STRIPE_API_KEY", KEY)
        mp.setenv("STRIPE_API_BASE", w.url)
        mp.setenv("BILLING_NB_CASES_DIR", str(tmp / "cases"))
        mp.delenv("BILLING_NB_LEDGER", raising=False)
        product = w.c.v1.products.create({"name": f"Pro {SCRIPT}", "description": IMG}).id
        price = w.price(product, 19999, "month")
        cus = w.customer("o'brien@example.com", name=f"{IMG} O'Brien", company=f"Acme {SCRIPT}", note=LINK)
        w.c.v1.customers.update(cus, {"description": f"{LINK} {IMG}"})
        w.subscribe(cus, price)
        result = run_case(CaseRequest(lookup="o'brien@example.com", complaint=COMPLAINT, bucket="product_failure"),
                          cases_dir=tmp / "cases")
    assert result.status == "done", result.error
    assert result.record_dir is not None
    nb = nbformat.read(result.record_dir / "case.ipynb", as_version=4)
    body, _ = HTMLExporter().from_notebook_node(nb)
    (tmp / "case.html").write_text(body)
    return body, result.record, nb


def test_no_planted_tag_handler_or_link_is_live(exported: tuple[str, dict, nbformat.NotebookNode]) -> None:
    body, _, _ = exported
    parser = _Tags()
    parser.feed(body)
    assert not [a for a in parser.attrs if a[1].lower().startswith("on")]  # no event handler at all
    assert not [a for a in parser.attrs if a[2].strip().lower().startswith("javascript:")]
    assert not [a for a in parser.attrs if a[0] == "img" and a[2] == "x"]
    assert not [s for s in parser.scripts if "alert(" in s]
    # ...and the planted text is there, as text
    assert "&lt;script&gt;alert(" in body and "&lt;img src=x onerror=alert(1)&gt;" in body


def test_amounts_show_as_written_and_no_dollar_pair_reaches_mathjax(exported: tuple[str, dict, nbformat.NotebookNode]) -> None:
    body, record, nb = exported
    handoff = record["handoff"]  # handoff.md's text, for a ticket: plain ``$``
    assert "$200.00 USD or the unused time $194.59 USD" in handoff  # the complaint's amounts, as written
    assert re.search(r"\$199\.99 USD", handoff)  # ours: the refund of the charge
    parser = _Tags()
    parser.feed(body)
    typeset = [t for t in parser.texts if "$" in t]  # text outside code and ignore classes, where MathJax reads `$...$`
    assert typeset == []
    shown = " ".join(parser.ignored)
    assert "$200.00 USD or the unused time $194.59 USD" in shown  # the handoff cell, as written (no backslash)
    assert re.search(r"\$199\.99 USD", shown) and "\\$" not in shown
    # the handoff cell's source: inside an ignore-class div, every $ outside code escaped
    # (JupyterLab lifts `$...$` out of markdown as math before MathJax's ignore class applies)
    cell = next(c for c in nb.cells if "handoff" in c.metadata.get("tags", []))
    assert cell.source.startswith('<div class="mathjax_ignore tex2jax_ignore">\n\n') and cell.source.endswith("\n\n</div>")
    outside_code = re.sub(r"(?<!\\)(`+)[^\n]*?[^`\n]\1(?!`)", "", cell.source)
    assert "$" in outside_code and not re.search(r"(?<!\\)(?:\\\\)*\$", outside_code)


def test_the_complaints_table_breakers_do_not_break_the_handoff(exported: tuple[str, dict, nbformat.NotebookNode]) -> None:
    _, record, _ = exported
    handoff = record["handoff"]
    quoted = [line for line in handoff.splitlines() if line.startswith("> ") and "pipe" in line]
    assert quoted and "\\| pipe \\|" in quoted[0] and "\\[refund me\\](javascript:alert(2))" in quoted[0]
    assert handoff.count("## ") == 6
