"""Payment methods: test tokens, attach/detach, list by customer, and the engine helpers."""

from __future__ import annotations

import httpx
import pytest
import stripe

from billing_nb.sandbox.resources.payment_methods import (
    attach_payment_method,
    charge_outcome,
    resolve_payment_method,
)
from billing_nb.sandbox.server import ThreadedSandbox
from billing_nb.sandbox.store import Store

CARDS = {
    "pm_card_visa": ("visa", "4242"),
    "pm_card_mastercard": ("mastercard", "4444"),
    "pm_card_amex": ("amex", "0005"),
    "pm_card_chargeCustomerFail": ("visa", "0341"),
    "pm_card_createDispute": ("visa", "0259"),
}


@pytest.mark.parametrize("token", sorted(CARDS))
def test_attaching_a_test_token_creates_a_new_card(client: stripe.StripeClient, token: str) -> None:
    cus = client.v1.customers.create({"email": "pm@example.com"})
    pm = client.v1.payment_methods.attach(token, {"customer": cus.id})
    assert pm.id.startswith("pm_") and pm.id != token
    assert pm.customer == cus.id and pm.type == "card" and pm.card is not None
    assert (pm.card.brand, pm.card.last4) == CARDS[token]
    assert pm.card.exp_year > 2000 and 1 <= pm.card.exp_month <= 12 and pm.card.fingerprint
    again = client.v1.payment_methods.attach(token, {"customer": cus.id})
    assert again.id != pm.id
    assert again.card is not None and again.card.fingerprint == pm.card.fingerprint


def test_declined_card_fails_on_attach_like_stripe(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create({"email": "declined@example.com"})
    with pytest.raises(stripe.CardError) as err:
        client.v1.payment_methods.attach("pm_card_chargeDeclined", {"customer": cus.id})
    assert err.value.http_status == 402
    assert err.value.code == "card_declined"
    assert err.value.json_body["error"]["decline_code"] == "generic_decline"  # type: ignore[index]
    assert list(client.v1.payment_methods.list({"customer": cus.id}).data) == []
    with pytest.raises(stripe.CardError):
        client.v1.customers.create({"email": "declined2@example.com", "payment_method": "pm_card_chargeDeclined"})
    assert not client.v1.customers.list({"email": "declined2@example.com"}).data


def test_customer_create_with_token_as_default(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create({"email": "default@example.com", "payment_method": "pm_card_visa",
                                      "invoice_settings": {"default_payment_method": "pm_card_visa"}})
    assert cus.invoice_settings is not None
    default = cus.invoice_settings.default_payment_method
    assert isinstance(default, str) and default.startswith("pm_") and default != "pm_card_visa"
    assert client.v1.payment_methods.retrieve(default).customer == cus.id


def test_list_by_customer_detach_and_no_reattach(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create({"email": "list@example.com"})
    other = client.v1.customers.create({"email": "other@example.com"})
    visa = client.v1.payment_methods.attach("pm_card_visa", {"customer": cus.id})
    master = client.v1.payment_methods.attach("pm_card_mastercard", {"customer": cus.id})
    client.v1.payment_methods.attach("pm_card_visa", {"customer": other.id})
    listed = client.v1.payment_methods.list({"customer": cus.id, "type": "card"})
    assert [p.id for p in listed.data] == [master.id, visa.id]
    via_customer = client.v1.customers.payment_methods.list(cus.id, {"type": "card"})
    assert [p.id for p in via_customer.data] == [master.id, visa.id]
    assert client.v1.customers.payment_methods.retrieve(cus.id, visa.id).id == visa.id
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.attach(visa.id, {"customer": other.id})
    client.v1.customers.update(cus.id, {"invoice_settings": {"default_payment_method": visa.id}})
    detached = client.v1.payment_methods.detach(visa.id)
    assert detached.customer is None
    refreshed = client.v1.customers.retrieve(cus.id)
    assert refreshed.invoice_settings is not None and refreshed.invoice_settings.default_payment_method is None
    assert [p.id for p in client.v1.payment_methods.list({"customer": cus.id}).data] == [master.id]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.attach(visa.id, {"customer": cus.id})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.detach(visa.id)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.customers.update(other.id, {"invoice_settings": {"default_payment_method": master.id}})
    assert err.value.param == "invoice_settings[default_payment_method]"


def test_create_from_card_token_then_attach_and_update(client: stripe.StripeClient) -> None:
    pm = client.v1.payment_methods.create({"type": "card", "card": {"token": "tok_mastercard"},
                                           "billing_details": {"name": "J Doe"}})
    assert pm.customer is None and pm.card is not None and pm.card.last4 == "4444"
    assert pm.billing_details.name == "J Doe"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.update(pm.id, {"metadata": {"a": "b"}})
    cus = client.v1.customers.create({"email": "tok@example.com"})
    client.v1.payment_methods.attach(pm.id, {"customer": cus.id})
    updated = client.v1.payment_methods.update(pm.id, {"metadata": {"a": "b"}, "card": {"exp_year": 2040}})
    assert updated.metadata is not None and updated.metadata.to_dict() == {"a": "b"} and updated.card is not None and updated.card.exp_year == 2040
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.create({"type": "card", "card": {"number": "4242424242424242", "exp_month": 1,
                                                                    "exp_year": 2040}})
    declined = client.v1.payment_methods.create({"type": "card", "card": {"token": "tok_chargeDeclined"}})
    with pytest.raises(stripe.CardError):
        client.v1.payment_methods.attach(declined.id, {"customer": cus.id})


def test_test_behaviour_never_leaks_into_responses(client: stripe.StripeClient, http: httpx.Client) -> None:
    cus = client.v1.customers.create({"email": "leak@example.com"})
    pm = client.v1.payment_methods.attach("pm_card_chargeCustomerFail", {"customer": cus.id})
    raw = http.get(f"/v1/payment_methods/{pm.id}").text
    assert "_test_behavior" not in raw
    events = http.get("/v1/events", params={"type": "payment_method.attached", "limit": 100}).text
    assert "_test_behavior" not in events and "_detached" not in events


def test_engine_helpers(sandbox: ThreadedSandbox) -> None:
    store: Store = sandbox.store
    with store.lock:
        cus = {"id": "cus_helpertest", "object": "customer", "test_clock": None}
        store.insert(cus)
        outcomes = {}
        for token in ("pm_card_visa", "pm_card_chargeCustomerFail", "pm_card_createDispute"):
            pm = attach_payment_method(store, token, cus["id"])
            assert pm["customer"] == cus["id"]
            outcomes[token] = charge_outcome(pm)
        loose = resolve_payment_method(store, "pm_card_chargeDeclined")
        assert loose["customer"] is None
        assert charge_outcome(loose) == ("declined", "card_declined", "generic_decline")
        assert resolve_payment_method(store, loose["id"])["id"] == loose["id"]
    assert outcomes == {
        "pm_card_visa": ("succeeded", None, None),
        "pm_card_chargeCustomerFail": ("declined", "card_declined", "generic_decline"),
        "pm_card_createDispute": ("dispute", None, None),
    }
