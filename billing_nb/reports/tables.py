"""The store's tables, shaped like Stripe Sigma / Data Pipeline's, and the row of each object.

Column names follow Sigma's schema (``customer_id``, ``invoice_id``, ``price_id``,
``period_start``...: https://docs.stripe.com/stripe-data/schema) so the metric queries run
unchanged where Data Pipeline lands the same tables in a warehouse. Times stay unix
seconds (BIGINT) and money integer minor units with a ``currency``: plain integer columns
are the one representation every engine compares and sums the same way.

Objects arrive masked (:func:`billing_nb.reading.masking.mask_object`); the only identity
kept from an email is ``email_key``, a keyed hash (the key lives in the database's
``sync_meta``), so duplicate customers by email can still be found without the email.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from ..reading.prices import price_terms, recurring_amount, subscription_currency, subscription_discounts

__all__ = ["TABLES", "KIND_TABLE", "rows_for", "Row", "json_text", "discount_row", "coupon_of"]

Row = tuple[Any, ...]

#: table -> (column, SQL type); the first column is the primary key.
TABLES: dict[str, list[tuple[str, str]]] = {
    "customers": [("id", "VARCHAR"), ("created", "BIGINT"), ("email_key", "VARCHAR"), ("email", "VARCHAR"),
                  ("name", "VARCHAR"), ("currency", "VARCHAR"), ("delinquent", "BOOLEAN"), ("deleted", "BOOLEAN"),
                  ("test_clock", "VARCHAR"), ("default_payment_method", "VARCHAR"), ("metadata", "VARCHAR"),
                  ("discount_id", "VARCHAR")],
    "products": [("id", "VARCHAR"), ("created", "BIGINT"), ("name", "VARCHAR"), ("active", "BOOLEAN"),
                 ("metadata", "VARCHAR")],
    "prices": [("id", "VARCHAR"), ("created", "BIGINT"), ("product_id", "VARCHAR"), ("currency", "VARCHAR"),
               ("unit_amount", "BIGINT"), ("type", "VARCHAR"), ("recurring_interval", "VARCHAR"),
               ("recurring_interval_count", "BIGINT"), ("active", "BOOLEAN"), ("lookup_key", "VARCHAR"),
               ("nickname", "VARCHAR"), ("metadata", "VARCHAR")],
    "subscriptions": [("id", "VARCHAR"), ("created", "BIGINT"), ("customer_id", "VARCHAR"), ("status", "VARCHAR"),
                      ("currency", "VARCHAR"), ("start_date", "BIGINT"), ("canceled_at", "BIGINT"),
                      ("cancel_at", "BIGINT"), ("cancel_at_period_end", "BOOLEAN"), ("ended_at", "BIGINT"),
                      ("default_payment_method", "VARCHAR"), ("latest_invoice_id", "VARCHAR"),
                      ("collection_method", "VARCHAR"), ("cancellation_reason", "VARCHAR"),
                      ("cancellation_requested_at", "BIGINT"), ("metadata", "VARCHAR"),
                      ("discount_ids", "VARCHAR")],
    "subscription_items": [("id", "VARCHAR"), ("created", "BIGINT"), ("subscription_id", "VARCHAR"),
                           ("price_id", "VARCHAR"), ("quantity", "BIGINT"), ("current_period_start", "BIGINT"),
                           ("current_period_end", "BIGINT"), ("amount", "BIGINT")],
    "invoices": [("id", "VARCHAR"), ("created", "BIGINT"), ("customer_id", "VARCHAR"), ("subscription_id", "VARCHAR"),
                 ("status", "VARCHAR"), ("billing_reason", "VARCHAR"), ("currency", "VARCHAR"), ("total", "BIGINT"),
                 ("amount_due", "BIGINT"), ("amount_paid", "BIGINT"), ("amount_remaining", "BIGINT"),
                 ("attempt_count", "BIGINT"), ("period_start", "BIGINT"), ("period_end", "BIGINT"),
                 ("paid_at", "BIGINT"), ("next_payment_attempt", "BIGINT"), ("number", "VARCHAR"),
                 ("total_discount_amount", "BIGINT")],
    "invoice_line_items": [("id", "VARCHAR"), ("invoice_id", "VARCHAR"), ("subscription_id", "VARCHAR"),
                           ("subscription_item_id", "VARCHAR"), ("price_id", "VARCHAR"), ("currency", "VARCHAR"),
                           ("amount", "BIGINT"), ("quantity", "BIGINT"), ("proration", "BOOLEAN"),
                           ("period_start", "BIGINT"), ("period_end", "BIGINT"), ("type", "VARCHAR"),
                           ("discount_amount", "BIGINT"), ("forever_discount_amount", "BIGINT"),
                           ("recurring_amount", "BIGINT"), ("forever_factor", "DOUBLE")],
    # a discount (a coupon redeemed onto a customer, subscription or invoice) with its coupon's
    # terms; which subscription it lowers now is ``subscriptions.discount_ids`` (else the
    # customer's ``discount_id``), as a discount outlives its removal on the invoices it was on
    "discounts": [("id", "VARCHAR"), ("customer_id", "VARCHAR"), ("subscription_id", "VARCHAR"),
                  ("coupon_id", "VARCHAR"), ("duration", "VARCHAR"), ("percent_off", "VARCHAR"),
                  ("amount_off", "BIGINT"), ("currency", "VARCHAR"), ("applies_to_products", "VARCHAR"),
                  ("start_at", "BIGINT"), ("end_at", "BIGINT"),
                  # an amount_off coupon's amount per other currency (JSON {currency: amount_off}),
                  # from its ``currency_options``: a subscription in that currency is discounted by it
                  ("amount_off_options", "VARCHAR")],
    "charges": [("id", "VARCHAR"), ("created", "BIGINT"), ("customer_id", "VARCHAR"), ("payment_intent", "VARCHAR"),
                ("payment_method", "VARCHAR"), ("amount", "BIGINT"), ("amount_refunded", "BIGINT"),
                ("currency", "VARCHAR"), ("status", "VARCHAR"), ("paid", "BOOLEAN"), ("refunded", "BOOLEAN"),
                ("disputed", "BOOLEAN"), ("failure_code", "VARCHAR"), ("description", "VARCHAR")],
    "refunds": [("id", "VARCHAR"), ("created", "BIGINT"), ("charge_id", "VARCHAR"), ("payment_intent", "VARCHAR"),
                ("amount", "BIGINT"), ("currency", "VARCHAR"), ("status", "VARCHAR"), ("reason", "VARCHAR")],
    "credit_notes": [("id", "VARCHAR"), ("created", "BIGINT"), ("invoice_id", "VARCHAR"), ("customer_id", "VARCHAR"),
                     ("total", "BIGINT"), ("amount", "BIGINT"), ("currency", "VARCHAR"), ("status", "VARCHAR"),
                     ("reason", "VARCHAR"), ("type", "VARCHAR")],
    "disputes": [("id", "VARCHAR"), ("created", "BIGINT"), ("charge_id", "VARCHAR"), ("payment_intent", "VARCHAR"),
                 ("amount", "BIGINT"), ("currency", "VARCHAR"), ("status", "VARCHAR"), ("reason", "VARCHAR"),
                 ("evidence_due_by", "BIGINT")],
    "balance_transactions": [("id", "VARCHAR"), ("created", "BIGINT"), ("source_id", "VARCHAR"), ("type", "VARCHAR"),
                             ("reporting_category", "VARCHAR"), ("amount", "BIGINT"), ("fee", "BIGINT"),
                             ("net", "BIGINT"), ("currency", "VARCHAR"), ("status", "VARCHAR"),
                             ("available_on", "BIGINT")],
}

#: The list a sync reads -> the table its objects land in (child tables ride along).
KIND_TABLE: dict[str, str] = {k: k for k in ("customers", "products", "prices", "subscriptions", "invoices",
                                             "charges", "refunds", "credit_notes", "disputes",
                                             "balance_transactions")}


def json_text(value: Any) -> str | None:
    return json.dumps(value, sort_keys=True) if value else None


def _id(value: Any) -> str | None:
    """An id whether the field is expanded (a dict) or not."""
    if isinstance(value, dict):
        return value.get("id")
    return value


def _customer(o: dict[str, Any], email_key: Callable[[str | None], str | None]) -> Row:
    inv = o.get("invoice_settings") or {}
    return (o["id"], o.get("created"), email_key(o.get("_email")), o.get("email"), o.get("name"), o.get("currency"),
            bool(o.get("delinquent")), bool(o.get("deleted")), _id(o.get("test_clock")),
            _id(inv.get("default_payment_method")), json_text(o.get("metadata")),
            next((_id(d) for d in subscription_discounts({}, o)), None))


def _price(o: dict[str, Any]) -> Row:
    rec = o.get("recurring") or {}
    return (o["id"], o.get("created"), _id(o.get("product")), o.get("currency"), o.get("unit_amount"), o.get("type"),
            rec.get("interval"), rec.get("interval_count"), bool(o.get("active")), o.get("lookup_key"),
            o.get("nickname"), json_text(o.get("metadata")))


def _subscription(o: dict[str, Any]) -> Row:
    details = o.get("cancellation_details") or {}
    requested = o.get("canceled_at") if (o.get("cancel_at_period_end") or o.get("status") == "canceled") else None
    return (o["id"], o.get("created"), _id(o.get("customer")), o.get("status"), o.get("currency"), o.get("start_date"),
            o.get("canceled_at"), o.get("cancel_at"), bool(o.get("cancel_at_period_end")), o.get("ended_at"),
            _id(o.get("default_payment_method")), _id(o.get("latest_invoice")), o.get("collection_method"),
            details.get("reason"), requested, json_text(o.get("metadata")),
            json.dumps([i for i in (_id(d) for d in o.get("discounts") or []) if i]))


def _items(o: dict[str, Any]) -> list[Row]:
    return [(i["id"], i.get("created"), o["id"], _id(i.get("price")), i.get("quantity") or 1,
             i.get("current_period_start"), i.get("current_period_end"), _item_amount(i, subscription_currency(o)))
            for i in ((o.get("items") or {}).get("data") or [])]


def _item_amount(item: dict[str, Any], currency: str | None = None) -> int | None:
    """What the item recurs at per period under its price's model (reading.prices: tiers,
    packages, decimals; metered usage 0), in the subscription's ``currency`` (a multi-currency
    price's option there); NULL when a tiered price's tiers or the option were not read, so
    the SQL never counts an unknown amount as 0 (``unit_amount`` is null on a tiered price too)."""
    price = item.get("price")
    if not isinstance(price, dict):
        return None
    cur = currency.lower() if currency else None
    if not price_terms(price, cur).known:
        return None
    return recurring_amount(price, int(item.get("quantity") or 1), cur)


def invoice_subscription(o: dict[str, Any]) -> str | None:
    """The invoice's subscription (``parent.subscription_details`` in this API version)."""
    return (((o.get("parent") or {}).get("subscription_details") or {}).get("subscription")) or _id(o.get("subscription"))


