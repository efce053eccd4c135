"""A customer's own coupon, and amounts in the subscription's currency, everywhere.

- A coupon on the customer (``customer.discount``) applies to every subscription of that
  customer without discounts of its own, later ones too ("A coupon that you add to a customer
  applies to all subscriptions for that customer, including subscriptions added later",
  docs.stripe.com/billing/subscriptions/coupons; a subscription's ``discounts`` "if not
  specified or empty, inherits the discount from the subscription's customer", API reference).
  The case (contract shape, billing state, refund options), the portfolio and the store count
  it by one rule (``reading.prices.subscription_discounts``). Before: the case ignored it (the
  billing state showed the undiscounted price and the downgrade option overstated the credit),
  and the portfolio counted it only when the caller remembered ``customers=``.
- A multi-currency price bills a subscription in another currency at its ``currency_options``
  amount: the product-gap evidence names that amount, not the default ``unit_amount``/``currency``.
- One answer to "which currency is this customer's money in" (``reading.objects.money_currency``).
"""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from billing_nb.analysis.classify import Bucket, Decision
from billing_nb.analysis.contract import contract_shapes, refund_options
from billing_nb.analysis.credits import credits_of
from billing_nb.analysis.gaps import find_gaps
from billing_nb.analysis.identify import identify
from billing_nb.exceptions import BadInputError
from billing_nb.money import Money, round_half_up, unused_fraction
from billing_nb.reading.account import read_account
from billing_nb.reading.objects import money_currency
from billing_nb.reading.provider import StripeReader
from billing_nb.reading.waves import build_snapshot
from billing_nb.reports.portfolio import monthly_amount, mrr_totals, plan_mix
from billing_nb.reports.recurring import item_mrr
from billing_nb.sandbox.engine.discounts import redeem_for_customer
from billing_nb.sandbox.server import ThreadedSandbox
from tests.fixtures import builders as b
from tests.reports.test_currency_options_mrr import _load, _store


@pytest.fixture(scope="module")
def sandbox() -> Any:
    with ThreadedSandbox() as sb:
        yield sb, stripe.StripeClient("sk_test_1", base_addresses={"api": sb.url})


def _customer(c: Any) -> str:
    return c.v1.customers.create({"payment_method": "pm_card_visa",
                                  "invoice_settings": {"default_payment_method": "pm_card_visa"}}).id


def _customer_coupon(sb: Any, c: Any, cus: str, **coupon: Any) -> str:
    """A coupon on the customer itself (the Dashboard's; this API version has no parameter for it)."""
    co = c.v1.coupons.create({"duration": "forever", **coupon}).id
    return str(redeem_for_customer(sb.store, co, cus)["id"])


@pytest.mark.sandbox
def test_a_customers_forever_coupon_is_in_the_case_the_portfolio_and_the_store(sandbox: Any) -> None:
    sb, c = sandbox
    cus = _customer(c)
    disc = _customer_coupon(sb, c, cus, percent_off=20)
    prod = c.v1.products.create({"name": "Pro"}).id
    pro = c.v1.prices.create({"product": prod, "currency": "usd", "unit_amount": 10000,
                              "recurring": {"interval": "month"}}).id
    lite = c.v1.prices.create({"product": prod, "currency": "usd", "unit_amount": 5000,
                               "recurring": {"interval": "month"}}).id
    c.v1.subscriptions.create({"customer": cus, "items": [{"price": lite}]})  # the cheaper one is seen
    sub = c.v1.subscriptions.create({"customer": cus, "items": [{"price": pro}]})
    inv = c.v1.invoices.retrieve(sub.latest_invoice)
    assert inv.amount_paid == 8000  # Stripe bills the subscription with the customer's coupon
    snap = build_snapshot(StripeReader(c), cus)
    shape = next(s for s in contract_shapes(snap) if s.subscription_id == sub.id)
    assert shape.discounts == (disc,)
    assert [d.percent_off for d in shape.recurring_discounts] == [20]
    assert shape.recurring_total == Money(10000, "usd")  # the price
    assert shape.recurring_net == Money(8000, "usd") == shape.mrr  # what the customer pays on
    state = shape.as_case_json()
    assert state["recurring_net"]["value"] == 8000 and state["recurring_total"]["value"] == 10000
    options = {o.kind: o for o in refund_options(snap, shape)}
    assert options["cancel_now_refund"].amount.amount <= 8000
    # the downgrade's prorations are at the discounted prices, as Stripe computes them
    item = shape.items[0]
    left = unused_fraction(item.period_start, item.period_end, snap.now_ts)
    down = options["downgrade_prorations"]
    expected = round_half_up(10000 * left * 4 / 5) - round_half_up(5000 * left * 4 / 5)
    assert abs(down.amount.amount - expected) <= 1 and down.amount.amount <= 4000
    # the portfolio and the store count it by the same rule
    account = read_account(StripeReader(c))
    mine = [s for s in account.subscriptions if s["customer"] == cus]
    assert {r["currency"]: int(r["mrr_minor"]) for r in mrr_totals(mine, account.customers).to_dict("records")} \
        == {"usd": 8000 + 4000}
    assert {r["currency"]: int(r["mrr_minor"]) for r in mrr_totals(account).to_dict("records") if r["currency"] == "usd"}
    with _store() as store:
        _load(store, "customers", [x for x in account.customers if x["id"] == cus])
        _load(store, "prices", [it["price"] for s in mine for it in s["items"]["data"]])
        _load(store, "subscriptions", mine)
        assert int(item_mrr(store.query)["mrr"].sum()) == 8000 + 4000


