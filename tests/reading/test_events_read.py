"""Events are read only when the lists show something they explain (issue 15's request budget;
Stripe's events cannot be filtered by customer, so a busy account's newest page is mostly other
customers').

The guard: for generated account histories, a case that skips the events comes to exactly the
record it comes to with every event read -- same billing state, decision, plan, figures, gaps
and follow-up. Where the events do matter (a cancellation asked for, seats moved, a change
undone within the period), they are read. The one history left unseen by design is a change
undone with no money effect at all (no proration, no invoice between): it is not generated.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_nb.reading import waves
from billing_nb.reading.waves import events_needed
from tests.scenarios import KEY, World, pointed_world

START = 1_790_000_000
DAY = 86400
_COMPARED = ("billing_state", "classification", "contract", "refund_options", "plan", "plan_notes",
             "proposed_impact", "product_gaps", "followup")


def _requests(w: World, *, clear: bool = False) -> list[str]:
    req = urllib.request.Request(f"{w.url}/_sandbox/requests", method="DELETE" if clear else "GET",
                                 headers={"Authorization": f"Bearer {KEY}"})
    with urllib.request.urlopen(req) as resp:
        return [str(r.get("path") or "") for r in json.loads(resp.read()).get("data") or []]


def _case(w: World, cus: str, out: Path, name: str) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    from billing_nb.records.case import open_case

    _requests(w, clear=True)
    case = open_case(case_id=name, customer=cus, complaint="please look at my billing", output_dir=out / name,
                     lookup_kind="customer")
    log = _requests(w)
    case.confirm(None, "parameter")
    rec = json.loads((out / name / "case.json").read_text())
    return rec, case.snapshot.extra, log


def _compare(w: World, cus: str, out: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[bool, dict[str, Any]]:
    """The case as it runs, and the same case with every event read: (events read?, the record)."""
    rec, extra, log = _case(w, cus, out, "as-run")
    with monkeypatch.context() as m:
        m.setattr(waves, "events_needed", lambda objects: True)
        forced, forced_extra, forced_log = _case(w, cus, out, "all-events")
    assert forced_extra["events_read"] and any(p.startswith("/v1/events") for p in forced_log)
    read = bool(extra["events_read"])
    assert read == any(p.startswith("/v1/events") for p in log), log
    for key in _COMPARED:
        assert rec[key] == forced[key], key
    return read, rec


# --- generated histories: skipping the events never changes the record ------------------------

_STEPS = st.lists(st.sampled_from(["renew", "second_sub", "seats_up", "seats_down_none", "cancel_at_end",
                                   "upgrade", "one_off", "refund", "failing_card"]), min_size=0, max_size=4)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=_STEPS, annual=st.booleans(), seats=st.sampled_from([1, 1, 3]))
def test_a_case_that_skips_the_events_comes_to_the_same_record(tmp_path_factory: pytest.TempPathFactory,
                                                                monkeypatch: pytest.MonkeyPatch, steps: list[str],
                                                                annual: bool, seats: int) -> None:
    out = tmp_path_factory.mktemp("cases")
    with pointed_world(monkeypatch, out) as w:
        clock = w.clock(START)
        now = START
        cus = w.customer("generated@example.com", clock=clock)
        prod = w.product()
        price = w.price(prod, 12000 if annual else 1500, "year" if annual else "month")
        sub = w.subscribe(cus, (price, seats))
        for step in steps:
            item = w.c.v1.subscriptions.retrieve(sub.id)["items"]["data"][0]
            if step == "renew":
                now += (366 if annual else 32) * DAY
                w.advance(clock, now)
            elif step == "second_sub":
                w.subscribe(cus, price)
            elif step == "seats_up":
                w.c.v1.subscriptions.update(sub.id, {"items": [{"id": item["id"], "quantity": int(item["quantity"]) + 2}],
                                                     "proration_behavior": "create_prorations"})
            elif step == "seats_down_none" and int(item["quantity"]) > 1:
                w.c.v1.subscriptions.update(sub.id, {"items": [{"id": item["id"], "quantity": 1}],
                                                     "proration_behavior": "none"})
            elif step == "cancel_at_end":
                w.c.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
            elif step == "upgrade":
                better = w.price(prod, 24000 if annual else 3000, "year" if annual else "month")
                w.c.v1.subscriptions.update(sub.id, {"items": [{"id": item["id"], "price": better}],
                                                     "proration_behavior": "none"})
            elif step == "one_off":
                w.c.v1.payment_intents.create({"customer": cus, "amount": 900, "currency": "usd", "confirm": True,
                                               "payment_method": w.card(cus, default=False),
                                               "automatic_payment_methods": {"enabled": True,
                                                                             "allow_redirects": "never"}})
            elif step == "refund":
                paid = [c for c in w.charges(cus) if c.status == "succeeded" and not c.refunded]
                if paid:
                    w.c.v1.refunds.create({"charge": paid[0].id, "amount": 100})
            elif step == "failing_card":
                w.card(cus, "pm_card_chargeCustomerFail")  # the next renewal fails
        _compare(w, cus, out, monkeypatch)


# --- the quiet case reads none; the cases events explain read them ---------------------------

def test_one_seat_paid_subscriptions_read_no_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pointed_world(monkeypatch, tmp_path) as w:
        clock = w.clock(START)
        cus = w.customer("quiet@example.com", clock=clock)
        price = w.price(w.product(), 1500)
        w.subscribe(cus, price)
        w.subscribe(cus, price)  # an accidental second purchase: still nothing for events to explain
        w.advance(clock, START + 32 * DAY)
        read, rec = _compare(w, cus, tmp_path, monkeypatch)
        assert not read
        assert len(rec["contract"]) == 2


def test_a_cancellation_asked_for_reads_the_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pointed_world(monkeypatch, tmp_path) as w:
        clock = w.clock(START)
        cus = w.customer("asked@example.com", clock=clock)
        sub = w.subscribe(cus, w.price(w.product(), 1500))
        w.advance(clock, START + 32 * DAY)
        w.c.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
        objects = {"subscriptions": [s.to_dict() for s in w.c.v1.subscriptions.list({"customer": cus, "status": "all"})]}
        assert events_needed(objects)
        read, _ = _compare(w, cus, tmp_path, monkeypatch)
        assert read


def test_seats_changed_with_no_proration_read_the_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pointed_world(monkeypatch, tmp_path) as w:
        clock = w.clock(START)
        cus = w.customer("seats@example.com", clock=clock)
        sub = w.subscribe(cus, (w.price(w.product(), 1500), 5))
        item = sub["items"]["data"][0]["id"]
        w.c.v1.subscriptions.update(sub.id, {"items": [{"id": item, "quantity": 1}], "proration_behavior": "none"})
        read, _ = _compare(w, cus, tmp_path, monkeypatch)
        assert read  # five seats on the paid invoice: the events say how the count moved


@pytest.mark.parametrize("down", ["none", "create_prorations"])
def test_seats_changed_and_changed_back_read_the_pending_items_and_the_events(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, down: str) -> None:
    with pointed_world(monkeypatch, tmp_path) as w:
        clock = w.clock(START)
        cus = w.customer("back@example.com", clock=clock)
        sub = w.subscribe(cus, w.price(w.product(), 1500))
        item = sub["items"]["data"][0]["id"]
        w.advance(clock, START + 10 * DAY)
        # up with prorations and back down within the period: what is billed now is what was invoiced
        w.c.v1.subscriptions.update(sub.id, {"items": [{"id": item, "quantity": 3}], "proration_behavior": "create_prorations"})
        w.c.v1.subscriptions.update(sub.id, {"items": [{"id": item, "quantity": 1}], "proration_behavior": down})
        from billing_nb.records.case import open_case

        _requests(w, clear=True)
        case = open_case(case_id="back", customer=cus, output_dir=tmp_path / "back", lookup_kind="customer")
        log = _requests(w)
        assert case.snapshot.extra["events_read"]
        assert sum(p.startswith("/v1/invoiceitems") for p in log) == 1, log
        pending = [ii for ii in case.snapshot.objects.get("invoiceitems", []) if not ii.get("invoice")]
        assert len(pending) == (2 if down == "none" else 4)  # Stripe prorates a change as a credit and a charge
        _compare(w, cus, tmp_path, monkeypatch)
