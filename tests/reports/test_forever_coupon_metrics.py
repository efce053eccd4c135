"""The DuckDB account metrics count MRR net of forever coupons, as Stripe does and as the
portfolio and the case do ("If you apply a coupon with a forever duration, the discount will
apply to your MRR"; once and repeating coupons leave it unaffected --
support.stripe.com/questions/billing-analytics).

An account in the sandbox with forever coupons (percent, amount off, product-restricted,
stacked), once and repeating ones, in USD, EUR and JPY (no minor unit), synced: the current
``mrr`` equals the portfolio's ``mrr_totals`` and the values worked out by hand, the history's
last month too; invoice lines carry their discount amounts; a re-sync counts nothing twice.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from billing_nb.reading.account import read_account
from billing_nb.reading.provider import StripeReader
from billing_nb.reports.metrics import METRICS, DuckEngine, SqliteEngine, run_metric
from billing_nb.reports.portfolio import mrr_totals
from billing_nb.reports.store import AccountStore, open_store
from billing_nb.reports.sync import sync_account
from billing_nb.reports.tables import TABLES

sys.path.insert(0, str(Path(__file__).parents[1]))
from scenarios import World, world  # noqa: E402

START = 1735732800  # 2025-01-01 12:00 UTC
LATER = START + 74 * 86400  # mid-March: two renewals of the monthly plans

# By hand, per subscription (minor units of its currency; JPY has none below the yen):
#  s1 USD A 3000/mo + B 1000/mo, 50% forever on B only ............ 3000 + 500 = 3500
#  s2 USD A 36000/yr, 25% forever ................................... 27000 / 12 = 2250
#  s3 USD A 3000/mo, 5.00 off forever ................................ 3000 - 500 = 2500
#  s4 USD A 3000/mo, 50% once ....................................... 3000 (once: not MRR)
#  s5 USD A 3000/mo, 30% repeating 6 months ......................... 3000 (repeating: not MRR)
#  s6 USD A + B, 25% forever then 5.00 off forever ................. 4000 * 0.75 - 500 = 2500
#  s7 EUR 2000/mo, 12.5% forever .................................... 1750
#  s8 JPY 5000/mo x 3 seats, 300 yen off forever .................... 15000 - 300 = 14700
#  s9 JPY 100000/yr, 25% forever .................................... 75000 / 12 = 6250
EXPECTED = {"usd": 3500 + 2250 + 2500 + 3000 + 3000 + 2500, "eur": 1750, "jpy": 14700 + 6250}
EXPECTED_SUBS = {"usd": 6, "eur": 1, "jpy": 2}


@dataclass
class Account:
    w: World
    store: AccountStore
    db: Path
    prods: dict[str, str]
    subs: dict[str, str]


def _coupon(w: World, **params: Any) -> str:
    return w.c.v1.coupons.create(params).id  # type: ignore[arg-type]


def build(w: World) -> tuple[dict[str, str], dict[str, str]]:
    clock = w.clock(START)
    a, b = w.product("Pro"), w.product("Addon")
    usd_a, usd_b = w.price(a, 3000), w.price(b, 1000)
    usd_year = w.price(a, 36000, "year")
    eur_a = w.price(a, 2000, currency="eur")
    jpy_a, jpy_year = w.price(a, 5000, currency="jpy"), w.price(a, 100000, "year", currency="jpy")
    pct25 = _coupon(w, duration="forever", percent_off=25)
    off500 = _coupon(w, duration="forever", amount_off=500, currency="usd")
    half_b = _coupon(w, duration="forever", percent_off=50, applies_to={"products": [b]})
    once = _coupon(w, duration="once", percent_off=50)
    repeating = _coupon(w, duration="repeating", duration_in_months=6, percent_off=30)
    eur_pct = _coupon(w, duration="forever", percent_off=12.5)
    jpy_off = _coupon(w, duration="forever", amount_off=300, currency="jpy")

    def sub(prices: list[str | tuple[str, int]], coupons: list[str]) -> str:
        cus = w.customer(clock=clock)
        return w.subscribe(cus, *prices, discounts=[{"coupon": c} for c in coupons]).id

    subs = {
        "s1": sub([usd_a, usd_b], [half_b]), "s2": sub([usd_year], [pct25]), "s3": sub([usd_a], [off500]),
        "s4": sub([usd_a], [once]), "s5": sub([usd_a], [repeating]), "s6": sub([usd_a, usd_b], [pct25, off500]),
        "s7": sub([eur_a], [eur_pct]), "s8": sub([(jpy_a, 3)], [jpy_off]), "s9": sub([jpy_year], [pct25]),
    }
    w.advance(clock, START + 40 * 86400)  # at most two intervals a step
    w.advance(clock, LATER)
    return {"a": a, "b": b}, subs


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    with world() as w:
        prods, subs = build(w)
        db = tmp_path_factory.mktemp("coupons") / "account.duckdb"
        with open_store(db) as store:
            sync_account(StripeReader(w.c), store, rate_limit=None, page_size=4)
            yield Account(w, store, db, prods, subs)


def _mrr(store: AccountStore) -> dict[str, dict[str, Any]]:
    return {r["currency"]: r for r in run_metric(DuckEngine(store.con), "mrr").to_dict(orient="records")}


def test_current_mrr_is_net_of_forever_coupons_and_equals_the_portfolio(account: Account) -> None:
    mrr = _mrr(account.store)
    assert {c: int(r["mrr"]) for c, r in mrr.items()} == EXPECTED
    assert {c: int(r["arr"]) for c, r in mrr.items()} == {c: 12 * v for c, v in EXPECTED.items()}
    assert {c: int(r["live_subscriptions"]) for c, r in mrr.items()} == EXPECTED_SUBS
    portfolio = mrr_totals(read_account(StripeReader(account.w.c)))
    assert {r["currency"]: int(r["mrr_minor"]) for r in portfolio.to_dict(orient="records")} == EXPECTED


def test_plans_intervals_and_seats_add_up_to_the_net_mrr(account: Account) -> None:
    engine = DuckEngine(account.store.con)
    for name in ("plans", "intervals", "seats"):
        frame = run_metric(engine, name)
        assert {c: int(frame[frame.currency == c]["mrr"].sum()) for c in EXPECTED} == EXPECTED, name
    plans = run_metric(engine, "plans")
    addon = plans[(plans["product_id"] == account.prods["b"]) & (plans.currency == "usd")]
    # B: 1000 at half on s1 (500), and on s6 its share of 25% off then 5.00 off: 750 - 125 = 625
    assert int(addon["mrr"].sum()) == 500 + 625
    intervals = {(r["currency"], r["billing_interval"]): int(r["mrr"]) for r in run_metric(engine, "intervals").to_dict(orient="records")}
    assert intervals[("usd", "year")] == 2250 and intervals[("jpy", "year")] == 6250 and intervals[("jpy", "month")] == 14700


def test_mrr_history_is_net_of_forever_coupons_only(account: Account) -> None:
    movements = run_metric(DuckEngine(account.store.con), "movements")
    last = {r["currency"]: int(r["mrr_end"]) for r in movements.to_dict(orient="records") if r["month"] == "2025-03"}
    assert last == EXPECTED
    churn = run_metric(DuckEngine(account.store.con), "churn")
    march = {r["currency"]: int(r["mrr_start"]) for r in churn.to_dict(orient="records") if r["month"] == "2025-03"}
    assert march == EXPECTED  # February's MRR: the same subscriptions, the same net amounts


def test_invoice_lines_carry_their_discount_amounts(account: Account) -> None:
    """Billed revenue is net: each line's ``discount_amounts`` (every coupon) and its forever
    part; per invoice they add up to ``total_discount_amounts`` and subtotal - total."""
    store = account.store
    lines = store.query("""
        SELECT i.subscription_id, i.billing_reason, l.amount, l.discount_amount, l.forever_discount_amount,
               i.total, i.total_discount_amount
        FROM invoice_line_items l JOIN invoices i ON i.id = l.invoice_id""")
    by_invoice = store.query("""
        SELECT i.id, i.total, i.total_discount_amount, SUM(l.amount) AS gross, SUM(l.discount_amount) AS off
        FROM invoices i JOIN invoice_line_items l ON l.invoice_id = i.id GROUP BY i.id, i.total, i.total_discount_amount""")
    assert len(by_invoice) >= 9 * 2
    for r in by_invoice.to_dict(orient="records"):
        assert int(r["off"]) == int(r["total_discount_amount"]) and int(r["gross"]) - int(r["off"]) == int(r["total"])
    first = {(r["subscription_id"], r["billing_reason"]): r for r in lines.to_dict(orient="records")
             if r["billing_reason"] == "subscription_create"}
    once = first[(account.subs["s4"], "subscription_create")]
    assert (once["discount_amount"], once["forever_discount_amount"]) == (1500, 0)  # billed net, MRR gross
    jpy = first[(account.subs["s8"], "subscription_create")]
    assert (jpy["amount"], jpy["discount_amount"], jpy["forever_discount_amount"]) == (15000, 300, 300)
    cycles = lines[(lines.subscription_id == account.subs["s4"]) & (lines.billing_reason == "subscription_cycle")]
    assert len(cycles) >= 1 and set(cycles["discount_amount"]) == {0}  # the once coupon is spent
    repeat = lines[(lines.subscription_id == account.subs["s5"])]
    assert set(repeat["discount_amount"]) == {900} and set(repeat["forever_discount_amount"]) == {0}


def test_the_metrics_stay_portable_with_the_discounts(account: Account) -> None:
    lite = SqliteEngine(sqlite3.connect(":memory:"))
    for table in TABLES:
        lite.put(table, account.store.query(f"SELECT * FROM {table}"))
    for name in METRICS:
        duck, other = run_metric(DuckEngine(account.store.con), name), run_metric(lite, name)
        assert duck.astype(str).values.tolist() == other.astype(str).values.tolist(), name


def test_a_resync_counts_nothing_twice(account: Account, tmp_path: Path) -> None:
    before = account.store.counts()
    again = sync_account(StripeReader(account.w.c), account.store, rate_limit=None, page_size=4)
    assert again.mode == "incremental"
    assert account.store.counts() == before
    full = sync_account(StripeReader(account.w.c), account.store, rate_limit=None, page_size=4, full=True)
    assert full.mode == "full" and account.store.counts() == before
    assert {c: int(r["mrr"]) for c, r in _mrr(account.store).items()} == EXPECTED


def test_a_coupon_taken_off_leaves_the_mrr_at_the_next_sync(account: Account) -> None:
    """Removing a subscription's forever coupon changes its MRR without a new invoice: the
    incremental sync refreshes the subscription from its event."""
    w = account.w
    w.c.v1.subscriptions.update(account.subs["s3"], {"discounts": ""})  # type: ignore[arg-type]
    sync_account(StripeReader(w.c), account.store, rate_limit=None, page_size=4)
    assert int(_mrr(account.store)["usd"]["mrr"]) == EXPECTED["usd"] + 500
    assert json.loads(account.store.query("SELECT discount_ids FROM subscriptions WHERE id = ?",
                                          [account.subs["s3"]]).iloc[0, 0]) == []


def test_more_than_a_page_of_100_is_read_once(tmp_path: Path) -> None:
    """Lists beyond Stripe's 100-object page are read to their end with the default page size,
    and syncing again (incrementally, then in full) counts nothing twice."""
    with world() as w:
        product = w.product("Pro")
        price = w.price(product, 2000)
        coupon = _coupon(w, duration="forever", percent_off=10)
        for _ in range(105):
            cus = w.c.v1.customers.create({})
            w.c.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price}],  # type: ignore[list-item]
                                         "discounts": [{"coupon": coupon}], "collection_method": "send_invoice",
                                         "days_until_due": 30})
        with open_store(tmp_path / "big.duckdb") as store:
            first = sync_account(StripeReader(w.c), store, rate_limit=None)
            counts = store.counts()
            assert first.saved["subscriptions"] == 105 and counts["subscriptions"] == 105
            assert counts["customers"] == 105 and counts["invoices"] == 105 and counts["discounts"] == 105
            assert int(_mrr(store)["usd"]["mrr"]) == 105 * 1800
            sync_account(StripeReader(w.c), store, rate_limit=None)
            assert store.counts() == counts
            sync_account(StripeReader(w.c), store, rate_limit=None, full=True)
            assert store.counts() == counts and int(_mrr(store)["usd"]["mrr"]) == 105 * 1800
