"""Refunds that settle later: Stripe's pending and asynchronously failing refunds.

A refund's ``status`` is pending, requires_action, succeeded, failed or canceled
(docs.stripe.com/api/refunds/object). Stripe's refund test cards make a card refund move
after it is created (docs.stripe.com/testing, "Refunds"): ``4000000000007726``
(``pm_card_pendingRefund``) starts ``pending`` and later succeeds; ``4000000000005126``
(``pm_card_refundFail``) starts ``succeeded`` and later fails, sending
``charge.refund.updated``. A failed refund sets ``failure_reason`` and a
``failure_balance_transaction`` that gives the amount back to the merchant's balance, and the
charge's ``amount_refunded`` drops by it (docs.stripe.com/refunds, "Failed refunds").
The sandbox moves such a refund :data:`REFUND_SETTLES` seconds after it was created, when a
test clock (or wall-clock time) passes that moment; every other card refunds at once.
"""

from __future__ import annotations

from .objects import new_balance_txn
from ..store import Obj, Store

__all__ = ["REFUND_SETTLES", "REFUND_BEHAVIOURS", "initial_refund", "refund_due", "settle_refund"]

#: How long after its creation a pending (or failing) test refund moves: one day.
REFUND_SETTLES = 86_400
#: pm ``_test_behavior`` -> (status at creation, status it moves to, failure_reason).
REFUND_BEHAVIOURS: dict[str, tuple[str, str, str | None]] = {
    "refund_pending": ("pending", "succeeded", None),
    "refund_fail": ("succeeded", "failed", "expired_or_canceled_card"),
}


def _behaviour(store: Store, charge: Obj) -> tuple[str, str, str | None] | None:
    pm = store.maybe("payment_method", charge.get("payment_method")) if charge.get("payment_method") else None
    return REFUND_BEHAVIOURS.get(str((pm or {}).get("_test_behavior") or ""))


def initial_refund(store: Store, charge: Obj, refund: Obj) -> None:
    """Give a new refund the status its card starts it in, and when it will move (internal keys)."""
    outcome = _behaviour(store, charge)
    if outcome is None:
        return
    start, end, reason = outcome
    refund["status"] = start
    refund["_settles_at"] = int(refund["created"]) + REFUND_SETTLES
    refund["_settles_to"] = end
    refund["_failure_reason"] = reason


def refund_due(refund: Obj) -> int | None:
    """When this refund moves next (None: it is final)."""
    at = refund.get("_settles_at")
    return int(at) if at is not None and refund.get("status") in ("pending", "succeeded", "requires_action") else None


def settle_refund(store: Store, refund: Obj) -> None:
    """Move a refund to its final status, with the events and the charge's totals Stripe shows."""
    end = str(refund.pop("_settles_to", "succeeded"))
    reason = refund.pop("_failure_reason", None)
    refund.pop("_settles_at", None)
    before = refund["status"]
    if end == before:
        return
    charge = store.maybe("charge", refund.get("charge"))
    now = store.now(refund.get("customer"))
    refund["status"] = end
    previous: dict[str, object] = {"status": before}
    if end == "failed":
        refund["failure_reason"] = reason or "unknown"
        refund["failure_balance_transaction"] = new_balance_txn(
            store, int(refund["amount"]), refund["currency"], refund["id"], "refund_failure", now)
        previous.update(failure_reason=None, failure_balance_transaction=None)
        if charge is not None:
            store.touch(charge)
            charge["amount_refunded"] = max(0, int(charge["amount_refunded"]) - int(refund["amount"]))
            charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"] > 0
    store.emit("refund.updated", refund, previous=previous)
    if end == "failed":
        store.emit("refund.failed", refund, previous=previous)
    store.emit("charge.refund.updated", refund, previous=previous)
