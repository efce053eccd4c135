"""Tax rates: create, retrieve, update, list (API reference, Tax Rates).

A tax rate is a percentage, ``inclusive`` (already in the price) or exclusive (added on
top), applied to invoice lines through ``default_tax_rates`` (subscriptions, invoices) or
``tax_rates`` (subscription items, invoice items); ``percentage`` and ``inclusive`` can't change
after creation, and a rate is archived with ``active=false`` (it still works where it is set).
What a rate takes off or adds is :mod:`billing_nb.sandbox.engine.taxes`.
"""

from __future__ import annotations

from fractions import Fraction

from ..errors import invalid
from ..filters import range_filter
from ..listing import list_page
from ..params import Params
from ..routing import Ctx, route
from ..store import Obj

__all__: list[str] = []

TAX_TYPES = ("amusement_tax", "communications_tax", "gst", "hst", "igst", "jct", "lease_tax", "pst", "qst",
             "retail_delivery_fee", "rst", "sales_tax", "service_tax", "vat")
_TEXT = ("country", "description", "jurisdiction", "state")


def _percentage(p: Params) -> float:
    raw = p.str("percentage", required=True) or ""
    try:
        value = Fraction(raw)
    except (ValueError, ZeroDivisionError):
        raise invalid(f"Invalid decimal: {raw}", "percentage") from None
    if not 0 <= value <= 100:
        raise invalid("Invalid percentage: must be between 0 and 100.", "percentage")
    return float(value)


@route("POST", "/v1/tax_rates", accepts=("display_name", "percentage", "inclusive", "active", "country",
                                        "description", "jurisdiction", "metadata", "state", "tax_type"))
def create_tax_rate(ctx: Ctx, p: Params) -> Obj:
    st = ctx.store
    name = p.str("display_name", required=True)
    pct = _percentage(p)
    if not p.has("inclusive"):
        raise invalid("Missing required param: inclusive.", "inclusive", "parameter_missing")
    obj: Obj = {
        "id": st.new_id("txr"), "object": "tax_rate", "active": bool(p.bool("active", True)),
        "country": None, "created": st.wall_now(), "description": None, "display_name": name,
        "effective_percentage": pct, "flat_amount": None, "inclusive": bool(p.bool("inclusive")),
        "jurisdiction": None, "jurisdiction_level": None, "livemode": False, "metadata": p.metadata(),
        "percentage": pct, "rate_type": "percentage", "state": None,
        "tax_type": p.enum("tax_type", TAX_TYPES),
    }
    for field in _TEXT:
        obj[field] = p.str(field)
    st.insert(obj)
    st.emit("tax_rate.created", obj)
    return obj


@route("GET", "/v1/tax_rates/{tid}", accepts=())
def retrieve_tax_rate(ctx: Ctx, p: Params, tid: str) -> Obj:
    return ctx.store.get("tax_rate", tid)


@route("POST", "/v1/tax_rates/{tid}", accepts=("active", "country", "description", "display_name", "jurisdiction",
                                              "metadata", "state", "tax_type"))
def update_tax_rate(ctx: Ctx, p: Params, tid: str) -> Obj:
    obj = ctx.store.get("tax_rate", tid)
    previous: Obj = {}
    for field in (*_TEXT, "display_name"):
        if p.has(field):
            previous[field], obj[field] = obj[field], p.str(field)
    if p.has("active"):
        previous["active"], obj["active"] = obj["active"], bool(p.bool("active"))
    if p.has("tax_type"):
        previous["tax_type"], obj["tax_type"] = obj["tax_type"], p.enum("tax_type", TAX_TYPES)
    if p.has("metadata"):
        previous["metadata"], obj["metadata"] = dict(obj["metadata"]), p.metadata(obj["metadata"])
    ctx.store.emit("tax_rate.updated", obj, previous=previous)
    return obj


@route("GET", "/v1/tax_rates", accepts=("active", "inclusive", "created", "limit", "starting_after", "ending_before"))
def list_tax_rates(ctx: Ctx, p: Params) -> Obj:
    active, inclusive, keep = p.bool("active"), p.bool("inclusive"), range_filter(p)
    return list_page(p, ctx.store, "tax_rate", lambda o: (active is None or o["active"] == active)
                     and (inclusive is None or o["inclusive"] == inclusive) and keep(o), "/v1/tax_rates")
