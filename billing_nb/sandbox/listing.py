"""Lists, search results and ``expand``, the same way for every resource."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from .errors import invalid
from .expandable import INCLUDABLE, check_expand_paths
from .params import Params
from .store import Obj, Store

__all__ = ["list_object", "list_page", "search_object", "expand"]


def _limit(p: Params) -> int:
    """``limit`` between 1 and 100, refused with Stripe's wording otherwise."""
    limit = p.int("limit", 10)
    assert limit is not None
    if limit < 1:
        raise invalid("This value must be greater than or equal to 1.", "limit", "parameter_invalid_integer")
    if limit > 100:
        raise invalid("This value must be less than or equal to 100.", "limit", "parameter_invalid_integer")
    return limit


def list_object(p: Params, items: Iterable[Obj], url: str) -> Obj:
    """Paginate ``items`` (already newest first) with limit/starting_after/ending_before."""
    rows = list(items)
    limit = _limit(p)
    after = p.str("starting_after")
    before = p.str("ending_before")
    ids = [o["id"] for o in rows]
    if after:
        if after not in ids:
            raise invalid(f"Invalid starting_after id: {after}", "starting_after", "resource_missing")
        rows = rows[ids.index(after) + 1 :]
        page = rows[:limit]
    elif before:
        if before not in ids:
            raise invalid(f"Invalid ending_before id: {before}", "ending_before", "resource_missing")
        rows = rows[: ids.index(before)]
        page = rows[-limit:]
    else:
        page = rows[:limit]
    return {"object": "list", "data": page, "has_more": len(rows) > len(page), "url": url}


def list_page(p: Params, store: Store, kind: str, keep: Callable[[Obj], bool], url: str, **index: Any) -> Obj:
    """A list page read from the store's creation order: from the cursor's position (an
    ``INDEXED`` equality in ``index`` narrows the walk to that value's objects), objects are
    tested with ``keep`` until ``limit + 1`` match, so a page costs its own length, not
    the kind's size (https://docs.stripe.com/api/pagination)."""
    limit = _limit(p)
    after = p.str("starting_after")
    before = p.str("ending_before")
    for name, cursor in (("starting_after", after), ("ending_before", before)):
        if cursor and store.position(kind, cursor) is None:
            raise invalid(f"Invalid {name} id: {cursor}", name, "resource_missing")
    walk = store.newer(kind, before, **index) if before else store.newest(kind, after, **index)
    taken: list[Obj] = []
    for obj in walk:
        if all(v is None or obj.get(k) == v for k, v in index.items()) and keep(obj):
            taken.append(obj)
            if len(taken) > limit:
                break
    page = taken[:limit]
    if before:  # walked upward from the cursor: closest first; a page is newest first
        page.reverse()
    return {"object": "list", "data": page, "has_more": len(taken) > limit, "url": url}


def search_object(p: Params, items: Iterable[Obj], url: str) -> Obj:
    """Search results: ``page`` is the offset, as an opaque string."""
    rows = list(items)
    limit = _limit(p)
    start = int(p.str("page") or 0)
    page = rows[start : start + limit]
    more = len(rows) > start + limit
    out: Obj = {
        "object": "search_result",
        "data": page,
        "has_more": more,
        "next_page": str(start + limit) if more else None,
        "url": url,
    }
    if "total_count" in p.expand():  # an includable: only when asked for (docs.stripe.com/search)
        out["total_count"] = len(rows)
    return out


def _expand_path(store: Store, node: Any, parts: list[str], full: str) -> Any:
    if not parts or node is None:
        return node
    if isinstance(node, list):
        return [_expand_path(store, item, parts, full) for item in node]
    if not isinstance(node, dict):
        return node
    key, rest = parts[0], parts[1:]
    if key not in node:
        raise invalid(f"This property cannot be expanded ({full}).", "expand")
    value = node[key]
    if isinstance(value, str):
        found = store.find(value)
        if found is None:
            raise invalid(f"This property cannot be expanded ({full}).", "expand")
        value = copy.deepcopy(found)
    elif isinstance(value, list):  # a list of ids (``discounts``): each one expands
        value = [copy.deepcopy(store.find(v) or v) if isinstance(v, str) else v for v in value]
    node[key] = _expand_path(store, value, rest, full)
    return node


