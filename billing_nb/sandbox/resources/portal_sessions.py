"""Customer portal sessions, with ``flow_data`` deep links.

A session uses the configuration it names or the account's default (:mod:`.portal`), and
refuses a deep link into a feature that configuration switches off, which is how "I can't
find how to cancel" reproduces.
"""

from __future__ import annotations

import secrets
from typing import Any

from ..errors import invalid
from ..params import Params
from ..routing import Ctx, route
from ..store import Obj, Store
from .portal import default_configuration

__all__ = ["portal_url"]


def portal_url(ctx: Ctx) -> str:
    """A session URL on this sandbox's own host (``http://127.0.0.1:PORT/p/session/test_...``)."""
    base = ctx.extra.get("base_url") or ctx.store.settings.get("base_url") or "http://127.0.0.1"
    return f"{base}/p/session/test_{secrets.token_urlsafe(36)}"


def _subscription(store: Store, sub_id: str, customer: str, param: str) -> Obj:
    sub = store.get("subscription", sub_id, param)
    if sub.get("customer") != customer:
        raise invalid(f"The subscription `{sub_id}` does not belong to the customer `{customer}`.", param)
    if sub.get("status") in ("canceled", "incomplete_expired"):
        raise invalid(f"The subscription `{sub_id}` has been canceled and cannot be updated or canceled.", param)
    return sub


def _flow(store: Store, p: Params, customer: str, conf: Obj) -> dict[str, Any]:
    p.allow("type", "after_completion", "subscription_cancel", "subscription_update", "subscription_update_confirm")
    kind = p.enum("type", ("payment_method_update", "subscription_cancel", "subscription_update",
                           "subscription_update_confirm"))
    if kind is None:
        raise invalid("Missing required param: flow_data[type].", "flow_data[type]", "parameter_missing")
    feature = {"subscription_cancel": "subscription_cancel", "subscription_update": "subscription_update",
               "subscription_update_confirm": "subscription_update"}.get(kind)
    if feature and not conf["features"][feature]["enabled"]:
        raise invalid(f"You can't create a portal session with a `{kind}` flow because the `{feature}` feature "
                      f"is disabled in the portal configuration `{conf['id']}`.", "flow_data[type]")
    flow: dict[str, Any] = {"after_completion": _after_completion(p.sub("after_completion")), "type": kind,
                            "subscription_cancel": None, "subscription_update": None, "subscription_update_confirm": None}
    if kind == "payment_method_update":
        return flow
    sub_p = p.sub(kind)
    prefix = f"flow_data[{kind}]"
    if sub_p is None:
        raise invalid(f"Missing required param: {prefix}.", prefix, "parameter_missing")
    if kind == "subscription_cancel":
        sub_p.allow("subscription", "retention")
        sub = _subscription(store, sub_p.req("subscription"), customer, f"{prefix}[subscription]")
        if sub.get("cancel_at_period_end"):
            raise invalid(f"The subscription `{sub['id']}` is already set to cancel at the end of the period.",
                          f"{prefix}[subscription]")
        retention = None
        ret = sub_p.sub("retention")
        if ret is not None:
            ret.allow("type", "coupon_offer")
            offer = ret.sub("coupon_offer")
            if ret.str("type") != "coupon_offer" or offer is None:
                raise invalid("Missing required param: coupon_offer.", f"{prefix}[retention][coupon_offer]", "parameter_missing")
            offer.allow("coupon")
            coupon = store.get("coupon", offer.req("coupon"), f"{prefix}[retention][coupon_offer][coupon]")
            retention = {"coupon_offer": {"coupon": coupon["id"]}, "type": "coupon_offer"}
        flow["subscription_cancel"] = {"retention": retention, "subscription": sub["id"]}
    elif kind == "subscription_update":
        sub_p.allow("subscription")
        sub = _subscription(store, sub_p.req("subscription"), customer, f"{prefix}[subscription]")
        flow["subscription_update"] = {"subscription": sub["id"]}
    else:
        sub_p.allow("subscription", "items", "discounts")
        sub = _subscription(store, sub_p.req("subscription"), customer, f"{prefix}[subscription]")
        own = {i.get("id") for i in ((sub.get("items") or {}).get("data") or [])}
        items = []
        for i, raw in enumerate(sub_p.list("items")):
            item = Params(raw if isinstance(raw, dict) else {}, f"{prefix}[items][{i}][")
            item.allow("id", "price", "quantity")
            item_id = item.req("id")
            if item_id not in own:
                raise invalid(f"The subscription item `{item_id}` does not belong to `{sub['id']}`.", f"{prefix}[items][{i}][id]")
            price = item.str("price")
            if price:
                store.get("price", price, f"{prefix}[items][{i}][price]")
            items.append({"id": item_id, "price": price, "quantity": item.int("quantity")})
        if not items:
            raise invalid(f"Missing required param: {prefix}[items].", f"{prefix}[items]", "parameter_missing")
        discounts = [{"coupon": (d or {}).get("coupon"), "promotion_code": (d or {}).get("promotion_code")}
                     for d in sub_p.list("discounts")] or None
        flow["subscription_update_confirm"] = {"discounts": discounts, "items": items, "subscription": sub["id"]}
    return flow


def _after_completion(p: Params | None) -> dict[str, Any]:
    if p is None:
        return {"hosted_confirmation": None, "redirect": None, "type": "portal_homepage"}
    p.allow("type", "redirect", "hosted_confirmation")
    kind = p.enum("type", ("hosted_confirmation", "portal_homepage", "redirect"), "portal_homepage")
    result: dict[str, Any] = {"hosted_confirmation": None, "redirect": None, "type": kind}
    if kind == "redirect":
        red = p.sub("redirect")
        if red is None:
            raise invalid("Missing required param: flow_data[after_completion][redirect].",
                          "flow_data[after_completion][redirect]", "parameter_missing")
        red.allow("return_url")
        result["redirect"] = {"return_url": red.req("return_url")}
    elif kind == "hosted_confirmation":
        hc = p.sub("hosted_confirmation")
        if hc is not None:
            hc.allow("custom_message")
        result["hosted_confirmation"] = {"custom_message": hc.str("custom_message") if hc else None}
    return result


@route("POST", "/v1/billing_portal/sessions", accepts=("customer", "return_url", "configuration", "flow_data", "locale"))
def create_session(ctx: Ctx, p: Params) -> Obj:
    st = ctx.store
    customer = st.get("customer", p.req("customer"), "customer")
    conf_id = p.str("configuration")
    conf = st.get("billing_portal.configuration", conf_id, "configuration") if conf_id else default_configuration(st)
    if not conf["active"]:
        raise invalid(f"The configuration `{conf['id']}` is not active.", "configuration")
    flow_p = p.sub("flow_data")
    flow = _flow(st, flow_p, customer["id"], conf) if flow_p is not None else None
    session: Obj = {
        "id": st.new_id("bps"), "object": "billing_portal.session", "configuration": conf["id"],
        "created": st.now(customer["id"]), "customer": customer["id"], "customer_account": None,
        "flow": flow, "livemode": False, "locale": p.str("locale"), "on_behalf_of": None,
        "return_url": p.str("return_url") or conf["default_return_url"], "url": portal_url(ctx),
    }
    st.insert(session)
    st.emit("billing_portal.session.created", session, customer_id=customer["id"])
    return session
