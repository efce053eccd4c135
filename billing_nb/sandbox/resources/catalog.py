"""The catalogue: products and prices (one-off and recurring); coupons live in coupons.py.

Prices are immutable in amount and interval once created, as in Stripe; only
``active``, ``nickname``, ``lookup_key``, ``metadata`` and ``tax_behavior`` change.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ..engine import pricing as ep
from ..errors import ApiError, invalid
from ..filters import range_filter
from ..listing import list_page
from ..params import Params
from ..routing import Ctx, route
from ..store import Obj, Store

__all__ = ["build_price", "price_amount"]

_INTERVALS = ("day", "week", "month", "year")
_MAX_COUNT = {"day": 1095, "week": 156, "month": 36, "year": 3}  # three years, as Stripe
_TAX = ("exclusive", "inclusive", "unspecified")
_PRODUCT_FIELDS = ("name", "active", "description", "metadata", "images", "unit_label", "url",
                   "statement_descriptor", "tax_code", "shippable", "marketing_features")


def _exists(kind: str, obj_id: str) -> ApiError:
    return invalid(f"{kind} already exists.", "id", "resource_already_exists")


# ----- products --------------------------------------------------------------------------
def _apply_product(obj: Obj, p: Params) -> dict[str, Any]:
    previous: dict[str, Any] = {}
    for field in ("name", "description", "unit_label", "url", "statement_descriptor", "tax_code"):
        if p.has(field):
            previous[field] = obj.get(field)
            obj[field] = p.str(field)
    for field in ("active", "shippable"):
        if p.has(field):
            previous[field] = obj.get(field)
            obj[field] = p.bool(field)
    if p.has("images"):
        previous["images"] = obj["images"]
        obj["images"] = [str(x) for x in p.list("images")]
    if p.has("marketing_features"):
        previous["marketing_features"] = obj["marketing_features"]
        obj["marketing_features"] = [{"name": (f or {}).get("name")} for f in p.list("marketing_features")]
    if p.has("metadata"):
        previous["metadata"] = dict(obj["metadata"])
        obj["metadata"] = p.metadata(obj["metadata"])
    return previous


def build_product(store: Store, p: Params, product_id: str | None = None) -> Obj:
    """A new product from ``name`` and friends (also used for ``product_data``)."""
    now = store.wall_now()
    obj: Obj = {
        "id": product_id or store.new_id("prod", 14), "object": "product", "active": True,
        "created": now, "default_price": None, "description": None, "images": [], "livemode": False,
        "marketing_features": [], "metadata": {}, "name": p.req("name"), "package_dimensions": None,
        "shippable": None, "statement_descriptor": None, "tax_code": None, "type": "service",
        "unit_label": None, "updated": now, "url": None,
    }
    if p.has("type"):  # API reference, Create a product: type is good or service (default service)
        obj["type"] = p.enum("type", ("good", "service"), "service")
    _apply_product(obj, p)
    store.insert(obj)
    store.emit("product.created", obj)
    return obj


@route("POST", "/v1/products", accepts=("id", "default_price_data", "type", *_PRODUCT_FIELDS))
def create_product(ctx: Ctx, p: Params) -> Obj:
    st = ctx.store
    pid = p.str("id")
    if pid and st.maybe("product", pid):
        raise _exists("Product", pid)
    obj = build_product(st, p, pid)
    dpd = p.sub("default_price_data")
    if dpd is not None:
        dpd.allow("currency", "unit_amount", "unit_amount_decimal", "recurring", "tax_behavior", "metadata")
        price = build_price(st, dpd, obj["id"])
        obj["default_price"] = price["id"]
    return obj


@route("GET", "/v1/products/{pid}", accepts=())
def retrieve_product(ctx: Ctx, p: Params, pid: str) -> Obj:
    return ctx.store.get("product", pid)


@route("POST", "/v1/products/{pid}", accepts=("default_price", *_PRODUCT_FIELDS))
def update_product(ctx: Ctx, p: Params, pid: str) -> Obj:
    st = ctx.store
    obj = st.get("product", pid)
    previous = _apply_product(obj, p)
    if p.has("default_price"):
        price_id = p.str("default_price")
        if price_id:
            price = st.get("price", price_id, "default_price")
            if price["product"] != pid:
                raise invalid(f"The price `{price_id}` does not belong to product `{pid}`.", "default_price")
        previous["default_price"] = obj["default_price"]
        obj["default_price"] = price_id
    obj["updated"] = st.wall_now()
    st.emit("product.updated", obj, previous=previous)
    return obj


@route("DELETE", "/v1/products/{pid}", accepts=())
def delete_product(ctx: Ctx, p: Params, pid: str) -> Obj:
    st = ctx.store
    obj = st.get("product", pid)
    if st.where("price", product=pid):
        raise invalid("This product cannot be deleted because it has one or more user-created prices.")
    obj["deleted"] = True
    st.emit("product.deleted", obj)
    return {"id": pid, "object": "product", "deleted": True}


@route("GET", "/v1/products", accepts=("active", "ids", "created", "shippable", "url", "limit", "starting_after",
                                      "ending_before"))
def list_products(ctx: Ctx, p: Params) -> Obj:
    active, ids, keep = p.bool("active"), set(p.list("ids")), range_filter(p)
    shippable, url = p.bool("shippable"), p.str("url")
    return list_page(p, ctx.store, "product", lambda o: (active is None or o["active"] == active)
                     and (not ids or o["id"] in ids) and keep(o)
                     and (shippable is None or o.get("shippable") == shippable) and (url is None or o.get("url") == url),
                     "/v1/products")


# ----- prices ----------------------------------------------------------------------------
def _recurring(p: Params | None) -> dict[str, Any] | None:
    if p is None:
        return None
    p.allow("interval", "interval_count", "usage_type", "trial_period_days", "meter")
    interval = p.enum("interval", _INTERVALS)
    if interval is None:
        raise invalid("Missing required param: recurring[interval].", "recurring[interval]", "parameter_missing")
    count = p.int("interval_count", 1) or 1
    if count < 1 or count > _MAX_COUNT[interval]:
        raise invalid("Invalid recurring[interval_count]: the maximum is three years "
                      "(3 years, 36 months, 156 weeks or 1095 days).", "recurring[interval_count]")
    return {"interval": interval, "interval_count": count, "meter": p.str("meter"),
            "trial_period_days": p.int("trial_period_days"),
            "usage_type": p.enum("usage_type", ("licensed", "metered"), "licensed")}


def _take_lookup_key(store: Store, key: str | None, transfer: bool, price_id: str) -> None:
    if not key:
        return
    for other in store.all("price"):
        if other["id"] != price_id and other.get("lookup_key") == key:
            if not transfer:
                raise invalid(f"A price (`{other['id']}`) already uses that lookup key.", "lookup_key")
            other["lookup_key"] = None


def _tier_params(p: Params) -> list[dict[str, Any]]:
    """``tiers[n][...]`` as given, checked as Stripe checks them: each tier has a unit or a flat
    amount (not both forms of either), bounds rise, and the last tier is ``inf``."""
    raw = p.list("tiers")
    out: list[dict[str, Any]] = []
    last = 0
    for n, t in enumerate(raw):
        if not isinstance(t, dict):
            raise invalid(f"Invalid object: tiers[{n}]", f"tiers[{n}]")
        tp = Params(t, prefix=f"tiers[{n}][")
        tp.allow("up_to", "unit_amount", "unit_amount_decimal", "flat_amount", "flat_amount_decimal")
        up = tp.str("up_to")
        if up is None:
            raise invalid(f"Missing required param: tiers[{n}][up_to].", f"tiers[{n}][up_to]", "parameter_missing")
        if up != "inf":
            bound = tp.int("up_to") or 0
            if bound <= last:
                raise invalid("Tier bounds must be increasing (each up_to greater than the one before).",
                              f"tiers[{n}][up_to]")
            last = bound
        elif n != len(raw) - 1:
            raise invalid("Only the last tier may have an up_to of `inf`.", f"tiers[{n}][up_to]")
        for a, b in (("unit_amount", "unit_amount_decimal"), ("flat_amount", "flat_amount_decimal")):
            if tp.has(a) and tp.has(b):
                raise invalid(f"You may only specify one of these parameters: {a}, {b}.", f"tiers[{n}][{a}]")
            if tp.has(a) and (tp.int(a) or 0) < 0:
                raise invalid(f"Invalid integer: tiers[{n}][{a}] must be at least 0", f"tiers[{n}][{a}]")
            if tp.has(b) and tp.str(b) is not None:
                _decimal_param(tp, b)
        if not any(tp.has(k) for k in ("unit_amount", "unit_amount_decimal", "flat_amount", "flat_amount_decimal")):
            raise invalid(f"Missing required param: tiers[{n}][unit_amount] or tiers[{n}][flat_amount].",
                          f"tiers[{n}]", "parameter_missing")
        out.append({k: tp.str(k) for k in ("up_to", "unit_amount", "unit_amount_decimal", "flat_amount",
                                            "flat_amount_decimal")})
    if not out:
        raise invalid("Missing required param: tiers.", "tiers", "parameter_missing")
    if out[-1]["up_to"] != "inf":
        raise invalid("The last tier must have an up_to of `inf`.", f"tiers[{len(out) - 1}][up_to]")
    return out


def _decimal_param(p: Params, name: str) -> Decimal:
    """A decimal amount in minor units, at most 12 places (the API reference), not negative."""
    text = p.str(name) or ""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise invalid(f"Invalid decimal: {text}", p._name(name)) from None
    if not value.is_finite() or value < 0 or -int(value.as_tuple().exponent) > 12:
        raise invalid(f"Invalid decimal: {text}; at most 12 decimal places, not negative", p._name(name))
    return value


def _currency_options(p: Params, currency: str, scheme: str, tax: str | None) -> dict[str, Obj]:
    """``currency_options[cur][...]`` (API reference, Create a price): per currency a unit amount
    (or decimal) for a per-unit price, tiers for a tiered one, and a tax behaviour. Stored as the
    price's ``_currency_options`` (rendered when ``currency_options`` is expanded)."""
    given = p.sub("currency_options") if p.has("currency_options") else None
    if given is None:
        return {}
    out: dict[str, Obj] = {}
    for raw_cur in list(given.data):
        cur = str(raw_cur).lower()
        op = given.sub(raw_cur)
        if op is None or len(cur) != 3 or not cur.isalpha():
            raise invalid(f"Invalid currency_options: {raw_cur} is not a currency code.", f"currency_options[{raw_cur}]")
        op.allow("unit_amount", "unit_amount_decimal", "tax_behavior", "tiers")
        if cur == currency:
            raise invalid(f"currency_options[{cur}] repeats the price's own currency; set its amount with unit_amount.",
                          f"currency_options[{cur}]")
        amount, decimal = op.int("unit_amount"), op.str("unit_amount_decimal")
        if amount is not None and decimal is not None:
            raise invalid("You may only specify one of these parameters: unit_amount, unit_amount_decimal.",
                          f"currency_options[{cur}][unit_amount]")
        tiers: list[Obj] | None = None
        if scheme == "tiered":
            if amount is not None or decimal is not None:
                raise invalid("You may not specify unit_amount with billing_scheme=tiered; use tiers.",
                              f"currency_options[{cur}][unit_amount]")
            tiers = ep.parse_tiers(_tier_params(op))
        else:
            if op.has("tiers") and op.list("tiers"):
                raise invalid("tiers requires billing_scheme=tiered.", f"currency_options[{cur}][tiers]")
            if amount is None and decimal is None:
                raise invalid(f"Missing required param: currency_options[{cur}][unit_amount].",
                              f"currency_options[{cur}][unit_amount]", "parameter_missing")
            if amount is not None and amount < 0:
                raise invalid(f"Invalid integer: currency_options[{cur}][unit_amount] must be at least 0",
                              f"currency_options[{cur}][unit_amount]")
            if amount is None and decimal is not None:
                value = _decimal_param(op, "unit_amount_decimal")
                amount = int(value) if value == value.to_integral_value() else None
        out[cur] = {"custom_unit_amount": None, "tax_behavior": op.enum("tax_behavior", _TAX, tax) or tax,
                    "unit_amount": amount,
                    "unit_amount_decimal": None if scheme == "tiered" else (decimal if decimal is not None else str(amount)),
                    "_tiers": tiers}
    return out


