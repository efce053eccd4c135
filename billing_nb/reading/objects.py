"""Small readers of raw Stripe dicts, shared by ``contract`` and ``actions``.

The current API moved several links: an invoice names its subscription under
``parent.subscription_details.subscription`` and its payments under
``payments.data[].payment.payment_intent``; a line's subscription item and proration
flag live under ``parent.subscription_item_details``. Each reader also accepts the
older flat field so a saved snapshot from an older account still reads.
"""

from __future__ import annotations

from typing import Any

from .prices import subscription_currency
from .rows import invoice_subscription, obj_id
from .snapshot import CaseSnapshot

_LIVE = ("active", "trialing", "past_due")

__all__ = [
    "obj_id", "invoice_subscription", "invoice_payment_intents", "invoice_charge", "line_is_proration",
    "line_subscription_item", "line_price", "subscription_invoices", "pending_prorations", "charge_dispute", "refundable",
    "invoice_refundable", "plan_name", "money_currency",
]


def invoice_payment_intents(inv: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for pay in ((inv.get("payments") or {}).get("data") or []):
        pi = obj_id((pay.get("payment") or {}).get("payment_intent"))
        if pi and pi not in out:
            out.append(pi)
    legacy = obj_id(inv.get("payment_intent"))
    if legacy and legacy not in out:
        out.append(legacy)
    return out


def invoice_charge(snapshot: CaseSnapshot, inv: dict[str, Any]) -> dict[str, Any] | None:
    """The succeeded charge that paid an invoice (through its payment intents), if any."""
    pis = invoice_payment_intents(inv)
    charges = [c for c in snapshot.of("charges") if obj_id(c.get("payment_intent")) in pis]
    if not charges and obj_id(inv.get("charge")):
        found = snapshot.by_id(str(obj_id(inv.get("charge"))))
        charges = [found] if found else []
    if not charges:
        for pi in snapshot.of("payment_intents"):
            if pi.get("id") in pis and obj_id(pi.get("latest_charge")):
                found = snapshot.by_id(str(obj_id(pi.get("latest_charge"))))
                if found:
                    charges.append(found)
    paid = [c for c in charges if c.get("status") == "succeeded" and c.get("paid", True)]
    paid.sort(key=lambda c: int(c.get("created") or 0))
    return paid[-1] if paid else None


def _item_details(line: dict[str, Any]) -> dict[str, Any]:
    return ((line.get("parent") or {}).get("subscription_item_details") or {})


def line_is_proration(line: dict[str, Any]) -> bool:
    parent = line.get("parent") or {}
    for key in ("subscription_item_details", "invoice_item_details"):
        if (parent.get(key) or {}).get("proration"):
            return True
    return bool(line.get("proration"))


def line_subscription_item(line: dict[str, Any]) -> str | None:
    return obj_id(_item_details(line).get("subscription_item")) or obj_id(line.get("subscription_item"))


def line_price(line: dict[str, Any]) -> str | None:
    details = ((line.get("pricing") or {}).get("price_details") or {})
    return obj_id(details.get("price")) or obj_id(line.get("price"))


def subscription_invoices(snapshot: CaseSnapshot, sub_id: str) -> list[dict[str, Any]]:
    """The snapshot's invoices of one subscription, oldest first."""
    rows = [inv for inv in snapshot.of("invoices") if invoice_subscription(inv) == sub_id]
    return sorted(rows, key=lambda inv: (int(inv.get("created") or 0), str(inv.get("id"))))


def pending_prorations(snapshot: CaseSnapshot, sub_id: str) -> list[dict[str, Any]]:
    """The subscription's pending proration invoice items (not yet on an invoice), oldest first:
    a change made with ``proration_behavior=create_prorations`` waiting for the next invoice."""
    rows = [ii for ii in snapshot.objects.get("invoiceitems", []) if not ii.get("invoice") and not ii.get("deleted")
            and (ii.get("proration") or (ii.get("proration_details") is not None))
            and (obj_id(((ii.get("parent") or {}).get("subscription_details") or {}).get("subscription"))
                 or obj_id(ii.get("subscription"))) == sub_id]
    return sorted(rows, key=lambda ii: (int(ii.get("date") or 0), str(ii.get("id"))))


def charge_dispute(snapshot: CaseSnapshot, charge_id: str) -> dict[str, Any] | None:
    """The dispute on a charge, if the snapshot holds one."""
    for dispute in snapshot.of("disputes"):
        if obj_id(dispute.get("charge")) == charge_id:
            return dispute
    return None


def refundable(charge: dict[str, Any]) -> int:
    """What remains refundable on a charge, in its minor units: what was captured
    (``amount_captured``: a partial capture takes less than ``amount``) less what was refunded;
    Stripe refuses a refund above that. A charge without ``amount_captured`` (an older
    snapshot) counts its ``amount``."""
    captured = charge.get("amount_captured")
    paid = int(captured) if captured is not None else int(charge.get("amount") or 0)
    return max(0, paid - int(charge.get("amount_refunded") or 0))


def invoice_refundable(inv: dict[str, Any], charge: dict[str, Any] | None) -> int:
    """What can still go back on a paid invoice: what it was paid less its credit notes after
    payment, and no more than the charge that paid it has left."""
    remaining = int(inv.get("amount_paid") or 0) - int(inv.get("post_payment_credit_notes_amount") or 0)
    return min(remaining, refundable(charge)) if charge is not None else remaining


def plan_name(snapshot: CaseSnapshot, price_id: str, product_id: str) -> str:
    """A plan's name for people: the product's name, else the price's nickname, else the product id."""
    product = snapshot.by_id(product_id) if product_id else None
    if product and product.get("name"):
        return str(product["name"])
    for sub in snapshot.of("subscriptions"):
        for item in ((sub.get("items") or {}).get("data")) or []:
            price = item.get("price")
            if isinstance(price, dict) and price.get("id") == price_id and price.get("nickname"):
                return str(price["nickname"])
    return product_id or price_id or "plan"


def money_currency(snapshot: CaseSnapshot) -> str | None:
    """The currency the case customer's money is in, the one answer for every stage (a balance,
    a case's money lines, a plan's impact): the customer's own (Stripe sets ``customer.currency``
    with recurring billing or a balance, and a balance is in it), else a subscription's (live
    ones first, newest first: :func:`~billing_nb.reading.prices.subscription_currency`), else the
    newest invoice's or charge's (a one-off payment sets no customer currency). None: no money at all."""
    for customer in snapshot.of("customers"):
        if customer.get("id") == snapshot.primary_customer_id and customer.get("currency"):
            return str(customer["currency"]).lower()
    subs = sorted(snapshot.of("subscriptions"), key=lambda s: (s.get("status") not in _LIVE, -int(s.get("created") or 0)))
    for sub in subs:
        cur = subscription_currency(sub)
        if cur:
            return cur
    paid = [o for kind in ("invoices", "charges") for o in snapshot.of(kind) if o.get("currency")]
    if paid:
        return str(max(paid, key=lambda o: int(o.get("created") or 0))["currency"]).lower()
    return None
