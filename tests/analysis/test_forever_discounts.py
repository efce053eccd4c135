"""MRR and ARR net of forever coupons, as Stripe counts them ("If you apply a coupon with a
forever duration, the discount will apply to your MRR"; once and repeating coupons leave it
unaffected -- support.stripe.com/questions/billing-analytics)."""

from __future__ import annotations

from fractions import Fraction

import pytest
import stripe
from hypothesis import given, strategies as st

from billing_nb.analysis.contract import contract_shapes
from billing_nb.analysis.terms import ItemShape, RecurringDiscount, net_annual
from billing_nb.money import Money
from billing_nb.reading.provider import StripeReader
from billing_nb.reading.waves import build_snapshot
from billing_nb.sandbox.server import ThreadedSandbox


def item(amount: int, quantity: int = 1, interval: str = "year", product: str = "prod_A", iid: str = "si_1") -> ItemShape:
    return ItemShape(iid, "price_1", product, Money(amount, "usd"), interval, 1, quantity, False, 0, 1)


@given(st.integers(1, 10**7), st.integers(1, 50), st.fractions(0, 100), st.integers(0, 10**7))
def test_net_is_between_zero_and_gross(amount: int, qty: int, pct: Fraction, off: int) -> None:
    items = (item(amount, qty),)
    gross = net_annual(items, ())
    assert gross == amount * qty
    net = net_annual(items, (RecurringDiscount("di_1", percent_off=pct), RecurringDiscount("di_2", amount_off=off)))
    assert 0 <= net <= gross
    assert net_annual(items, (RecurringDiscount("di_1", percent_off=Fraction(100)),)) == 0


def test_a_coupon_for_other_products_leaves_the_item_alone() -> None:
    items = (item(1000, product="prod_A", iid="si_a"), item(2000, product="prod_B", iid="si_b"))
    only_b = RecurringDiscount("di_1", percent_off=Fraction(50), products=("prod_B",))
    assert net_annual(items, (only_b,)) == 1000 + 1000


@pytest.fixture(scope="module")
def client() -> object:
    with ThreadedSandbox() as sb:
        yield stripe.StripeClient("sk_test_1", base_addresses={"api": sb.url})


@pytest.mark.sandbox
@pytest.mark.parametrize(("duration", "mrr", "arr"), [("forever", 6250, 75000), ("once", 8333, 100000),
                                                       ("repeating", 8333, 100000)])
def test_the_case_counts_only_a_forever_coupon(client: stripe.StripeClient, duration: str, mrr: int, arr: int) -> None:
    c = client
    cus = c.v1.customers.create({"email": f"{duration}@example.com", "payment_method": "pm_card_visa",
                                 "invoice_settings": {"default_payment_method": "pm_card_visa"}})
    price = c.v1.prices.create({"product": c.v1.products.create({"name": "Pro"}).id, "unit_amount": 100000,
                                "currency": "usd", "recurring": {"interval": "year"}})  # type: ignore[typeddict-item]
    extra = {"duration_in_months": 3} if duration == "repeating" else {}
    coupon = c.v1.coupons.create({"percent_off": 25, "duration": duration, **extra})  # type: ignore[typeddict-item]
    c.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}], "discounts": [{"coupon": coupon.id}]})
    snap = build_snapshot(StripeReader(c), cus.id)
    [shape] = contract_shapes(snap)
    assert (shape.mrr.amount, shape.arr.amount) == (mrr, arr)
    assert shape.recurring_total.amount == 100000
    assert shape.as_case_json()["recurring_net"]["value"] == arr
    assert all(isinstance(d, str) for s in snap.of("subscriptions") for d in s.get("discounts") or [])


def _sub(discounts: list[dict[str, object]]) -> dict[str, object]:
    price = {"id": "price_1", "product": "prod_A", "unit_amount": 100000, "currency": "usd",
             "recurring": {"interval": "year", "interval_count": 1}}
    return {"currency": "usd", "items": {"data": [{"price": price, "quantity": 1}]}, "discounts": discounts}


def _disc(**coupon: object) -> dict[str, object]:
    return {"id": "di_1", "object": "discount", "end": None, "source": {"type": "coupon", "coupon": coupon}}


def test_the_portfolio_mrr_is_net_of_forever_coupons_only() -> None:
    from billing_nb.reports.portfolio import monthly_amount

    assert monthly_amount(_sub([]), None).amount == 8333
    assert monthly_amount(_sub([_disc(duration="forever", percent_off=25)])).amount == 6250
    assert monthly_amount(_sub([_disc(duration="once", percent_off=25)])).amount == 8333
    assert monthly_amount(_sub([_disc(duration="forever", amount_off=12000, currency="usd")])).amount == 7333
    assert monthly_amount(_sub([_disc(duration="forever", amount_off=12000, currency="eur")])).amount == 8333
    assert monthly_amount(_sub(["di_unexpanded"])).amount == 8333  # type: ignore[list-item]


@pytest.mark.sandbox
def test_the_account_read_expands_the_coupons(client: stripe.StripeClient) -> None:
    from billing_nb.reading.account import read_account
    from billing_nb.reports.portfolio import monthly_amount

    acct = read_account(StripeReader(client))
    forever = [s for s in acct.subscriptions if any(
        isinstance(d, dict) and d["source"]["coupon"]["duration"] == "forever" for d in s.get("discounts") or [])]
    assert forever and all(monthly_amount(s).amount == 6250 for s in forever)
