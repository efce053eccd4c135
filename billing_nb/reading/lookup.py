"""Lookups, pure: what kind of identifier the analyst gave, and which customer comes first.

No I/O here; :mod:`billing_nb.reading.provider` resolves a lookup against Stripe. Accepted: an
email, a ``cus_``/``sub_``/``in_``/``ch_``/``pi_``/``cs_`` id, or ``metadata:KEY=VALUE``
(e.g. a GitHub username kept in customer metadata). Anything else is refused with a
message that says what would have worked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import BadInputError, MalformedIdError

__all__ = ["LOOKUP_KINDS", "ID_PREFIXES", "OTHER_PREFIXES", "MAX_EMAIL", "Resolution", "lookup_kind", "order_customers",
           "search_literal"]

LOOKUP_KINDS = ("email", "customer", "subscription", "invoice", "charge", "payment_intent", "checkout_session", "metadata")

#: Id prefixes a lookup accepts, and the lookup kind each names.
ID_PREFIXES: dict[str, str] = {
    "cus": "customer", "sub": "subscription", "in": "invoice", "ch": "charge",
    "pi": "payment_intent", "cs": "checkout_session",
}
#: Real Stripe prefixes that are not lookups (a clearer error than "unknown prefix").
OTHER_PREFIXES: dict[str, str] = {
    "prod": "product", "price": "price", "pm": "payment method", "si": "subscription item",
    "il": "invoice line", "ii": "invoice item", "re": "refund", "cn": "credit note",
    "du": "dispute", "dp": "dispute", "evt": "event", "txn": "balance transaction",
    "card": "card", "src": "source", "seti": "setup intent", "clock": "test clock",
    "bpc": "portal configuration", "bps": "portal session", "acct": "account", "py": "payment",
    "po": "payout", "tok": "token", "inpay": "invoice payment", "plink": "payment link",
}
_ID_BODY = re.compile(r"[A-Za-z0-9]{8,255}")
#: RFC 5322 dot-atom local parts (apostrophes, plus signs, ``!#$%&*/=?^`{|}~``) and RFC 6531 unicode
#: ones; a domain of labels with a letter TLD (unicode too). Quoted local parts are not taken.
_EMAIL = re.compile(r"(?P<local>[^@\s\"\\<>()\[\],;:]+)@(?P<domain>(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,})")
#: Stripe's limit on a customer's ``email`` (https://docs.stripe.com/api/customers/create#create_customer-email:
#: maxLength 512); longer is no email Stripe can hold. Metadata values: 500 characters, keys 40
#: (https://docs.stripe.com/metadata#data).
MAX_EMAIL = 512
_META = re.compile(r"metadata:(?P<key>[A-Za-z0-9_.\-\[\]]{1,40})=(?P<value>.{1,500})", re.DOTALL)
_ACCEPTED = "an email, a Stripe id (cus_, sub_, in_, ch_, pi_, cs_) or metadata:KEY=VALUE"


@dataclass(frozen=True)
class Resolution:
    kind: str  # one of LOOKUP_KINDS
    customer_ids: tuple[str, ...]  # primary first
    customers: tuple[dict[str, Any], ...] = field(default=(), compare=False, repr=False)
    requests: int = field(default=0, compare=False)


def lookup_kind(lookup: str) -> str:
    """Which kind of lookup a string is; MalformedIdError/BadInputError when none."""
    text = (lookup or "").strip()
    if not text:
        raise BadInputError(f"empty lookup: give {_ACCEPTED}")
    if text.startswith("metadata:"):
        if not _META.fullmatch(text):
            raise BadInputError("malformed metadata lookup: use metadata:KEY=VALUE (a key of up to 40 letters, "
                                "digits, _.-[] and a value of up to 500 characters)")
        return "metadata"
    if "@" in text:
        if len(text) > MAX_EMAIL:
            raise BadInputError(f"email address is {len(text)} characters long; Stripe keeps at most {MAX_EMAIL}")
        if not _EMAIL.fullmatch(text) or ".." in text or text.startswith(".") or ".@" in text:
            raise BadInputError("not a valid email address")
        return "email"
    prefix, sep, body = text.partition("_")
    if sep and prefix in ID_PREFIXES:
        if prefix == "cs" and body.startswith(("test_", "live_")):
            body = body[5:]
        if not _ID_BODY.fullmatch(body):
            raise MalformedIdError(f"{text[:40]!r} is not a well-formed {ID_PREFIXES[prefix].replace('_', ' ')} id")
        return ID_PREFIXES[prefix]
    if sep and prefix in OTHER_PREFIXES:
        raise MalformedIdError(f"a {OTHER_PREFIXES[prefix]} id cannot be looked up; give {_ACCEPTED}")
    if sep and re.fullmatch(r"[A-Za-z]{1,12}", prefix):
        raise MalformedIdError(f"unknown id prefix {prefix + '_'!r}; give {_ACCEPTED}")
    raise BadInputError(f"not a lookup: give {_ACCEPTED}")


def search_literal(value: str) -> str:
    """A string value for Stripe's search query language, quoted so any text is taken literally.

    Stripe takes single- or double-quoted strings and a backslash escapes a quote (or a backslash)
    inside one (https://docs.stripe.com/search#search-query-language). Single quotes unless the
    value holds one and no double quote; otherwise the quote and backslashes are escaped.
    """
    if "'" in value and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _activity(customer: dict[str, Any], subs: list[dict[str, Any]]) -> tuple[int, int]:
    """Sort key: newest live subscription first, then newest customer object."""
    live = [int(s.get("created") or 0) for s in subs if s.get("status") in ("active", "trialing", "past_due")]
    return (max(live) if live else -1, int(customer.get("created") or 0))


def order_customers(kind: str, customers: list[dict[str, Any]], subs: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Primary first: the customer an id lookup named, else the most recently active one."""
    pinned = customers[:1] if kind not in ("email", "metadata") else []
    rest = [c for c in customers if c not in pinned]
    rest.sort(key=lambda c: _activity(c, subs.get(c["id"], [])), reverse=True)
    return pinned + rest
