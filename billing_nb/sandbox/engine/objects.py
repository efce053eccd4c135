"""Builders for the billing engine's objects, in the pinned API version's shapes.

Kept apart from the engine's rules so that each shape lives in one place and the
engine reads as behaviour. Builders insert nothing unless they say so.
"""

from __future__ import annotations

import copy
import time as _time
from typing import Any

from ..store import Obj, Store

__all__ = [
    "plan_of", "product_name", "fmt_amount", "fmt_date", "new_payment_intent", "new_charge",
    "new_refund", "new_dispute", "new_invoice_payment", "new_balance_txn", "card_error_body",
]

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}


def fmt_amount(amount: int, currency: str) -> str:
    """Stripe's money in messages: ``$25.00`` (symbol, two decimals, no code)."""
    cur = currency.lower()
    sign = "-" if amount < 0 else ""
    units = abs(amount)
    body = f"{units:,}" if cur in ZERO_DECIMAL else f"{units // 100:,}.{units % 100:02d}"
    sym = _SYMBOLS.get(cur)
    return f"{sign}{sym}{body}" if sym else f"{sign}{body} {cur.upper()}"


def fmt_date(ts: int) -> str:
    """``15 Jan 2024``, as proration descriptions print dates."""
    return _time.strftime("%d %b %Y", _time.gmtime(ts))


def product_name(store: Store, price: Obj) -> str:
    prod = store.maybe("product", price.get("product"))
    return str(prod.get("name")) if prod else str(price.get("nickname") or price["id"])


def plan_of(price: Obj) -> Obj:
    """The legacy ``plan`` view of a recurring price (still present on items)."""
    rec = price.get("recurring") or {}
    return {
        "id": price["id"], "object": "plan", "active": price.get("active", True),
        "amount": price.get("unit_amount"), "amount_decimal": price.get("unit_amount_decimal"),
        "billing_scheme": price.get("billing_scheme", "per_unit"), "created": price.get("created"),
        "currency": price.get("currency"), "interval": rec.get("interval"),
        "interval_count": rec.get("interval_count", 1), "livemode": False,
        "metadata": price.get("metadata", {}), "meter": rec.get("meter"), "nickname": price.get("nickname"),
        "product": price.get("product"), "tiers_mode": price.get("tiers_mode"),
        "transform_usage": price.get("transform_quantity"), "trial_period_days": rec.get("trial_period_days"),
        "usage_type": rec.get("usage_type", "licensed"),
    }


def new_payment_intent(store: Store, *, amount: int, currency: str, customer: str | None,
                       description: str | None, payment_method: str | None, metadata: dict[str, str] | None = None) -> Obj:
    pid = store.new_id("pi")
    return store.insert({
        "id": pid, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
        "amount_details": {"tip": {}}, "amount_received": 0, "application": None,
        "application_fee_amount": None, "automatic_payment_methods": None, "canceled_at": None,
        "cancellation_reason": None, "capture_method": "automatic",
        "client_secret": f"{pid}_secret_{Store.new_id('x', 25)[2:]}", "confirmation_method": "automatic",
        "created": store.now(customer), "currency": currency, "customer": customer, "customer_account": None,
        "description": description, "excluded_payment_method_types": None, "last_payment_error": None,
        "latest_charge": None, "livemode": False, "managed_payments": None, "metadata": dict(metadata or {}),
        "next_action": None,
        "on_behalf_of": None, "payment_method": payment_method,
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"installments": None, "mandate_options": None, "network": None,
                                            "request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"], "processing": None, "receipt_email": None, "review": None,
        "setup_future_usage": None, "shipping": None, "source": None, "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_confirmation" if payment_method else "requires_payment_method",
        "transfer_data": None, "transfer_group": None,
    })


def new_balance_txn(store: Store, amount: int, currency: str, source: str, type_: str, created: int) -> str:
    """A minimal balance transaction, so ``expand`` on it finds something."""
    tid = store.new_id("txn")
    store.insert({"id": tid, "object": "balance_transaction", "amount": amount, "available_on": created,
                  "created": created, "currency": currency, "description": None, "exchange_rate": None,
                  "fee": 0, "fee_details": [], "net": amount, "reporting_category": type_,
                  "source": source, "status": "available", "type": type_})
    return tid


_DECLINE_TEXT = "Your card was declined."


