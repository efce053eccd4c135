"""An annual plan left running after the customer switched to monthly, built through the SDK
(session 8): the annual's unused time is refunded from the switch, when the monthly began
billing the same days, not from the day of the complaint."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from billing_nb.money import round_half_up

from scenarios import World, run

pytestmark = [pytest.mark.sandbox]

DAY = 86400
T0 = 1_780_000_000
ASK = "I switched to the monthly plan 20 days ago but you are still charging me for the annual one too"


def _switched(w: World, email: str, **monthly: Any) -> tuple[str, Any, Any, int]:
    """$1,200/yr since T0; a $120 monthly of the same product bought 100 days in; 120 days in now."""
    clock = w.clock(T0)
    cus = w.customer(email, clock=clock)
    product = w.product("Suite")
    annual = w.subscribe(cus, w.price(product, 120000, "year"))
    w.advance(clock, T0 + 100 * DAY)
    new = w.subscribe(cus, w.price(product, 12000), **monthly)
    w.advance(clock, T0 + 120 * DAY)
    return cus, annual, new, T0 + 100 * DAY


def _unused_from(sub: Any, start: int) -> int:
    item = sub["items"]["data"][0]
    begin, end = int(item["current_period_start"]), int(item["current_period_end"])
    return round_half_up(120000 * Fraction(end - start, end - begin))


def test_an_annual_left_running_after_a_switch_is_refunded_from_the_switch(w: World, tmp_path: Path) -> None:
    """Before: the annual's unused time from today (245 days), though the monthly billed the 20 days
    since the switch too: $65.75 of days paid twice were kept."""
    cus, annual, monthly, switched = _switched(w, "switch.monthly@example.com")
    case, rec = run(cus, tmp_path, bucket="duplicate_subscription", complaint=ASK)
    ids = [a["id"] for a in rec["plan"]]
    assert f"cancel:{annual.id}:now" in ids and f"cancel:{monthly.id}:now" not in ids, ids
    [refund] = [a for a in rec["plan"] if a["kind"] == "refund"]
    want = _unused_from(annual, switched)
    assert refund["amount"]["value"] == want, (refund, want)
    assert want - _unused_from(annual, T0 + 120 * DAY) > 6000  # 20 days of a $1,200 year: the days paid twice
    assert refund["requires"] == [f"cancel:{annual.id}:now"]
    assert any("counted from" in n and monthly.id in n for n in rec["plan_notes"]), rec["plan_notes"]
    results = case.execute([f"cancel:{annual.id}:now", refund["id"]], "parameter")
    assert [r.status for r in results] == ["succeeded", "succeeded"]
    charge = next(c for c in w.charges(cus) if c.amount == 120000)
    assert [r.amount for r in w.c.v1.refunds.list({"charge": charge.id}).data] == [want]


def test_a_switch_to_a_plan_on_trial_is_refunded_from_when_it_began_billing(w: World, tmp_path: Path) -> None:
    """The monthly began with a 14-day trial: the annual alone paid for those days (not twice), so
    its unused time goes back from the trial's end, not from the switch, nor from today."""
    cus, annual, _, switched = _switched(w, "switch.trial@example.com", trial_period_days=14)
    _, rec = run(cus, tmp_path, bucket="duplicate_subscription", complaint=ASK)
    [refund] = [a for a in rec["plan"] if a["kind"] == "refund"]
    assert refund["amount"]["value"] == _unused_from(annual, switched + 14 * DAY), refund
