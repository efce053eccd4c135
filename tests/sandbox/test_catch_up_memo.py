"""The account-wide catch-up (an unfiltered list) scans the account once, then, until the
next thing falls due, answers from its memo: at 50k subscriptions the scan took 0.35 s and a
sync listing subscriptions paid it on every page (a 100-object page: median 730 ms). A write
(API or an insert straight into the store) or the due time passing makes it scan again."""

from __future__ import annotations

from typing import Any

import pytest

from billing_nb.sandbox.engine import clock
from billing_nb.sandbox.store import Store


def _sub(i: int, end: int) -> dict[str, Any]:
    return {"id": f"sub_m{i}", "object": "subscription", "customer": f"cus_m{i}", "status": "active", "created": 0,
            "cancel_at": None,
            "items": {"data": [{"current_period_start": end - 100, "current_period_end": end}]}}


@pytest.fixture()
def store(monkeypatch: pytest.MonkeyPatch) -> Store:
    st = Store()
    for i in range(3):
        st.insert({"id": f"cus_m{i}", "object": "customer", "test_clock": None})
        st.insert(_sub(i, 10_000 + i))
    return st


def test_account_catch_up_scans_once_until_something_falls_due(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [5_000]
    monkeypatch.setattr(store, "wall_now", lambda: now[0])
    scans: list[int] = []
    real = clock._next_due
    monkeypatch.setattr(clock, "_next_due", lambda *a: scans.append(now[0]) or real(*a))
    ran: list[str] = []
    def renew(st: Store, sub: dict[str, Any]) -> None:
        ran.append(sub["id"])
        sub["items"]["data"][0]["current_period_end"] += 1_000_000

    monkeypatch.setitem(clock._RUN, "cycle", renew)
    clock.catch_up(store)
    assert len(scans) == 1 and store.caught_up["*next"] == 10_000
    for t in (5_001, 6_000, 9_999):  # a new wall second each, nothing due: no scan
        now[0] = t
        clock.catch_up(store)
    assert len(scans) == 1 and ran == []
    now[0] = 10_001  # the first renewal's time has come: scanned, run, and the memo moves on
    clock.catch_up(store)
    assert ran == ["sub_m0", "sub_m1"] and store.caught_up["*next"] == 10_002
    before = len(scans)
    store.insert(_sub(9, 10_001))  # straight into the store: a new shape, so it scans again
    store.insert({"id": "cus_m9", "object": "customer", "test_clock": None})
    now[0] = 10_001 + 1
    clock.catch_up(store)
    assert len(scans) > before and "sub_m9" in ran
    before = len(scans)
    now[0] += 1
    clock.catch_up(store)
    assert len(scans) == before  # memo again
    clock.forget_next_due(store)  # what the app does after every write
    now[0] += 1
    clock.catch_up(store)
    assert len(scans) > before