@pytest.mark.sandbox
def test_a_customers_amount_off_coupon_counts_at_its_option_in_the_subscriptions_currency(sandbox: Any) -> None:
    sb, c = sandbox
    cus = _customer(c)
    price = c.v1.prices.create({"product": c.v1.products.create({"name": "Team"}).id, "currency": "usd",
                                "unit_amount": 2000, "recurring": {"interval": "month"},
                                "currency_options": {"eur": {"unit_amount": 1800}}}).id
    sub = c.v1.subscriptions.create({"customer": cus, "currency": "eur", "items": [{"price": price}]})
    c.v1.subscriptions.cancel(sub.id)  # the customer is EUR now: its coupon applies in EUR
    _customer_coupon(sb, c, cus, amount_off=500, currency="usd", currency_options={"eur": {"amount_off": 400}})
    sub = c.v1.subscriptions.create({"customer": cus, "currency": "eur", "items": [{"price": price}]})
    assert c.v1.invoices.retrieve(sub.latest_invoice).amount_paid == 1400
    snap = build_snapshot(StripeReader(c), cus)
    shape = next(s for s in contract_shapes(snap) if s.subscription_id == sub.id)
    assert shape.mrr == Money(1400, "eur") == shape.recurring_net


def _sub_and_customer(**coupon: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    cust = b.customer()
    cust["discount"] = {"id": "di_cus", "object": "discount", "customer": cust["id"], "subscription": None,
                        "end": None, "source": {"type": "coupon", "coupon": {"id": "co_1", "object": "coupon",
                                                                            "duration": "forever", **coupon}}}
    return b.subscription(cust, b.price(unit_amount=10000)), cust


def test_the_portfolio_never_counts_an_inheriting_subscription_gross_by_default() -> None:
    sub, cust = _sub_and_customer(percent_off=20, amount_off=None)
    with pytest.raises(BadInputError, match="pass the account's customers"):
        mrr_totals([sub])
    with pytest.raises(BadInputError):
        plan_mix([sub])
    with pytest.raises(BadInputError):
        monthly_amount(sub)
    assert monthly_amount(sub, cust) == Money(8000, "usd")
    assert int(mrr_totals([sub], [cust]).loc[0, "mrr_minor"]) == 8000
    assert monthly_amount({**sub, "customer": cust}) == Money(8000, "usd")  # expanded on the subscription
    assert monthly_amount(sub, None) == Money(10000, "usd")  # the caller says it has none


def test_the_case_counts_a_coupon_on_the_customer() -> None:
    sub, cust = _sub_and_customer(percent_off=20, amount_off=None)
    [shape] = contract_shapes(b.snapshot([cust], subscriptions=[sub]))
    assert shape.mrr == Money(8000, "usd") == shape.recurring_net and shape.discounts == ("di_cus",)
    own = {"id": "di_own", "object": "discount", "end": None,
           "source": {"type": "coupon", "coupon": {"id": "co_2", "duration": "forever", "percent_off": 50}}}
    [shape] = contract_shapes(b.snapshot([cust], subscriptions=[{**sub, "discounts": ["di_own"]}], discounts=[own]))
    assert shape.mrr == Money(5000, "usd") and shape.discounts == ("di_own",)  # its own wins


def test_seat_gap_evidence_is_in_the_subscriptions_currency() -> None:
    cust = b.customer()
    price = b.price("price_team", "prod_team", unit_amount=2000, per_seat=True)
    price["currency_options"] = {"usd": {"unit_amount": 2000}, "eur": {"unit_amount": 1800}}
    sub = {**b.subscription(cust, price, quantity=3), "currency": "eur"}
    snap = b.snapshot([cust], subscriptions=[sub], products=[b.product("prod_team", "Team", per_seat=True)])
    decision = Decision(suggested=Bucket.TEAM_SEATS, bucket=Bucket.TEAM_SEATS, confirmed_by="parameter",
                        confidence=0.9, evidence=())
    gaps = {g.kind: g for g in find_gaps(snap, identify(snap), decision, "Why am I paying for 3 seats?")}
    line = gaps["no_seat_explanation"].evidence[0]
    assert "3 seats x €18.00 EUR per month = €54.00 EUR" in line and "USD" not in line
    # an option not read: no amount in the wrong currency
    del price["currency_options"]
    gaps = {g.kind: g for g in find_gaps(snap, identify(snap), decision, "Why am I paying for 3 seats?")}
    assert "USD" not in " ".join(g for gap in gaps.values() for g in gap.evidence)


def test_one_money_currency_for_the_balance_and_the_case() -> None:
    cust = {**b.customer(), "currency": None, "balance": -500}
    sub = b.subscription(cust)
    inv = {**b.invoice(sub, amount=2000, created=b.NOW - 40 * b.DAY), "currency": "usd"}
    charge = {"id": "ch_eur", "object": "charge", "customer": cust["id"], "currency": "eur", "amount": 900,
              "created": b.NOW - b.DAY, "status": "succeeded", "invoice": None, "payment_intent": None}
    snap = b.snapshot([cust], invoices=[inv], charges=[charge])
    held = credits_of(snap).balance
    assert held is not None and held.currency == money_currency(snap) == "eur"  # the newest money
    snap = b.snapshot([cust], subscriptions=[{**sub, "currency": "eur"}], invoices=[inv])
    held = credits_of(snap).balance
    assert held is not None and held.currency == money_currency(snap) == "eur"  # a subscription says it


def test_the_store_metrics_and_sweep_are_in_the_subscriptions_currency() -> None:
    """A EUR subscription to a USD-default price: the ``mrr`` and ``plans`` metrics and the sweep's
    duplicate amount say EUR at the option's amount (before: the EUR amount labelled USD, and the
    USD ``unit_amount`` when the item amount was unknown)."""
    from billing_nb.reports.metrics import DuckEngine, run_metric
    from billing_nb.reports.sweep import sweep

    price = {**b.price(unit_amount=2000), "currency_options": {"eur": {"unit_amount": 1800}}}
    cust = {**b.customer(), "discount": None}
    subs = [{**b.subscription(cust, price, quantity=2), "currency": "eur"} for _ in range(2)]
    with _store() as store:
        _load(store, "customers", [cust])
        _load(store, "prices", [price])
        _load(store, "subscriptions", subs)
        engine = DuckEngine(store.con)
        assert [(r["currency"], int(r["mrr"])) for r in run_metric(engine, "mrr").to_dict("records")] == [("eur", 7200)]
        assert {r["currency"] for r in run_metric(engine, "plans").to_dict("records")} == {"eur"}
        dup = sweep(store)
        row = dup[dup["finding"] == "duplicate_subscriptions"].to_dict("records")[0]
        assert row["currency"] == "eur" and int(row["amount"]) == 7200
