"""Test clocks (``/v1/test_helpers/test_clocks``): create, retrieve, list, delete, advance.

Advancing runs the billing engine for every customer on the clock, in time order, so
renewals, failed payments, retries and cancellations happen at their simulated moments.
The advance call answers ``status: advancing`` as Stripe does; by the time a client
polls, the clock is ``ready`` (the work is done inside the request).
"""

from __future__ import annotations

import copy

from ..engine import clock as ek
from ..engine import core as en
from ..errors import invalid
from ..listing import list_object
from ..params import Params
from ..routing import Ctx, route
from ..store import Obj, Store

BASE = "/v1/test_helpers/test_clocks"
KIND = "test_helpers.test_clock"


@route("POST", BASE, accepts=("frozen_time", "name"))
def create_clock(ctx: Ctx, p: Params) -> Obj:
    st = ctx.store
    frozen = p.int("frozen_time", required=True)
    assert frozen is not None
    now = st.wall_now()
    clock = st.insert({
        "id": st.new_id("clock"), "object": KIND, "created": now, "deletes_after": now + 30 * 86400,
        "frozen_time": frozen, "livemode": False, "name": p.str("name"), "status": "ready", "status_details": {},
    })
    st.emit("test_helpers.test_clock.created", clock)
    return clock


@route("GET", BASE + "/{cid}", accepts=())
def retrieve_clock(ctx: Ctx, p: Params, cid: str) -> Obj:
    found = ctx.store.maybe(KIND, cid)
    if found is not None and found.get("deleted"):
        return {"id": cid, "object": KIND, "deleted": True}
    return ctx.store.get(KIND, cid)


@route("GET", BASE, accepts=("limit", "starting_after", "ending_before"))
def list_clocks(ctx: Ctx, p: Params) -> Obj:
    return list_object(p, ctx.store.all(KIND), BASE)


@route("DELETE", BASE + "/{cid}", accepts=())
def delete_clock(ctx: Ctx, p: Params, cid: str) -> Obj:
    """Deleting a clock deletes its customers (and so their subscriptions), as Stripe does."""
    st = ctx.store
    clock = st.get(KIND, cid)
    for cust in st.all("customer"):
        if cust.get("test_clock") == cid:
            cust["deleted"] = True
            for sub in st.where("subscription", customer=cust["id"]):
                if sub["status"] not in ("canceled", "incomplete_expired"):
                    sub.update(status="canceled", ended_at=clock["frozen_time"], canceled_at=clock["frozen_time"])
    clock["deleted"] = True
    st.emit("test_helpers.test_clock.deleted", clock)
    return {"id": cid, "object": KIND, "deleted": True}


def _advance_limit(st: Store, cid: str, frozen: int) -> int:
    """The latest ``frozen_time`` one advance may reach.

    Stripe's API reference (Advance a test clock, ``frozen_time``): "Cannot be more than two
    intervals in the future from the shortest subscription in this test clock. If there are
    no subscriptions in this test clock, it cannot be more than two years in the future."
    The error's exact wording is not documented; ours says the same thing.
    """
    customers = {c["id"] for c in st.all("customer") if c.get("test_clock") == cid}
    limits = [en.add_interval(frozen, *(lambda i: (i[0], 2 * i[1]))(en.interval_of(item["price"])))
              for sub in st.all("subscription")
              if sub["customer"] in customers and sub["status"] not in ("canceled", "incomplete_expired")
              for item in sub["items"]["data"]]
    return min(limits) if limits else en.add_interval(frozen, "year", 2)


@route("POST", BASE + "/{cid}/advance", accepts=("frozen_time",))
def advance_clock(ctx: Ctx, p: Params, cid: str) -> Obj:
    st = ctx.store
    clock = st.get(KIND, cid)
    target = p.int("frozen_time", required=True)
    assert target is not None
    if target <= int(clock["frozen_time"]):
        raise invalid("The frozen_time must be after the test clock's current frozen_time "
                      f"({clock['frozen_time']}).", "frozen_time")
    limit = _advance_limit(st, cid, int(clock["frozen_time"]))
    if target > limit:
        raise invalid(
            "Cannot advance the test clock more than two intervals of the shortest subscription in this test clock "
            f"(or two years when it has none): frozen_time must be at most {limit}.", "frozen_time")
    clock["status"] = "advancing"
    st.emit("test_helpers.test_clock.advancing", clock)
    answer = copy.deepcopy(clock)
    answer["frozen_time"] = target
    try:
        ek.advance_clock(st, cid, target)
    finally:
        clock["status"] = "ready"
    st.emit("test_helpers.test_clock.ready", clock)
    return answer
