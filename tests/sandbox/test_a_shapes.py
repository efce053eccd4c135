"""Every object kind this part of the sandbox returns, checked against the SDK's typed
classes (raw JSON, not the SDK's parsed objects, so nothing is hidden by parsing)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from shapes import assert_shape, class_for, shape_problems


def _raw(http: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    resp = http.get(path, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.fixture(scope="module")
def objects(client: stripe.StripeClient) -> dict[str, str]:
    """One of each kind, with the optional parts filled in where we can."""
    cus = client.v1.customers.create({
        "email": "shape@example.com", "name": "Shape", "metadata": {"k": "v"}, "payment_method": "pm_card_visa",
        "invoice_settings": {"default_payment_method": "pm_card_visa"},
        "address": {"line1": "1 Main St", "city": "Springfield", "country": "US"}})
    product = client.v1.products.create({"name": "Shape plan", "default_price_data": {
        "currency": "usd", "unit_amount": 900, "recurring": {"interval": "month", "interval_count": 3}}})
    one_off = client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 100,
                                       "lookup_key": f"shape_{product.id}"})
    coupon = client.v1.coupons.create({"amount_off": 300, "currency": "usd", "duration": "repeating",
                                       "duration_in_months": 2, "applies_to": {"products": [product.id]}})
    assert cus.invoice_settings is not None
    pm = str(cus.invoice_settings.default_payment_method)
    conf = client.v1.billing_portal.configurations.create({"features": {
        "subscription_cancel": {"enabled": True, "cancellation_reason": {"enabled": True, "options": ["unused"]}},
        "subscription_update": {"enabled": True, "default_allowed_updates": ["price"], "products": [
            {"product": product.id, "prices": [str(product.default_price)]}]},
        "customer_update": {"enabled": True, "allowed_updates": ["email"]}}, "login_page": {"enabled": True}})
    portal = client.v1.billing_portal.sessions.create({"customer": cus.id, "configuration": conf.id,
        "flow_data": {"type": "payment_method_update", "after_completion": {
            "type": "hosted_confirmation", "hosted_confirmation": {"custom_message": "Thanks"}}}})
    checkout = client.v1.checkout.sessions.create({
        "mode": "subscription", "customer": cus.id, "success_url": "https://example.com/ok",
        "line_items": [{"price": str(product.default_price), "quantity": 2}]})
    pay = client.v1.checkout.sessions.create({
        "mode": "payment", "customer_email": "guest@example.com", "success_url": "https://example.com/ok",
        "line_items": [{"price": one_off.id, "quantity": 1}]})
    client.v1.checkout.sessions.expire(pay.id)
    return {"customer": cus.id, "product": product.id, "price": one_off.id, "recurring_price": str(product.default_price),
            "coupon": coupon.id, "payment_method": pm, "configuration": conf.id, "portal_session": portal.id,
            "checkout": checkout.id, "expired_checkout": pay.id, "portal_url": portal.url}


KINDS = [
    ("customer", "/v1/customers/{customer}", stripe.Customer),
    ("product", "/v1/products/{product}", stripe.Product),
    ("price", "/v1/prices/{price}", stripe.Price),
    ("recurring_price", "/v1/prices/{recurring_price}", stripe.Price),
    ("coupon", "/v1/coupons/{coupon}", stripe.Coupon),
    ("payment_method", "/v1/payment_methods/{payment_method}", stripe.PaymentMethod),
    ("configuration", "/v1/billing_portal/configurations/{configuration}", stripe.billing_portal.Configuration),
    ("checkout", "/v1/checkout/sessions/{checkout}", stripe.checkout.Session),
    ("expired_checkout", "/v1/checkout/sessions/{expired_checkout}", stripe.checkout.Session),
]


@pytest.mark.parametrize("name,path,cls", KINDS, ids=[k[0] for k in KINDS])
def test_retrieved_objects_match_sdk_classes(http: httpx.Client, objects: dict[str, str], name: str,
                                             path: str, cls: type) -> None:
    assert_shape(_raw(http, path.format(**objects)), cls)


def test_portal_session_matches(client: stripe.StripeClient, http: httpx.Client, objects: dict[str, str]) -> None:
    resp = http.post("/v1/billing_portal/sessions", data={"customer": objects["customer"],
                     "flow_data[type]": "subscription_update_confirm"})
    assert resp.status_code == 400  # missing the confirm details: a Stripe-shaped refusal
    raw = http.post("/v1/billing_portal/sessions", data={
        "customer": objects["customer"], "configuration": objects["configuration"],
        "flow_data[type]": "payment_method_update"}).json()
    assert_shape(raw, stripe.billing_portal.Session)


def test_lists_and_expanded_objects_match(http: httpx.Client, objects: dict[str, str]) -> None:
    pages = [
        _raw(http, "/v1/products", limit=5, **{"expand[]": "data.default_price"}),
        _raw(http, "/v1/prices", product=objects["product"], **{"expand[]": "data.product"}),
        _raw(http, "/v1/coupons", limit=5),
        _raw(http, "/v1/payment_methods", customer=objects["customer"], type="card", **{"expand[]": "data.customer"}),
        _raw(http, "/v1/billing_portal/configurations"),
        _raw(http, "/v1/checkout/sessions", customer=objects["customer"],
             **{"expand[0]": "data.line_items", "expand[1]": "data.customer"}),
        _raw(http, f"/v1/checkout/sessions/{objects['checkout']}/line_items"),
        _raw(http, "/v1/customers/search", query="email:'shape@example.com'"),
    ]
    for page in pages:
        assert page["object"] in ("list", "search_result") and page["data"]
        for obj in page["data"]:
            assert_shape(obj)


#: Payload kinds this suite owns; the billing engine's suites check their own.
MINE = {"customer", "product", "price", "coupon", "payment_method", "billing_portal.configuration",
        "billing_portal.session", "checkout.session"}


def test_events_and_their_payloads_match(http: httpx.Client, objects: dict[str, str]) -> None:
    page = _raw(http, "/v1/events", limit=100)
    assert page["data"]
    kinds = set()
    for event in page["data"]:
        assert_shape(event, stripe.Event)
        payload = event["data"]["object"]
        kinds.add(payload["object"])
        if payload.get("deleted") or payload["object"] not in MINE:
            continue
        problems = shape_problems(payload, class_for(payload))
        assert not problems, f"{event['type']}: {problems}"
    assert {"customer", "product", "price", "coupon", "payment_method"} <= kinds


def test_checker_catches_drift() -> None:
    bad = {"id": "prod_x", "object": "product", "name": "x", "colour": "red"}
    problems = shape_problems(bad, stripe.Product)
    assert any("colour" in p for p in problems)
    assert any("active: missing" in p for p in problems)
    with pytest.raises(AssertionError):
        assert_shape(bad, stripe.Product)
