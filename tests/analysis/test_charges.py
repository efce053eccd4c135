"""One-off charges read from a snapshot (pure): what counts as one, and what can still go back
(never above what was captured: ``amount_captured - amount_refunded``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from billing_nb.actions import catalogue as cat
from billing_nb.actions.guards import refusal
from billing_nb.analysis.charges import named_charges, one_off_charges, one_off_options
from billing_nb.money import Money
from billing_nb.reading.objects import refundable
from billing_nb.reading.snapshot import CaseSnapshot

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _charge(cid: str, amount: int, *, captured: int | None = None, refunded: int = 0, pi: str | None = None,
            description: str | None = None, currency: str = "usd") -> dict[str, Any]:
    return {"id": cid, "object": "charge", "customer": "cus_A", "amount": amount, "currency": currency,
            "amount_captured": amount if captured is None else captured, "amount_refunded": refunded,
            "status": "succeeded", "paid": True, "captured": True, "payment_intent": pi, "description": description,
            "created": 1_780_000_000, "disputed": False, "refunded": False}


def _snap(charges: list[dict[str, Any]], invoices: list[dict[str, Any]] | None = None,
          lookup_object: str | None = None) -> CaseSnapshot:
    return CaseSnapshot("customer", ["cus_A"], {"customers": [{"id": "cus_A"}], "charges": charges,
                                                "invoices": invoices or []}, NOW, NOW,
                        extra={"lookup_object": lookup_object} if lookup_object else {})


def test_a_partial_capture_refunds_only_what_was_captured() -> None:
    charge = _charge("ch_partial0001", 10000, captured=6000, refunded=1000, pi="pi_partial0001")
    assert refundable(charge) == 5000  # not amount - refunded (9000)
    [option] = one_off_options(_snap([charge]))
    assert option.amount == Money(5000, "usd") and option.charge == "ch_partial0001"
    too_much = cat.refund("ch_partial0001", Money(5100, "usd"), "requested_by_customer", "setup fee")
    assert refusal(too_much, charge) is not None and "above what remains refundable" in str(refusal(too_much, charge))
    assert refusal(cat.refund("ch_partial0001", Money(5000, "usd"), "requested_by_customer", "fee"), charge) is None


def test_a_charge_that_paid_an_invoice_is_not_one_off() -> None:
    paid = _charge("ch_invoice0001", 1500, pi="pi_invoice0001")
    fee = _charge("ch_fee00000001", 4900, pi="pi_fee00000001", description="Setup fee")
    legacy = {**_charge("ch_legacy00001", 700), "invoice": "in_legacy00001"}
    invoice = {"id": "in_1", "customer": "cus_A", "status": "paid",
               "payments": {"data": [{"payment": {"type": "payment_intent", "payment_intent": "pi_invoice0001"}}]}}
    assert [c.id for c in one_off_charges(_snap([paid, fee, legacy], [invoice]))] == ["ch_fee00000001"]


def test_which_one_off_charge_a_complaint_names() -> None:
    fee = _charge("ch_fee00000001", 4900, description="Setup fee")
    call = _charge("ch_call0000001", 12050, description="Onboarding call", currency="eur")
    snap = _snap([fee, call])
    assert [c.id for c in named_charges(snap, "refund the setup fee please")[0]] == ["ch_fee00000001"]
    assert [c.id for c in named_charges(snap, "I was charged $49 and don't know why")[0]] == ["ch_fee00000001"]
    assert [c.id for c in named_charges(snap, "what is this 120,50 € charge?")[0]] == ["ch_call0000001"]
    assert named_charges(snap, "I was charged 49.50 for nothing")[0] == []  # 49.50 is neither
    assert named_charges(snap, "please help")[0] == []
    looked = _snap([fee, call], lookup_object="ch_call0000001")
    assert [c.id for c in named_charges(looked, "refund the setup fee")[0]] == ["ch_call0000001"]
