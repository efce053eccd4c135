"""Field names of every object kind, compared with Stripe's own example objects.

``reference_keys.json`` holds the key tree (names only, no values) of Stripe's example object
for each kind, derived by ``scripts/reference_keys.py`` from Stripe's OpenAPI fixtures. Each
kind is made here through the SDK and compared recursively: the same keys at every level where
both sides are objects, lists on their first element. A nested hash the SDK types as nullable
(a polymorphic or situational sub-hash, e.g. ``invoice.parent.quote_details``) may be null in
ours, but its key must be there; an expandable field may be an id. Values are not compared.

Stripe's example is one case of each kind; ``SITUATIONAL`` names the few keys real Stripe adds in
the cases made here that the example doesn't show (each with the case), and nothing else extra
is allowed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import stripe

from test_b_support import DAY, T0, advance, clock, customer, price, subscribe

REFERENCE = json.loads((Path(__file__).parent / "reference_keys.json").read_text())
KINDS: dict[str, dict[str, Any]] = REFERENCE["kinds"]

_PRICE_DETAILS = "pricing.type is price_details: the price and product it names"
#: Keys (paths without list indexes) present only in some cases; the example shows another case.
SITUATIONAL = {
    "charge.outcome.risk_level": "card charges Radar screened",
    "charge.outcome.risk_score": "card charges Radar screened",
    "invoice.lines.data.pricing.price_details": _PRICE_DETAILS,
    "line_item.pricing.price_details": _PRICE_DETAILS,
    "invoiceitem.pricing.price_details": _PRICE_DETAILS,
    "invoiceitem.proration_details": "proration items only",
    "invoiceitem.parent.subscription_details.subscription_item": "items made for a subscription item",
    "invoice.parent.subscription_details.subscription_proration_date": "previews of prorations only",
    "invoice_payment.payment.payment_intent": "the member payment.type names (the example shows none)",
    "refund.destination_details.card.reference": "card refunds of type refund (the example is a reversal)",
    "refund.destination_details.card.reference_status": "card refunds of type refund",
    "refund.destination_details.card.reference_type": "card refunds of type refund",
    "subscription.billing_mode.updated_at": "flexible billing mode: when it was adopted",
    "billing_portal.configuration.features.subscription_update.products": "configurations that list products",
}


def key_problems(ours: Any, ref: dict[str, Any], where: str) -> list[str]:
    """Every key that is missing, extra, or not an object/list where the reference has one."""
    if not isinstance(ours, dict):
        return [f"{where}: expected an object, got {type(ours).__name__}"]
    out = [f"{where}.{k}: missing" for k in ref if k not in ours]
    out += [f"{where}.{k}: not in Stripe's object" for k in ours
            if k not in ref and re.sub(r"\[\d+\]", "", f"{where}.{k}") not in SITUATIONAL]
    for name, node in ref.items():
        if node is None or name not in ours:
            continue
        value, path = ours[name], f"{where}.{name}"
        if "list_of" in node:
            if value is None:
                continue
            if not isinstance(value, list):
                out.append(f"{path}: expected a list, got {type(value).__name__}")
            elif value and node["list_of"] is not None:
                out += key_problems(value[0], node["list_of"]["keys"], f"{path}[0]")
            continue
        if value is None:
            if not node["nullable"]:
                out.append(f"{path}: null, but Stripe always returns this hash")
        elif isinstance(value, str) and node["id_ok"]:
            continue
        else:
            out += key_problems(value, node["keys"], path)
    return out


def assert_keys(obj: Any, kind: str) -> None:
    data = obj.to_dict() if isinstance(obj, stripe.StripeObject) else obj
    problems = key_problems(data, KINDS[kind], kind)
    assert not problems, f"{len(problems)} key difference(s) from Stripe's {kind}:\n  " + "\n  ".join(problems)


@pytest.fixture(scope="module")
def made(client: stripe.StripeClient) -> dict[str, Any]:
    """One object of each kind, made through the SDK with the optional parts filled in."""
    ck = clock(client)
    cus = customer(client, ck.id, name="Ref Shape", phone="+15555550100", metadata={"k": "v"},
                   address={"line1": "1 Main St", "city": "Springfield", "country": "US"})
    plan = price(client, 1200, name="Reference plan")
    sub = subscribe(client, cus.id, (plan.id, 2), metadata={"ref": "1"})
    sub = client.v1.subscriptions.retrieve(sub.id)
    inv = client.v1.invoices.retrieve(str(sub.latest_invoice))
    payments = client.v1.invoice_payments.list(params={"invoice": inv.id}).data
    pi = client.v1.payment_intents.retrieve(str(payments[0].payment.payment_intent))
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    refund = client.v1.refunds.create(params={"charge": charge.id, "amount": 100, "reason": "requested_by_customer"})
    cn = client.v1.credit_notes.create(params={"invoice": inv.id, "lines": [
        {"type": "invoice_line_item", "invoice_line_item": inv.lines.data[0].id, "quantity": 1}],
        "credit_amount": 1200})
    item = client.v1.invoice_items.create(params={"customer": cus.id, "amount": 250, "currency": "usd",
                                                  "description": "Setup fee"})
    coupon = client.v1.coupons.create(params={"percent_off": 10, "duration": "once", "name": "Ten"})
    product = client.v1.products.retrieve(str(plan.product))
    pm = client.v1.payment_methods.retrieve(str(cus.invoice_settings.default_payment_method))  # type: ignore[union-attr]
    disputed = customer(client, ck.id, pm="pm_card_createDispute")
    dsub = subscribe(client, disputed.id, (plan.id, 1))
    dinv = client.v1.invoices.retrieve(str(dsub.latest_invoice), params={"expand": ["payments"]})
    dpi = client.v1.payment_intents.retrieve(str(dinv.payments.data[0].payment.payment_intent))  # type: ignore[union-attr]
    dispute = client.v1.disputes.list(params={"payment_intent": dpi.id}).data[0]
    checkout = client.v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": cus.id, "success_url": "https://example.com/ok",
        "cancel_url": "https://example.com/cancel", "line_items": [{"price": plan.id, "quantity": 1}]})
    conf = client.v1.billing_portal.configurations.create(params={"features": {
        "subscription_cancel": {"enabled": True}, "invoice_history": {"enabled": True}},
        "business_profile": {"headline": "Ref"}})
    portal = client.v1.billing_portal.sessions.create(params={
        "customer": cus.id, "configuration": conf.id, "return_url": "https://example.com/account",
        "flow_data": {"type": "subscription_cancel", "subscription_cancel": {"subscription": sub.id}}})
    advance(client, ck.id, T0 + 2 * DAY)
    event = client.v1.events.list(params={"type": "customer.subscription.created", "limit": 1}).data[0]
    return {
        "customer": client.v1.customers.retrieve(cus.id), "product": product, "price": plan, "payment_method": pm,
        "coupon": coupon, "subscription": sub, "subscription_item": sub["items"].data[0], "invoice": inv,
        "line_item": inv.lines.data[0], "invoice_payment": payments[0], "payment_intent": pi, "charge": charge,
        "refund": refund, "credit_note": cn, "dispute": dispute, "checkout.session": checkout,
        "billing_portal.configuration": conf, "billing_portal.session": portal,
        "test_helpers.test_clock": client.v1.test_helpers.test_clocks.retrieve(ck.id), "event": event,
        "invoiceitem": item,
    }


def test_every_reference_kind_is_covered(made: dict[str, Any]) -> None:
    assert set(made) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_keys_match_stripes_example(made: dict[str, Any], kind: str) -> None:
    assert_keys(made[kind], kind)


def test_retrieved_and_listed_objects_match_too(client: stripe.StripeClient, made: dict[str, Any]) -> None:
    sub, inv = made["subscription"], made["invoice"]
    assert_keys(client.v1.subscriptions.list(params={"customer": sub.customer}).data[0], "subscription")
    assert_keys(client.v1.invoices.list(params={"subscription": sub.id}).data[0], "invoice")
    assert_keys(client.v1.invoices.line_items.list(inv.id).data[0], "line_item")
    assert_keys(client.v1.subscription_items.retrieve(made["subscription_item"].id), "subscription_item")
    assert_keys(client.v1.credit_notes.retrieve(made["credit_note"].id), "credit_note")
    assert_keys(client.v1.refunds.list(params={"charge": made["charge"].id}).data[0], "refund")
    preview = client.v1.invoices.create_preview(params={"subscription": sub.id})
    assert_keys(preview, "invoice")


def test_the_checker_sees_missing_extra_and_misplaced_keys() -> None:
    ref = {"a": None, "b": {"keys": {"c": None}, "nullable": False, "id_ok": False},
           "d": {"keys": {"e": None}, "nullable": True, "id_ok": False}}
    assert key_problems({"a": 1, "b": {"c": 1}, "d": None}, ref, "x") == []
    assert key_problems({"a": 1, "b": {"c": 1, "z": 1}, "d": {"e": 1}, "c": 2}, ref, "x") == [
        "x.c: not in Stripe's object", "x.b.z: not in Stripe's object"]
    assert key_problems({"b": None, "d": {}}, ref, "x") == [
        "x.a: missing", "x.b: null, but Stripe always returns this hash", "x.d.e: missing"]
    assert key_problems({"a": [], "b": "id_1", "d": None}, ref, "x") == ["x.b: expected an object, got str"]


def test_fields_removed_from_the_api_stay_out() -> None:
    # The fixtures still carry invoice.subscription (moved to parent.subscription_details in
    # 2025-03-31.basil); the derived keys leave it out, so the sandbox must not return it.
    assert "invoice.subscription" in REFERENCE["dropped"]
    for kind, field in [("invoice", "subscription"), ("invoice", "charge"), ("invoice", "payment_intent"),
                        ("subscription", "current_period_start"), ("subscription", "current_period_end")]:
        assert field not in KINDS[kind]
    assert "current_period_start" in KINDS["subscription_item"]


def test_prorations_previews_and_event_payloads_match(client: stripe.StripeClient, made: dict[str, Any]) -> None:
    sub = made["subscription"]
    item = sub["items"].data[0]
    bigger = price(client, 2400, name="Reference plan XL")
    preview = client.v1.invoices.create_preview(params={
        "subscription": sub.id, "subscription_details": {
            "items": [{"id": item.id, "price": bigger.id}], "proration_date": int(item.current_period_start) + DAY}})
    assert_keys(preview, "invoice")
    client.v1.subscriptions.update(sub.id, params={"items": [{"id": item.id, "price": bigger.id}],
                                                   "proration_behavior": "create_prorations"})
    pending = client.v1.invoice_items.list(params={"customer": str(sub.customer), "pending": True}).data
    assert any(ii.proration for ii in pending)
    for ii in pending:
        assert_keys(ii, "invoiceitem")
    seen = set()
    for event in client.v1.events.list(params={"limit": 100}).data:
        payload = event.data.object.to_dict()
        kind = str(payload.get("object"))
        if kind in KINDS and not payload.get("deleted") and kind not in seen:
            seen.add(kind)
            assert_keys(payload, kind)
    assert {"customer", "subscription", "invoice"} <= seen
