"""A team plan the customer asks to cancel, confirmed as team_seats (session 8), built through the
SDK: the plan used to ignore the cancel ask and only offer the seat change or the portal."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios import World, run

pytestmark = [pytest.mark.sandbox]

DAY = 86400
T0 = 1_780_000_000


def _team(w: World, email: str) -> tuple[str, str]:
    clock = w.clock(T0)
    cus = w.customer(email, clock=clock)
    seat = w.price(w.product("Team", per_seat="true"), 12000, "year")
    sub = w.subscribe(cus, (seat, 5))
    w.advance(clock, T0 + 90 * DAY)
    return cus, sub.id


def test_a_team_plan_the_customer_asks_to_cancel_is_cancelled(w: World, tmp_path: Path) -> None:
    cus, sub = _team(w, "team.cancel@example.com")
    case, rec = run(cus, tmp_path, bucket="team_seats",
                    complaint="We only use 3 of our 5 seats. Honestly, just cancel the whole team plan.")
    ids = [a["id"] for a in rec["plan"]]
    assert f"cancel:{sub}:at_period_end" in ids, (ids, rec["plan_notes"])
    assert not [a for a in rec["plan"] if a["kind"] == "quantity"], ids  # the cancel answers it, not 3 seats
    assert not [a for a in rec["plan"] if a["moves_money"] and a["kind"] != "quantity"], ids  # no refund asked
    assert any("asks to cancel the team plan" in n and f"quantity:{sub}:N" in n for n in rec["plan_notes"])
    results = case.execute([f"cancel:{sub}:at_period_end"], "parameter")
    assert [r.status for r in results] == ["succeeded"]
    assert w.c.v1.subscriptions.retrieve(sub).cancel_at_period_end is True
    assert "canceled your subscription" in case.record()["followup"], case.record()["followup"]


def test_a_team_cancel_with_money_back_offers_the_unused_time_with_the_cancel_now(w: World, tmp_path: Path) -> None:
    cus, sub = _team(w, "team.cancel.refund@example.com")
    case, rec = run(cus, tmp_path, bucket="team_seats",
                    complaint="Nobody on the team uses it. Please cancel our team subscription and refund the rest.")
    plan = {a["id"]: a for a in rec["plan"]}
    assert f"cancel:{sub}:now" in plan, list(plan)
    assert not [a for a in rec["plan"] if a["kind"] == "quantity"], list(plan)
    [note] = [a for a in rec["plan"] if a["kind"] == "credit_note"]
    opt = next(o for o in rec["refund_options"] if o["kind"] == "credit_note_unused")
    assert note["amount"] == opt["amount"] and note["requires"] == [f"cancel:{sub}:now"]
    results = case.execute([f"cancel:{sub}:now", note["id"]], "parameter")
    assert [r.status for r in results] == ["succeeded", "succeeded"]
    assert w.c.v1.subscriptions.retrieve(sub).status == "canceled"
    [cn] = w.c.v1.credit_notes.list({"customer": cus}).data
    assert cn.amount == opt["amount"]["value"]
    text = case.record()["followup"]
    assert "canceled your subscription" in text and "for the unused rest of the period" in text, text


def test_cancelling_seats_is_a_seat_change_not_a_cancel(w: World, tmp_path: Path) -> None:
    cus, sub = _team(w, "team.seats.only@example.com")
    _, rec = run(cus, tmp_path, bucket="team_seats",
                 complaint="We only have 3 people now, please cancel the two unused seats")
    ids = [a["id"] for a in rec["plan"]]
    assert f"quantity:{sub}:3" in ids and not [i for i in ids if i.startswith("cancel:")], ids