def _invoice(o: dict[str, Any]) -> Row:
    transitions = o.get("status_transitions") or {}
    return (o["id"], o.get("created"), _id(o.get("customer")), invoice_subscription(o), o.get("status"),
            o.get("billing_reason"), o.get("currency"), o.get("total"), o.get("amount_due"), o.get("amount_paid"),
            o.get("amount_remaining"), o.get("attempt_count"), o.get("period_start"), o.get("period_end"),
            transitions.get("paid_at"), o.get("next_payment_attempt"), o.get("number"),
            sum(int(t.get("amount") or 0) for t in o.get("total_discount_amounts") or [] if isinstance(t, dict)))


def coupon_of(discount: dict[str, Any]) -> dict[str, Any] | str | None:
    """The discount's coupon: ``source.coupon`` in this API version (expanded: a dict), the
    older ``coupon`` otherwise."""
    coupon = (discount.get("source") or {}).get("coupon") or discount.get("coupon")
    return coupon if isinstance(coupon, (dict, str)) else None


def discount_row(d: dict[str, Any]) -> Row:
    """A discount with its coupon's terms (null when the coupon came unexpanded: its
    duration unknown, it counts as not forever)."""
    coupon = coupon_of(d)
    terms = coupon if isinstance(coupon, dict) else {}
    products = (terms.get("applies_to") or {}).get("products")
    percent = terms.get("percent_off")
    return (d["id"], _id(d.get("customer")), _id(d.get("subscription")), _id(coupon), terms.get("duration"),
            None if percent is None else str(percent), terms.get("amount_off"),
            (terms.get("currency") or None) and str(terms["currency"]).lower(),
            json.dumps(sorted(str(p) for p in products)) if products else None, d.get("start"), d.get("end"),
            _amount_options(terms))


