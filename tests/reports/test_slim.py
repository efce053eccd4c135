"""Masking only what a row keeps gives the rows of masking the whole object, whatever PII
the free-text fields carry and wherever an expanded customer brings its own."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from billing_nb.reading.masking import mask_object
from billing_nb.reports.slim import masked_rows, slim
from billing_nb.reports.tables import rows_for

_PII = st.sampled_from(["Josefina Ardmore", "josefina.ardmore@example.com", "+44 20 7946 0958", "4242 4242 4242 4242",
                        "GB82 WEST 1234 5698 7654 32", "sk_test_abcdefgh12345678", "Acme Widgets Ltd", "plain words",
                        "12 Harbour Street", "", "Ardmore", "cus_ABC123"])
_TEXT = st.lists(_PII, min_size=0, max_size=3).map(" / ".join)

CUSTOMER = {"id": "cus_1", "object": "customer", "created": 1700000000, "email": "josefina.ardmore@example.com",
            "name": "Josefina Ardmore", "phone": "+44 20 7946 0958", "currency": "usd", "delinquent": False,
            "address": {"line1": "12 Harbour Street", "country": "GB"}, "test_clock": None,
            "invoice_settings": {"default_payment_method": "pm_1", "custom_fields": None}, "metadata": {}}


def _line(text: str, proration: bool) -> dict[str, Any]:
    return {"id": "il_1", "object": "line_item", "amount": -500 if proration else 1500, "currency": "usd",
            "description": text, "quantity": 2, "period": {"start": 1700000000, "end": 1702592000},
            "parent": {"type": "subscription_item_details",
                       "subscription_item_details": {"subscription": "sub_1", "subscription_item": "si_1",
                                                     "proration": proration, "invoice_item": None}},
            "pricing": {"price_details": {"price": "price_1", "product": "prod_1"}, "type": "price_details"}}


def _objects(text: str, meta: str, expanded: bool) -> dict[str, dict[str, Any]]:
    customer = {**CUSTOMER, "metadata": {"company": meta, "note": text}, "description": text}
    ref: Any = copy.deepcopy(customer) if expanded else "cus_1"
    price = {"id": "price_1", "object": "price", "created": 1700000000, "currency": "usd", "unit_amount": 1500,
             "type": "recurring", "recurring": {"interval": "month", "interval_count": 1, "meter": None},
             "product": {"id": "prod_1", "object": "product", "name": text} if expanded else "prod_1",
             "nickname": text, "lookup_key": meta or None, "active": True, "metadata": {"owner": meta}}
    return {
        "customers": customer,
        "products": {"id": "prod_1", "object": "product", "created": 1700000000, "name": text or "Pro",
                     "active": True, "description": meta, "metadata": {"contact": meta}},
        "prices": price,
        "subscriptions": {"id": "sub_1", "object": "subscription", "created": 1700000000, "customer": ref,
                          "status": "active", "currency": "usd", "start_date": 1700000000, "canceled_at": None,
                          "cancel_at": None, "cancel_at_period_end": False, "ended_at": None, "description": text,
                          "default_payment_method": None, "latest_invoice": "in_1", "collection_method": "charge_automatically",
                          "cancellation_details": {"comment": text, "feedback": None, "reason": None},
                          "metadata": {"name": meta, "ref": text},
                          "items": {"object": "list", "has_more": False, "data": [
                              {"id": "si_1", "object": "subscription_item", "created": 1700000000, "quantity": 2,
                               "price": price, "current_period_start": 1700000000, "current_period_end": 1702592000,
                               "metadata": {"who": text}}]}},
        "invoices": {"id": "in_1", "object": "invoice", "created": 1700000000, "customer": ref, "customer_name": meta,
                     "customer_email": "josefina.ardmore@example.com", "status": "paid", "number": "ABC-0001",
                     "billing_reason": "subscription_cycle", "currency": "usd", "total": 1000, "amount_due": 1000,
                     "amount_paid": 1000, "amount_remaining": 0, "attempt_count": 1, "period_start": 1700000000,
                     "period_end": 1702592000, "status_transitions": {"paid_at": 1700000100, "voided_at": None},
                     "next_payment_attempt": None, "footer": text,
                     "parent": {"type": "subscription_details", "subscription_details": {"subscription": "sub_1",
                                                                                         "metadata": {"x": text}}},
                     "lines": {"object": "list", "has_more": False,
                               "data": [_line(text, False), _line(meta, True)]}},
        "charges": {"id": "ch_1", "object": "charge", "created": 1700000000, "customer": ref, "amount": 1000,
                    "amount_refunded": 0, "currency": "usd", "status": "succeeded", "paid": True, "refunded": False,
                    "disputed": False, "failure_code": None, "description": text, "payment_intent": "pi_1",
                    "payment_method": "pm_1", "billing_details": {"name": meta, "email": text, "address": None},
                    "receipt_email": "josefina.ardmore@example.com"},
        "refunds": {"id": "re_1", "object": "refund", "created": 1700000000, "charge": "ch_1", "amount": 500,
                    "currency": "usd", "status": "succeeded", "reason": None, "payment_intent": None,
                    "metadata": {"why": text}},
        "credit_notes": {"id": "cn_1", "object": "credit_note", "created": 1700000000, "invoice": "in_1",
                         "customer": ref, "total": 300, "amount": 300, "currency": "usd", "status": "issued",
                         "reason": None, "type": "post_payment", "memo": text},
        "disputes": {"id": "du_1", "object": "dispute", "created": 1700000000, "charge": "ch_1", "amount": 1000,
                     "currency": "usd", "status": "needs_response", "reason": "fraudulent", "payment_intent": "pi_1",
                     "evidence": {"customer_name": meta, "uncategorized_text": text},
                     "evidence_details": {"due_by": 1700600000, "has_evidence": False}},
        "balance_transactions": {"id": "txn_1", "object": "balance_transaction", "created": 1700000000,
                                 "amount": 1000, "fee": 59, "net": 941, "currency": "usd", "type": "charge",
                                 "reporting_category": "charge", "status": "available", "available_on": 1700000000,
                                 "source": "ch_1", "description": text},
    }


def _whole(kind: str, obj: dict[str, Any]) -> dict[str, list[Any]]:
    masked = mask_object(obj)
    masked["_email"] = obj.get("email") if kind == "customers" else None
    return rows_for(kind, masked, lambda e: e)


@settings(max_examples=40, deadline=None)
@given(text=_TEXT, meta=_TEXT, expanded=st.booleans())
def test_slim_rows_equal_whole_object_rows(text: str, meta: str, expanded: bool) -> None:
    for kind, obj in _objects(text, meta, expanded).items():
        assert masked_rows(kind, obj, lambda e: e) == _whole(kind, obj), kind


def test_slim_drops_what_no_row_reads_and_keeps_emptiness() -> None:
    objs = _objects("Josefina Ardmore", "", True)
    cut = slim("subscriptions", objs["subscriptions"])
    assert cut["customer"] == "cus_1" and "description" not in cut
    kept = cut["items"]["data"][0]["price"]  # the item's price: only what its amount reads (reading.prices)
    assert kept["id"] == "price_1" and kept["unit_amount"] == 1500 and "metadata" not in kept and "product" not in kept
    assert slim("invoices", {**objs["invoices"], "parent": None})["parent"] is None
    assert slim("prices", {**objs["prices"], "recurring": {"meter": None}})["recurring"]  # non-empty stays truthy
    rows = masked_rows("customers", objs["customers"], lambda e: f"key:{e}")
    assert rows["customers"][0][2] == "key:josefina.ardmore@example.com"  # the raw email only feeds the keyed hash
    assert rows["customers"][0][3] == "j***@example.com" and rows["customers"][0][4] == "J. A."
    assert "Ardmore" not in str(rows) and "Acme" not in str(masked_rows("customers", _objects("", "Acme Widgets Ltd",
                                                                                              False)["customers"],
                                                                        lambda e: e))


_PLAINISH = st.text(alphabet="abcxyzGBW0123456789_", min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(head=st.sampled_from(["cus_", "in_", "sub_", "", "sk_test_", "pk_live_", "whsec_", "x", "price_", "GB"]),
       body=_PLAINISH)
def test_mask_text_fast_path_for_ids_and_enums_changes_nothing(head: str, body: str) -> None:
    """mask_text returns ids and enums untouched without running the patterns: the same
    answer the patterns give (keys, IBANs, card and phone numbers inside still masked)."""
    from billing_nb.reading.pii import PATTERNS, _masked, _real, mask_text

    text = head + body
    slow = text
    for kind, pattern in PATTERNS.items():
        slow = pattern.sub(lambda m, k=kind: _masked(k, m.group(0)) if _real(k, m.group(0)) else m.group(0), slow)
    assert mask_text(text) == slow
    assert mask_text("sk_test_abcdefgh12345678") != "sk_test_abcdefgh12345678"
    assert mask_text("4242424242424242") != "4242424242424242"


# a key split like test_masking.py does, so no live-looking key sits in the source
_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), _PII, _TEXT,
                  st.sampled_from(["usd", "active", "price_1", "ABC-0001", "sk_" "live_abcdefgh12345678", "josefina"]))
_KEY = st.sampled_from(["id", "status", "email", "name", "phone", "address", "metadata", "card", "value", "note",
                        "custom_fields", "tax_ids", "description", "ip", "nickname"])
_NODE = st.recursive(_LEAF, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(_KEY, kids, max_size=4),
                     max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(body=st.dictionaries(_KEY, _NODE, max_size=6), kind=st.sampled_from(["customer", "product", "tax_id", None]),
       known=st.lists(_PII, max_size=3))
def test_masking_only_the_keys_masking_changes_equals_masking_all(body: dict[str, Any], kind: str | None,
                                                                  known: list[str]) -> None:
    """The sync masks only the top-level keys whose value masking would change (ids and enums
    skip it: ~half of its CPU); whatever the nesting, keys and PII, the result is the same."""
    from billing_nb.reports.slim import _masked

    obj = {**body, "object": kind} if kind else body
    assert _masked(copy.deepcopy(obj), known) == mask_object(copy.deepcopy(obj), known)
