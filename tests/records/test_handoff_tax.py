"""The handoff's billing state shows the tax in what an invoice was paid (session 8):
"$120.00 incl. $20.00 VAT", the rate's display name (Stripe data) escaped."""

from __future__ import annotations

from test_handoff import make_record

from billing_nb.records.handoff import render_handoff


def test_a_taxed_invoice_is_paid_incl_its_tax() -> None:
    record = make_record("duplicate_subscription")
    first = record["billing_state"]["invoices"][0]
    record["billing_state"]["invoices"][0] = {**first, "amount_paid": 12000, "tax": 2000, "tax_name": "VAT|<b>x"}
    text = render_handoff(record)
    row = next(ln for ln in text.splitlines() if ln.startswith(f"| `{first['id']}`"))
    assert "$120.00" in row and "incl. $20.00" in row, row
    assert "VAT|<b>x" not in row and "VAT" in row  # escaped in its cell


def test_an_untaxed_invoice_says_nothing_of_tax() -> None:
    record = make_record("duplicate_subscription")
    assert "incl." not in render_handoff(record)