def _amount_options(coupon: dict[str, Any]) -> str | None:
    """An ``amount_off`` coupon's ``currency_options`` as JSON ``{currency: amount_off}`` (null: none read)."""
    options = coupon.get("currency_options")
    if coupon.get("amount_off") is None or not isinstance(options, dict):
        return None
    found = {str(c).lower(): int(o["amount_off"]) for c, o in options.items()
             if isinstance(o, dict) and o.get("amount_off") is not None}
    return json.dumps(found, sort_keys=True) if found else None


def _discount_rows(found: list[Any]) -> list[Row]:
    return [discount_row(d) for d in found if isinstance(d, dict) and d.get("id")]


def _forever(discounts: list[Any]) -> dict[str, dict[str, Any]]:
    """The forever coupons of expanded discounts, by discount id."""
    out: dict[str, dict[str, Any]] = {}
    for d in discounts:
        coupon = coupon_of(d) if isinstance(d, dict) else None
        if isinstance(coupon, dict) and coupon.get("duration") == "forever" and d.get("id"):
            out[str(d["id"])] = coupon
    return out


def _recurring(line: dict[str, Any], proration: bool, forever: dict[str, dict[str, Any]],
               forever_off: int) -> tuple[int | None, float | None]:
    """What the line recurs at net of forever coupons (Stripe counts those in MRR; once and
    repeating coupons not: support.stripe.com/questions/billing-analytics): a period line its
    amount less its forever ``discount_amounts`` (the amount, null for a proration); a
    proration (Stripe gives it no discount amounts, and its unit amount is prorated) the share
    of its price the forever percentages for its product leave (the factor, null for a period
    line), applied to the price in SQL."""
    if not proration:
        return int(line.get("amount") or 0) - forever_off, None
    product = _id(((line.get("pricing") or {}).get("price_details") or {}).get("product"))
    factor = Fraction(1)
    for coupon in forever.values():
        products = (coupon.get("applies_to") or {}).get("products")
        if coupon.get("percent_off") is not None and (not products or product in products):
            factor *= 1 - Fraction(str(coupon["percent_off"])) / 100
    return None, float(factor)


