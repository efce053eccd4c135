"""Hand-built snapshots in the current API's shapes, for the contract and plan tests.

Not a test module of its own: the builders are imported by test_contract.py and
test_actions*.py (pytest puts this directory on sys.path).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from billing_nb.reading.snapshot import CaseSnapshot

DAY = 86400
T0 = int(datetime(2026, 8, 24, 6, 22, 42, tzinfo=UTC).timestamp())
YEAR_END = int(datetime(2027, 8, 24, 6, 22, 42, tzinfo=UTC).timestamp())


def price(pid: str, amount: int, interval: str = "month", product: str = "prod_pro", **extra: Any) -> dict[str, Any]:
    return {"id": pid, "object": "price", "active": True, "billing_scheme": "per_unit", "currency": "usd",
            "product": product, "unit_amount": amount, "type": "recurring", "metadata": {}, "nickname": None,
            "lookup_key": None, "recurring": {"interval": interval, "interval_count": 1, "usage_type": "licensed"},
            **extra}


@dataclass
class Builder:
    """Accumulates raw objects; ``snapshot(now)`` freezes them."""

    customer: str = "cus_A"
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    n: int = 0
    extra_customers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.add("customers", {"id": self.customer, "object": "customer", "email": "jane@example.com",
                               "balance": 0, "currency": "usd", "created": T0 - 400 * DAY, "metadata": {},
                               "invoice_settings": {"default_payment_method": "pm_old"}})

    def add(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects.setdefault(kind, []).append(obj)
        return obj

    def nid(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}_{self.n}"

    def subscription(self, sid: str, pr: dict[str, Any], *, start: int = T0, end: int | None = None,
                     quantity: int = 1, status: str = "active", created: int | None = None,
                     customer: str | None = None, **extra: Any) -> dict[str, Any]:
        end = end if end is not None else start + 30 * DAY
        item = {"id": f"si_{sid[4:]}", "object": "subscription_item", "price": pr, "quantity": quantity,
                "subscription": sid, "current_period_start": start, "current_period_end": end, "metadata": {}}
        return self.add("subscriptions", {
            "id": sid, "object": "subscription", "customer": customer or self.customer, "status": status,
            "currency": "usd", "created": created if created is not None else start, "start_date": start,
            "items": {"object": "list", "data": [item]}, "cancel_at_period_end": False, "cancel_at": None,
            "canceled_at": None, "trial_end": None, "discounts": [], "metadata": {}, "latest_invoice": None,
            "default_payment_method": "pm_old", "cancellation_details": {"comment": None, "feedback": None,
                                                                        "reason": None}, **extra})

    def invoice(self, sub: dict[str, Any], amount: int, *, start: int, end: int, status: str = "paid",
                created: int | None = None, reason: str = "subscription_cycle", charge_status: str = "succeeded",
                disputed: bool = False, lines: list[dict[str, Any]] | None = None,
                attempt_count: int = 1) -> dict[str, Any]:
        inv_id, pi_id, ch_id = self.nid("in"), self.nid("pi"), self.nid("ch")
        item = sub["items"]["data"][0]
        line = {"id": self.nid("il"), "object": "line_item", "amount": amount, "currency": "usd",
                "quantity": item["quantity"], "period": {"start": start, "end": end}, "discount_amounts": [],
                "pricing": {"type": "price_details", "price_details": {"price": item["price"]["id"], "product":
                                                                       item["price"]["product"]}},
                "parent": {"type": "subscription_item_details", "subscription_item_details": {
                    "subscription": sub["id"], "subscription_item": item["id"], "proration": False,
                    "invoice_item": None}}}
        created = created if created is not None else start
        paid = status == "paid"
        inv = self.add("invoices", {
            "id": inv_id, "object": "invoice", "customer": sub["customer"], "status": status, "currency": "usd",
            "billing_reason": reason, "amount_due": amount, "amount_paid": amount if paid else 0,
            "amount_remaining": 0 if paid else amount, "created": created, "period_start": start, "period_end": end,
            "attempt_count": attempt_count, "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0, "total": amount, "subtotal": amount,
            "parent": {"type": "subscription_details", "subscription_details": {"subscription": sub["id"]}},
            "payments": {"object": "list", "data": [{"object": "invoice_payment", "status": "paid" if paid else "open",
                                                     "payment": {"type": "payment_intent", "payment_intent": pi_id}}]},
            "lines": {"object": "list", "data": lines if lines is not None else [line]}, "metadata": {}})
        self.add("payment_intents", {"id": pi_id, "object": "payment_intent", "amount": amount, "currency": "usd",
                                     "customer": sub["customer"], "status": "succeeded" if paid else
                                     "requires_payment_method", "latest_charge": ch_id, "created": created})
        ok = charge_status == "succeeded" and paid
        self.add("charges", {"id": ch_id, "object": "charge", "amount": amount, "amount_refunded": 0,
                             "currency": "usd", "customer": sub["customer"], "payment_intent": pi_id,
                             "status": "succeeded" if ok else "failed", "paid": ok, "refunded": False,
                             "disputed": disputed, "created": created, "payment_method": "pm_old",
                             "failure_code": None if ok else "card_declined"})
        sub["latest_invoice"] = inv_id
        return inv

    def charge_of(self, inv: dict[str, Any]) -> dict[str, Any]:
        pi = inv["payments"]["data"][0]["payment"]["payment_intent"]
        return next(c for c in self.objects["charges"] if c["payment_intent"] == pi)

    def dispute(self, charge: dict[str, Any]) -> dict[str, Any]:
        charge["disputed"] = True
        return self.add("disputes", {"id": self.nid("dp"), "object": "dispute", "charge": charge["id"],
                                     "amount": charge["amount"], "currency": "usd",
                                     "status": "needs_response", "reason": "general"})

    def card(self, pm_id: str, *, created: int, exp_year: int = 2030) -> dict[str, Any]:
        return self.add("payment_methods", {"id": pm_id, "object": "payment_method", "type": "card",
                                            "customer": self.customer, "created": created,
                                            "card": {"brand": "visa", "last4": "4242", "exp_month": 12,
                                                     "exp_year": exp_year}})

    def portal(self, *, cancel: bool, pm_update: bool = True) -> dict[str, Any]:
        return self.add("portal_configurations", {
            "id": self.nid("bpc"), "object": "billing_portal.configuration", "active": True, "is_default": True,
            "features": {"subscription_cancel": {"enabled": cancel, "mode": "at_period_end"},
                         "payment_method_update": {"enabled": pm_update},
                         "subscription_update": {"enabled": False}}})

    def snapshot(self, now: int) -> CaseSnapshot:
        when = datetime.fromtimestamp(now, tz=UTC)
        return CaseSnapshot(lookup_kind="customer", customer_ids=[self.customer, *self.extra_customers],
                            objects={k: list(v) for k, v in self.objects.items()}, fetched_at=when, now=when)


def annual_case(now: int) -> tuple[Builder, dict[str, Any], dict[str, Any]]:
    """An annual plan ($1,200.00) paid at T0 for [T0, T0 + 1 year)."""
    b = Builder()
    sub = b.subscription("sub_annual", price("price_year", 120000, "year"), start=T0, end=YEAR_END)
    inv = b.invoice(sub, 120000, start=T0, end=YEAR_END, reason="subscription_create")
    return b, sub, inv
