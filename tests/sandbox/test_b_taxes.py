"""Tax rates through the official SDK (session 8): the Tax Rate resource, ``default_tax_rates`` on
subscriptions and invoices, ``tax_rates`` on items and invoice items, invoice ``total_taxes`` and
line ``taxes`` (basil shapes), inclusive and exclusive, the cancel preview's prorations taxed like
the period they credit, and credit notes whose lines carry the credited line's tax.

Before: ``/v1/tax_rates`` was unknown (404) and every invoice had ``total_taxes: []`` with
``total == subtotal``, so nothing downstream was ever checked on a taxed invoice."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from test_b_support import DAY, clock, customer, subscribe, utc

APRIL = utc(2026, 4, 1)  # a 30-day month: half of it is 15 days


def _rate(client: stripe.StripeClient, pct: float, inclusive: bool, **extra: Any) -> stripe.TaxRate:
    return client.v1.tax_rates.create(params={"display_name": "VAT", "percentage": pct, "inclusive": inclusive,
                                              **extra})  # type: ignore[typeddict-item]


def _price(client: stripe.StripeClient, amount: int, currency: str = "usd") -> stripe.Price:
    return client.v1.prices.create(params={"currency": currency, "unit_amount": amount,
                                           "recurring": {"interval": "month"}, "product_data": {"name": "Taxed"}})


def _taxed(client: stripe.StripeClient, amount: int, rate: stripe.TaxRate, currency: str = "usd",
           **extra: Any) -> tuple[stripe.Subscription, stripe.Invoice]:
    ck = clock(client, APRIL)
    cus = customer(client, ck.id)
    sub = subscribe(client, cus.id, (_price(client, amount, currency).id, 1), default_tax_rates=[rate.id], **extra)
    return sub, client.v1.invoices.retrieve(str(sub.latest_invoice))


def test_tax_rates_are_created_read_updated_and_listed(client: stripe.StripeClient) -> None:
    vat = _rate(client, 19, False, country="DE", jurisdiction="DE", description="VAT Germany", tax_type="vat")
    assert (vat.object, vat.percentage, vat.inclusive, vat.active, vat.country, vat.jurisdiction, vat.display_name,
            vat.tax_type, vat.rate_type) == ("tax_rate", 19.0, False, True, "DE", "DE", "VAT", "vat", "percentage")
    assert vat.id.startswith("txr_") and client.v1.tax_rates.retrieve(vat.id).percentage == 19.0
    # every field the SDK's TaxRate declares, and nothing else
    declared = {k for k in stripe.TaxRate.__annotations__ if not k.startswith("_")} - {"OBJECT_NAME"}
    assert set(vat.to_dict()) == declared, set(vat.to_dict()) ^ declared
    off = client.v1.tax_rates.update(vat.id, params={"active": False, "display_name": "MwSt"})
    assert (off.active, off.display_name, off.percentage) == (False, "MwSt", 19.0)
    inactive = {r.id for r in client.v1.tax_rates.list(params={"active": False, "limit": 100}).auto_paging_iter()}
    assert vat.id in inactive
    with pytest.raises(stripe.InvalidRequestError):  # archived: not for new subscriptions
        _taxed(client, 1000, off)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.tax_rates.create(params={"display_name": "VAT", "percentage": 20})  # type: ignore[typeddict-item]


@pytest.mark.parametrize(("amount", "pct", "inclusive", "currency", "tax", "total", "excl"), [
    (10000, 20, False, "usd", 2000, 12000, 10000),   # $100 + $20 VAT = $120
    (12000, 20, True, "usd", 2000, 12000, 10000),    # $120 incl. $20 VAT
    (999, 8.875, False, "usd", 89, 1088, 999),       # NYC sales tax: 88.66 rounds to 89
    (1500, 10, False, "jpy", 150, 1650, 1500),       # JPY has no minor unit
    (1999, 21, True, "eur", 347, 1999, 1652),        # 1999 * 21/121 = 346.9 -> 347
])
def test_invoices_carry_their_tax(client: stripe.StripeClient, amount: int, pct: float, inclusive: bool,
                                  currency: str, tax: int, total: int, excl: int) -> None:
    rate = _rate(client, pct, inclusive)
    sub, inv = _taxed(client, amount, rate, currency)
    assert [r.id for r in sub.default_tax_rates or []] == [rate.id]
    assert (inv.subtotal, inv.total, inv.total_excluding_tax, inv.amount_paid) == (amount, total, excl, total)
    assert inv.subtotal_excluding_tax == (amount - tax if inclusive else amount)
    [t] = inv.total_taxes or []
    assert (t.amount, t.tax_behavior, t.tax_rate_details.tax_rate, t.taxable_amount, t.type) == (  # type: ignore[union-attr]
        tax, "inclusive" if inclusive else "exclusive", rate.id, excl, "tax_rate_details")
    [line] = inv.lines.data
    assert line.amount == amount and [x.amount for x in line.taxes or []] == [tax]


def test_item_rates_win_over_the_default_and_invoice_items_take_theirs(client: stripe.StripeClient) -> None:
    default, own = _rate(client, 20, False), _rate(client, 5, False)
    ck = clock(client, APRIL)
    cus = customer(client, ck.id)
    sub = client.v1.subscriptions.create(params={"customer": cus.id, "default_tax_rates": [default.id], "items": [
        {"price": _price(client, 1000).id, "tax_rates": [own.id]}, {"price": _price(client, 2000).id}]})
    inv = client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert sorted((ln.amount, [t.amount for t in ln.taxes or []]) for ln in inv.lines.data) == [
        (1000, [50]), (2000, [400])]
    assert inv.total == 3450 and [r.id for r in sub["items"].data[0].tax_rates or []] == [own.id]
    manual = client.v1.invoices.create(params={"customer": cus.id})
    client.v1.invoice_items.create(params={"customer": cus.id, "invoice": manual.id, "amount": 500, "currency": "usd",
                                           "tax_rates": [default.id]})
    assert client.v1.invoices.retrieve(manual.id).total == 600


def test_the_cancel_preview_taxes_its_prorations_like_the_period(client: stripe.StripeClient) -> None:
    rate = _rate(client, 20, False)
    sub, _ = _taxed(client, 10000, rate)
    preview = client.v1.invoices.create_preview(params={"subscription": sub.id, "subscription_details": {
        "cancel_now": True, "proration_behavior": "create_prorations", "proration_date": APRIL + 15 * DAY}})
    [line] = preview.lines.data
    assert line.amount == -5000 and [t.amount for t in line.taxes or []] == [-1000]
    assert preview.total == -6000


@pytest.mark.parametrize("inclusive", [False, True])
def test_credit_notes_credit_the_lines_tax(client: stripe.StripeClient, inclusive: bool) -> None:
    rate = _rate(client, 20, inclusive)
    _, inv = _taxed(client, 12000 if inclusive else 10000, rate)
    line = inv.lines.data[0]
    half = 6000 if inclusive else 5000  # the line amount is tax-exclusive for an exclusive rate
    preview = client.v1.credit_notes.preview(params={"invoice": inv.id, "lines": [
        {"type": "invoice_line_item", "invoice_line_item": line.id, "amount": half}], "refund_amount": 6000})
    assert (preview.amount, preview.total, preview.total_excluding_tax) == (6000, 6000, 5000)
    assert preview.subtotal == half and preview.subtotal_excluding_tax == 5000
    [t] = preview.total_taxes or []
    assert (t.amount, t.taxable_amount, t.tax_rate_details.tax_rate) == (1000, 5000, rate.id)  # type: ignore[union-attr]
    [cl] = preview.lines.data
    assert [r.id for r in cl.tax_rates] == [rate.id] and [x.amount for x in cl.taxes or []] == [1000]
    cn = client.v1.credit_notes.create(params={"invoice": inv.id, "lines": [
        {"type": "invoice_line_item", "invoice_line_item": line.id, "amount": half}], "refund_amount": 6000})
    assert cn.total == 6000 and cn.refunds[0].amount_refunded == 6000
    with pytest.raises(stripe.InvalidRequestError):  # refund and total must agree: 6000, not the pre-tax 5000
        client.v1.credit_notes.create(params={"invoice": inv.id, "lines": [
            {"type": "invoice_line_item", "invoice_line_item": line.id, "amount": half}], "refund_amount": 5000})
    rest = client.v1.credit_notes.create(params={"invoice": inv.id, "lines": [
        {"type": "custom_line_item", "description": "goodwill", "quantity": 1, "unit_amount": 1000,
         "tax_rates": [rate.id]}], "credit_amount": 1000 if inclusive else 1200})
    assert rest.total == (1000 if inclusive else 1200)


def test_crediting_a_whole_line_gives_back_exactly_what_it_charged(client: stripe.StripeClient) -> None:
    rate = _rate(client, 8.875, False)
    _, inv = _taxed(client, 999, rate)
    line = inv.lines.data[0]
    cn = client.v1.credit_notes.create(params={"invoice": inv.id, "lines": [
        {"type": "invoice_line_item", "invoice_line_item": line.id, "quantity": 1}], "refund_amount": 1088})
    assert cn.total == inv.amount_paid == 1088
