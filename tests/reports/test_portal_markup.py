"""The portal report's markdown and tables: product and configuration ids are Stripe's text,
rendered as text (before: raw into markdown, so an id made a tag, a link or math; raw pandas
tables with an index column)."""

from __future__ import annotations

import re

import mistune
import pytest

from billing_nb.notebook.format import frame_html
from billing_nb.records.markup import math_inert_md
from billing_nb.reports.portal import findings_markdown, portal_choice, product_abilities

HOSTILE = ['prod_x"><img src=x onerror=alert(1)>', "prod_[md](javascript:alert(1))", "prod_$$x$$", "prod_`tick`<b>",
           "prod_https://evil.example/x"]
_GFM = mistune.create_markdown(plugins=["url", "strikethrough", "table"])


def _subs() -> list[dict]:
    return [{"id": f"sub_{i}", "status": "active", "customer": f"cus_{i}",
             "items": {"data": [{"quantity": 2, "price": {"id": f"price_{i}", "product": p}}]}}
            for i, p in enumerate(HOSTILE)]


def _conf(conf_id: str = "bpc_1") -> dict:
    return {"id": conf_id, "active": True, "is_default": True,
            "features": {"subscription_cancel": {"enabled": False}, "invoice_history": {"enabled": True}}}


def _no_markup(html: str) -> None:
    assert "<img" not in html and "<b>" not in html, html
    assert not re.search(r"<a\s", html), html


def test_findings_name_each_product_as_text() -> None:
    text = findings_markdown(product_abilities(_subs(), [_conf()]))
    rendered = _GFM(math_inert_md(text))
    _no_markup(rendered)
    assert rendered.count("<li>") == len(HOSTILE)
    assert "\\$\\$x\\$\\$" in math_inert_md(text)  # no $$ pair left for MathJax


@pytest.mark.parametrize("conf_id", HOSTILE + ["bpc_``a``"])
def test_the_configuration_in_use_is_a_code_span(conf_id: str) -> None:
    text = portal_choice([_conf(conf_id)])
    rendered = _GFM(text)
    _no_markup(rendered)
    assert rendered.count("<code>") == 1
    inactive = portal_choice([{**_conf(conf_id), "active": False}])
    _no_markup(_GFM(inactive))


def test_the_abilities_table_is_for_people() -> None:
    html = frame_html(product_abilities(_subs(), [_conf()]))
    assert "<img" not in html and "<b>" not in html and "mathjax_ignore" in html
    body = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)
    assert body and "<th" not in body[0]  # no index column
