"""Includable fields: properties Stripe leaves out unless ``expand`` names them.

``invoice.payments``, ``invoice.amount_paid_off_stripe`` and ``charge.refunds`` are not in the
default response of the current API version; a request that expands them (directly, under ``data.``, or through
a parent such as ``latest_invoice.payments``) gets them filled in here, before the app's
generic ``expand`` runs over the rest of the path.
"""

from __future__ import annotations

import copy
from typing import Any

from ..store import Obj, Store

__all__ = ["with_includables", "render_charge", "render_invoice", "render_paid_off_stripe"]


def render_invoice(store: Store, inv: Obj) -> Obj:
    out = dict(inv)
    data = [store.get("invoice_payment", pid) for pid in reversed(inv.get("_payments") or [])]
    out["payments"] = {"object": "list", "data": data, "has_more": False,
                       "url": f"/v1/invoice_payments?invoice={inv['id']}"}
    return out


def render_paid_off_stripe(store: Store, inv: Obj) -> Obj:
    """``amount_paid_off_stripe``: "the total amount [...] that was paid on the invoice outside of
    Stripe (out of band)"; "You can include this property in API requests" with
    ``expand[]=amount_paid_off_stripe``; it replaces the deprecated ``paid_out_of_band`` boolean
    (changelog 2026-05-27.dahlia, invoice-object-amount-paid-off-stripe-property)."""
    out = dict(inv)
    out["amount_paid_off_stripe"] = int(inv.get("_paid_off_stripe") or 0)
    return out


def render_charge(store: Store, charge: Obj) -> Obj:
    out = dict(charge)
    data = store.where("refund", charge=charge["id"])
    out["refunds"] = {"object": "list", "data": data, "has_more": False,
                      "url": f"/v1/charges/{charge['id']}/refunds"}
    return out


_INCLUDABLE = {("invoice", "payments"): render_invoice, ("invoice", "amount_paid_off_stripe"): render_paid_off_stripe,
               ("charge", "refunds"): render_charge}


def _walk(store: Store, node: Any, parts: list[str]) -> Any:
    if not parts:
        return node
    if isinstance(node, list):
        return [_walk(store, n, parts) for n in node]
    if isinstance(node, str):
        found = store.find(node)
        if found is None:
            return node
        node = copy.deepcopy(found)
    if not isinstance(node, dict):
        return node
    key = parts[0]
    render = _INCLUDABLE.get((str(node.get("object")), key))
    if render is not None:
        return render(store, node) if len(parts) == 1 else {**render(store, node), key: _walk(
            store, render(store, node)[key], parts[1:])}
    if key in node and key != "data" or (key == "data" and node.get("object") == "list"):
        node = dict(node)
        node[key] = _walk(store, node[key], parts[1:])
    return node


def with_includables(store: Store, obj: Obj, expand: list[str]) -> Obj:
    """``obj`` with every includable property named by an expand path filled in."""
    names = {k for _, k in _INCLUDABLE}
    for path in expand:
        parts = path.split(".")
        if not names.intersection(parts):
            continue
        cut = max(i for i, p in enumerate(parts) if p in names)
        obj = _walk(store, obj, parts[: cut + 1])
    return obj
