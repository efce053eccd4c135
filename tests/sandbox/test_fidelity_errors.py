"""Error fidelity: messages, codes, params and statuses as real Stripe answers them.

Sources are cited per test; "public fakes" means Stripe responses quoted verbatim in
public test suites and issue threads (search corpus), several agreeing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import stripe

from test_b_support import customer, price, subscribe

MISSING: list[tuple[str, Callable[[stripe.StripeClient], Any], str]] = [
    # "No such payment_intent: 'pi_…'" (stripe/stripe-android#12912, stripe-terminal-react-native#379)
    ("payment_intent", lambda c: c.v1.payment_intents.retrieve("pi_x"), "No such payment_intent: 'pi_x'"),
    # "No such PaymentMethod: 'pm_…'" (Stripe's one CamelCase label; many public fakes/tests)
    ("payment_method", lambda c: c.v1.payment_methods.retrieve("pm_x"), "No such PaymentMethod: 'pm_x'"),
    # "No such checkout.session: 'cs_…'", "No such subscription_item: …", "No such credit_note: …",
    # "No such invoiceitem: …" (public fakes and client tests quoting Stripe)
    ("checkout.session", lambda c: c.v1.checkout.sessions.retrieve("cs_x"), "No such checkout.session: 'cs_x'"),
    ("subscription_item", lambda c: c.v1.subscription_items.retrieve("si_x"), "No such subscription_item: 'si_x'"),
    ("credit_note", lambda c: c.v1.credit_notes.retrieve("cn_x"), "No such credit_note: 'cn_x'"),
    ("invoiceitem", lambda c: c.v1.invoice_items.retrieve("ii_x"), "No such invoiceitem: 'ii_x'"),
    ("price", lambda c: c.v1.prices.retrieve("price_x"), "No such price: 'price_x'"),
    ("subscription", lambda c: c.v1.subscriptions.retrieve("sub_x"), "No such subscription: 'sub_x'"),
    ("invoice", lambda c: c.v1.invoices.retrieve("in_x"), "No such invoice: 'in_x'"),
    ("charge", lambda c: c.v1.charges.retrieve("ch_x"), "No such charge: 'ch_x'"),
    ("refund", lambda c: c.v1.refunds.retrieve("re_x"), "No such refund: 're_x'"),
]


@pytest.mark.parametrize(("kind", "call", "message"), MISSING, ids=[m[0] for m in MISSING])
def test_unknown_ids_use_stripes_label(client: stripe.StripeClient, kind: str,
                                       call: Callable[[stripe.StripeClient], Any], message: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        call(client)
    assert exc.value.http_status == 404 and exc.value.code == "resource_missing"
    assert exc.value.user_message == message


def test_module_level_api_raises_the_same(sandbox: Any) -> None:
    stripe.api_key, stripe.api_base = "sk_test_123", sandbox.url
    with pytest.raises(stripe.InvalidRequestError) as exc:
        stripe.PaymentIntent.retrieve("pi_nope")
    assert exc.value.http_status == 404 and exc.value.user_message == "No such payment_intent: 'pi_nope'"


def test_invalid_enum_lists_choices_with_or(client: stripe.StripeClient) -> None:
    # "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer"
    # (Stripe's reply quoted in several public fakes' tests); checked before the lookup.
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create({"charge": "ch_nope", "reason": "because"})  # type: ignore[typeddict-item]
    assert exc.value.param == "reason"
    assert exc.value.user_message == "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer"


@pytest.mark.parametrize(("limit", "message"), [
    (0, "This value must be greater than or equal to 1."),
    (101, "This value must be less than or equal to 100."),
])
def test_list_limit_bounds(client: stripe.StripeClient, limit: int, message: str) -> None:
    # API reference: limit "can range between 1 and 100"; wording as quoted by public fakes.
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.list({"limit": limit})
    assert (exc.value.code, exc.value.param, exc.value.user_message) == ("parameter_invalid_integer", "limit", message)


def test_wrong_method_on_a_known_path_is_unrecognized_url(http: httpx.Client) -> None:
    # "Unrecognized request URL (GET: /v1/missing). Please see https://stripe.com/docs or we can
    # help at https://support.stripe.com/." (404, no code; recorded Stripe bodies in public tests)
    r = http.get("/v1/refunds/re_x/cancel")
    err = r.json()["error"]
    assert r.status_code == 404 and "code" not in err and err["type"] == "invalid_request_error"
    assert err["message"] == ("Unrecognized request URL (GET: /v1/refunds/re_x/cancel). Please see "
                              "https://stripe.com/docs or we can help at https://support.stripe.com/.")


def test_live_key_message_masks_like_stripe(sandbox: Any) -> None:
    # "Invalid API Key provided: sk_live_**************************AAAA" (Stripe body quoted publicly)
    key = "sk_live_" + "x" * 20 + "AAAA"
    c = stripe.StripeClient(key, base_addresses={"api": sandbox.url}, max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError) as exc:
        c.v1.customers.list()
    assert exc.value.http_status == 401
    assert exc.value.user_message == "Invalid API Key provided: sk_live_" + "*" * 20 + "AAAA"


def test_cancel_of_a_canceled_subscription_is_404(client: stripe.StripeClient) -> None:
    # stripe/stripe-go#1887 (maintainer): a canceled subscription "is akin to being deleted", so a
    # second cancel answers "No such subscription" (404 resource_missing, param id).
    cus = customer(client)
    sub = subscribe(client, cus.id, (price(client, 1000).id, 1))
    client.v1.subscriptions.cancel(sub.id)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.cancel(sub.id)
    assert (exc.value.http_status, exc.value.code, exc.value.param) == (404, "resource_missing", "id")
    assert exc.value.user_message == f"No such subscription: '{sub.id}'"
    # updating it beyond metadata/cancellation_details: the message public code quotes from Stripe
    with pytest.raises(stripe.InvalidRequestError) as upd:
        client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
    assert upd.value.user_message == "A canceled subscription can only update its cancellation_details and metadata."


def test_expand_refuses_non_expandable_properties(client: stripe.StripeClient) -> None:
    # "This property cannot be expanded (created)." — Stripe refuses the request, never ignores
    # the path (docs.stripe.com/expand; Stripe replies quoted in public tests).
    cus = customer(client)
    for path in ("created", "email", "bogus", "invoice_settings.footer"):
        with pytest.raises(stripe.InvalidRequestError) as exc:
            client.v1.customers.retrieve(cus.id, {"expand": [path]})
        assert exc.value.user_message == f"This property cannot be expanded ({path})."
    with pytest.raises(stripe.InvalidRequestError) as lst:
        client.v1.customers.list({"expand": ["data.email"], "limit": 1})
    assert lst.value.user_message == "This property cannot be expanded (data.email)."
    # expandable ids, nested objects and includables still work
    got = client.v1.customers.retrieve(cus.id, {"expand": ["invoice_settings.default_payment_method", "test_clock"]})
    assert got.id == cus.id


def test_expand_depth_limit_code(client: stripe.StripeClient) -> None:
    # code property_expansion_max_depth, "You cannot expand more than 4 levels of a property.
    # Property: data.items.data.price.product" (Stripe replies quoted in public issues/code)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.list({"expand": ["data.items.data.price.product"]})
    assert exc.value.code == "property_expansion_max_depth"
    assert exc.value.user_message == ("You cannot expand more than 4 levels of a property. "
                                      "Property: data.items.data.price.product")