def line_row(line: dict[str, Any], invoice_id: str, forever: dict[str, dict[str, Any]] | None = None) -> Row:
    """One invoice line: its subscription item, price, proration flag and period, what its
    discounts took off (all of them, and the forever coupons' part of it: ``forever`` maps the
    invoice's forever discounts by id) and what it recurs at net of forever coupons."""
    parent = line.get("parent") or {}
    details = parent.get("subscription_item_details") or parent.get("invoice_item_details") or {}
    price = ((line.get("pricing") or {}).get("price_details") or {}).get("price") or _id(line.get("price"))
    period = line.get("period") or {}
    kind = "subscription" if parent.get("subscription_item_details") else "invoiceitem"
    proration = bool(details.get("proration") or line.get("proration"))
    amounts = [a for a in line.get("discount_amounts") or [] if isinstance(a, dict)]
    off = sum(int(a.get("amount") or 0) for a in amounts)
    forever_off = sum(int(a.get("amount") or 0) for a in amounts if _id(a.get("discount")) in (forever or {}))
    return (line["id"], invoice_id, details.get("subscription") or _id(line.get("subscription")),
            details.get("subscription_item"), _id(price), line.get("currency"), line.get("amount"),
            line.get("quantity") or 1, proration, period.get("start"), period.get("end"), kind, off, forever_off,
            *_recurring(line, proration, forever or {}, forever_off))


