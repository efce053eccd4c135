"""Invoiced customers (``collection_method=send_invoice``, net terms ``days_until_due``), built
through the SDK (session 11).

Stripe emails such a customer an invoice they pay themselves (API reference, Create a subscription:
collection_method "When sending an invoice, Stripe will email your customer an invoice with payment
instructions"); nothing is charged, so an open invoice is not a failed payment: before its
``due_date`` it is simply not due yet, after it it is overdue. Business customers often pay by bank
transfer, and the invoice is then marked paid outside Stripe (Pay an invoice, ``paid_out_of_band``):
no charge exists to refund, so money back is a credit note's ``out_of_band_amount`` (Create a credit
note) and the team returns it outside Stripe.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_nb.records.case import open_case

from scenarios import World, kinds

pytestmark = [pytest.mark.sandbox]

DAY = 86400
T0 = 1_780_000_000


def _invoiced(w: World, email: str, *, amount: int = 50000, interval: str = "year") -> tuple[str, str, str, str]:
    clock = w.clock(T0)
    cus = w.customer(email, clock=clock, card=None)
    sub = w.subscribe(cus, w.price(w.product(), amount, interval), collection_method="send_invoice", days_until_due=30)
    w.advance(clock, T0 + 2 * 3600)  # finalized an hour after it is made
    inv = w.c.v1.invoices.retrieve(str(sub.latest_invoice))
    assert (inv.status, inv.collection_method, inv.due_date) == ("open", "send_invoice", T0 + 30 * DAY)
    return clock, cus, sub.id, inv.id


def test_sandbox_marks_an_invoice_paid_out_of_band(w: World) -> None:
    """Pay an invoice, paid_out_of_band: "Boolean representing whether an invoice is paid outside of
    Stripe. This will result in no charge being made." The invoice of this API version tells it by
    ``amount_paid_off_stripe``, an includable (``expand[]=amount_paid_off_stripe``) that replaces the
    deprecated ``paid_out_of_band`` boolean (changelog 2026-05-27.dahlia)."""
    _clock, cus, _sub, inv_id = _invoiced(w, "oob.sandbox@example.com")
    assert "amount_paid_off_stripe" not in w.c.v1.invoices.retrieve(inv_id).to_dict()  # only when included
    assert w.c.v1.invoices.retrieve(inv_id, {"expand": ["amount_paid_off_stripe"]}).amount_paid_off_stripe == 0
    paid = w.c.v1.invoices.pay(inv_id, {"paid_out_of_band": True})
    assert (paid.status, paid.amount_paid, paid.amount_remaining) == ("paid", 50000, 0)
    assert w.charges(cus) == [] and w.c.v1.invoice_payments.list({"invoice": inv_id}).data == []
    [listed] = w.c.v1.invoices.list({"customer": cus, "expand": ["data.payments", "data.amount_paid_off_stripe"]}).data
    assert listed.amount_paid_off_stripe == 50000
    assert "_paid_off_stripe" not in listed.to_dict()


def test_an_open_invoice_not_yet_due_is_no_failed_payment(w: World, tmp_path: Path) -> None:
    clock, cus, sub, inv = _invoiced(w, "net30.open@example.com")
    w.advance(clock, T0 + 10 * DAY)
    case = open_case(case_id="c-net", customer=cus, complaint="Hi, what is the status of my account?",
                     output_dir=tmp_path / "c-net")
    case.confirm(None, "parameter")
    rec = case.record()
    assert rec["classification"]["suggested"] != "failed_payment"
    assert not {"failed_renewal", "past_due", "subscription_payment_method_stale"} & set(kinds(rec))
    assert not [g for g in rec["product_gaps"] if g["kind"] == "dunning_never_reached_customer"]
    [row] = rec["billing_state"]["invoices"]
    assert (row["collection_method"], row["due_date"]) == ("send_invoice", T0 + 30 * DAY)


def test_an_overdue_invoice_is_overdue_with_its_due_date_not_a_card_failure(w: World, tmp_path: Path) -> None:
    """Session 11: past its due date Stripe makes the subscription past_due, and the toolkit read that
    as a failed payment ("subscription is past_due; latest invoice unpaid", suggested failed_payment at
    0.90): no card was ever charged. It is an overdue invoice, named with its due date."""
    clock, cus, sub, inv = _invoiced(w, "net30.late@example.com")
    w.advance(clock, T0 + 40 * DAY)
    assert w.c.v1.subscriptions.retrieve(sub).status == "past_due"
    case = open_case(case_id="c-late", customer=cus, complaint="Hi, what is the status of my account?",
                     output_dir=tmp_path / "c-late")
    case.confirm(None, "parameter")
    rec = case.record()
    assert rec["classification"]["suggested"] != "failed_payment", rec["classification"]
    assert "past_due" not in kinds(rec) and "failed_renewal" not in kinds(rec)
    [overdue] = [a for a in rec["billing_state"]["anomalies"] if a["kind"] == "invoice_overdue"]
    assert inv in overdue["objects"] and "due 2026-06-27" in overdue["detail"]
    assert "not a card failure" in overdue["detail"]
    assert not [g for g in rec["product_gaps"] if g["kind"] == "dunning_never_reached_customer"]
    assert "overdue: due 27 Jun 2026" in rec["handoff"]  # the handoff writes days as people read them


def test_an_overdue_renewal_invoice_is_no_failed_renewal(w: World, tmp_path: Path) -> None:
    clock, cus, sub, inv = _invoiced(w, "net30.renewal@example.com")
    w.c.v1.invoices.pay(inv, {"paid_out_of_band": True})
    w.advance(clock, T0 + 405 * DAY)  # the renewal of 28 May 2027, due 27 Jun 2027, unpaid
    case = open_case(case_id="c-ren", customer=cus, complaint="Hi, what is the status of my account?",
                     output_dir=tmp_path / "c-ren")
    case.confirm(None, "parameter")
    rec = case.record()
    assert rec["classification"]["suggested"] != "failed_payment"
    assert "past_due" not in kinds(rec) and "failed_renewal" not in kinds(rec)
    assert "invoice_overdue" in kinds(rec)


def test_money_back_for_an_invoice_paid_outside_stripe_is_an_out_of_band_credit_note(w: World, tmp_path: Path) -> None:
    """Session 11: an annual plan paid by bank transfer (marked paid out of band) got no money back at
    all for a product failure ("No paid charge on a live subscription: nothing to refund"), and its
    refund options said "refund_amount", which Stripe refuses on an invoice without a charge. Now the
    unused time goes back on a credit note with out_of_band_amount, capped at the invoice's
    amount_paid, and the customer is told it comes back outside Stripe."""
    clock, cus, sub, inv = _invoiced(w, "oob.refund@example.com")
    w.c.v1.invoices.pay(inv, {"paid_out_of_band": True})
    w.advance(clock, T0 + 100 * DAY)
    case = open_case(case_id="c-oob", customer=cus, complaint="It never worked. Cancel and refund the rest of the year",
                     output_dir=tmp_path / "c-oob")
    case.confirm("product_failure", "parameter")
    rec = case.record()
    options = {o["kind"]: o for o in rec["refund_options"]}
    assert "credit_note_unused" not in options and "cancel_now_refund" not in options
    unused = options["out_of_band_unused"]
    assert unused["invoice"] == inv and unused["charge"] is None
    assert 0 < unused["amount"]["value"] <= 50000
    assert abs(unused["amount"]["value"] - unused["stripe_amount"]) <= 1  # Stripe's cancel preview figure
    assert "out_of_band_amount" in unused["explanation"] and "refund_amount" not in unused["explanation"]
    money = [a for a in rec["plan"] if a["moves_money"]]
    assert [a["kind"] for a in money] == ["credit_note"]
    [note] = money
    assert note["target"] == inv and note["amount"] == unused["amount"]
    assert note["out_of_band"] == unused["amount"] and note["to_balance"] is None
    assert "out_of_band_amount" in note["preview"] and "refund_amount" not in note["preview"]
    assert rec["proposed_impact"]["refunded"]["value"] == unused["amount"]["value"]
    follow = rec["followup"]
    assert "outside Stripe" in follow and "bank transfer" in follow
    assert "card" not in follow and "5–10 business days" not in follow
    results = case.execute([f"cancel:{sub}:now", note["id"]], "parameter")
    assert [r.status for r in results] == ["succeeded", "succeeded"]
    [cn] = w.c.v1.credit_notes.list({"customer": cus}).data
    assert (cn.invoice, cn.amount, cn.out_of_band_amount, cn.refunds) == (inv, note["amount"]["value"],
                                                                          note["amount"]["value"], [])
    assert w.c.v1.refunds.list({"limit": 100}).data == []
    rec = case.record()
    assert "outside Stripe" in rec["followup"] and "card" not in rec["followup"]
    # the same effect again is the same write: its key is derived from it, out-of-band part included
    from billing_nb.actions.model import effect_of

    planned = next(a for a in case.plan.actions if a.id == note["id"])
    assert f"oob={note['amount']['value']}" in effect_of(planned)


def test_an_explicit_credit_note_on_an_out_of_band_invoice_goes_out_of_band(w: World, tmp_path: Path) -> None:
    """An analyst naming credit_note:in_X:AMOUNT on an invoice paid outside Stripe gets an
    out_of_band_amount credit note, never a refund_amount Stripe would refuse (no charge)."""
    clock, cus, sub, inv = _invoiced(w, "oob.named@example.com", amount=12000, interval="month")
    w.c.v1.invoices.pay(inv, {"paid_out_of_band": True})
    w.advance(clock, T0 + 5 * DAY)
    case = open_case(case_id="c-named", customer=cus, complaint="It never worked, I want my money back",
                     output_dir=tmp_path / "c-named")
    case.confirm("product_failure", "parameter")
    results = case.execute([f"credit_note:{inv}:5000"], "parameter")
    assert [r.status for r in results] == ["succeeded"], [r.__dict__ for r in results]
    [cn] = w.c.v1.credit_notes.list({"customer": cus}).data
    assert (cn.amount, cn.out_of_band_amount) == (5000, 5000)
    assert w.c.v1.refunds.list({"limit": 100}).data == []
