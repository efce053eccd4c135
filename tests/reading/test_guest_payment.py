"""A lookup by a guest payment (a ``pi_``/``ch_`` made without a customer) fails with one clear
line that says the payment has no customer and what the analyst can do -- naming by id the
customer its receipt email belongs to, when there is one (never the email itself). Before: "no
customer found for ch_...", as if the id were wrong. And the account read asks for customers'
own discounts expanded (a subscription without its own inherits them) in the same requests."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
import stripe

from billing_nb.exceptions import LookupNotFoundError
from billing_nb.reading.account import read_account
from billing_nb.reading.provider import StripeReader
from billing_nb.sandbox.server import ThreadedSandbox

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def sb() -> Any:
    with ThreadedSandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def c(sb: ThreadedSandbox) -> Any:
    return stripe.StripeClient("sk_test_1", base_addresses={"api": sb.url})


def _guest(c: Any, email: str | None) -> Any:
    params: dict[str, Any] = {"amount": 4900, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    if email:
        params["receipt_email"] = email
    return c.v1.payment_intents.create(params)


@pytest.mark.parametrize("by", ["payment_intent", "charge"])
def test_a_guest_payment_with_no_known_email_says_it_has_no_customer(c: Any, by: str) -> None:
    pi = _guest(c, "stranger@example.com")
    lookup = pi.id if by == "payment_intent" else pi.latest_charge
    with pytest.raises(LookupNotFoundError) as info:
        StripeReader(c).resolve(lookup)
    text = str(info.value)
    assert "guest payment" in text and "has no customer" in text and lookup in text
    assert "no customer has its receipt email" in text and "refund the payment itself" in text
    assert "stranger" not in text and "\n" not in text and "no customer found" not in text


@pytest.mark.parametrize("by", ["payment_intent", "charge"])
def test_a_guest_payment_names_the_customer_its_receipt_email_belongs_to(c: Any, by: str) -> None:
    cus = c.v1.customers.create({"email": "known.buyer@example.com"}).id
    pi = _guest(c, "known.buyer@example.com")
    lookup = pi.id if by == "payment_intent" else pi.latest_charge
    with pytest.raises(LookupNotFoundError) as info:
        StripeReader(c).resolve(lookup)
    text = str(info.value)
    assert "guest payment" in text and f"belongs to customer {cus}: look the case up by that id" in text
    assert "known.buyer" not in text and "\n" not in text


def test_a_guest_payment_without_any_email(c: Any) -> None:
    pi = _guest(c, None)
    with pytest.raises(LookupNotFoundError, match="no customer in Stripe, and no receipt or billing email"):
        StripeReader(c).resolve(pi.latest_charge)


def test_the_account_read_expands_customers_discounts_in_the_same_requests(c: Any, sb: ThreadedSandbox) -> None:
    c.v1.customers.create({"email": "someone@example.com"})
    reader = StripeReader(c)
    asked: list[tuple[str, dict[str, Any]]] = []
    list_all = reader.list_all

    def spy(fn: Any, params: Any, **kw: Any) -> Any:
        asked.append((getattr(fn, "__qualname__", str(fn)), dict(params)))
        return list_all(fn, params, **kw)

    reader.list_all = spy  # type: ignore[method-assign]
    with urllib.request.urlopen(f"{sb.url}/_sandbox/requests") as resp:
        before = len(json.loads(resp.read())["data"])
    account = read_account(reader)
    with urllib.request.urlopen(f"{sb.url}/_sandbox/requests") as resp:
        log = json.loads(resp.read())["data"][before:]
    customer_lists = [p for name, p in asked if "Customer" in name]
    assert customer_lists and all(p.get("expand") == ["data.discount.source.coupon"] for p in customer_lists)
    assert account.request_count == len(log) and not any(e["path"].startswith("/v1/prices/") for e in log)