def _charge(o: dict[str, Any]) -> Row:
    return (o["id"], o.get("created"), _id(o.get("customer")), _id(o.get("payment_intent")),
            _id(o.get("payment_method")), o.get("amount"), o.get("amount_refunded"), o.get("currency"),
            o.get("status"), bool(o.get("paid")), bool(o.get("refunded")), bool(o.get("disputed")),
            o.get("failure_code"), o.get("description"))


def rows_for(kind: str, obj: dict[str, Any], email_key: Callable[[str | None], str | None]) -> dict[str, list[Row]]:
    """The rows one object of a listed kind puts in each table (a subscription its items
    too, an invoice its embedded lines)."""
    if kind == "customers":
        return {"customers": [_customer(obj, email_key)], "discounts": _discount_rows(subscription_discounts({}, obj))}
    if kind == "products":
        return {"products": [(obj["id"], obj.get("created"), obj.get("name"), bool(obj.get("active")),
                              json_text(obj.get("metadata")))]}
    if kind == "prices":
        return {"prices": [_price(obj)]}
    if kind == "subscriptions":
        return {"subscriptions": [_subscription(obj)], "subscription_items": _items(obj),
                "discounts": _discount_rows(list(obj.get("discounts") or []))}
    if kind == "invoices":
        found = list(obj.get("discounts") or [])
        forever = _forever(found)
        lines = [line_row(line, obj["id"], forever) for line in ((obj.get("lines") or {}).get("data") or [])]
        return {"invoices": [_invoice(obj)], "invoice_line_items": lines, "discounts": _discount_rows(found)}
    if kind == "charges":
        return {"charges": [_charge(obj)]}
    if kind == "refunds":
        return {"refunds": [(obj["id"], obj.get("created"), _id(obj.get("charge")), _id(obj.get("payment_intent")),
                             obj.get("amount"), obj.get("currency"), obj.get("status"), obj.get("reason"))]}
    if kind == "credit_notes":
        return {"credit_notes": [(obj["id"], obj.get("created"), _id(obj.get("invoice")), _id(obj.get("customer")),
                                  obj.get("total"), obj.get("amount"), obj.get("currency"), obj.get("status"),
                                  obj.get("reason"), obj.get("type"))]}
    if kind == "disputes":
        due = (obj.get("evidence_details") or {}).get("due_by")
        return {"disputes": [(obj["id"], obj.get("created"), _id(obj.get("charge")), _id(obj.get("payment_intent")),
                              obj.get("amount"), obj.get("currency"), obj.get("status"), obj.get("reason"), due)]}
    if kind == "balance_transactions":  # the money each charge, refund and dispute moved (net of fees)
        return {"balance_transactions": [(obj["id"], obj.get("created"), _id(obj.get("source")), obj.get("type"),
                                          obj.get("reporting_category"), obj.get("amount"), obj.get("fee"),
                                          obj.get("net"), obj.get("currency"), obj.get("status"),
                                          obj.get("available_on"))]}
    raise KeyError(kind)
