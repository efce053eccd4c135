"""Coupons: create (percent or amount off, once/repeating/forever), retrieve, update,
delete, list. ``valid`` is recomputed on read from ``redeem_by`` and redemptions."""

from __future__ import annotations

from typing import Any

from ..errors import invalid
from ..filters import range_filter
from ..listing import list_object
from ..params import Params
from ..routing import Ctx, route
from ..store import Obj, Store

__all__: list[str] = []


@route("POST", "/v1/coupons", accepts=("id", "percent_off", "amount_off", "currency", "duration", "duration_in_months", "max_redemptions", "redeem_by", "name", "metadata", "applies_to", "currency_options"))
def create_coupon(ctx: Ctx, p: Params) -> Obj:
    st = ctx.store
    cid = p.str("id") or st.new_id("x", 8)[2:]
    if st.maybe("coupon", cid):
        raise invalid("Coupon already exists.", "id", "resource_already_exists")
    percent = p.str("percent_off")
    amount = p.int("amount_off")
    if (percent is None) == (amount is None):
        raise invalid("You must pass exactly one of percent_off or amount_off.", "percent_off")
    if percent is not None:
        try:
            pct = float(percent)
        except ValueError:
            raise invalid(f"Invalid decimal: {percent}", "percent_off") from None
        if not 0 < pct <= 100:
            raise invalid("Invalid percent_off: must be greater than 0 and at most 100.", "percent_off")
    currency = p.str("currency")
    if amount is not None and not currency:
        raise invalid("You must pass currency when passing amount_off.", "currency", "parameter_missing")
    duration = p.enum("duration", ("forever", "once", "repeating"), "once")
    months = p.int("duration_in_months")
    if duration == "repeating" and not months:
        raise invalid("Missing required param: duration_in_months.", "duration_in_months", "parameter_missing")
    redeem_by = p.int("redeem_by")
    if redeem_by is not None and redeem_by <= st.wall_now():
        raise invalid("Invalid redeem_by: the timestamp must be in the future.", "redeem_by")
    applies = p.sub("applies_to")
    obj: Obj = {
        "id": cid, "object": "coupon", "amount_off": amount, "created": st.wall_now(),
        "currency": currency.lower() if currency else None, "duration": duration,
        "duration_in_months": months if duration == "repeating" else None, "livemode": False,
        "max_redemptions": p.int("max_redemptions"), "metadata": p.metadata(), "name": p.str("name"),
        "percent_off": float(percent) if percent is not None else None, "redeem_by": redeem_by,
        "times_redeemed": 0, "valid": True,
    }
    options = p.sub("currency_options") if p.has("currency_options") else None
    if options is not None:  # API reference, Create a coupon: amount_off per currency (amount_off coupons only)
        if amount is None:
            raise invalid("currency_options is only supported with amount_off.", "currency_options")
        found: dict[str, Any] = {}
        for raw_cur in list(options.data):
            op = options.sub(raw_cur)
            cur = str(raw_cur).lower()
            if op is None or len(cur) != 3 or not cur.isalpha():
                raise invalid(f"Invalid currency_options: {raw_cur} is not a currency code.", f"currency_options[{raw_cur}]")
            op.allow("amount_off")
            off = op.int("amount_off", required=True) or 0
            if off <= 0:
                raise invalid(f"Invalid currency_options[{cur}][amount_off]: must be greater than 0.",
                              f"currency_options[{cur}][amount_off]")
            found[cur] = {"amount_off": off}
        obj["_currency_options"] = found  # "not included by default": shown when expanded
    if applies is not None:
        applies.allow("products")
        obj["applies_to"] = {"products": [str(x) for x in applies.list("products")]}
    st.insert(obj)
    st.emit("coupon.created", obj)
    return obj


def _coupon(store: Store, cid: str) -> Obj:
    obj = store.get("coupon", cid)
    now = store.wall_now()
    spent = obj["max_redemptions"] is not None and obj["times_redeemed"] >= obj["max_redemptions"]
    obj["valid"] = not spent and (obj["redeem_by"] is None or obj["redeem_by"] > now)
    return obj


@route("GET", "/v1/coupons/{cid}", accepts=())
def retrieve_coupon(ctx: Ctx, p: Params, cid: str) -> Obj:
    return _coupon(ctx.store, cid)


@route("POST", "/v1/coupons/{cid}", accepts=("name", "metadata"))
def update_coupon(ctx: Ctx, p: Params, cid: str) -> Obj:
    obj = _coupon(ctx.store, cid)
    previous: dict[str, Any] = {}
    if p.has("name"):
        previous["name"], obj["name"] = obj["name"], p.str("name")
    if p.has("metadata"):
        previous["metadata"], obj["metadata"] = dict(obj["metadata"]), p.metadata(obj["metadata"])
    ctx.store.emit("coupon.updated", obj, previous=previous)
    return obj


@route("DELETE", "/v1/coupons/{cid}", accepts=())
def delete_coupon(ctx: Ctx, p: Params, cid: str) -> Obj:
    obj = ctx.store.get("coupon", cid)
    obj["deleted"] = True
    ctx.store.emit("coupon.deleted", obj)
    return {"id": cid, "object": "coupon", "deleted": True}


@route("GET", "/v1/coupons", accepts=("created", "limit", "starting_after", "ending_before"))
def list_coupons(ctx: Ctx, p: Params) -> Obj:
    keep = range_filter(p)
    return list_object(p, [_coupon(ctx.store, o["id"]) for o in ctx.store.all("coupon") if keep(o)], "/v1/coupons")