def expand(store: Store, obj: Obj, paths: list[str]) -> Obj:
    """``obj`` with each dotted path's ids replaced by objects: a copy when there are paths,
    ``obj`` itself when there are none (never mutated here either way)."""
    for path in paths:
        if len(path.split(".")) > 4:  # the ``data.`` of a list counts as a level
            raise invalid(f"You cannot expand more than 4 levels of a property. Property: {path}",
                          "expand", "property_expansion_max_depth")
    check_expand_paths(obj, paths)
    if not paths:  # nothing to replace: the response is built from the object by a copying walk
        return obj  # (app._public), and a deep copy of a 100-object page was most of a list's cost
    result = copy.deepcopy(obj)
    for path in paths:
        if (str(result.get("object")), path) in INCLUDABLE and path not in ("tiers", "currency_options"):
            continue  # filled in by the handler (engine_render / search_object)
        parts = path.split(".")
        if parts[-1] == "currency_options" or (len(parts) >= 3 and parts[-3] == "currency_options"
                                               and parts[-1] == "tiers"):
            head = parts[:-1] if parts[-1] == "currency_options" else parts[:-3]
            if head:
                result = _expand_path(store, result, head, path)
            _fill_options(store, result, head, parts[-2] if parts[-1] == "tiers" else None)
            continue
        if parts[-1] == "tiers":  # a price's tiers: shown only when expanded, wherever the price sits
            if parts[:-1]:
                result = _expand_path(store, result, parts[:-1], path)
            _fill_tiers(store, result, parts[:-1])
            continue
        result = _expand_path(store, result, parts, path)
    return result


def _fill_tiers(store: Store, node: Any, parts: list[str]) -> None:
    """Show ``tiers`` on the price(s) at the end of ``parts`` (null for a per-unit price, as Stripe)."""
    if isinstance(node, list):
        for item in node:
            _fill_tiers(store, item, parts)
        return
    if not isinstance(node, dict):
        return
    if parts:
        _fill_tiers(store, node.get(parts[0]), parts[1:])
        return
    if node.get("object") == "price":
        stored = store.find(str(node.get("id"))) or node
        tiers = stored.get("_tiers") or node.get("_tiers")
        node["tiers"] = copy.deepcopy(tiers) if tiers else None


def _fill_options(store: Store, node: Any, parts: list[str], tiers_of: str | None) -> None:
    """Show ``currency_options`` on the price(s) or coupon(s) at the end of ``parts`` (null when
    there are none, as Stripe): every currency, the default's included; a tiered option's tiers
    only for ``tiers_of`` (``currency_options.eur.tiers``)."""
    if isinstance(node, list):
        for item in node:
            _fill_options(store, item, parts, tiers_of)
        return
    if not isinstance(node, dict):
        return
    if parts:
        _fill_options(store, node.get(parts[0]), parts[1:], tiers_of)
        return
    kind = node.get("object")
    if kind not in ("price", "coupon"):
        return
    stored = store.find(str(node.get("id"))) or node
    options = stored.get("_currency_options") or node.get("_currency_options") or {}
    shown = {k: v for k, v in (node.get("currency_options") or {}).items()} if isinstance(
        node.get("currency_options"), dict) else {}
    if kind == "coupon":
        if stored.get("amount_off") is None:
            node["currency_options"] = None
            return
        shown.setdefault(str(stored.get("currency")), {"amount_off": stored.get("amount_off")})
        for cur, opt in options.items():
            shown.setdefault(cur, {"amount_off": opt.get("amount_off")})
        node["currency_options"] = dict(sorted(shown.items()))
        return
    tiered = stored.get("billing_scheme") == "tiered"
    default = {"custom_unit_amount": None, "tax_behavior": stored.get("tax_behavior"),
               "unit_amount": stored.get("unit_amount"), "unit_amount_decimal": stored.get("unit_amount_decimal"),
               "_tiers": stored.get("_tiers")}
    for cur, opt in [(str(stored.get("currency")), default), *options.items()]:
        out = dict(shown.get(cur) or {k: v for k, v in opt.items() if k != "_tiers"})
        if tiered and cur == tiers_of:
            out["tiers"] = copy.deepcopy(opt.get("_tiers"))
        shown[cur] = out
    node["currency_options"] = dict(sorted(shown.items()))
