"""Every call issue 2 lists for the sandbox, made once with only the official SDK.

Both faces of stripe-python are used, as a toolkit user would: ``StripeClient``
(``client.v1.*``) and the module-level API (``stripe.api_key``/``stripe.api_base`` with
``stripe.Customer.create(...)``, ``auto_paging_iter()``, ...). Each call's result is checked
for what Stripe documents it returns; the refusals are the SDK's own exception classes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from billing_nb.sandbox.server import ThreadedSandbox
from test_b_support import DAY, T0

WEEK = 7 * DAY
API_KEY = "sk_test_123"  # any test key; the sandbox accepts it as Stripe test mode does


@pytest.fixture()
def module_api(sandbox: ThreadedSandbox) -> Iterator[None]:
    """Point the module-level API at the sandbox for one test, then put it back."""
    saved = (stripe.api_key, stripe.api_base, stripe.max_network_retries)
    stripe.api_key, stripe.api_base, stripe.max_network_retries = API_KEY, sandbox.url, 0
    try:
        yield
    finally:
        stripe.api_key, stripe.api_base, stripe.max_network_retries = saved


def _wait_ready(clock_id: str) -> stripe.test_helpers.TestClock:
    for _ in range(200):
        ck = stripe.test_helpers.TestClock.retrieve(clock_id)
        if ck.status == "ready":
            return ck
        time.sleep(0.05)
    raise TimeoutError(clock_id)


def test_customers_both_apis(client: stripe.StripeClient, module_api: None) -> None:
    ck = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0, "name": "coverage customers"})
    cus = client.v1.customers.create(params={"email": "cov-a@example.com", "name": "Coverage Alpha",
                                             "metadata": {"plan": "cov"}, "test_clock": ck.id})
    assert (cus.email, cus.test_clock, cus.balance, cus.metadata["plan"]) == ("cov-a@example.com", ck.id, 0, "cov")  # type: ignore[index,operator,arg-type]
    assert client.v1.customers.retrieve(cus.id).name == "Coverage Alpha"
    assert client.v1.customers.update(cus.id, params={"name": "Coverage A."}).name == "Coverage A."
    assert [c.id for c in client.v1.customers.list(params={"email": "cov-a@example.com", "test_clock": ck.id}).data] == [cus.id]
    for query in ("email:'cov-a@example.com'", "metadata['plan']:'cov'", "name~'Coverage'"):
        found = client.v1.customers.search(params={"query": query})
        assert cus.id in [c.id for c in found.data], query
    twin = stripe.Customer.create(email="cov-a@example.com", name="Coverage Twin", test_clock=ck.id)
    assert stripe.Customer.retrieve(twin.id).email == "cov-a@example.com"
    assert stripe.Customer.modify(twin.id, metadata={"twin": "1"}).metadata["twin"] == "1"  # type: ignore[index,operator,arg-type]
    same_email = {c.id for c in stripe.Customer.list(email="cov-a@example.com", test_clock=ck.id,
                                                              limit=1).auto_paging_iter()}
    assert same_email == {cus.id, twin.id}
    assert twin.id in {c.id for c in stripe.Customer.search(query="metadata['twin']:'1'").auto_paging_iter()}
    deleted = stripe.Customer.delete(twin.id)
    assert deleted.deleted is True and deleted.id == twin.id
    assert client.v1.customers.delete(cus.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.customers.update(cus.id, params={"name": "gone"})
    assert err.value.code == "resource_missing"


def test_catalog_coupons_and_payment_methods(client: stripe.StripeClient, module_api: None) -> None:
    product = client.v1.products.create(params={"name": "Coverage product"})
    assert client.v1.products.retrieve(product.id).name == "Coverage product"
    assert client.v1.products.update(product.id, params={"description": "d"}).description == "d"
    assert product.id in [p.id for p in client.v1.products.list(params={"limit": 100}).data]
    one_off = client.v1.prices.create(params={"product": product.id, "currency": "usd", "unit_amount": 500})
    assert one_off.type == "one_time" and one_off.recurring is None
    quarterly = stripe.Price.create(product=product.id, currency="usd", unit_amount=2700,
                                    recurring={"interval": "month", "interval_count": 3})
    yearly = stripe.Price.create(product=product.id, currency="usd", unit_amount=9900, recurring={"interval": "year"})
    assert quarterly.recurring is not None and (quarterly.recurring.interval, quarterly.recurring.interval_count) == ("month", 3)
    assert yearly.recurring is not None and yearly.recurring.interval == "year"
    listed = {p.id for p in stripe.Price.list(product=product.id, limit=1).auto_paging_iter()}
    assert listed == {one_off.id, quarterly.id, yearly.id}
    assert stripe.Product.create(name="Coverage module product").active is True
    pct = client.v1.coupons.create(params={"percent_off": 25, "duration": "once"})
    amt = stripe.Coupon.create(amount_off=300, currency="usd", duration="repeating", duration_in_months=2)
    assert (pct.percent_off, amt.amount_off, amt.duration_in_months) == (25, 300, 2)
    assert client.v1.coupons.retrieve(pct.id).valid is True
    assert {pct.id, amt.id} <= {c.id for c in stripe.Coupon.list(limit=1).auto_paging_iter()}

    cus = client.v1.customers.create(params={"email": "cov-pm@example.com"})
    attached = {}
    for token in ("pm_card_visa", "pm_card_mastercard", "pm_card_chargeCustomerFail", "pm_card_createDispute"):
        pm = client.v1.payment_methods.attach(token, params={"customer": cus.id})
        assert pm.customer == cus.id and pm.id.startswith("pm_") and pm.card is not None
        attached[token] = pm
    assert attached["pm_card_mastercard"].card.brand == "mastercard"  # type: ignore[union-attr]
    with pytest.raises(stripe.CardError) as declined:  # Stripe checks the card when attaching it
        client.v1.payment_methods.attach("pm_card_chargeDeclined", params={"customer": cus.id})
    assert declined.value.code == "card_declined"
    module_pm = stripe.PaymentMethod.attach("pm_card_visa", customer=cus.id)
    mine = {pm.id for pm in client.v1.payment_methods.list(params={"customer": cus.id, "type": "card"}).data}
    assert mine == {pm.id for pm in attached.values()} | {module_pm.id}
    updated = client.v1.customers.update(cus.id, params={
        "invoice_settings": {"default_payment_method": attached["pm_card_visa"].id}})
    assert updated.invoice_settings is not None
    assert updated.invoice_settings.default_payment_method == attached["pm_card_visa"].id


def _customer_on_clock(client: stripe.StripeClient, token: str = "pm_card_visa") -> tuple[stripe.Customer, str, str]:
    ck = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0, "name": "coverage"})
    cus = client.v1.customers.create(params={"email": "cov-sub@example.com", "test_clock": ck.id})
    pm = client.v1.payment_methods.attach(token, params={"customer": cus.id})
    client.v1.customers.update(cus.id, params={"invoice_settings": {"default_payment_method": pm.id}})
    return cus, ck.id, pm.id


def _price(client: stripe.StripeClient, amount: int, interval: str = "month") -> stripe.Price:
    return client.v1.prices.create(params={"currency": "usd", "unit_amount": amount,
                                           "recurring": {"interval": interval},  # type: ignore[typeddict-item]
                                           "product_data": {"name": f"Coverage {amount}"}})


def test_subscriptions_lifecycle(client: stripe.StripeClient, module_api: None) -> None:
    cus, clock_id, pm = _customer_on_clock(client)
    seat, addon, big = _price(client, 1000), _price(client, 300), _price(client, 2000)
    sub = client.v1.subscriptions.create(params={
        "customer": cus.id, "items": [{"price": seat.id, "quantity": 3}, {"price": addon.id}],
        "metadata": {"team": "cov"}, "payment_behavior": "allow_incomplete", "default_payment_method": pm})
    assert sub.status == "active" and [i.quantity for i in sub["items"].data] == [3, 1]
    assert sub["items"].data[0].current_period_start == T0 and sub.default_payment_method == pm
    trial = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": seat.id}],
                                                   "trial_period_days": 14})
    assert trial.status == "trialing" and trial.trial_end == T0 + 14 * DAY
    assert client.v1.subscriptions.retrieve(sub.id).metadata["team"] == "cov"
    by_price = client.v1.subscriptions.list(params={"customer": cus.id, "price": addon.id, "status": "all"}).data
    assert [s.id for s in by_price] == [sub.id]

    seat_item, addon_item = sub["items"].data
    client.v1.test_helpers.test_clocks.advance(clock_id, params={"frozen_time": T0 + 10 * DAY})
    _wait_ready(clock_id)
    before = {ii.id for ii in client.v1.invoice_items.list(params={"customer": cus.id}).data}
    client.v1.subscriptions.update(sub.id, params={"items": [{"id": seat_item.id, "quantity": 4}],
                                                   "proration_behavior": "create_prorations"})
    pending = [ii for ii in client.v1.invoice_items.list(params={"customer": cus.id, "pending": True}).data
               if ii.id not in before]
    assert pending and all(ii.proration for ii in pending) and sum(ii.amount for ii in pending) > 0
    none = client.v1.subscriptions.update(sub.id, params={"items": [{"id": addon_item.id, "quantity": 2}],
                                                          "proration_behavior": "none"})
    assert client.v1.invoices.retrieve(str(none.latest_invoice)).billing_reason == "subscription_create"
    upgraded = stripe.Subscription.modify(sub.id, items=[{"id": seat_item.id, "price": big.id}],
                                          proration_behavior="always_invoice", metadata={"tier": "big"})
    inv = stripe.Invoice.retrieve(str(upgraded.latest_invoice))
    assert inv.billing_reason == "subscription_update" and inv.status == "paid" and inv.amount_paid > 0
    assert upgraded.metadata["tier"] == "big"
    ending = client.v1.subscriptions.update(trial.id, params={"cancel_at_period_end": True})
    assert ending.cancel_at_period_end is True and ending.cancel_at == T0 + 14 * DAY
    canceled = stripe.Subscription.cancel(sub.id, prorate=True, invoice_now=True,
                                          cancellation_details={"comment": "too many seats", "feedback": "too_expensive"})
    assert canceled.status == "canceled" and canceled.cancellation_details is not None
    assert (canceled.cancellation_details.feedback, canceled.cancellation_details.reason) == (
        "too_expensive", "cancellation_requested")
    every = {s.id: s.status for s in stripe.Subscription.list(customer=cus.id, status="all", limit=1).auto_paging_iter()}
    assert every == {sub.id: "canceled", trial.id: "trialing"}
    assert [s.id for s in client.v1.subscriptions.list(params={"customer": cus.id}).data] == [trial.id]
    # the period end arrives: cancel_at_period_end takes effect
    stripe.test_helpers.TestClock.advance(clock_id, frozen_time=T0 + 15 * DAY)
    assert _wait_ready(clock_id).frozen_time == T0 + 15 * DAY
    assert client.v1.subscriptions.retrieve(trial.id).status == "canceled"


def test_invoices_payments_refunds_credit_notes(client: stripe.StripeClient, module_api: None) -> None:
    cus, clock_id, _ = _customer_on_clock(client)
    plan = _price(client, 1500)
    sub = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": plan.id}]})
    first = client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert first.status == "paid" and first.amount_paid == 1500
    lines = client.v1.invoices.line_items.list(first.id).data
    assert [ln.amount for ln in lines] == [1500] and lines[0].pricing is not None
    assert [i.id for i in client.v1.invoices.list(params={"customer": cus.id, "status": "paid"}).data] == [first.id]
    assert [i.id for i in client.v1.invoices.list(params={"subscription": sub.id}).data] == [first.id]
    at = T0 + 10 * DAY
    client.v1.test_helpers.test_clocks.advance(clock_id, params={"frozen_time": at})
    _wait_ready(clock_id)
    bigger = _price(client, 3000)
    preview = stripe.Invoice.create_preview(subscription=sub.id, subscription_details={
        "items": [{"id": sub["items"].data[0].id, "price": bigger.id}], "proration_date": at,
        "proration_behavior": "always_invoice"})
    assert preview.parent is not None and preview.parent.subscription_details is not None
    assert preview.parent.subscription_details.subscription_proration_date == at
    assert {ln.amount for ln in preview.lines.data if ln.amount < 0}, "the unused time is credited"

    # a manual invoice: draft -> finalize -> pay; another: finalize -> void
    client.v1.invoice_items.create(params={"customer": cus.id, "amount": 700, "currency": "usd", "description": "Fee"})
    draft = stripe.Invoice.create(customer=cus.id, auto_advance=False, pending_invoice_items_behavior="include")
    assert draft.status == "draft" and draft.amount_due == 700
    opened = client.v1.invoices.finalize_invoice(draft.id)
    assert opened.status == "open"
    paid = client.v1.invoices.pay(opened.id)
    assert paid.status == "paid" and paid.amount_paid == 700
    client.v1.invoice_items.create(params={"customer": cus.id, "amount": 200, "currency": "usd", "description": "Oops"})
    other = client.v1.invoices.create(params={"customer": cus.id, "pending_invoice_items_behavior": "include"})
    voided = client.v1.invoices.void_invoice(client.v1.invoices.finalize_invoice(other.id).id)
    assert voided.status == "void"

    intents = client.v1.payment_intents.list(params={"customer": cus.id}).data
    charges = client.v1.charges.list(params={"customer": cus.id}).data
    assert {pi.amount for pi in intents} == {1500, 700} and {ch.amount for ch in charges} == {1500, 700}
    assert all(ch.paid and ch.status == "succeeded" for ch in charges)
    first_pi = client.v1.invoice_payments.list(params={"invoice": first.id}).data[0].payment.payment_intent
    pi = client.v1.payment_intents.retrieve(str(first_pi))
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    refund = client.v1.refunds.create(params={"charge": charge.id, "amount": 500, "reason": "requested_by_customer",
                                              "metadata": {"case": "cov"}})
    assert (refund.amount, refund.status, refund.reason, refund.metadata["case"]) == (  # type: ignore[index,operator,arg-type]
        500, "succeeded", "requested_by_customer", "cov")
    by_pi = stripe.Refund.create(payment_intent=pi.id, amount=300)
    assert by_pi.charge == charge.id
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        stripe.Refund.create(charge=charge.id, amount=1000)
    assert too_much.value.code == "amount_too_large"
    assert {r.id for r in client.v1.refunds.list(params={"charge": charge.id}).data} == {refund.id, by_pi.id}
    assert {r.id for r in stripe.Refund.list(payment_intent=pi.id, limit=1).auto_paging_iter()} == {refund.id, by_pi.id}
    assert client.v1.charges.retrieve(charge.id).amount_refunded == 800

    cn_preview = stripe.CreditNote.preview(invoice=paid.id, amount=200, refund_amount=200)
    assert (cn_preview.amount, cn_preview.total, cn_preview.invoice) == (200, 200, paid.id)
    cn = client.v1.credit_notes.create(params={"invoice": paid.id, "amount": 200, "refund_amount": 200,
                                               "reason": "product_unsatisfactory"})
    assert (cn.amount, cn.status, cn.reason, cn.type) == (200, "issued", "product_unsatisfactory", "post_payment")
    assert cn.refunds and cn.refunds[0].amount_refunded == 200
    assert [c.id for c in client.v1.credit_notes.list(params={"invoice": paid.id}).data] == [cn.id]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.credit_notes.create(params={"invoice": paid.id, "amount": 600, "credit_amount": 600})


def test_failures_disputes_and_checkout(client: stripe.StripeClient, module_api: None) -> None:
    failing, _, _ = _customer_on_clock(client, "pm_card_chargeCustomerFail")
    plan = _price(client, 900)
    sub = client.v1.subscriptions.create(params={"customer": failing.id, "items": [{"price": plan.id}],
                                                 "payment_behavior": "allow_incomplete"})
    assert sub.status == "incomplete"
    pi = client.v1.payment_intents.list(params={"customer": failing.id}).data[0]
    assert pi.status == "requires_payment_method" and pi.last_payment_error is not None
    assert (pi.last_payment_error.code, pi.last_payment_error.decline_code) == ("card_declined", "generic_decline")
    failed = client.v1.charges.list(params={"customer": failing.id}).data[0]
    assert (failed.status, failed.failure_code) == ("failed", "card_declined")

    disputed, _, _ = _customer_on_clock(client, "pm_card_createDispute")
    dsub = client.v1.subscriptions.create(params={"customer": disputed.id, "items": [{"price": plan.id}]})
    dcharge = client.v1.charges.list(params={"customer": disputed.id}).data[0]
    assert dcharge.disputed is True
    disputes = [d for d in client.v1.disputes.list(params={"limit": 100}).data if d.charge == dcharge.id]
    assert len(disputes) == 1 and disputes[0].status == "needs_response"
    dispute = stripe.Dispute.retrieve(disputes[0].id)
    assert dispute.amount == 900 and dispute.evidence_details.due_by > dcharge.created  # type: ignore[index,operator,arg-type]
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create(params={"charge": dcharge.id})
    assert err.value.code == "charge_disputed"
    assert dsub.status == "active"

    session = client.v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": disputed.id, "success_url": "https://example.com/ok",
        "line_items": [{"price": plan.id, "quantity": 1}]})
    expired = client.v1.checkout.sessions.expire(
        client.v1.checkout.sessions.create(params={"mode": "subscription", "customer": disputed.id,
                                                   "success_url": "https://example.com/ok",
                                                   "line_items": [{"price": plan.id, "quantity": 1}]}).id)
    listed = {s.id: s.status for s in client.v1.checkout.sessions.list(params={"customer": disputed.id}).data}
    assert listed == {session.id: "open", expired.id: "expired"}
    assert {s.id for s in stripe.checkout.Session.list(customer=disputed.id, limit=1).auto_paging_iter()} == set(listed)


def test_portal_clocks_and_events(client: stripe.StripeClient, module_api: None) -> None:
    cus, clock_id, _ = _customer_on_clock(client)
    plan, other = _price(client, 1100), _price(client, 2200)
    sub = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": plan.id}]})
    conf = client.v1.billing_portal.configurations.create(params={"features": {
        "customer_update": {"enabled": True, "allowed_updates": ["email", "address"]},
        "invoice_history": {"enabled": True},
        "payment_method_update": {"enabled": True},
        "subscription_cancel": {"enabled": True, "mode": "at_period_end",
                                "cancellation_reason": {"enabled": True, "options": ["too_expensive", "unused"]}},
        "subscription_update": {"enabled": True, "default_allowed_updates": ["price", "quantity"],
                                "proration_behavior": "create_prorations",
                                "products": [{"product": str(plan.product), "prices": [plan.id]},
                                             {"product": str(other.product), "prices": [other.id]}]}},
        "business_profile": {"headline": "Coverage"}, "metadata": {"cov": "1"}})
    assert conf.is_default is False and conf.features.subscription_cancel.enabled is True
    assert conf.id in {c.id for c in client.v1.billing_portal.configurations.list(params={"limit": 100}).data}
    assert conf.id in {c.id for c in stripe.billing_portal.Configuration.list(limit=1).auto_paging_iter()}
    off = client.v1.billing_portal.configurations.update(conf.id, params={
        "features": {"subscription_cancel": {"enabled": False}}, "default_return_url": "https://example.com/back"})
    assert off.features.subscription_cancel.enabled is False and off.default_return_url == "https://example.com/back"
    with pytest.raises(stripe.InvalidRequestError):  # the flow's feature is off in this configuration
        client.v1.billing_portal.sessions.create(params={"customer": cus.id, "configuration": conf.id, "flow_data": {
            "type": "subscription_cancel", "subscription_cancel": {"subscription": sub.id}}})
    client.v1.billing_portal.configurations.update(conf.id, params={"features": {"subscription_cancel": {"enabled": True}}})
    flows: list[dict[str, Any]] = [
        {"type": "payment_method_update"},
        {"type": "subscription_cancel", "subscription_cancel": {"subscription": sub.id}},
        {"type": "subscription_update", "subscription_update": {"subscription": sub.id}},
        {"type": "subscription_update_confirm", "subscription_update_confirm": {
            "subscription": sub.id, "items": [{"id": sub["items"].data[0].id, "price": other.id}]},
         "after_completion": {"type": "redirect", "redirect": {"return_url": "https://example.com/done"}}},
    ]
    for flow in flows:
        session = stripe.billing_portal.Session.create(customer=cus.id, configuration=conf.id, flow_data=flow,  # type: ignore[index,operator,arg-type]
                                                       return_url="https://example.com/account")
        assert session.flow is not None and session.flow.type == flow["type"], flow
        assert session.configuration == conf.id and session.url.startswith("http")
    plain = client.v1.billing_portal.sessions.create(params={"customer": cus.id})
    assert plain.flow is None and plain.configuration  # the account's default configuration

    past = T0 - 30 * DAY
    ck = client.v1.test_helpers.test_clocks.create(params={"frozen_time": past, "name": "coverage past"})
    assert (ck.frozen_time, ck.status) == (past, "ready")
    advanced = stripe.test_helpers.TestClock.advance(ck.id, frozen_time=past + WEEK)
    assert advanced.status in ("advancing", "ready")
    assert _wait_ready(ck.id).frozen_time == past + WEEK
    client.v1.test_helpers.test_clocks.advance(clock_id, params={"frozen_time": T0 + 31 * DAY})
    _wait_ready(clock_id)
    renewals = client.v1.invoices.list(params={"subscription": sub.id}).data
    assert [i.billing_reason for i in renewals] == ["subscription_cycle", "subscription_create"]

    created = client.v1.events.list(params={"type": "customer.subscription.created", "limit": 100}).data
    assert sub.id in {e.data.object["id"] for e in created}
    # events of objects on a test clock carry the clock's time
    recent = {e.type for e in stripe.Event.list(created={"gte": T0, "lte": T0 + 40 * DAY}, limit=100).auto_paging_iter()}
    assert {"customer.created", "invoice.paid", "customer.subscription.updated"} <= recent
    configs = stripe.Event.list(type="billing_portal.configuration.updated", limit=100).auto_paging_iter()
    assert conf.id in {e.data.object["id"] for e in configs}
    assert all(e.type == "invoice.paid" for e in stripe.Event.list(type="invoice.paid", limit=5).data)
