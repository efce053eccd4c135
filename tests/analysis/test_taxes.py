"""Refunds on taxed invoices (session 8), built through the official SDK on the sandbox.

The customer paid the tax too: an exclusive 20% VAT invoice of $120 ($100 + $20) half unused
gives back $60, not $50; with an inclusive rate the line amount already holds the tax. What goes
back never exceeds what was paid, and the credit note Stripe writes for it carries the tax back
(its lines credit the invoice line, Stripe adds the line's tax) with a total equal to the refund.

Before: the unused time was prorated from the pre-tax line amount ($50.00), Stripe's cancel
preview figure left the proration lines' tax out, and the credit note was an untaxed ``amount``.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenarios import World, world

from billing_nb.actions.model import Action, ActionKind
from billing_nb.actions.writer import write
from billing_nb.analysis.contract import contract_shapes, fetch_stripe_figures, refund_options, with_stripe_amounts
from billing_nb.analysis.terms import net_annual
from billing_nb.money import Money
from billing_nb.reading.provider import StripeReader
from billing_nb.records.fetch import fetch_snapshot

pytestmark = pytest.mark.sandbox

DAY = 86400
APRIL = 1775044800  # 2026-04-01 12:00 UTC: a 30-day month


@pytest.fixture(scope="module")
def w() -> Iterator[World]:
    with world() as wd:
        yield wd


def _taxed(w: World, amount: int, pct: float | str, inclusive: bool, *, currency: str = "usd", days: int = 15,
           quantity: int = 1) -> tuple[str, dict[str, Any]]:
    rate = w.c.v1.tax_rates.create({"display_name": "VAT", "percentage": float(pct), "inclusive": inclusive})
    ck = w.clock(APRIL)
    cus = w.customer(clock=ck)
    price = w.price(w.product("Taxed"), amount, currency=currency)
    sub = w.subscribe(cus, (price, quantity), default_tax_rates=[rate.id])
    if days:
        w.advance(ck, APRIL + days * DAY)
    inv = w.c.v1.invoices.retrieve(str(sub.latest_invoice)).to_dict()
    return cus, inv


def _options(w: World, cus: str) -> tuple[Any, dict[str, Any]]:
    snap = fetch_snapshot(StripeReader(w.c), cus)
    shape = contract_shapes(snap)[0]
    return snap, {o.kind: o for o in refund_options(snap, shape)}


def _credit_note(w: World, inv: dict[str, Any], amount: int, tag: str) -> dict[str, Any]:
    action = Action(id=f"credit_note:{inv['id']}:{amount}", kind=ActionKind.CREDIT_NOTE, target=str(inv["id"]),
                    step=3, preview="", amount=Money(amount, str(inv["currency"])),
                    params={"reason": "product_unsatisfactory"})
    out = write(w.c, action, case_id=f"case-{tag}", key=f"key-{tag}-{inv['id']}-{amount}")
    return w.c.v1.credit_notes.retrieve(str(out.object_id)).to_dict()


@pytest.mark.parametrize(("amount", "inclusive"), [(10000, False), (12000, True)])
def test_half_an_unused_vat_month_gives_back_half_of_what_was_paid(w: World, amount: int, inclusive: bool) -> None:
    cus, inv = _taxed(w, amount, 20, inclusive)
    assert inv["amount_paid"] == 12000
    snap, opts = _options(w, cus)
    for kind in ("cancel_now_refund", "credit_note_unused"):
        assert opts[kind].amount == Money(6000, "usd"), (kind, opts[kind].explanation)
    # Stripe's cancel preview, like for like: its proration line's tax is counted too
    options = list(opts.values())
    figures = fetch_stripe_figures(StripeReader(w.c), options)
    filled = {o.kind: o for o in with_stripe_amounts(options, figures)}
    assert filled["credit_note_unused"].stripe_amount == 6000 and not filled["credit_note_unused"].mismatch
    # the credit note gives the tax back, and its total is the refund
    cn = _credit_note(w, inv, 6000, f"half-{inclusive}")
    assert (cn["total"], cn["amount"], cn["refunds"][0]["amount_refunded"]) == (6000, 6000, 6000)
    assert sum(t["amount"] for t in cn["total_taxes"]) == 1000
    assert cn["lines"]["data"][0]["type"] == "invoice_line_item"


def test_an_untaxed_invoice_still_gets_a_plain_amount_credit_note(w: World) -> None:
    ck = w.clock(APRIL)
    cus = w.customer(clock=ck)
    sub = w.subscribe(cus, w.price(w.product("Plain"), 10000))
    inv = w.c.v1.invoices.retrieve(str(sub.latest_invoice)).to_dict()
    cn = _credit_note(w, inv, 5000, "plain")
    assert cn["total"] == 5000 and cn["lines"]["data"] == [] and cn["total_taxes"] == []


def test_the_extra_copies_refund_includes_their_tax(w: World) -> None:
    from test_actions_plan import make_plan

    from billing_nb.analysis.classify import Bucket

    cus, inv = _taxed(w, 1500, 20, False, quantity=2, days=5)  # $30 + $6 VAT, one copy too many
    snap = fetch_snapshot(StripeReader(w.c), cus)
    p = make_plan(snap, Bucket.DUPLICATE_SUBSCRIPTION, complaint="I was charged double, I only need one")
    [refund] = [a for a in p.actions if a.kind is ActionKind.REFUND]
    assert refund.amount == Money(1800, "usd"), p.ids  # half of the $36.00 charged, not of the pre-tax $30.00


@pytest.mark.parametrize(("amount", "inclusive"), [(10000, False), (12000, True)])
def test_mrr_counts_no_tax(w: World, amount: int, inclusive: bool) -> None:
    """Stripe's MRR excludes taxes: $100 a month whether the 20% VAT is added on top of a $100
    price or included in a $120 one (before: $120.00 for the inclusive price)."""
    from billing_nb.reports.portfolio import monthly_amount

    cus, _ = _taxed(w, amount, 20, inclusive, days=0)
    snap = fetch_snapshot(StripeReader(w.c), cus)
    shape = contract_shapes(snap)[0]
    assert (shape.mrr, shape.arr) == (Money(10000, "usd"), Money(120000, "usd"))
    assert net_annual(shape.items, shape.recurring_discounts, excluding_tax=True) == 120000
    assert shape.recurring_total == Money(amount, "usd")  # what a period costs the customer stays the price
    [sub] = [s.to_dict() for s in w.c.v1.subscriptions.list({"customer": cus}).data]
    assert monthly_amount(sub, w.c.v1.customers.retrieve(cus).to_dict()) == Money(10000, "usd")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.integers(min_value=1, max_value=500_000),
       pct=st.sampled_from(["0", "5", "7.5", "8.875", "10", "19", "20", "21", "25.5"]),
       inclusive=st.booleans(), currency=st.sampled_from(["usd", "eur", "jpy"]),
       days=st.integers(min_value=1, max_value=29))
def test_the_refund_is_the_share_of_what_was_paid_and_never_more(w: World, amount: int, pct: str, inclusive: bool,
                                                                 currency: str, days: int) -> None:
    cus, inv = _taxed(w, amount, pct, inclusive, currency=currency, days=days)
    paid = int(inv["amount_paid"])
    _snap, opts = _options(w, cus)
    opt = opts["credit_note_unused"] if "credit_note_unused" in opts else None
    exact = Fraction(paid * (30 - days), 30)
    if opt is None:  # nothing left to give back
        assert exact < 1
        return
    refund = opt.amount.amount
    assert refund <= paid and abs(refund - exact) <= 1, (refund, float(exact), paid)
    cn = _credit_note(w, inv, refund, f"p{amount}-{pct}-{inclusive}-{currency}-{days}")
    assert cn["total"] == refund <= paid
    assert cn["refunds"][0]["amount_refunded"] == refund



def test_the_billing_state_shows_the_tax_in_what_was_paid(w: World) -> None:
    from billing_nb.analysis.identify import identify

    cus, inv = _taxed(w, 10000, 20, False, days=0)
    snap = fetch_snapshot(StripeReader(w.c), cus)
    [row] = identify(snap).invoices
    assert (row.amount_paid, row.tax, row.tax_name) == (12000, 2000, "VAT")
    assert row.as_case_json()["tax"] == 2000 and row.tax_clause() == " incl. $20.00 VAT"


def test_a_credit_note_above_what_the_lines_give_back_is_refused_before_any_write(w: World) -> None:
    from billing_nb.exceptions import StripeInvalidRequestError

    _cus, inv = _taxed(w, 10000, 20, False, days=0)
    before = len(w.c.v1.credit_notes.list({"invoice": inv["id"]}).data)
    with pytest.raises(StripeInvalidRequestError, match="give back 12000"):
        _credit_note(w, inv, 12001, "too-much")
    assert len(w.c.v1.credit_notes.list({"invoice": inv["id"]}).data) == before


def test_the_downgrade_figure_stays_before_tax_like_its_option(w: World) -> None:
    rate = w.c.v1.tax_rates.create({"display_name": "VAT", "percentage": 20, "inclusive": False})
    ck = w.clock(APRIL)
    cus = w.customer(clock=ck)
    product = w.product("Tiered")
    cheaper = w.c.v1.prices.retrieve(w.price(product, 4000)).to_dict()
    w.subscribe(cus, w.price(product, 10000), default_tax_rates=[rate.id])
    w.advance(ck, APRIL + 15 * DAY)
    snap = fetch_snapshot(StripeReader(w.c), cus)
    snap.extra["prices"] = [cheaper]  # the catalogue's cheaper price (a case reads it beside the snapshot)
    opts = {o.kind: o for o in refund_options(snap, contract_shapes(snap)[0])}
    down = opts["downgrade_prorations"]
    assert down.amount == Money(3000, "usd")  # (100 - 40) for half the month, before tax
    filled = {o.kind: o for o in with_stripe_amounts(list(opts.values()),
                                                     fetch_stripe_figures(StripeReader(w.c), list(opts.values())))}
    assert filled["downgrade_prorations"].stripe_amount == 3000 and not filled["downgrade_prorations"].mismatch
    assert filled["cancel_now_refund"].stripe_amount == 6000 and not filled["cancel_now_refund"].mismatch
