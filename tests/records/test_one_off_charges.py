"""One-off charges (a PaymentIntent confirmed directly, no invoice: a setup fee, a manual charge),
built through the official SDK on a fresh sandbox: the case lists them, offers their refund and
plans it through the normal approval path, whichever way the case is looked up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from billing_nb.exceptions import RefundTooLargeError
from billing_nb.reading.lookup import lookup_kind
from billing_nb.records.case import open_case

from scenarios import World

pytestmark = [pytest.mark.sandbox]


def _one_off(w: World, cus: str, amount: int, description: str | None, currency: str = "usd") -> Any:
    pm = w.c.v1.customers.retrieve(cus).invoice_settings.default_payment_method  # type: ignore[union-attr]
    params: dict[str, Any] = {"customer": cus, "amount": amount, "currency": currency, "confirm": True,
                              "payment_method": pm}
    if description:
        params["description"] = description
    return w.c.v1.payment_intents.create(params)  # type: ignore[arg-type]


def _open(lookup: str, out: Path, complaint: str, bucket: str, name: str) -> tuple[Any, dict[str, Any]]:
    case = open_case(case_id=name, customer=lookup, complaint=complaint, output_dir=out / name,
                     lookup_kind=lookup_kind(lookup))
    case.confirm(bucket, "parameter")
    return case, case.record()


@pytest.mark.parametrize("how", ["charge", "payment_intent", "email"])
def test_setup_fee_is_listed_offered_and_planned_for_refund(w: World, tmp_path: Path, how: str) -> None:
    cus = w.customer(f"setup.{how}@example.com")
    w.subscribe(cus, w.price(w.product(), 1500))  # a subscription beside it: its money is not the fee's
    pi = _one_off(w, cus, 4900, "Setup fee")
    charge = str(pi.latest_charge)
    lookup = {"charge": charge, "payment_intent": pi.id, "email": f"setup.{how}@example.com"}[how]
    case, rec = _open(lookup, tmp_path, "Please refund the setup fee", "missing_self_serve", f"c-{how}")
    assert rec["customer"]["id"] == cus
    [listed] = rec["billing_state"]["one_off_charges"]
    assert listed["id"] == charge and listed["payment_intent"] == pi.id and listed["description"] == "Setup fee"
    assert listed["captured"] == {"value": 4900, "currency": "usd"}
    assert listed["refundable"] == {"value": 4900, "currency": "usd"}
    [option] = [o for o in rec["refund_options"] if o["kind"] == "refund_one_off_charge"]
    assert option["charge"] == charge and option["amount"] == {"value": 4900, "currency": "usd"}
    money = [a for a in rec["plan"] if a["moves_money"]]
    assert [a["id"] for a in money] == [f"refund:{charge}:4900"]  # the fee, not the subscription's charge
    assert charge in rec["handoff"] and "Setup fee" in rec["handoff"]
    case.execute([f"refund:{charge}:4900"], "parameter")
    fresh = w.c.v1.charges.retrieve(charge)
    assert fresh.amount_refunded == 4900


def test_unexplained_charge_partly_refunded_offers_only_what_is_left(w: World, tmp_path: Path) -> None:
    """ "charged $49 and don't know why": found by its amount; 9.00 already went back, so 40.00 is
    offered, a part of it can be approved, and more than what is left is refused before any write."""
    cus = w.customer("unknown.charge@example.com")
    pi = _one_off(w, cus, 4900, "Manual charge")
    charge = str(pi.latest_charge)
    w.c.v1.refunds.create({"charge": charge, "amount": 900})
    other = _one_off(w, cus, 2500, "Onboarding call")  # another one-off the complaint does not name
    case, rec = _open("unknown.charge@example.com", tmp_path, "I was charged $49 and don't know why",
                      "missing_self_serve", "c-unknown")
    assert {c["id"] for c in rec["billing_state"]["one_off_charges"]} == {charge, str(other.latest_charge)}
    offered = {o["charge"]: o["amount"]["value"] for o in rec["refund_options"] if o["kind"] == "refund_one_off_charge"}
    assert offered == {charge: 4000, str(other.latest_charge): 2500}
    assert [a["id"] for a in rec["plan"] if a["moves_money"]] == [f"refund:{charge}:4000"]
    with pytest.raises(RefundTooLargeError):
        case.execute([f"refund:{charge}:4100"], "parameter")
    case.execute([f"refund:{charge}:1500"], "parameter")
    assert w.c.v1.charges.retrieve(charge).amount_refunded == 2400
    assert w.c.v1.charges.retrieve(str(other.latest_charge)).amount_refunded == 0


def test_product_failure_looked_up_by_a_one_off_charge_refunds_that_charge(w: World, tmp_path: Path) -> None:
    cus = w.customer("fee.failure@example.com")
    w.subscribe(cus, w.price(w.product(), 3000))
    pi = _one_off(w, cus, 12000, "Onboarding package")
    _, rec = _open(pi.id, tmp_path, "The onboarding never happened and nothing works", "product_failure", "c-pf")
    assert [a["id"] for a in rec["plan"] if a["moves_money"]] == [f"refund:{pi.latest_charge}:12000"]


def test_customer_with_only_one_off_charges_and_a_refund_request(w: World, tmp_path: Path) -> None:
    cus = w.customer("only.fees@example.com")
    first = _one_off(w, cus, 1000, None)
    second = _one_off(w, cus, 2000, None)
    _, rec = _open("only.fees@example.com", tmp_path, "I want my money back", "product_failure", "c-only")
    money = [a for a in rec["plan"] if a["moves_money"]]
    assert {a["target"] for a in money} == {first.latest_charge, second.latest_charge}
    assert len({a["exclusive"] for a in money}) == 1  # alternatives: the analyst approves the one meant
    assert rec["contract"] == []
