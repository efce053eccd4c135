"""Stripe objects as typed rows: what step 1 and the rules after it read.

Current API shapes first, older ones as a fallback: a subscription's period and price
live on its items; an invoice names its subscription in
``parent.subscription_details.subscription`` (``invoice.subscription`` before) and its
payment in ``payments.data[].payment.payment_intent``; a charge names its payment intent,
so charge -> invoice goes through that payment intent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..money import Money
from .prices import PriceTerms, is_metered, price_terms, recurring_amount, subscription_currency, unit_minor
from .taxes import invoice_tax, tax_name

__all__ = ["Anomaly", "SubscriptionRow", "InvoiceRow", "ChargeRow", "obj_id", "invoice_subscription",
           "invoice_payment_intent", "paid_from_balance", "paid_off_stripe", "price_seat_hint", "sub_row", "invoice_row", "charge_row", "money_text"]


@dataclass(frozen=True)
class Anomaly:
    kind: str
    objects: tuple[str, ...]
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "objects": list(self.objects), "detail": self.detail}


@dataclass(frozen=True)
class SubscriptionRow:
    id: str
    customer: str
    status: str
    price: str
    product: str
    interval: str  # "month" | "year" | ...
    interval_count: int
    quantity: int
    unit_amount: int
    currency: str
    current_period_start: int
    current_period_end: int
    cancel_at_period_end: bool
    created: int
    metadata: dict[str, str] = field(default_factory=dict)
    default_payment_method: str | None = None
    canceled_at: int | None = None
    cancel_at: int | None = None
    item_count: int = 1
    price_metadata: dict[str, str] = field(default_factory=dict)
    items_total: int | None = None  # every item's unit_amount x quantity (None: this row's item only)
    seat_hint: bool = False  # the price calls itself per seat (metadata per_seat, nickname/lookup key "seat")
    terms: PriceTerms | None = None  # the row's price's model (reading.prices); None: unit_amount per unit

    @property
    def recurring_total(self) -> Money:
        """What one full period costs, over all items."""
        if self.items_total is not None:
            return Money(self.items_total, self.currency)
        total = self.terms.amount(self.quantity) if self.terms is not None else self.unit_amount * self.quantity
        return Money(total, self.currency)

    @property
    def price_text(self) -> str:
        """How this row's item reaches its amount: ``5 x $15.00 = $75.00``, ``5, volume tiers: $12.00
        each at this count = $60.00``, ``7 in packages of 5 ...``, ``metered ...``."""
        fmt = lambda v: Money(v, self.currency).format()  # noqa: E731
        if self.terms is None:
            return f"{self.quantity} x {fmt(self.unit_amount)} = {fmt(self.unit_amount * self.quantity)}"
        return self.terms.describe(self.quantity, fmt)

    def as_case_json(self) -> dict[str, Any]:
        """The case.json shape: id, status, price, product, interval, quantity, current_period_end, cancel_at_period_end."""
        return {
            "id": self.id, "status": self.status, "price": self.price, "product": self.product,
            "interval": self.interval, "quantity": self.quantity, "current_period_end": self.current_period_end,
            "cancel_at_period_end": self.cancel_at_period_end,
        }


@dataclass(frozen=True)
class InvoiceRow:
    id: str
    customer: str
    subscription: str | None
    status: str
    billing_reason: str | None
    amount_due: int
    amount_paid: int
    currency: str
    created: int
    period_start: int | None
    period_end: int | None
    attempt_count: int
    payment_intent: str | None
    charge: str | None
    paid_at: int | None = None
    total: int | None = None
    #: what the customer's balance paid of it (:func:`paid_from_balance`; negative: the invoice collected
    #: an earlier debt on the balance as well)
    from_balance: int = 0
    tax: int = 0  # the invoice's tax, inclusive and exclusive (in its total, so in what was paid)
    tax_name: str = "tax"  # its rates' display names ("VAT")
    #: ``send_invoice``: Stripe emails the invoice and the customer pays it (net terms), nothing is
    #: charged; its ``due_date`` is when it becomes overdue
    collection_method: str = "charge_automatically"
    due_date: int | None = None
    #: what was paid outside Stripe (:func:`paid_off_stripe`): no charge holds it, no refund returns it
    paid_off_stripe: int = 0

    def as_case_json(self) -> dict[str, Any]:
        """The case.json shape; ``paid_from_balance`` beside ``amount_paid`` (what a payment took):
        an invoice paid partly from the credit balance has ``amount_paid`` below ``total``."""
        return {
            "id": self.id, "status": self.status, "billing_reason": self.billing_reason,
            "subscription": self.subscription, "amount_due": self.amount_due, "amount_paid": self.amount_paid,
            "currency": self.currency, "created": self.created, "attempt_count": self.attempt_count,
            "total": self.total, "paid_from_balance": self.from_balance,
            "tax": self.tax, "tax_name": self.tax_name,
            "collection_method": self.collection_method, "due_date": self.due_date,
            "paid_off_stripe": self.paid_off_stripe,
        }

    def overdue(self, now: int) -> bool:
        """An invoiced (``send_invoice``) invoice still open after its due date."""
        return self.is_invoiced and self.status == "open" and self.due_date is not None and now > self.due_date

    @property
    def is_invoiced(self) -> bool:
        """Sent to the customer to pay (``collection_method=send_invoice``): Stripe charges nothing,
        so an open one is unpaid, not a failed payment."""
        return self.collection_method == "send_invoice"

    def tax_clause(self) -> str:
        """`` incl. $20.00 VAT`` when the invoice charged tax, else ""."""
        return f" incl. {Money(self.tax, self.currency).format(code=False)} {self.tax_name}" if self.tax else ""


@dataclass(frozen=True)
class ChargeRow:
    id: str
    customer: str
    payment_intent: str | None
    invoice: str | None
    status: str
    amount: int
    amount_refunded: int
    currency: str
    created: int
    disputed: bool
    card_brand: str | None
    card_last4: str | None
    failure_code: str | None
    payment_method: str | None = None


def money_text(amount: int | None, currency: str) -> str:
    return Money(int(amount or 0), currency or "usd").format()


def obj_id(value: Any) -> str | None:
    """An id whether the field holds the id or an expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value if isinstance(value, str) and value else None