def build_price(store: Store, p: Params, product_id: str) -> Obj:
    """A new price for ``product_id`` from create params (also ``default_price_data``): per
    unit (``unit_amount`` or ``unit_amount_decimal``), package (``transform_quantity``) or tiered
    (``billing_scheme=tiered`` with ``tiers`` and ``tiers_mode``)."""
    currency = p.req("currency").lower()
    scheme = p.enum("billing_scheme", ("per_unit", "tiered"), "per_unit") if p.has("billing_scheme") else "per_unit"
    amount = p.int("unit_amount")
    decimal = p.str("unit_amount_decimal")
    if amount is not None and decimal is not None:
        raise invalid("You may only specify one of these parameters: unit_amount, unit_amount_decimal.", "unit_amount")
    tiers: list[Obj] | None = None
    tiers_mode = None
    transform = None
    if scheme == "tiered":
        if amount is not None or decimal is not None:
            raise invalid("You may not specify unit_amount with billing_scheme=tiered; use tiers.", "unit_amount")
        if p.has("transform_quantity") and p.sub("transform_quantity") is not None:
            raise invalid("transform_quantity cannot be combined with tiers.", "transform_quantity")
        tiers_mode = p.enum("tiers_mode", ("graduated", "volume"))
        if tiers_mode is None:
            raise invalid("Missing required param: tiers_mode.", "tiers_mode", "parameter_missing")
        tiers = ep.parse_tiers(_tier_params(p))
    else:
        if p.has("tiers") and p.list("tiers"):
            raise invalid("tiers requires billing_scheme=tiered.", "tiers")
        if p.has("tiers_mode") and p.str("tiers_mode"):
            raise invalid("tiers_mode requires billing_scheme=tiered.", "tiers_mode")
        if amount is None and decimal is None:
            raise invalid("Missing required param: unit_amount.", "unit_amount", "parameter_missing")
        if amount is not None and amount < 0:
            raise invalid("Invalid integer: unit_amount must be at least 0", "unit_amount")
        if amount is None and decimal is not None:
            value = _decimal_param(p, "unit_amount_decimal")
            amount = int(value) if value == value.to_integral_value() else None
        tq = p.sub("transform_quantity") if p.has("transform_quantity") else None
        if tq is not None:
            tq.allow("divide_by", "round")
            divide = tq.int("divide_by", required=True) or 0
            if divide < 1:
                raise invalid("Invalid integer: transform_quantity[divide_by] must be at least 1",
                              "transform_quantity[divide_by]")
            rnd = tq.enum("round", ("up", "down"))
            if rnd is None:
                raise invalid("Missing required param: transform_quantity[round].", "transform_quantity[round]",
                              "parameter_missing")
            transform = {"divide_by": divide, "round": rnd}
    recurring = _recurring(p.sub("recurring"))
    pid = store.new_id("price")
    lookup = p.str("lookup_key") if p.has("lookup_key") else None
    _take_lookup_key(store, lookup, bool(p.bool("transfer_lookup_key", False)) if p.has("transfer_lookup_key") else False, pid)
    unit_dec = None if scheme == "tiered" else (decimal if decimal is not None else str(amount))
    obj: Obj = {
        "id": pid, "object": "price", "active": p.bool("active", True) if p.has("active") else True,
        "billing_scheme": scheme, "created": store.wall_now(), "currency": currency,
        "custom_unit_amount": None, "livemode": False, "lookup_key": lookup,
        "metadata": p.metadata(), "nickname": p.str("nickname") if p.has("nickname") else None,
        "product": product_id, "recurring": recurring,
        "tax_behavior": p.enum("tax_behavior", _TAX, "unspecified"), "tiers_mode": tiers_mode,
        "transform_quantity": transform, "type": "recurring" if recurring else "one_time",
        "unit_amount": amount, "unit_amount_decimal": unit_dec,
    }
    if tiers is not None:
        obj["_tiers"] = tiers  # "not included by default": shown when expanded (engine.render)
    options = _currency_options(p, currency, scheme or "per_unit", obj["tax_behavior"])
    if options:  # "not included by default" either: shown when ``currency_options`` is expanded
        obj["_currency_options"] = options
    store.insert(obj)
    store.emit("price.created", obj)
    return obj


