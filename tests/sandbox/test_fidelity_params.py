"""Parameters the sandbox implements by storing or filtering, each checked to change the response.

Every parameter a route declares must do what Stripe's API reference says it does; for the
simple ones that is "stored on the object as given" or "filters the list". Each test names the
reference page it follows.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from test_b_support import customer, price, subscribe


def test_product_fields_are_stored_and_filter_lists(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/products/create and /update: images, marketing_features, shippable,
    # statement_descriptor, tax_code, url, type (good|service); /list: shippable, url filters.
    fields: dict[str, Any] = {"images": ["https://example.com/a.png"], "marketing_features": [{"name": "Fast"}],
                              "shippable": True, "statement_descriptor": "QUILL PRO", "tax_code": "txcd_10000000",
                              "url": "https://example.com/p/sandbox-fields", "type": "good"}
    prod = client.v1.products.create(params={"name": "Fields", **fields})
    assert (prod.images, prod.marketing_features[0].name, prod.shippable) == (fields["images"], "Fast", True)
    assert (prod.statement_descriptor, prod.tax_code, prod.url, prod.type) == (
        "QUILL PRO", "txcd_10000000", fields["url"], "good")
    assert client.v1.products.create(params={"name": "Plain"}).type == "service"
    upd = client.v1.products.update(prod.id, params={
        "images": ["https://example.com/b.png"], "marketing_features": [{"name": "Slow"}], "shippable": False, "statement_descriptor": "QUILL",
        "tax_code": "txcd_20030000", "url": "https://example.com/p/moved"})
    assert (upd.images, upd.marketing_features[0].name, upd.shippable, upd.statement_descriptor, upd.tax_code,
            upd.url) == (["https://example.com/b.png"], "Slow", False, "QUILL", "txcd_20030000", "https://example.com/p/moved")
    assert [p.id for p in client.v1.products.list(params={"url": "https://example.com/p/moved"}).data] == [prod.id]
    unshippable = {p.id for p in client.v1.products.list(params={"shippable": False, "limit": 100}).data}
    assert prod.id in unshippable
    assert prod.id not in {p.id for p in client.v1.products.list(params={"shippable": True, "limit": 100}).data}


def test_price_tax_behavior_and_decimal_amount(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/prices/create: tax_behavior, unit_amount_decimal; /update: tax_behavior.
    pr = client.v1.prices.create(params={"currency": "usd", "unit_amount_decimal": "1250",
                                         "tax_behavior": "exclusive", "product_data": {"name": "Decimal"}})
    assert (pr.unit_amount, str(pr.unit_amount_decimal), pr.tax_behavior) == (1250, "1250", "exclusive")
    assert client.v1.prices.update(pr.id, params={"tax_behavior": "inclusive"}).tax_behavior == "inclusive"


def test_customer_locales_tax_exempt_and_shipping(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/customers/create and /update: preferred_locales, tax_exempt, shipping.
    cus = client.v1.customers.create(params={"preferred_locales": ["fr", "en"], "tax_exempt": "reverse",
                                             "shipping": {"name": "Ada", "address": {"line1": "1 Main St"}}})
    assert (cus.preferred_locales, cus.tax_exempt) == (["fr", "en"], "reverse")
    assert cus.shipping is not None and cus.shipping.name == "Ada"
    assert cus.shipping.address is not None and cus.shipping.address.line1 == "1 Main St"
    upd = client.v1.customers.update(cus.id, params={"preferred_locales": ["de"], "tax_exempt": "none"})
    assert (upd.preferred_locales, upd.tax_exempt) == (["de"], "none")
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.customers.update(cus.id, params={"tax_exempt": "sometimes"})  # type: ignore[typeddict-item]
    assert err.value.param == "tax_exempt"


def test_payment_method_allow_redisplay_is_stored_and_filters(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/payment_methods/create, /update and /customer_list: allow_redisplay.
    cus = customer(client, pm=None)
    pm = client.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_visa"},
                                                  "allow_redisplay": "limited"})
    assert pm.allow_redisplay == "limited"
    client.v1.payment_methods.attach(pm.id, params={"customer": cus.id})
    other = client.v1.payment_methods.attach("pm_card_mastercard", params={"customer": cus.id})
    assert client.v1.payment_methods.update(other.id, params={"allow_redisplay": "always"}).allow_redisplay == "always"
    listed = client.v1.customers.payment_methods.list(cus.id, params={"allow_redisplay": "always"})
    assert [x.id for x in listed.data] == [other.id]


def test_payment_intent_descriptors_are_stored(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/payment_intents/create: statement_descriptor(_suffix), receipt_email.
    pi = client.v1.payment_intents.create(params={"amount": 500, "currency": "usd", "statement_descriptor": "QUILL",
                                                  "statement_descriptor_suffix": "PRO",
                                                  "receipt_email": "r@example.com"})
    assert (pi.statement_descriptor, pi.statement_descriptor_suffix, pi.receipt_email) == ("QUILL", "PRO",
                                                                                           "r@example.com")


def test_payment_intent_automatic_payment_methods(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/payment_intents/create#create_payment_intent-automatic_payment_methods:
    # enabled (required) and allow_redirects (always | never, default always); a confirm with
    # redirects allowed and no return_url is refused, and nothing is created.
    cus = customer(client, pm=None)
    pi = client.v1.payment_intents.create(params={
        "amount": 900, "currency": "usd", "customer": cus.id, "payment_method": "pm_card_visa", "confirm": True,
        "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}})
    assert pi.status == "succeeded"
    assert (pi.automatic_payment_methods.enabled, pi.automatic_payment_methods.allow_redirects) == (True, "never")
    before = len(client.v1.payment_intents.list(params={"customer": cus.id}).data)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.payment_intents.create(params={
            "amount": 900, "currency": "usd", "customer": cus.id, "payment_method": "pm_card_visa", "confirm": True,
            "automatic_payment_methods": {"enabled": True}})
    assert err.value.param == "return_url"
    assert len(client.v1.payment_intents.list(params={"customer": cus.id}).data) == before
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.create(params={"amount": 900, "currency": "usd",
                                                 "automatic_payment_methods": {"allow_redirects": "never"}})
    assert missing.value.param == "automatic_payment_methods[enabled]"
    plain = client.v1.payment_intents.create(params={"amount": 900, "currency": "usd", "return_url": "https://example.com/back",
                                                     "automatic_payment_methods": {"enabled": True}})
    assert plain.status == "requires_payment_method" and plain.automatic_payment_methods.allow_redirects == "always"
    off = client.v1.payment_intents.create(params={  # off-session: no customer on the page to redirect
        "amount": 900, "currency": "usd", "customer": cus.id, "payment_method": "pm_card_visa", "confirm": True,
        "off_session": True, "automatic_payment_methods": {"enabled": True}})
    assert off.status == "succeeded"


def test_checkout_session_fields_are_stored(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/checkout/sessions/create: each of these appears on the session as sent.
    cus = customer(client, pm=None)
    monthly = price(client, 1500)
    one_off = client.v1.prices.create(params={"currency": "usd", "unit_amount": 900, "product_data": {"name": "Kit"}})
    sub_session = client.v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": cus.id, "line_items": [{"price": monthly.id, "quantity": 1}],
        "success_url": "https://example.com/ok", "allow_promotion_codes": True, "billing_address_collection": "required",
        "client_reference_id": "ref-42", "locale": "fr", "payment_method_collection": "if_required",
        "ui_mode": "hosted_page"})  # type: ignore[typeddict-item]
    assert (sub_session.allow_promotion_codes, sub_session.billing_address_collection, sub_session.client_reference_id,
            sub_session.locale, sub_session.payment_method_collection, sub_session.ui_mode) == (
        True, "required", "ref-42", "fr", "if_required", "hosted_page")
    pay = client.v1.checkout.sessions.create(params={
        "mode": "payment", "line_items": [{"price": one_off.id, "quantity": 1}], "success_url": "https://example.com/ok",
        "customer_creation": "always", "submit_type": "donate"})
    assert (pay.customer_creation, pay.submit_type) == ("always", "donate")
    assert client.v1.checkout.sessions.list(params={"payment_link": "plink_none"}).data == []


def test_invoice_footer_collection_and_list_filters(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/invoices/create: footer, collection_method, days_until_due (send_invoice
    # only); /update: footer on drafts; /list: collection_method, due_date filters.
    cus = customer(client)
    inv = client.v1.invoices.create(params={"customer": cus.id, "collection_method": "send_invoice",
                                            "days_until_due": 14, "footer": "Thanks"})
    assert (inv.collection_method, inv.footer) == ("send_invoice", "Thanks")
    assert inv.due_date == inv.created + 14 * 86400
    assert client.v1.invoices.update(inv.id, params={"footer": "Merci"}).footer == "Merci"
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.invoices.create(params={"customer": cus.id, "days_until_due": 3})
    assert err.value.param == "days_until_due"
    auto = client.v1.invoices.create(params={"customer": cus.id})
    sent = client.v1.invoices.list(params={"customer": cus.id, "collection_method": "send_invoice"}).data
    assert [i.id for i in sent] == [inv.id]
    due = client.v1.invoices.list(params={"customer": cus.id, "due_date": {"gte": inv.due_date}}).data
    assert [i.id for i in due] == [inv.id] and auto.id not in [i.id for i in due]


def test_pay_out_of_band_and_discountable_items(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/invoices/pay: paid_out_of_band marks it paid without a charge;
    # docs.stripe.com/api/invoiceitems/create: discountable.
    cus = customer(client, pm=None)
    inv = client.v1.invoices.create(params={"customer": cus.id})
    ii = client.v1.invoice_items.create(params={"customer": cus.id, "invoice": inv.id, "amount": 700, "currency": "usd",
                                               "discountable": False})
    assert ii.discountable is False
    paid = client.v1.invoices.pay(inv.id, params={"paid_out_of_band": True})
    assert (paid.status, paid.amount_paid) == ("paid", 700)
    assert client.v1.charges.list(params={"customer": cus.id}).data == []


def test_list_filters_on_values_sandbox_objects_never_have(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/charges/list (transfer_group), /subscriptions/list (collection_method,
    # automatic_tax): a filter is applied, so a value no object has finds nothing.
    cus = customer(client)
    subscribe(client, cus.id, (price(client, 1000).id, 1))
    assert client.v1.charges.list(params={"customer": cus.id}).data
    assert client.v1.charges.list(params={"customer": cus.id, "transfer_group": "grp_x"}).data == []
    assert client.v1.subscriptions.list(params={"customer": cus.id, "collection_method": "send_invoice"}).data == []
    assert len(client.v1.subscriptions.list(params={"customer": cus.id,
                                                    "collection_method": "charge_automatically"}).data) == 1
    assert client.v1.subscriptions.list(params={"customer": cus.id, "automatic_tax": {"enabled": True}}).data == []
    assert len(client.v1.subscriptions.list(params={"customer": cus.id, "automatic_tax": {"enabled": False}}).data) == 1


def test_subscription_billing_mode_and_unchanged_anchor(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/subscriptions/create: billing_mode[type] classic|flexible;
    # /update: billing_cycle_anchor[type]=unchanged keeps the cycle (the object form of
    # 2026-09-30.endive; the old string form is refused; `now`: tests/sandbox/test_fidelity_cycle.py).
    cus = customer(client)
    sub = subscribe(client, cus.id, (price(client, 1000).id, 1), billing_mode={"type": "classic"})
    assert sub.billing_mode.type == "classic"
    kept = client.v1.subscriptions.update(sub.id, params={"billing_cycle_anchor": {"type": "unchanged"}})
    assert kept.billing_cycle_anchor == sub.billing_cycle_anchor
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.subscriptions.update(sub.id, params={"billing_cycle_anchor": "unchanged"})  # type: ignore[typeddict-item]
    assert err.value.param == "billing_cycle_anchor"


def test_customer_search_pages_and_bad_page(client: stripe.StripeClient, http: httpx.Client) -> None:
    # docs.stripe.com/api/customers/search: page is the next_page cursor of the previous result.
    for n in range(3):
        client.v1.customers.create(params={"email": f"pager{n}@example.com", "metadata": {"pager": "yes"}})
    first = client.v1.customers.search(params={"query": "metadata['pager']:'yes'", "limit": 2})
    assert first.has_more and first.next_page
    rest = client.v1.customers.search(params={"query": "metadata['pager']:'yes'", "limit": 2,
                                              "page": first.next_page})
    assert {c.id for c in rest.data}.isdisjoint({c.id for c in first.data})
    bad = http.get("/v1/customers/search", params={"query": "email:'x'", "page": "not-a-cursor"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "page"


def test_portal_session_locale(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/customer_portal/sessions/create: locale.
    cus = customer(client, pm=None)
    assert client.v1.billing_portal.sessions.create(params={"customer": cus.id, "locale": "de"}).locale == "de"


def test_dispute_submit_moves_it_under_review(client: stripe.StripeClient) -> None:
    # docs.stripe.com/api/disputes/update: submit=true submits the evidence.
    cus = customer(client, pm="pm_card_createDispute")
    subscribe(client, cus.id, (price(client, 2500).id, 1))
    [dispute] = [d for d in client.v1.disputes.list(params={"limit": 100}).data
                 if client.v1.charges.retrieve(str(d.charge)).customer == cus.id]
    done = client.v1.disputes.update(dispute.id, params={"evidence": {"uncategorized_text": "used it"},
                                                         "submit": True})
    assert done.status == "under_review"
