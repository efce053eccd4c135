"""A plan switch whose old subscription kept running and renewed since (session 9), built through the
SDK: the old plan's unused-time refund covers exactly the paid time after the switch -- the rest of the
period running at the switch and every renewal since -- never more than was paid, and Stripe's own
cancel preview at the switch where one period runs across it. Property-based over sequences of an
optional mid-period upgrade, the switch and the renewals that follow."""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from billing_nb.money import round_half_up
from billing_nb.reading.objects import line_is_proration

from scenarios import World, pointed_world, run

pytestmark = [pytest.mark.sandbox]

DAY = 86400
T0 = 1_780_000_000


def _paid_after(w: World, sub_id: str, since: int) -> tuple[int, int]:
    """Independently of the toolkit: the exact value of the old plan's paid lines after ``since``
    (each line's share of its period after it, one rounding: one item), and what its invoices paid."""
    exact, paid = Fraction(0), 0
    for inv in w.c.v1.invoices.list({"subscription": sub_id, "limit": 100}).auto_paging_iter():
        if inv.status != "paid":
            continue
        paid += int(inv.amount_paid)
        for line in inv.lines.data:
            start, end = int(line.period.start), int(line.period.end)
            if end > max(start, since):
                exact += int(line.amount) * Fraction(end - max(start, since), end - start)
    return round_half_up(exact), paid


def _advance(w: World, clock: str, start: int, to: int) -> None:
    """The test clock to ``to`` in steps of at most 25 days (Stripe advances at most two intervals)."""
    at = start
    while at < to:
        at = min(to, at + 25 * DAY)
        w.advance(clock, at)


def _money_back(rec: dict[str, Any]) -> int:
    """What the plan gives back (card and balance): only the old plan's money is planned back."""
    return sum(int(a["amount"]["value"]) for a in rec["plan"]
               if a["kind"] in ("refund", "credit_note") and a["amount"])


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
          phases=[Phase.explicit, Phase.generate])
@example(old="month", upgrade=None, switch=10, after=35)  # a renewal since the switch: 21 days were dropped
@example(old="month", upgrade=5, switch=10, after=60)  # an upgrade's proration lines, two renewals since
@example(old="year", upgrade=10, switch=60, after=40)  # annual to monthly: one period across the switch
@given(old=st.sampled_from(["month", "year"]), upgrade=st.one_of(st.none(), st.integers(2, 20)),
       switch=st.integers(1, 70), after=st.integers(1, 75))
def test_the_old_plan_is_refunded_exactly_its_paid_time_after_the_switch(
        old: str, upgrade: int | None, switch: int, after: int) -> None:
    """Before: a renewal since the switch was refunded whole, and the period running at the switch was
    dropped (the days from the switch to the renewal kept), or only today's period was counted."""
    new = "year" if old == "month" else "month"
    if upgrade is not None and upgrade >= switch:
        upgrade = None
    with pytest.MonkeyPatch.context() as mp, tempfile.TemporaryDirectory() as tmp, \
            pointed_world(mp, Path(tmp) / "cases") as w:
        clock = w.clock(T0)
        cus = w.customer("switch.seq@example.com", clock=clock)
        product = w.product("Suite")
        base = 3100 if old == "month" else 36500
        sub = w.subscribe(cus, w.price(product, base, old))
        if upgrade is not None:  # a mid-period upgrade of the old plan, invoiced at once
            _advance(w, clock, T0, T0 + upgrade * DAY)
            item = sub["items"]["data"][0]["id"]
            w.c.v1.subscriptions.update(sub.id, {"items": [{"id": item, "price": w.price(product, base * 2, old)}],
                                                 "proration_behavior": "always_invoice"})
        _advance(w, clock, T0 + (upgrade or 0) * DAY, T0 + switch * DAY)
        since = T0 + switch * DAY
        w.subscribe(cus, w.price(product, 30000 if new == "year" else 3000, new))
        _advance(w, clock, since, since + after * DAY)
        want, paid = _paid_after(w, sub.id, since)
        _, rec = run(cus, Path(tmp), bucket="duplicate_subscription",
                     complaint=f"I switched to the {'annual' if new == 'year' else 'monthly'} plan but you are "
                               "still charging me for the old one too")
        assert f"cancel:{sub.id}:now" in [a["id"] for a in rec["plan"]], rec["plan_notes"]
        back = _money_back(rec)
        assert back <= paid, (back, paid)
        assert back == min(want, paid), (back, want, paid, rec["plan"])
        renewed = any(i.billing_reason == "subscription_cycle" and int(i.created) > since
                      for i in w.c.v1.invoices.list({"subscription": sub.id, "limit": 100}).auto_paging_iter())
        if not renewed:  # one period runs across the switch: Stripe's cancel preview at the switch
            preview = w.c.v1.invoices.create_preview({"subscription": sub.id, "subscription_details": {
                "cancel_now": True, "proration_behavior": "create_prorations", "proration_date": since}})
            credit = -sum(int(ln["amount"]) for ln in preview.to_dict()["lines"]["data"] if line_is_proration(ln))
            assert abs(back - credit) <= 1, (back, credit)