def invoice_subscription(inv: dict[str, Any]) -> str | None:
    """The invoice's subscription, in the current shape (``parent``) or the old one."""
    details = ((inv.get("parent") or {}).get("subscription_details")) or {}
    found = obj_id(details.get("subscription")) or obj_id(inv.get("subscription"))
    if found:
        return found
    for line in (inv.get("lines") or {}).get("data") or []:
        item = ((line.get("parent") or {}).get("subscription_item_details")) or {}
        found = obj_id(item.get("subscription")) or obj_id(line.get("subscription"))
        if found:
            return found
    return None


def invoice_payment_intent(inv: dict[str, Any]) -> str | None:
    """The invoice's payment intent: the default (else the newest) invoice payment's, or the old field."""
    payments = ((inv.get("payments") or {}).get("data")) or []
    payments = sorted(payments, key=lambda p: (bool(p.get("is_default")), p.get("created") or 0), reverse=True)
    for pay in payments:
        pi = obj_id((pay.get("payment") or {}).get("payment_intent"))
        if pi:
            return pi
    return obj_id(inv.get("payment_intent"))


def price_seat_hint(price: dict[str, Any]) -> bool:
    """A per-unit price that names itself per seat: metadata ``per_seat``, or "seat" in its nickname/lookup key."""
    if is_metered(price):  # usage, not seats; a licensed tiered price often prices seats
        return False
    flag = str((price.get("metadata") or {}).get("per_seat", "")).lower() in ("1", "true", "yes")
    return flag or "seat" in " ".join(str(price.get(k) or "") for k in ("nickname", "lookup_key")).lower()


def _item_total(it: dict[str, Any], currency: str | None = None) -> int:
    """What the item recurs at per period under its price's model, in the subscription's
    ``currency`` (its price's option there; metered usage: 0)."""
    return recurring_amount(it.get("price") or {}, int(it.get("quantity") or 1), currency)


