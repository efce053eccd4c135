"""An invoice paid partly from the customer's credit balance (``amount_paid`` below ``total``),
built through the SDK: the record says what the balance paid and what the card paid, and the
unused-time refund gives the card only the card's share (the balance's share goes back to it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_nb.records.case import open_case

from scenarios import World

pytestmark = [pytest.mark.sandbox]

DAY = 86400
T0 = 1_780_000_000


def test_balance_paid_part_is_shown_and_never_refunded_to_the_card(w: World, tmp_path: Path) -> None:
    clock = w.clock(T0)
    cus = w.customer("balance.paid@example.com", clock=clock)
    w.c.v1.customers.balance_transactions.create(cus, {"amount": -2000, "currency": "usd"})  # a 20.00 credit
    price = w.price(w.product(), 5000, "year")
    sub = w.subscribe(cus, price)
    inv = w.c.v1.invoices.retrieve(str(sub.latest_invoice))
    assert (inv.total, inv.amount_paid, inv.starting_balance, inv.ending_balance) == (5000, 3000, -2000, 0)
    w.advance(clock, T0 + 73 * DAY)  # 292 of 365 days unused: 40.00 of the 50.00 year
    case = open_case(case_id="c-bal", customer=cus, complaint="cancel and refund the rest of the year",
                     output_dir=tmp_path / "c-bal")
    case.confirm("product_failure", "parameter")
    rec = case.record()
    [row] = rec["billing_state"]["invoices"]
    assert (row["total"], row["amount_paid"], row["paid_from_balance"]) == (5000, 3000, 2000)
    assert "20.00 USD from the balance" in rec["handoff"]
    [unused] = [o for o in case.options if o.kind == "credit_note_unused"]
    assert unused.details["unused_value"] == 4000
    # 3000 of 5000 came from the card: the card gets 3/5 of the 40.00, the balance the other 16.00
    assert unused.amount.amount == 2400 and unused.details["to_balance"] == 1600
    assert "credit balance" in unused.explanation
    money = [a for a in rec["plan"] if a["moves_money"]]
    assert money and all(a["amount"]["value"] <= 2400 for a in money)