def new_charge(store: Store, pi: Obj, pm: Obj, outcome: tuple[str, str | None, str | None]) -> Obj:
    """A charge for one payment attempt; ``outcome`` comes from ``charge_outcome``."""
    status, code, decline = outcome
    ok = status != "declined"
    now = store.now(pi.get("customer"))
    cid = store.new_id("ch")
    card = pm.get("card") or {}
    details = {"card": {
        "amount_authorized": pi["amount"] if ok else None, "authorization_code": None, "brand": card.get("brand"),
        "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
        "country": card.get("country"), "exp_month": card.get("exp_month"), "exp_year": card.get("exp_year"),
        "extended_authorization": {"status": "disabled"}, "fingerprint": card.get("fingerprint"),
        "funding": card.get("funding"), "incremental_authorization": {"status": "unavailable"},
        "installments": None, "last4": card.get("last4"), "mandate": None,
        "multicapture": {"status": "unavailable"}, "network": card.get("brand"), "network_token": {"used": False},
        "network_transaction_id": None, "overcapture": {"maximum_amount_capturable": pi["amount"], "status": "unavailable"},
        "regulated_status": "unregulated", "three_d_secure": None, "transaction_link_id": None, "wallet": None,
    }, "type": "card"}
    outcome_obj = {
        "advice_code": None, "network_advice_code": None, "network_decline_code": None,
        "network_status": "approved_by_network" if ok else "declined_by_network",
        "reason": None if ok else decline, "risk_level": "normal", "risk_score": 32,
        "seller_message": "Payment complete." if ok else "The bank did not return any further details with this decline.",
        "type": "authorized" if ok else "issuer_declined",
    }
    charge = {
        "id": cid, "object": "charge", "amount": pi["amount"], "amount_captured": pi["amount"] if ok else 0,
        "amount_refunded": 0, "application": None, "application_fee": None, "application_fee_amount": None,
        "balance_transaction": new_balance_txn(store, pi["amount"], pi["currency"], cid, "charge", now) if ok else None,
        "billing_details": copy.deepcopy(pm.get("billing_details")) or {
            "address": None, "email": None, "name": None, "phone": None, "tax_id": None},
        "calculated_statement_descriptor": "BILLING-NB", "captured": ok, "created": now,
        "currency": pi["currency"], "customer": pi.get("customer"), "description": pi.get("description"),
        "disputed": False, "failure_balance_transaction": None,
        "failure_code": None if ok else code, "failure_message": None if ok else _DECLINE_TEXT,
        "fraud_details": {}, "livemode": False, "metadata": dict(pi.get("metadata") or {}),
        "on_behalf_of": None, "outcome": outcome_obj, "paid": ok, "payment_intent": pi["id"],
        "payment_method": pm["id"], "payment_method_details": details, "receipt_email": pi.get("receipt_email"),
        "receipt_number": None, "receipt_url": f"https://pay.stripe.com/receipts/payment/{cid}",
        "refunded": False, "review": None, "shipping": None, "source": None, "source_transfer": None,
        "statement_descriptor": None, "statement_descriptor_suffix": None,
        "status": "succeeded" if ok else "failed", "transfer_data": None, "transfer_group": None,
    }
    return store.insert(charge)


def card_error_body(charge: Obj, pm: Obj) -> Obj:
    """``last_payment_error`` for a declined attempt (also the 402 error's fields)."""
    return {
        "type": "card_error", "code": charge.get("failure_code") or "card_declined",
        "decline_code": (charge.get("outcome") or {}).get("reason") or "generic_decline",
        "doc_url": "https://stripe.com/docs/error-codes/card-declined", "message": _DECLINE_TEXT,
        "charge": charge["id"], "payment_method": copy.deepcopy({k: v for k, v in pm.items() if not k.startswith("_")}),
        "payment_method_type": "card", "advice_code": None, "network_advice_code": None,
        "network_decline_code": None, "param": None,
    }


def new_refund(store: Store, charge: Obj, amount: int, reason: str | None, metadata: dict[str, str]) -> Obj:
    now = store.now(charge.get("customer"))
    rid = store.new_id("re")
    return store.insert({
        "id": rid, "object": "refund", "amount": amount,
        "balance_transaction": new_balance_txn(store, -amount, charge["currency"], rid, "refund", now),
        "charge": charge["id"], "created": now, "currency": charge["currency"],
        "customer": charge.get("customer"), "customer_account": None,
        "destination_details": {"card": {"reference": None, "reference_status": "pending",
                                         "reference_type": "acquirer_reference_number", "type": "refund"},
                                "type": "card"},
        "metadata": metadata, "payment_intent": charge.get("payment_intent"),
        "payment_method": charge.get("payment_method"), "reason": reason,
        "receipt_number": None, "source_transfer_reversal": None, "status": "succeeded",
        "transfer_reversal": None,
    })


def new_dispute(store: Store, charge: Obj) -> Obj:
    """The dispute ``pm_card_createDispute`` opens: fraudulent, needing a response."""
    now = store.now(charge.get("customer"))
    evidence_keys = (
        "access_activity_log billing_address cancellation_policy cancellation_policy_disclosure "
        "cancellation_rebuttal customer_communication customer_email_address customer_name "
        "customer_purchase_ip customer_signature duplicate_charge_documentation duplicate_charge_explanation "
        "duplicate_charge_id product_description receipt refund_policy refund_policy_disclosure "
        "refund_refusal_explanation service_date service_documentation shipping_address shipping_carrier "
        "shipping_date shipping_documentation shipping_tracking_number uncategorized_file uncategorized_text"
    ).split()
    evidence: dict[str, Any] = {k: None for k in evidence_keys}
    evidence["enhanced_evidence"] = {}
    card = (charge.get("payment_method_details") or {}).get("card") or {}
    return store.insert({
        "id": store.new_id("du"), "object": "dispute", "amount": charge["amount"],
        "balance_transactions": [], "charge": charge["id"], "created": now, "currency": charge["currency"],
        "enhanced_eligibility_types": [], "evidence": evidence,
        "evidence_details": {"due_by": now + 7 * 86400, "enhanced_eligibility": {}, "has_evidence": False,
                             "past_due": False, "submission_count": 0,
                             "submission_method": "not_submitted"},
        "is_charge_refundable": False, "livemode": False, "metadata": {},
        "payment_intent": charge.get("payment_intent"),
        "payment_method_details": {"card": {"brand": card.get("brand"), "case_type": "chargeback",
                                            "network": card.get("network") or card.get("brand"),
                                            "network_reason_code": "10.4"}, "type": "card"},
        "reason": "fraudulent", "status": "needs_response",
    })


def new_invoice_payment(store: Store, inv: Obj, pi: Obj) -> Obj:
    return store.insert({
        "id": store.new_id("inpay"), "object": "invoice_payment", "amount_paid": None,
        "amount_requested": pi["amount"], "created": store.now(inv.get("customer")), "currency": pi["currency"],
        "invoice": inv["id"], "is_default": True, "livemode": False,
        "payment": {"type": "payment_intent", "payment_intent": pi["id"]},
        "status": "open", "status_transitions": {"canceled_at": None, "paid_at": None},
    })
