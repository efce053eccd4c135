"""Events: list (``type`` with ``*`` wildcards, ``types``, ``created``) and retrieve.

Handlers record events with ``Store.emit``; this module only reads them. Before
listing, open checkout sessions past their ``expires_at`` are expired so that their
``checkout.session.expired`` events appear, as they would on Stripe.
"""

from __future__ import annotations

import re

from ..errors import invalid
from ..filters import range_filter
from ..listing import list_page
from ..params import Params
from ..routing import Ctx, route
from ..store import Obj
from .checkout import expire_due_sessions

__all__ = ["matches"]


def matches(event_type: str, pattern: str | None, types: list[str]) -> bool:
    """Stripe's ``type`` filter (``*`` matches any run of characters) and exact ``types``."""
    if pattern and not re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), event_type):
        return False
    return not types or event_type in types


@route("GET", "/v1/events", accepts=("type", "types", "created", "limit", "starting_after", "ending_before"))
def list_events(ctx: Ctx, p: Params) -> Obj:
    pattern = p.str("type")
    types = [str(t) for t in p.list("types")]
    if pattern and types:
        raise invalid("You may only specify one of these parameters: type, types.", "types")
    if len(types) > 20:
        raise invalid("Invalid array: types can hold at most 20 event types.", "types")
    expire_due_sessions(ctx.store)
    keep = range_filter(p)
    return list_page(p, ctx.store, "event", lambda e: matches(e["type"], pattern, types) and keep(e), "/v1/events")


@route("GET", "/v1/events/{event_id}", accepts=())
def retrieve_event(ctx: Ctx, p: Params, event_id: str) -> Obj:
    return ctx.store.get("event", event_id)
