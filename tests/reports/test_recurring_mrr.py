"""``item_mrr`` (the DuckDB current metrics' MRR) agrees with the portfolio's
``monthly_amount`` on any subscription: items in several intervals and quantities, forever,
once and repeating coupons, percent and amount off (in the subscription's currency or not),
restricted to products or not; and a customer's coupon counts when the subscription has none."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_nb.reports.metrics import DuckEngine, run_metric
from billing_nb.reports.portfolio import monthly_amount
from billing_nb.reports.recurring import item_mrr
from billing_nb.reports.store import AccountStore
from billing_nb.reports.tables import Row, rows_for

PRODUCTS = ("prod_a", "prod_b", "prod_c")


@contextmanager
def _store() -> Iterator[AccountStore]:
    with tempfile.TemporaryDirectory() as tmp, AccountStore(Path(tmp) / "a.duckdb") as store:
        yield store


def _load(store: AccountStore, kind: str, objects: list[dict[str, Any]]) -> None:
    rows: dict[str, list[Row]] = {}
    for obj in objects:
        for table, got in rows_for(kind, obj, lambda e: e).items():
            rows.setdefault(table, []).extend(got)
    store.upsert(rows)
    store.commit()


def _coupon(n: int, draw: Any, currency: str) -> dict[str, Any]:
    duration = draw(st.sampled_from(["forever", "forever", "once", "repeating"]))
    coupon: dict[str, Any] = {"id": f"co_{n}", "object": "coupon", "duration": duration,
                              "percent_off": None, "amount_off": None, "currency": None}
    if draw(st.booleans()):
        coupon["percent_off"] = draw(st.integers(1, 10000)) / 100  # up to two decimals, as Stripe takes
    else:
        coupon["amount_off"] = draw(st.integers(1, 60000))
        coupon["currency"] = draw(st.sampled_from([currency, currency, "eur"]))
    if draw(st.booleans()):
        coupon["applies_to"] = {"products": draw(st.lists(st.sampled_from(PRODUCTS), min_size=1, max_size=2, unique=True))}
    return coupon


@st.composite
def subscriptions(draw: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    currency = draw(st.sampled_from(["usd", "jpy", "eur"]))
    interval = draw(st.sampled_from(["month", "year", "week"]))
    count = draw(st.integers(1, 3))
    items, prices = [], []
    for n in range(draw(st.integers(1, 3))):
        price = {"id": f"price_{n}", "object": "price", "product": draw(st.sampled_from(PRODUCTS)), "currency": currency,
                 "unit_amount": draw(st.integers(0, 200000)), "type": "recurring", "active": True,
                 "recurring": {"interval": interval, "interval_count": count}, "metadata": {}}
        prices.append(price)
        items.append({"id": f"si_{n}", "object": "subscription_item", "created": 1000 + n, "price": price,
                      "quantity": draw(st.integers(1, 6))})
    discounts = [{"id": f"di_{n}", "object": "discount", "customer": "cus_1", "subscription": "sub_1", "start": 1,
                  "end": None, "source": {"type": "coupon", "coupon": _coupon(n, draw, currency)}}
                 for n in range(draw(st.integers(0, 3)))]
    sub = {"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "active", "currency": currency,
           "items": {"data": items}, "discounts": discounts}
    return sub, prices


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subscriptions())
def test_item_mrr_adds_up_to_the_portfolios_monthly_amount(case: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    sub, prices = case
    with _store() as store:
        _load(store, "prices", prices)
        _load(store, "subscriptions", [sub])
        frame = item_mrr(store.query)
    assert len(frame) == len(sub["items"]["data"]) and (frame["mrr"] >= 0).all()
    assert int(frame["mrr"].sum()) == monthly_amount(sub, None).amount  # no customer in the store either


def test_a_customers_forever_coupon_counts_when_the_subscription_has_none() -> None:
    """A subscription created without discounts inherits its customer's (API reference, Create a
    subscription: ``discounts`` "If not specified or empty, inherits the discount from the
    subscription's customer"); one with its own keeps its own."""
    price = {"id": "price_m", "object": "price", "product": "prod_a", "currency": "usd", "unit_amount": 4000,
             "type": "recurring", "active": True, "recurring": {"interval": "month", "interval_count": 1}}
    coupon = {"id": "co_c", "object": "coupon", "duration": "forever", "percent_off": 25.0, "amount_off": None,
              "currency": None}
    own = {"id": "co_s", "object": "coupon", "duration": "forever", "percent_off": None, "amount_off": 1000,
           "currency": "usd"}
    customer = {"id": "cus_1", "object": "customer", "created": 1, "discount": {
        "id": "di_c", "object": "discount", "customer": "cus_1", "subscription": None, "start": 1, "end": None,
        "source": {"type": "coupon", "coupon": coupon}}}

    def sub(sid: str, discounts: list[dict[str, Any]]) -> dict[str, Any]:
        return {"id": sid, "object": "subscription", "customer": "cus_1", "status": "active", "currency": "usd",
                "items": {"data": [{"id": f"si_{sid}", "created": 1, "price": price, "quantity": 1}]},
                "discounts": discounts}

    with _store() as store:
        _load(store, "customers", [customer])
        _load(store, "prices", [price])
        _load(store, "subscriptions", [sub("sub_inherits", []), sub("sub_own", [
            {"id": "di_s", "object": "discount", "customer": "cus_1", "subscription": "sub_own", "start": 1,
             "end": None, "source": {"type": "coupon", "coupon": own}}])])
        by_sub = dict(zip(*(item_mrr(store.query)[c] for c in ("subscription_id", "mrr")), strict=True))
        mrr = run_metric(DuckEngine(store.con), "mrr")
    assert by_sub == {"sub_inherits": 3000, "sub_own": 3000}
    assert int(mrr.iloc[0]["mrr"]) == 6000 and int(mrr.iloc[0]["arr"]) == 72000
