"""Customer portal configurations (sessions and their ``flow_data`` are in :mod:`.portal_sessions`).

An account whose portal was saved in the Dashboard has a default configuration; the
sandbox plays that account and creates the default lazily (Stripe's Dashboard
defaults: invoices, payment methods, customer details and cancellation at period end
enabled; plan changes disabled). Configurations made through the API are never the
default, as in Stripe. Sessions refuse deep links into features the configuration
switches off, which is how "I can't find how to cancel" reproduces.
"""

from __future__ import annotations

import copy
from typing import Any

from ..errors import invalid
from ..listing import list_object
from ..params import Params
from ..routing import Ctx, route
from ..store import ACCOUNT_DEFAULTS, Obj, Store

__all__ = ["default_configuration"]

_PRORATION = ("always_invoice", "create_prorations", "none")
_REASONS = ["too_expensive", "missing_features", "switched_service", "unused", "customer_service",
            "too_complex", "low_quality", "other"]


def _features_off() -> dict[str, Any]:
    return {
        "customer_update": {"allowed_updates": [], "enabled": False},
        "invoice_history": {"enabled": False},
        "payment_method_update": {"enabled": False, "payment_method_configuration": None},
        "subscription_cancel": {
            "cancellation_reason": {"enabled": False, "options": []},
            "enabled": False, "mode": "at_period_end", "proration_behavior": "none",
        },
        "subscription_pause": {"duration": {"interval_options": [], "type": "indefinite"}, "enabled": False},
        "subscription_update": {
            "billing_cycle_anchor": None, "default_allowed_updates": [], "enabled": False,
            "proration_behavior": "none", "schedule_at_period_end": {"conditions": []},
            "trial_update_behavior": "end_trial",
        },
    }


def _apply_features(features: dict[str, Any], p: Params) -> None:
    p.allow("customer_update", "invoice_history", "payment_method_update", "subscription_cancel",
            "subscription_update", "subscription_pause")
    spec: dict[str, tuple[str, ...]] = {
        "customer_update": ("allowed_updates", "enabled"),
        "invoice_history": ("enabled",),
        "payment_method_update": ("enabled", "payment_method_configuration"),
        "subscription_cancel": ("cancellation_reason", "enabled", "mode", "proration_behavior"),
        "subscription_update": ("default_allowed_updates", "enabled", "products", "proration_behavior",
                                "schedule_at_period_end", "billing_cycle_anchor", "trial_update_behavior"),
        "subscription_pause": ("enabled",),
    }
    for name, fields in spec.items():
        sub = p.sub(name)
        if sub is None:
            continue
        sub.allow(*fields)
        target = features[name]
        if sub.has("enabled"):
            target["enabled"] = bool(sub.bool("enabled"))
        for listed in ("allowed_updates", "default_allowed_updates"):
            if listed in fields and sub.has(listed):
                target[listed] = [str(x) for x in sub.list(listed)]
        if sub.has("mode"):
            target["mode"] = sub.enum("mode", ("at_period_end", "immediately"))
        if sub.has("proration_behavior"):
            target["proration_behavior"] = sub.enum("proration_behavior", _PRORATION)
        for plain in ("payment_method_configuration", "billing_cycle_anchor", "trial_update_behavior"):
            if plain in fields and sub.has(plain):
                target[plain] = sub.str(plain)
        reason = sub.sub("cancellation_reason") if "cancellation_reason" in fields else None
        if reason is not None:
            reason.allow("enabled", "options")
            target["cancellation_reason"] = {
                "enabled": bool(reason.bool("enabled", target["cancellation_reason"]["enabled"])),
                "options": [str(x) for x in reason.list("options")] if reason.has("options")
                else target["cancellation_reason"]["options"],
            }
        if "products" in fields and sub.has("products"):
            target["products"] = [_product(Params(raw, f"features[{name}][products][{i}][")) if isinstance(raw, dict)
                                  else _bad_product(i) for i, raw in enumerate(sub.list("products"))]
        sape = sub.sub("schedule_at_period_end") if "schedule_at_period_end" in fields else None
        if sape is not None:
            sape.allow("conditions")
            target["schedule_at_period_end"] = {"conditions": [{"type": (c or {}).get("type")} for c in sape.list("conditions")]}


def _bad_product(i: int) -> dict[str, Any]:
    raise invalid("Invalid object", f"features[subscription_update][products][{i}]")


def _product(p: Params) -> dict[str, Any]:
    p.allow("product", "prices", "adjustable_quantity")
    adj = p.sub("adjustable_quantity")
    quantity = {"enabled": False, "maximum": None, "minimum": 1}
    if adj is not None:
        adj.allow("enabled", "maximum", "minimum")
        quantity = {"enabled": bool(adj.bool("enabled")), "maximum": adj.int("maximum"), "minimum": adj.int("minimum", 1)}
    return {"adjustable_quantity": quantity, "prices": [str(x) for x in p.list("prices")], "product": p.req("product")}


