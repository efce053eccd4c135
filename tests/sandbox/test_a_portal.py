"""Customer portal configurations and sessions with flow_data deep links."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
import stripe

from billing_nb.sandbox.routing import ROUTES
from billing_nb.sandbox.server import ThreadedSandbox

FEATURES_ON = {
    "subscription_cancel": {"enabled": True, "mode": "immediately", "proration_behavior": "create_prorations",
                            "cancellation_reason": {"enabled": True, "options": ["too_expensive", "unused"]}},
    "subscription_update": {"enabled": True, "default_allowed_updates": ["price", "quantity"],
                            "proration_behavior": "always_invoice", "products": []},
    "payment_method_update": {"enabled": True},
    "invoice_history": {"enabled": True},
    "customer_update": {"enabled": True, "allowed_updates": ["email", "address"]},
}


def _has_subscriptions_api() -> bool:
    return any(m == "POST" and r.match("/v1/subscriptions") for m, r in ((x.method, x.regex) for x in ROUTES))


def make_subscription(client: stripe.StripeClient, sandbox: ThreadedSandbox, customer: str) -> str:
    """A live subscription for ``customer``: through the API when the engine is there,
    else a minimal stand-in in the store (only what portal flows read)."""
    product = client.v1.products.create({"name": "Portal plan"})
    price = client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 1000,
                                     "recurring": {"interval": "month"}})
    if _has_subscriptions_api():
        client.v1.payment_methods.attach("pm_card_visa", {"customer": customer})
        pm = client.v1.payment_methods.list({"customer": customer}).data[0].id
        sub = client.v1.subscriptions.create({"customer": customer, "items": [{"price": price.id}],
                                              "default_payment_method": pm})
        return sub.id
    st = sandbox.store
    with st.lock:
        sid = st.new_id("sub")
        st.insert({"id": sid, "object": "subscription", "customer": customer, "status": "active",
                   "cancel_at_period_end": False,
                   "items": {"object": "list", "data": [{"id": st.new_id("si"), "object": "subscription_item",
                                                         "price": price.to_dict()}]}})
    return sid


def test_default_configuration_exists_like_a_dashboard_account(client: stripe.StripeClient) -> None:
    defaults = client.v1.billing_portal.configurations.list({"is_default": True}).data
    assert len(defaults) == 1
    conf = defaults[0]
    assert conf.is_default and conf.active
    assert conf.features.subscription_cancel.enabled and conf.features.subscription_cancel.mode == "at_period_end"
    assert conf.features.invoice_history.enabled and conf.features.payment_method_update.enabled
    assert client.v1.billing_portal.configurations.list({"is_default": True}).data[0].id == conf.id


def test_create_update_retrieve_configuration(client: stripe.StripeClient) -> None:
    conf = client.v1.billing_portal.configurations.create({
        "business_profile": {"headline": "Manage billing"}, "default_return_url": "https://example.com/account",
        "features": FEATURES_ON, "metadata": {"k": "v"}, "name": "full"})  # type: ignore[typeddict-item]
    assert not conf.is_default and conf.name == "full"
    f = conf.features
    assert f.subscription_cancel.mode == "immediately"
    assert f.subscription_cancel.proration_behavior == "create_prorations"
    assert list(f.subscription_cancel.cancellation_reason.options) == ["too_expensive", "unused"]
    assert list(f.subscription_update.default_allowed_updates) == ["price", "quantity"]
    assert list(f.customer_update.allowed_updates) == ["email", "address"]
    updated = client.v1.billing_portal.configurations.update(conf.id, {
        "features": {"subscription_cancel": {"enabled": False}}, "name": "no-cancel"})
    assert not updated.features.subscription_cancel.enabled
    assert updated.features.subscription_cancel.mode == "immediately"  # untouched fields stay
    assert updated.features.subscription_update.enabled
    assert client.v1.billing_portal.configurations.retrieve(conf.id).name == "no-cancel"
    ids = [c.id for c in client.v1.billing_portal.configurations.list({"limit": 100}).auto_paging_iter()]
    assert conf.id in ids
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.billing_portal.configurations.create({"name": "x"})  # type: ignore[typeddict-item]
    assert err.value.param == "features"


def test_plain_session_uses_default_and_this_host(client: stripe.StripeClient, sandbox: ThreadedSandbox) -> None:
    cus = client.v1.customers.create({"email": "portal@example.com"})
    session = client.v1.billing_portal.sessions.create({"customer": cus.id, "return_url": "https://example.com"})
    default = client.v1.billing_portal.configurations.list({"is_default": True}).data[0]
    assert session.configuration == default.id and session.customer == cus.id and session.flow is None
    url = urlparse(session.url)
    assert f"{url.scheme}://{url.netloc}" == sandbox.url
    assert url.path.startswith("/p/session/test_")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.billing_portal.sessions.create({"customer": "cus_missing"})


def test_flow_deep_links(client: stripe.StripeClient, sandbox: ThreadedSandbox) -> None:
    cus = client.v1.customers.create({"email": "flows@example.com"})
    sub = make_subscription(client, sandbox, cus.id)
    conf = client.v1.billing_portal.configurations.create({"features": FEATURES_ON})  # type: ignore[typeddict-item]
    pmu = client.v1.billing_portal.sessions.create({
        "customer": cus.id, "configuration": conf.id,
        "flow_data": {"type": "payment_method_update",
                      "after_completion": {"type": "redirect", "redirect": {"return_url": "https://example.com/done"}}}})
    assert pmu.flow is not None and pmu.flow.type == "payment_method_update"
    assert pmu.flow.after_completion.redirect is not None
    assert pmu.flow.after_completion.redirect.return_url == "https://example.com/done"
    coupon = client.v1.coupons.create({"percent_off": 20, "duration": "once"})
    cancel = client.v1.billing_portal.sessions.create({
        "customer": cus.id, "configuration": conf.id,
        "flow_data": {"type": "subscription_cancel", "subscription_cancel": {
            "subscription": sub, "retention": {"type": "coupon_offer", "coupon_offer": {"coupon": coupon.id}}}}})
    assert cancel.flow is not None and cancel.flow.subscription_cancel is not None
    assert cancel.flow.subscription_cancel.subscription == sub
    assert cancel.flow.subscription_cancel.retention is not None
    assert cancel.flow.after_completion.type == "portal_homepage"
    update = client.v1.billing_portal.sessions.create({
        "customer": cus.id, "configuration": conf.id,
        "flow_data": {"type": "subscription_update", "subscription_update": {"subscription": sub}}})
    assert update.flow is not None and update.flow.subscription_update is not None
    sub_obj = sandbox.store.get("subscription", sub)
    item_id = sub_obj["items"]["data"][0]["id"]
    confirm = client.v1.billing_portal.sessions.create({
        "customer": cus.id, "configuration": conf.id,
        "flow_data": {"type": "subscription_update_confirm", "subscription_update_confirm": {
            "subscription": sub, "items": [{"id": item_id, "quantity": 3}]}}})
    assert confirm.flow is not None and confirm.flow.subscription_update_confirm is not None
    assert confirm.flow.subscription_update_confirm.items[0].quantity == 3
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.billing_portal.sessions.create({
            "customer": cus.id, "configuration": conf.id,
            "flow_data": {"type": "subscription_update_confirm", "subscription_update_confirm": {
                "subscription": sub, "items": [{"id": "si_notmine", "quantity": 3}]}}})


def test_cancel_flow_refused_when_cancellation_is_off(client: stripe.StripeClient, sandbox: ThreadedSandbox) -> None:
    cus = client.v1.customers.create({"email": "cantcancel@example.com"})
    sub = make_subscription(client, sandbox, cus.id)
    conf = client.v1.billing_portal.configurations.create({"features": {
        "subscription_cancel": {"enabled": False}, "invoice_history": {"enabled": True}}})
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.billing_portal.sessions.create({
            "customer": cus.id, "configuration": conf.id,
            "flow_data": {"type": "subscription_cancel", "subscription_cancel": {"subscription": sub}}})
    assert err.value.param == "flow_data[type]"
    assert "subscription_cancel" in str(err.value.user_message)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.billing_portal.sessions.create({
            "customer": cus.id, "configuration": conf.id,
            "flow_data": {"type": "subscription_update", "subscription_update": {"subscription": sub}}})
    plain = client.v1.billing_portal.sessions.create({"customer": cus.id, "configuration": conf.id})
    assert plain.configuration == conf.id


def test_cancel_flow_refuses_someone_elses_subscription(client: stripe.StripeClient, sandbox: ThreadedSandbox) -> None:
    owner = client.v1.customers.create({"email": "owner@example.com"})
    stranger = client.v1.customers.create({"email": "stranger@example.com"})
    sub = make_subscription(client, sandbox, owner.id)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.billing_portal.sessions.create({
            "customer": stranger.id,
            "flow_data": {"type": "subscription_cancel", "subscription_cancel": {"subscription": sub}}})
    assert err.value.param == "flow_data[subscription_cancel][subscription]"
