"""A case whose refund Stripe failed after it was written (the ``pm_card_refundFail`` test card,
docs.stripe.com/testing "Refunds"): the re-run neither counts it again nor calls the case done,
and the casebook books the money once; a pending refund is booked pending."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_nb.records import casebook as cb
from billing_nb.records.case import open_case

from scenarios import World

pytestmark = [pytest.mark.sandbox]

DAY = 86400
T0 = 1_780_000_000


def _refund_case(w: World, cases: Path, case_id: str, customer: str) -> tuple[object, str]:
    case = open_case(case_id=case_id, customer=customer, complaint="It never worked, refund me",
                     output_dir=cases / case_id)
    case.confirm("product_failure", "parameter")
    rid = next(a.id for a in case.plan.actions if a.kind.value == "refund")  # type: ignore[union-attr]
    return case, rid


def test_rerun_after_the_refund_failed_is_not_done_and_counts_nothing(w: World, tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    clock = w.clock(T0)
    cus = w.customer("refund.fails@example.com", card="pm_card_refundFail", clock=clock)
    w.subscribe(cus, w.price(w.product(), 3000))
    w.advance(clock, T0 + 3 * DAY)
    case, rid = _refund_case(w, cases, "c-1", cus)
    [first] = case.execute([rid], "parameter")  # type: ignore[attr-defined]
    assert (first.status, first.stripe_status) == ("succeeded", "succeeded")
    amount = case.record()["revenue_impact"]["refunded"]["value"]  # type: ignore[attr-defined]
    assert amount > 0
    w.advance(clock, T0 + 5 * DAY)  # a day on, Stripe fails the card refund
    again, _ = _refund_case(w, cases, "c-2", cus)
    [second] = again.execute([rid], "parameter")  # type: ignore[attr-defined]
    rec = again.record()  # type: ignore[attr-defined]
    assert second.status == "refund_failed" and second.stripe_object == first.stripe_object
    assert rec["status"] == "failed" and "refund_failed" not in str(rec["error"]) and "#2" in str(rec["error"])
    assert rec["revenue_impact"]["refunded"]["value"] == 0
    assert any(a["kind"] == "failed_refund" for a in rec["billing_state"]["anomalies"])
    book = cb.open_casebook(cases)
    assert int(cb.money_totals(book.records)["refunded_minor"].sum()) == amount  # booked once, by the first run
    assert cb.ledger_mismatches(book.records, book.entries).empty
    charge = str(w.c.v1.refunds.retrieve(str(first.stripe_object)).charge)
    assert len(w.c.v1.refunds.list({"charge": charge}).data) == 1  # not retried under its key


def test_pending_refund_is_booked_pending(w: World, tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    clock = w.clock(T0)
    cus = w.customer("refund.pending@example.com", card="pm_card_pendingRefund", clock=clock)
    w.subscribe(cus, w.price(w.product(), 3000))
    w.advance(clock, T0 + 3 * DAY)
    case, rid = _refund_case(w, cases, "c-p", cus)
    case.execute([rid], "parameter")  # type: ignore[attr-defined]
    rec = case.record()  # type: ignore[attr-defined]
    assert rec["executed"][0]["stripe_status"] == "pending"
    assert rec["revenue_impact"]["refunded"]["value"] == 0 and rec["revenue_impact"]["refund_pending"]["value"] > 0
    totals = cb.money_totals(cb.open_casebook(cases).records)
    assert int(totals["refunded_minor"].sum()) == 0 and int(totals["refund_pending_minor"].sum()) > 0
