"""An invoice the customer's credit balance paid in full (``amount_paid`` 0, nothing charged to a card),
built through the SDK (session 9): its unused time goes back to the balance on a credit note with
``credit_amount`` only (docs.stripe.com/api/credit_notes/create: "credit the customer's balance ...
which will be automatically applied to their next invoice"), previewed by Stripe, booked as credited."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from billing_nb.actions.model import effect_of
from billing_nb.money import round_half_up
from billing_nb.records.case import open_case

from scenarios import World, run

pytestmark = [pytest.mark.sandbox]

DAY = 86400
T0 = 1_780_000_000
ASK = "It never worked. Cancel and refund the rest of the year"


def _unused(sub: Any, amount: int, since: int) -> int:
    item = sub["items"]["data"][0]
    begin, end = int(item["current_period_start"]), int(item["current_period_end"])
    return round_half_up(amount * Fraction(end - since, end - begin))


def _balance_paid(w: World, email: str, amount: int, days: int) -> tuple[str, Any, Any, str]:
    """An annual plan of ``amount`` bought with exactly that much credit on the balance, ``days`` ago."""
    clock = w.clock(T0)
    cus = w.customer(email, clock=clock)
    w.c.v1.customers.balance_transactions.create(cus, {"amount": -amount, "currency": "usd"})
    sub = w.subscribe(cus, w.price(w.product("Suite"), amount, "year"))
    inv = w.c.v1.invoices.retrieve(str(sub.latest_invoice))
    assert (inv.total, inv.amount_paid, inv.starting_balance, inv.ending_balance) == (amount, 0, -amount, 0)
    w.advance(clock, T0 + days * DAY)
    return cus, sub, inv, clock


def test_a_period_the_balance_paid_in_full_is_credited_back_to_the_balance(w: World, tmp_path: Path) -> None:
    """Before: only charges were looked at, so nothing came back ("No paid charge ... nothing to refund")."""
    cus, sub, inv, _ = _balance_paid(w, "balance.whole@example.com", 36500, 100)
    want = _unused(sub, 36500, T0 + 100 * DAY)
    case = open_case(case_id="c-whole", customer=cus, complaint=ASK, output_dir=tmp_path / "c-whole")
    case.confirm("product_failure", "parameter")
    rec = case.record()
    [opt] = [o for o in case.options if o.kind == "credit_balance_unused"]
    assert opt.amount.amount == want and opt.invoice == inv.id and opt.charge is None
    assert opt.stripe_amount == want and not opt.mismatch  # Stripe's credit note preview of it
    assert not [o for o in case.options if o.kind in ("cancel_now_refund", "credit_note_unused")]  # no $0 refund
    assert "account balance" in opt.explanation and "no card was charged" in opt.explanation
    [note] = [a for a in rec["plan"] if a["kind"] == "credit_note"]
    assert note["id"] == f"credit_note:{inv.id}:{want}"
    assert note["amount"]["value"] == want and note["to_balance"]["value"] == want
    assert note["requires"] == [f"cancel:{sub.id}:now"]
    assert "credit_amount" in note["preview"] and "credited" in note["preview"] and "refund_amount" not in note["preview"]
    assert not [a for a in rec["plan"] if a["kind"] == "refund"]
    assert case.plan is not None
    [action] = [a for a in case.plan.actions if a.id == note["id"]]
    assert effect_of(action) == f"credit_note|{inv.id}|{want}|usd|balance={want}|1"  # the key's source
    assert rec["proposed_impact"]["credited"]["value"] == want and rec["proposed_impact"]["refunded"]["value"] == 0
    results = case.execute([f"cancel:{sub.id}:now", note["id"]], "parameter")
    assert [r.status for r in results] == ["succeeded", "succeeded"]
    [cn] = w.c.v1.credit_notes.list({"customer": cus}).data
    assert (cn.amount, cn.invoice, cn.refunds) == (want, inv.id, [])
    txns = [(t.type, t.amount, t.credit_note) for t in w.c.v1.customers.balance_transactions.list(cus).data
            if t.type == "credit_note"]
    assert txns == [("credit_note", -want, cn.id)]
    assert int(w.c.v1.customers.retrieve(cus).balance) == -want
    rec = case.record()
    assert rec["revenue_impact"]["credited"]["value"] == want and rec["revenue_impact"]["refunded"]["value"] == 0
    money = f"${want // 100:,}.{want % 100:02d} USD"
    assert f"credited {money} to your account balance" in rec["followup"], rec["followup"]
    assert "back to your card" not in rec["followup"] and "refunded" not in rec["followup"].lower()
    assert f"Credited {money} to the customer's account balance" in rec["handoff"]
    again = case.execute([f"cancel:{sub.id}:now", note["id"]], "parameter")
    assert all(r.status == "already_done" for r in again), again
    assert len(w.c.v1.credit_notes.list({"customer": cus}).data) == 1


def test_what_was_already_credited_back_is_not_credited_again(w: World, tmp_path: Path) -> None:
    """An earlier credit note put part of the balance-paid invoice back on the balance: the unused time
    is net of it, and the new credit note is at most what the balance paid less what went back."""
    cus, sub, inv, _ = _balance_paid(w, "balance.again@example.com", 36500, 100)
    w.c.v1.credit_notes.create({"invoice": inv.id, "amount": 5000, "credit_amount": 5000})
    want = _unused(sub, 36500, T0 + 100 * DAY) - 5000
    case = open_case(case_id="c-again", customer=cus, complaint=ASK, output_dir=tmp_path / "c-again")
    case.confirm("product_failure", "parameter")
    [opt] = [o for o in case.options if o.kind == "credit_balance_unused"]
    assert opt.amount.amount == want and opt.details["already_returned"] == 5000
    assert opt.details["invoices"][0]["from_balance"] == 36500 - 5000
    assert opt.stripe_amount == want
    rec = case.record()
    notes = [a for a in rec["plan"] if a["kind"] == "credit_note"]
    assert len(notes) == 1, rec["plan_notes"]
    [note] = notes
    assert note["to_balance"]["value"] == want


def test_a_switch_away_from_a_plan_the_balance_paid_credits_it_back(w: World, tmp_path: Path) -> None:
    """A balance-paid annual left running after a switch to monthly: its unused time from the switch
    goes back to the balance (it had no charge, so nothing was planned before)."""
    cus, annual, _, clock = _balance_paid(w, "balance.switch@example.com", 120000, 100)
    w.card(cus)
    monthly = w.subscribe(cus, w.price(w.product("Suite 2"), 12000))
    w.c.v1.subscriptions.update(monthly.id, {"items": [{"id": monthly["items"]["data"][0]["id"],
                                                        "price": w.price(str(annual["items"]["data"][0]["price"]["product"]), 12000)}],
                                             "proration_behavior": "none"})
    w.advance(clock, T0 + 120 * DAY)
    _, rec = run(cus, tmp_path, bucket="duplicate_subscription",
                 complaint="I switched to the monthly plan 20 days ago but you are still charging me for the annual one too")
    [note] = [a for a in rec["plan"] if a["kind"] == "credit_note"]
    want = _unused(annual, 120000, T0 + 100 * DAY)
    assert note["to_balance"]["value"] == note["amount"]["value"] == want, (note, want)
    assert note["requires"] == [f"cancel:{annual.id}:now"]
