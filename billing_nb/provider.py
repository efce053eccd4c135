"""The only module that reads Stripe.

``StripeReader`` resolves a lookup to customers and builds a :class:`CaseSnapshot` in
as few sequential request waves as possible (expand + list filters, independent lists
issued concurrently). Stripe's exceptions are translated here, once, into
:mod:`billing_nb.exceptions`, keeping Stripe's request id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe

from .config import Settings
from .exceptions import StripeApiError
from .snapshot import CaseSnapshot

__all__ = ["LOOKUP_KINDS", "Resolution", "make_client", "translate", "lookup_kind", "StripeReader"]

LOOKUP_KINDS = ("email", "customer", "subscription", "invoice", "charge", "payment_intent", "checkout_session", "metadata")


@dataclass(frozen=True)
class Resolution:
    kind: str  # one of LOOKUP_KINDS
    customer_ids: tuple[str, ...]  # primary first


def make_client(settings: Settings) -> stripe.StripeClient:
    """A StripeClient with the key, base address, retries and pinned API version."""
    raise NotImplementedError


def translate(exc: stripe.StripeError) -> StripeApiError:
    """Map a stripe exception to ours, keeping message, code and request id."""
    raise NotImplementedError


def lookup_kind(lookup: str) -> str:
    """Which kind of lookup a string is; MalformedIdError/BadInputError when none."""
    raise NotImplementedError


class StripeReader:
    """Reads a case's Stripe data through one StripeClient."""

    def __init__(self, client: stripe.StripeClient, *, concurrency: int = 8) -> None:
        self.client = client
        self.concurrency = concurrency

    def resolve(self, lookup: str) -> Resolution:
        raise NotImplementedError

    def snapshot(self, lookup: str) -> CaseSnapshot:
        raise NotImplementedError

    def retrieve(self, obj_id: str) -> dict[str, Any]:
        """Fresh copy of one object by id (for guards that check a target has not changed)."""
        raise NotImplementedError

    def preview_credit_note(self, invoice_id: str, refund_amount: int) -> dict[str, Any]:
        raise NotImplementedError

    def preview_invoice(self, subscription_id: str, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError
