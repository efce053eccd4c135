"""Session 8 (decisions and follow-ups), the minor findings, rebuilt through the SDK.

A "duplicate" whose subscriptions differ in quantity is not a confident duplicate personal purchase;
the follow-up of each non-cancel portal flow says what that flow does.
"""

from __future__ import annotations

from pathlib import Path

from scenarios import World, run

T0 = 1_780_000_000


def _two(w: World, email: str, first: int, second: int) -> str:
    clock = w.clock(T0)
    cus = w.customer(email, clock=clock)
    price = w.price(w.product(), 1500)
    w.subscribe(cus, (price, first))
    w.advance(clock, T0 + 120)
    w.subscribe(cus, (price, second))
    return cus


def test_a_duplicate_with_different_quantities_is_not_a_confident_duplicate(w: World, tmp_path: Path) -> None:
    """Before: suggested duplicate_subscription at 0.85 though one has 1 seat and the other 3."""
    cus = _two(w, "qty.differ@example.com", 1, 3)
    _, rec = run(cus, tmp_path, complaint="I was charged twice this month")
    c = rec["classification"]
    assert c["suggested"] != "duplicate_subscription" or c["confidence"] <= 0.6, c
    assert any("different quantities" in line for line in c["against"] + c["evidence"]), c
    same = _two(w, "qty.same@example.com", 1, 1)
    _, rec = run(same, tmp_path, complaint="I was charged twice this month")
    assert rec["classification"]["suggested"] == "duplicate_subscription"
    assert rec["classification"]["confidence"] >= 0.85


def test_different_quantities_and_a_complaint_about_people_is_team_seats(w: World, tmp_path: Path) -> None:
    cus = _two(w, "qty.team@example.com", 1, 3)
    _, rec = run(cus, tmp_path, complaint="We added 3 more users for the new hires, why are there two bills?")
    assert rec["classification"]["suggested"] == "team_seats", rec["classification"]
