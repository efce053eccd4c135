"""Credit note lines for a wanted total on a taxed invoice (session 8): whatever the total, the
lines the toolkit writes make Stripe's credit note total exactly that (tax in), each invoice line
credited at most what is left of it, on invoices with several rates, a discount and no minor unit.
Checked against the sandbox's credit note preview, through the official SDK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from scenarios import World, world

from billing_nb.analysis.taxes import credit_note_lines, credited_per_line
from billing_nb.reading.taxes import tax_rate_ids

pytestmark = pytest.mark.sandbox
APRIL = 1775044800


@pytest.fixture(scope="module")
def w() -> Iterator[World]:
    with world() as wd:
        yield wd


def _invoice(w: World, currency: str) -> dict[str, Any]:
    vat = w.c.v1.tax_rates.create({"display_name": "VAT", "percentage": 20, "inclusive": False})
    reduced = w.c.v1.tax_rates.create({"display_name": "VAT reduced", "percentage": 5.5, "inclusive": False})
    coupon = w.c.v1.coupons.create({"percent_off": 10, "duration": "forever"})
    cus = w.customer(clock=w.clock(APRIL))
    sub = w.c.v1.subscriptions.create({
        "customer": cus, "default_tax_rates": [vat.id], "discounts": [{"coupon": coupon.id}],
        "items": [{"price": w.price(w.product("A"), 4999, currency=currency), "quantity": 3},
                  {"price": w.price(w.product("B"), 1250, currency=currency), "tax_rates": [reduced.id]}]})
    return w.c.v1.invoices.retrieve(str(sub.latest_invoice)).to_dict()


@pytest.mark.parametrize("currency", ["usd", "jpy"])
def test_every_total_is_reached_exactly(w: World, currency: str) -> None:
    inv = _invoice(w, currency)
    rates = {rid: w.c.v1.tax_rates.retrieve(rid).to_dict() for rid in tax_rate_ids(inv)}
    paid = int(inv["amount_paid"])
    assert paid > int(inv["subtotal"]) - sum(int(d["amount"]) for d in inv["total_discount_amounts"])  # taxed
    amounts = {ln["id"]: int(ln["amount"]) for ln in inv["lines"]["data"]}
    for target in [1, 2, 3, 7, 11, 99, 1001, paid // 3, paid // 2, paid - 1, paid]:
        lines, total = credit_note_lines(inv, target, rates)
        assert total == target
        for ln in lines:
            if ln["type"] == "invoice_line_item":
                assert 0 < ln["amount"] <= amounts[ln["invoice_line_item"]]
        preview = w.c.v1.credit_notes.preview({"invoice": inv["id"], "lines": lines, "refund_amount": target})
        assert preview.total == target, (target, lines)
    assert credit_note_lines(inv, paid + 500, rates)[1] == paid  # never more than the invoice charged


def test_what_earlier_credit_notes_took_is_left_out(w: World) -> None:
    inv = _invoice(w, "usd")
    rates = {rid: w.c.v1.tax_rates.retrieve(rid).to_dict() for rid in tax_rate_ids(inv)}
    paid = int(inv["amount_paid"])
    lines, total = credit_note_lines(inv, paid // 2, rates)
    first = w.c.v1.credit_notes.create({"invoice": inv["id"], "lines": lines, "refund_amount": total}).to_dict()
    taken = credited_per_line([first])
    lines, rest = credit_note_lines(inv, paid - total, rates, taken)
    second = w.c.v1.credit_notes.create({"invoice": inv["id"], "lines": lines, "refund_amount": rest})
    assert total + second.total <= paid and paid - (total + second.total) <= 2