def sub_row(sub: dict[str, Any]) -> SubscriptionRow:
    """One row per subscription; with several items it shows the seat item (quantity > 1 or a
    per-seat price) when there is one, else the costliest, and totals every item."""
    items = ((sub.get("items") or {}).get("data")) or []
    cur = subscription_currency(sub)  # a multi-currency price bills at the subscription currency's option
    item = max(items, key=lambda it: (int(it.get("quantity") or 1) > 1 or price_seat_hint(it.get("price") or {}),
                                      _item_total(it, cur)), default={})
    price = item.get("price") or {}
    price = price if isinstance(price, dict) else {"id": price}
    recurring = price.get("recurring") or {}
    terms = price_terms(price, cur)
    return SubscriptionRow(
        id=sub["id"], customer=obj_id(sub.get("customer")) or "", status=sub.get("status") or "",
        price=price.get("id") or "", product=obj_id(price.get("product")) or "",
        interval=recurring.get("interval") or "", interval_count=int(recurring.get("interval_count") or 1),
        quantity=int(item.get("quantity") or 1),
        unit_amount=unit_minor(terms, int(item.get("quantity") or 1)),
        currency=cur or price.get("currency") or "usd",
        current_period_start=int(item.get("current_period_start") or sub.get("current_period_start") or 0),
        current_period_end=int(item.get("current_period_end") or sub.get("current_period_end") or 0),
        cancel_at_period_end=bool(sub.get("cancel_at_period_end")), created=int(sub.get("created") or 0),
        metadata=dict(sub.get("metadata") or {}), default_payment_method=obj_id(sub.get("default_payment_method")),
        canceled_at=sub.get("canceled_at"), cancel_at=sub.get("cancel_at"), item_count=len(items) or 1,
        price_metadata=dict(price.get("metadata") or {}),
        items_total=sum(_item_total(it, cur) for it in items) if items else None, seat_hint=price_seat_hint(price),
        terms=terms,
    )


def paid_from_balance(inv: dict[str, Any]) -> int:
    """What the customer's credit balance paid of a finalized invoice: the balance's change
    across it, ``ending_balance - starting_balance`` (Stripe: the balance applies to the next
    invoice finalized, and ``amount_due`` is the total less it; ``ending_balance`` is null until
    finalization). Negative when the invoice also collected a debt the balance held."""
    end = inv.get("ending_balance")
    if end is None:
        return 0
    return int(end) - int(inv.get("starting_balance") or 0)


def invoice_row(inv: dict[str, Any], charge_by_pi: dict[str, str],
                rates: dict[str, dict[str, Any]] | None = None) -> InvoiceRow:
    """``rates``: tax rates by id, for the names of the invoice's taxes."""
    pi = invoice_payment_intent(inv)
    return InvoiceRow(
        id=inv["id"], customer=obj_id(inv.get("customer")) or "", subscription=invoice_subscription(inv),
        status=inv.get("status") or "", billing_reason=inv.get("billing_reason"),
        amount_due=int(inv.get("amount_due") or 0), amount_paid=int(inv.get("amount_paid") or 0),
        currency=inv.get("currency") or "usd", created=int(inv.get("created") or 0),
        period_start=inv.get("period_start"), period_end=inv.get("period_end"),
        attempt_count=int(inv.get("attempt_count") or 0), payment_intent=pi,
        charge=(charge_by_pi.get(pi) if pi else None) or obj_id(inv.get("charge")),
        paid_at=((inv.get("status_transitions") or {}).get("paid_at")),
        total=int(inv["total"]) if inv.get("total") is not None else None, from_balance=paid_from_balance(inv),
        tax=invoice_tax(inv), tax_name=tax_name(inv, rates or {}),
        collection_method=str(inv.get("collection_method") or "charge_automatically"),
        due_date=int(inv["due_date"]) if inv.get("due_date") is not None else None,
        paid_off_stripe=paid_off_stripe(inv),
    )


def paid_off_stripe(inv: dict[str, Any]) -> int:
    """What of ``inv`` was paid outside Stripe: ``amount_paid_off_stripe`` (an includable, "the total
    amount [...] paid on the invoice outside of Stripe (out of band)", changelog 2026-05-27.dahlia);
    an account read at an older version says only ``paid_out_of_band`` (then all it paid beyond
    the credit balance's part)."""
    if inv.get("amount_paid_off_stripe") is not None:
        return max(0, int(inv["amount_paid_off_stripe"]))
    if inv.get("paid_out_of_band"):
        return max(0, int(inv.get("amount_paid") or 0))
    return 0


def charge_row(ch: dict[str, Any], invoice_by_pi: dict[str, str]) -> ChargeRow:
    card = ((ch.get("payment_method_details") or {}).get("card")) or {}
    pi = obj_id(ch.get("payment_intent"))
    return ChargeRow(
        id=ch["id"], customer=obj_id(ch.get("customer")) or "", payment_intent=pi,
        invoice=(invoice_by_pi.get(pi) if pi else None) or obj_id(ch.get("invoice")), status=ch.get("status") or "",
        amount=int(ch.get("amount") or 0), amount_refunded=int(ch.get("amount_refunded") or 0),
        currency=ch.get("currency") or "usd", created=int(ch.get("created") or 0), disputed=bool(ch.get("disputed")),
        card_brand=card.get("brand"), card_last4=card.get("last4"), failure_code=ch.get("failure_code"),
        payment_method=obj_id(ch.get("payment_method")),
    )
