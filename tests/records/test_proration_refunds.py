"""Refunds after a mid-period change, built through the SDK the way an outside tester built
them (session 8): a seat decrease invoiced at once (N1) or left pending (N2), an upgrade
whose unused time is refunded in one part per paid invoice (N3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scenarios import World, run

DAY = 86400
T0 = 1_780_000_000
CANCEL_ASK = "We no longer need this. Please cancel my subscription and refund the rest of the year"


def _upgraded(w: World) -> tuple[str, Any]:
    """An annual plan upgraded 40 days in with an invoice of its own, 100 days in now."""
    clock = w.clock(T0)
    cus = w.customer("split.parts@example.com", clock=clock)
    product = w.product("Suite")
    small, big = w.price(product, 30000, "year"), w.price(product, 90000, "year")
    sub = w.subscribe(cus, small)
    w.advance(clock, T0 + 40 * DAY)
    w.c.v1.subscriptions.update(sub.id, {"items": [{"id": sub["items"]["data"][0]["id"], "price": big}],
                                         "proration_behavior": "always_invoice"})
    w.advance(clock, T0 + 100 * DAY)
    return cus, sub


def test_one_part_of_a_split_refund_alone_is_refused_and_nothing_is_written(w: World, tmp_path: Path) -> None:
    """N3: approving the cancel with one credit note of a refund split over two paid invoices
    used to run, and the next case (the plan cancelled) never proposed the other part."""
    from billing_nb.exceptions import ActionRefusedError

    cus, sub = _upgraded(w)
    case, rec = run(cus, tmp_path, bucket="product_failure", complaint="It has been broken for weeks, refund the rest")
    notes = [a for a in rec["plan"] if a["kind"] == "credit_note"]
    assert len(notes) == 2, rec["plan"]
    cancel = notes[0]["requires"][0]
    for one, other in (notes, notes[::-1]):
        with pytest.raises(ActionRefusedError) as err:
            case.execute([cancel, one["id"]], "parameter")
        message = str(err.value)
        assert "\n" not in message and other["id"] in message and one["id"] in message
        assert one.get("together") == [other["id"]]  # the record says which parts go together
    assert w.c.v1.credit_notes.list({"customer": cus}).data == []
    assert w.c.v1.subscriptions.retrieve(sub.id).status == "active"
    results = case.execute([cancel, *(n["id"] for n in notes)], "parameter")
    assert [r.status for r in results] == ["succeeded"] * 3
    given = sorted(cn.amount for cn in w.c.v1.credit_notes.list({"customer": cus}).data)
    assert given == sorted(n["amount"]["value"] for n in notes)


def _decreased(w: World, behaviour: str) -> tuple[str, Any, str]:
    """A team on 5 annual seats at $120, down to 3 seats 60 days in, 90 days in now."""
    clock = w.clock(T0)
    cus = w.customer(f"seats.down.{behaviour}@example.com", clock=clock)
    seat = w.price(w.product("Team", per_seat="true"), 12000, "year")
    sub = w.subscribe(cus, (seat, 5))
    w.advance(clock, T0 + 60 * DAY)
    w.c.v1.subscriptions.update(sub.id, {"items": [{"id": sub["items"]["data"][0]["id"], "quantity": 3}],
                                         "proration_behavior": behaviour})
    w.advance(clock, T0 + 90 * DAY)
    first = next(i for i in w.c.v1.invoices.list({"subscription": sub.id}).data
                 if i.billing_reason == "subscription_create")
    return cus, sub, first.id


def _owed(sub: Any) -> int:
    """What the customer paid less what they used: 60 days of 5 seats, 30 of 3 (exact, rounded once)."""
    from fractions import Fraction

    from billing_nb.money import round_half_up

    item = sub["items"]["data"][0]
    year = Fraction(int(item["current_period_end"]) - int(item["current_period_start"]))
    used = 60000 * Fraction(60 * DAY) / year + 36000 * Fraction(30 * DAY) / year
    return round_half_up(60000 - used)


def test_a_decrease_invoiced_at_once_does_not_hide_the_periods_paid_invoice(w: World, tmp_path: Path) -> None:
    """N1: the $0 / credit proration invoice of a seat decrease (always_invoice) became the
    subscription's latest invoice: the plan said there was nothing to refund and the cancel the
    customer asked for was dropped; the credit it put on the balance was netted a second time."""
    cus, sub, first = _decreased(w, "always_invoice")
    balance = -int(w.c.v1.customers.retrieve(cus).balance)
    assert balance > 0  # the decrease's credit, on the customer's balance
    case, rec = run(cus, tmp_path, bucket="product_failure", complaint=CANCEL_ASK)
    notes = [a for a in rec["plan"] if a["kind"] == "credit_note"]
    assert f"cancel:{sub.id}:now" in [a["id"] for a in rec["plan"]], rec["plan"]
    assert [n["target"] for n in notes] == [first]
    opt = next(o for o in rec["refund_options"] if o["kind"] == "credit_note_unused")
    assert opt["invoice"] == first and not opt["mismatch"]
    # the refund plus the credit the decrease already gave is what was paid less what was used
    assert abs(notes[0]["amount"]["value"] + balance - _owed(sub)) <= 1
    assert notes[0]["amount"]["value"] == opt["stripe_amount"]
    # the complaint's bucket (missing self-serve) still plans the cancel it asks for
    _, rec = run(cus, tmp_path, bucket="missing_self_serve", complaint=CANCEL_ASK)
    assert any(a["kind"] in ("portal", "cancel") and sub.id in (a["id"] + a["preview"])
               and "cancel" in a["id"] for a in rec["plan"]), rec["plan"]


def test_a_pending_decrease_is_refunded_as_stripe_previews_and_not_left_behind(w: World, tmp_path: Path) -> None:
    """N2: a seat decrease left pending (create_prorations) under-refunded a cancel with refund
    (the pending credit was not counted: Stripe's preview of the cancel said more), and the
    cancel left the pending proration items to land on a later invoice."""
    cus, sub, first = _decreased(w, "create_prorations")
    pending = [ii for ii in w.c.v1.invoice_items.list({"customer": cus, "pending": True}).data if ii.proration]
    assert len(pending) == 2 and sum(ii.amount for ii in pending) < 0  # credit owed, not yet invoiced
    case, rec = run(cus, tmp_path, bucket="product_failure", complaint=CANCEL_ASK)
    opt = next(o for o in rec["refund_options"] if o["kind"] == "credit_note_unused")
    assert opt["stripe_amount"] is not None and not opt["mismatch"]
    assert opt["amount"]["value"] == opt["stripe_amount"]
    assert abs(opt["amount"]["value"] - _owed(sub)) <= 1
    [note] = [a for a in rec["plan"] if a["kind"] == "credit_note"]
    assert note["target"] == first and note["amount"] == opt["amount"]
    results = case.execute([f"cancel:{sub.id}:now", note["id"]], "parameter")
    assert [r.status for r in results] == ["succeeded", "succeeded"]
    assert [ii.id for ii in w.c.v1.invoice_items.list({"customer": cus, "pending": True}).data] == []
    [cn] = w.c.v1.credit_notes.list({"customer": cus}).data
    assert cn.amount == opt["amount"]["value"]
    assert int(w.c.v1.customers.retrieve(cus).balance) == 0  # nothing credited twice on the balance


def _killed_at(point: str, run_case: Any) -> None:
    """``run_case()`` in a forked child that SIGKILLs itself at ``point`` (actions.crashpoints)."""
    import os
    import signal

    from billing_nb.actions.crashpoints import CRASH_ENV

    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.environ[CRASH_ENV] = point
            run_case()
        except BaseException:  # noqa: BLE001 - reported through the exit code
            code = 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"not killed at {point}: {status}"


def test_a_run_killed_between_the_cancel_and_the_deletes_deletes_them_on_the_rerun(w: World, tmp_path: Path) -> None:
    """Session 8: the cancel now deletes the subscription's pending proration items after the cancel
    call; a run killed between the two left them, and the re-run found the cancel done (recovered,
    or already done) and deleted nothing: the pending credit would land on a later invoice although
    the unused-time refund carries it."""
    from billing_nb.actions.crashpoints import WITHIN_WRITES
    from billing_nb.records.case import open_case

    assert "cancelled" in WITHIN_WRITES
    cus, sub, _ = _decreased(w, "create_prorations")
    cancel = f"cancel:{sub.id}:now"

    def pending() -> list[str]:
        return [ii.id for ii in w.c.v1.invoice_items.list({"customer": cus, "pending": True}).data if ii.proration]

    def run_case(case_id: str) -> Any:
        case = open_case(case_id=case_id, customer=cus, complaint=CANCEL_ASK, output_dir=tmp_path / case_id,
                         approve=[cancel])
        case.confirm("product_failure", "parameter")
        return case, case.execute([cancel], "parameter")

    assert len(pending()) == 2
    _killed_at("cancelled", lambda: run_case("killed"))
    assert w.c.v1.subscriptions.retrieve(sub.id).status == "canceled"
    assert len(pending()) == 2  # the crash window: cancelled, its pending items still there
    _, results = run_case("rerun")
    assert [(r.action_id, r.status) for r in results] == [(cancel, "recovered")], results
    assert pending() == []
    # the deletes are idempotent: a third run finds the cancel done and nothing left to delete
    _, results = run_case("third")
    assert [r.status for r in results] == ["already_done"] and results[0].error is None
    assert pending() == []