def price_amount(price: Obj, quantity: int = 1) -> int:
    """Amount in minor units for ``quantity`` of a price, under its own pricing model."""
    return ep.line_amount(price, quantity)


@route("POST", "/v1/prices", accepts=("currency", "product", "product_data", "unit_amount", "unit_amount_decimal",
                                     "recurring", "active", "nickname", "metadata", "lookup_key", "transfer_lookup_key",
                                     "tax_behavior", "billing_scheme", "tiers", "tiers_mode", "transform_quantity",
                                     "currency_options"))
def create_price(ctx: Ctx, p: Params) -> Obj:
    st = ctx.store
    product_id = p.str("product")
    data = p.sub("product_data")
    if product_id and data is not None:
        raise invalid("You may only specify one of these parameters: product, product_data.", "product")
    if product_id:
        st.get("product", product_id, "product")
    elif data is not None:
        data.allow("name", "active", "metadata", "statement_descriptor", "tax_code", "unit_label", "id")
        product_id = build_product(st, data, data.str("id"))["id"]
    else:
        raise invalid("Missing required param: product.", "product", "parameter_missing")
    return build_price(st, p, product_id)


@route("GET", "/v1/prices/{price_id}", accepts=())
def retrieve_price(ctx: Ctx, p: Params, price_id: str) -> Obj:
    return ctx.store.get("price", price_id)


