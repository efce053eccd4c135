"""The leftover scan reads what a notebook's output hides PII in: an SVG image (a chart's title),
URL-encoded text, a standalone .svg file (session 8)."""

from __future__ import annotations

import json
from pathlib import Path

from billing_nb.records.scan import scan

SVG = ['<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40">\n',
       '<text x="5" y="20">Refunds for jane.doe@example.com</text>\n', '</svg>\n']


def _notebook(output: dict[str, object]) -> dict[str, object]:
    return {"cells": [{"cell_type": "code", "id": "a1", "source": "plot()", "metadata": {}, "execution_count": 1,
                       "outputs": [{"output_type": "display_data", "metadata": {}, "data": output}]}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_an_email_in_an_svg_output_of_a_notebook_is_found(tmp_path: Path) -> None:
    (tmp_path / "case.ipynb").write_text(json.dumps(_notebook({"image/svg+xml": SVG, "text/plain": ["<Figure>"]})))
    leaks = scan(tmp_path)
    assert [(leak.kind, leak.where) for leak in leaks] == [("email", "/cells/0/outputs/0/data/image~1svg+xml")]
    assert "jane.doe" not in leaks[0].excerpt


def test_an_email_as_a_character_reference_in_an_svg_file_is_found(tmp_path: Path) -> None:
    (tmp_path / "chart.svg").write_text("".join(SVG).replace("@", "&#64;"))
    assert [leak.kind for leak in scan(tmp_path)] == ["email"]


def test_a_png_output_is_still_skipped(tmp_path: Path) -> None:
    (tmp_path / "case.ipynb").write_text(json.dumps(_notebook({"image/png": "iVBORw0KGgo4242424242424242"})))
    assert scan(tmp_path) == []


def test_url_encoded_emails_and_keys_in_an_output_are_found(tmp_path: Path) -> None:
    text = "see https://example.test/?to=jane%40example.com&k=sk%5Flive%5F51HxAbCdEfGhIjKlMnOp"
    (tmp_path / "case.ipynb").write_text(json.dumps(_notebook({"text/plain": [text]})))
    assert sorted(leak.kind for leak in scan(tmp_path)) == ["email", "key"]