def _new_configuration(store: Store, is_default: bool) -> Obj:
    now = store.wall_now()
    return {
        "id": store.new_id("bpc"), "object": "billing_portal.configuration", "active": True,
        "application": None,
        "business_profile": {"headline": None, "privacy_policy_url": None, "terms_of_service_url": None},
        "created": now, "default_return_url": None, "features": _features_off(), "is_default": is_default,
        "livemode": False, "login_page": {"enabled": False, "url": None}, "metadata": {}, "name": None,
        "updated": now,
    }


def default_configuration(store: Store) -> Obj:
    """The account's default configuration (made with the store, see ``_dashboard_default``)."""
    for conf in store.all("billing_portal.configuration"):
        if conf["is_default"]:
            return conf
    return _dashboard_default(store)


def _dashboard_default(store: Store) -> Obj:
    """The default configuration a Dashboard-set-up account has before any API call.

    It exists from the start (ACCOUNT_DEFAULTS) so that no GET ever writes; its creation
    was the Dashboard's doing, so no API event is emitted for it.
    """
    for conf in store.scan("billing_portal.configuration"):
        if conf.get("is_default"):
            return conf
    conf = _new_configuration(store, True)
    f = conf["features"]
    f["customer_update"] = {"allowed_updates": ["email", "address", "shipping", "phone", "tax_id"], "enabled": True}
    f["invoice_history"]["enabled"] = True
    f["payment_method_update"]["enabled"] = True
    f["subscription_cancel"].update(enabled=True, cancellation_reason={"enabled": True, "options": list(_REASONS)})
    return store.insert(conf)


ACCOUNT_DEFAULTS.append(_dashboard_default)


def _apply_configuration(conf: Obj, p: Params) -> None:
    bp = p.sub("business_profile")
    if bp is not None:
        bp.allow("headline", "privacy_policy_url", "terms_of_service_url")
        conf["business_profile"].update({k: bp.str(k) for k in ("headline", "privacy_policy_url", "terms_of_service_url") if bp.has(k)})
    if p.has("default_return_url"):
        conf["default_return_url"] = p.str("default_return_url")
    features = p.sub("features")
    if features is not None:
        _apply_features(conf["features"], features)
    login = p.sub("login_page")
    if login is not None:
        login.allow("enabled")
        enabled = bool(login.bool("enabled"))
        conf["login_page"] = {"enabled": enabled, "url": f"https://billing.stripe.com/p/login/test_{conf['id'][4:16]}" if enabled else None}
    if p.has("metadata"):
        conf["metadata"] = p.metadata(conf.get("metadata"))
    if p.has("name"):
        conf["name"] = p.str("name")
    if p.has("active"):
        conf["active"] = bool(p.bool("active"))


_CONF_PARAMS = ("business_profile", "default_return_url", "features", "login_page", "metadata", "name")


@route("POST", "/v1/billing_portal/configurations", accepts=(*_CONF_PARAMS,))
def create_configuration(ctx: Ctx, p: Params) -> Obj:
    if p.sub("features") is None:
        raise invalid("Missing required param: features.", "features", "parameter_missing")
    conf = _new_configuration(ctx.store, False)
    _apply_configuration(conf, p)
    ctx.store.insert(conf)
    ctx.store.emit("billing_portal.configuration.created", conf)
    return conf


@route("GET", "/v1/billing_portal/configurations", accepts=("active", "is_default", "limit", "starting_after", "ending_before"))
def list_configurations(ctx: Ctx, p: Params) -> Obj:
    active, is_default = p.bool("active"), p.bool("is_default")
    rows = ctx.store.matching("billing_portal.configuration", active=active, is_default=is_default)
    return list_object(p, rows, "/v1/billing_portal/configurations")


@route("GET", "/v1/billing_portal/configurations/{conf_id}", accepts=())
def retrieve_configuration(ctx: Ctx, p: Params, conf_id: str) -> Obj:
    return ctx.store.get("billing_portal.configuration", conf_id, "configuration")


@route("POST", "/v1/billing_portal/configurations/{conf_id}", accepts=("active", *_CONF_PARAMS))
def update_configuration(ctx: Ctx, p: Params, conf_id: str) -> Obj:
    conf = ctx.store.get("billing_portal.configuration", conf_id, "configuration")
    if conf["is_default"] and p.has("active") and not p.bool("active"):
        raise invalid("You cannot deactivate the default configuration.", "active")
    previous = copy.deepcopy(conf)
    _apply_configuration(conf, p)
    conf["updated"] = ctx.store.wall_now()
    changed = {k: v for k, v in previous.items() if conf.get(k) != v}
    ctx.store.emit("billing_portal.configuration.updated", conf, previous=changed)
    return conf