@route("POST", "/v1/prices/{price_id}", accepts=("active", "nickname", "metadata", "lookup_key", "transfer_lookup_key",
                                                 "tax_behavior"))
def update_price(ctx: Ctx, p: Params, price_id: str) -> Obj:
    st = ctx.store
    obj = st.get("price", price_id)
    previous: dict[str, Any] = {}
    if p.has("active"):
        previous["active"], obj["active"] = obj["active"], p.bool("active")
    if p.has("nickname"):
        previous["nickname"], obj["nickname"] = obj["nickname"], p.str("nickname")
    if p.has("tax_behavior"):
        previous["tax_behavior"], obj["tax_behavior"] = obj["tax_behavior"], p.enum("tax_behavior", _TAX)
    if p.has("lookup_key"):
        key = p.str("lookup_key")
        _take_lookup_key(st, key, bool(p.bool("transfer_lookup_key", False)), price_id)
        previous["lookup_key"], obj["lookup_key"] = obj["lookup_key"], key
    if p.has("metadata"):
        previous["metadata"], obj["metadata"] = dict(obj["metadata"]), p.metadata(obj["metadata"])
    st.emit("price.updated", obj, previous=previous)
    return obj


@route("GET", "/v1/prices", accepts=("active", "currency", "product", "type", "lookup_keys", "recurring", "created",
                                    "limit", "starting_after", "ending_before"))
def list_prices(ctx: Ctx, p: Params) -> Obj:
    active, currency, product = p.bool("active"), p.str("currency"), p.str("product")
    kind = p.enum("type", ("one_time", "recurring"))
    keys = {str(k) for k in p.list("lookup_keys")}
    rec = p.sub("recurring")
    interval = usage = None
    if rec is not None:
        rec.allow("interval", "usage_type")
        interval, usage = rec.enum("interval", _INTERVALS), rec.enum("usage_type", ("licensed", "metered"))
    keep = range_filter(p)

    def ok(o: Obj) -> bool:
        r = o.get("recurring") or {}
        return ((active is None or o["active"] == active) and (currency is None or o["currency"] == currency.lower())
                and (product is None or o["product"] == product) and (kind is None or o["type"] == kind)
                and (not keys or o.get("lookup_key") in keys)
                and (rec is None or bool(r)) and (interval is None or r.get("interval") == interval)
                and (usage is None or r.get("usage_type") == usage) and keep(o))

    return list_page(p, ctx.store, "price", ok, "/v1/prices")
