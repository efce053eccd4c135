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
    # the card is refunded its share only; the credit note's balance part (to_balance) goes back to the balance
    assert money and all(a["amount"]["value"] - (a["to_balance"] or {"value": 0})["value"] <= 2400 for a in money)
    assert [a["to_balance"]["value"] for a in money if a["kind"] == "credit_note"] == [1600]


def test_the_balance_share_goes_back_to_the_balance_on_the_same_credit_note(w: World, tmp_path: Path) -> None:
    """Session 8: the balance's share (details["to_balance"]) was named but nothing returned it: the
    credit note refunded the card's share only and the customer lost what the balance paid of the
    unused time. Now one credit note carries both (refund_amount + credit_amount = its amount), Stripe
    puts the credit on the balance (a credit_note balance transaction), and the record books the card
    part as refunded, the balance part as credited."""
    clock = w.clock(T0)
    cus = w.customer("balance.back@example.com", clock=clock)
    w.c.v1.customers.balance_transactions.create(cus, {"amount": -4500, "currency": "usd"})
    sub = w.subscribe(cus, w.price(w.product(), 12000, "year"))
    w.advance(clock, T0 + 100 * DAY)
    case = open_case(case_id="c-back", customer=cus, complaint="It never worked. Cancel and refund the rest of the year",
                     output_dir=tmp_path / "c-back")
    case.confirm("product_failure", "parameter")
    rec = case.record()
    [opt] = [o for o in rec["refund_options"] if o["kind"] == "credit_note_unused"]
    [note] = [a for a in rec["plan"] if a["kind"] == "credit_note"]
    card, back = note["amount"]["value"] - note["to_balance"]["value"], note["to_balance"]["value"]
    assert card == opt["amount"]["value"] and back > 0
    assert abs(card + back - opt["stripe_amount"]) <= 1, (card, back, opt)  # Stripe's cancel preview figure
    assert note["id"] == f"credit_note:{note['target']}:{card + back}"
    assert "credit_amount" in note["preview"] and "credit balance" in note["preview"]
    assert rec["proposed_impact"]["refunded"]["value"] == card and rec["proposed_impact"]["credited"]["value"] == back
    results = case.execute([f"cancel:{sub.id}:now", note["id"]], "parameter")
    assert [r.status for r in results] == ["succeeded", "succeeded"]
    [cn] = w.c.v1.credit_notes.list({"customer": cus}).data
    assert cn.amount == card + back and cn.invoice == note["target"]
    [refund] = [r for r in w.c.v1.refunds.list({"charge": w.charges(cus)[0].id}).data]
    assert refund.amount == card
    txns = [t for t in w.c.v1.customers.balance_transactions.list(cus).data if t.type == "credit_note"]
    assert [(t.amount, t.credit_note) for t in txns] == [(-back, cn.id)]
    assert int(w.c.v1.customers.retrieve(cus).balance) == -back  # the credit the customer spends next
    rec = case.record()
    assert rec["revenue_impact"]["refunded"]["value"] == card and rec["revenue_impact"]["credited"]["value"] == back
    money = f"${card // 100}.{card % 100:02d} USD back to your card and ${back // 100}.{back % 100:02d} USD back to " \
            "your account balance"
    assert money in rec["followup"], rec["followup"]
    # a re-run writes nothing again: the effect (total and balance part) is found done
    again = case.execute([f"cancel:{sub.id}:now", note["id"]], "parameter")
    assert all(r.status == "already_done" for r in again), again
    assert len(w.c.v1.credit_notes.list({"customer": cus}).data) == 1
