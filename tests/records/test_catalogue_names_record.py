"""A customer named like their product: the catalogue's names stay readable where they name the
product (billing state, snapshot, views), the customer's name is masked where it names the
customer (name fields, sign-offs, the complaint), and the record scans clean with the name known.

Before: customer "Acme Analytics" on product "Acme Analytics Pro" had the plan shown as
"A. A. Pro" in the billing state and the views; a person named "Pro Plan" on plan "Pro Plan"
had it as "P. P.".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from billing_nb.records.masked import masked_case
from billing_nb.records.scan import scan
from scenarios import World, run


@pytest.mark.parametrize(("customer", "product", "email"), [
    ("Acme Analytics", "Acme Analytics Pro", "ops@acme-analytics.example"),
    ("Pro Plan", "Pro Plan", "pro.plan@example.com"),
    ("Josefina Ardmore", "Josefina Ardmore Special", "j.ardmore@example.com"),
])
def test_the_plan_keeps_its_name_and_the_customer_is_masked(w: World, tmp_path: Path, customer: str, product: str,
                                                            email: str) -> None:
    prod = w.c.v1.products.create({"name": product}).id
    cus = w.customer(email, name=customer)
    w.subscribe(cus, w.price(prod, 4900, nickname=f"{product} monthly"))
    case, rec = run(email, tmp_path / "out", bucket="product_failure",
                    complaint=f"{product} has been broken for a week, refund me.\nRegards, {customer}")
    plans = [s["plan"] for s in rec["billing_state"]["subscriptions"]]
    assert plans and all(product in p for p in plans), plans
    assert rec["complaint"].startswith(f"{product} has been broken"), rec["complaint"]
    assert not rec["complaint"].rstrip().endswith(customer) and customer not in rec["complaint"].splitlines()[-1]
    folder = tmp_path / "out" / case.case_id
    snap = json.loads((folder / "snapshot.json").read_text())
    assert [p["name"] for p in snap["objects"]["products"]] == [product]
    names = [c.get("name") for c in snap["objects"]["customers"]]
    assert names and customer not in names and all(n and n.endswith(".") for n in names), names
    view = masked_case(case)  # what every notebook view renders from
    assert [p["name"] for p in view.snapshot.objects["products"]] == [product]
    from billing_nb.notebook.views import act_html, identity_html

    assert product in identity_html(case) and product in act_html(case)
    assert customer not in identity_html(case).replace(product, "")
    assert scan(folder, known=w.pii) == []
