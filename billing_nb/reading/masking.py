"""The privacy model: which fields of a saved Stripe object hold PII, and how each is masked.

One function, :func:`mask_object`, masks every object kind the toolkit saves -- customers (name,
email, phone, address, shipping, description, metadata values, tax ids), invoices (``customer_*``
fields, ``customer_shipping``, ``customer_tax_ids``, custom fields), charges and payment methods
(``billing_details``), checkout sessions (``customer_details``), events (their ``data.object``), bearer
secrets (``client_secret``, ``hosted_invoice_url``, ``invoice_pdf``, ``receipt_url``: dropped) --
with the customers' own values (:func:`customer_pii`) as known PII, so a company name that reappears
in ``metadata.company`` or a ``description`` is masked there too. Every other string goes through
:func:`billing_nb.reading.pii.mask_text`. The scanner (:mod:`billing_nb.records.scan`) uses the same
function: a Stripe object in a saved file that :func:`mask_object` would still change is a leak.

Emails become ``j***@example.com``, names initials (``J. D.``), phones ``***-***-1234``, addresses
their country only, tax ids and custom field values ``***``; cards keep brand, last4 and expiry.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import re

from .pii import NO_WORDS, Vocabulary, find_pii, known_needles, mask_email, mask_name, mask_phone, mask_text, vocabulary

__all__ = ["customer_pii", "catalogue_words", "find_pii", "known_needles", "mask_email", "mask_name", "mask_phone",
           "mask_text", "mask_object", "mask_strings", "stripe_objects", "BEARER_KEYS", "PII_KINDS"]

#: Object kinds whose fields the model knows (the scanner checks these field by field).
PII_KINDS = frozenset({"customer", "invoice", "charge", "payment_method", "checkout.session", "payment_intent",
                       "subscription", "credit_note", "refund", "dispute", "tax_id", "event", "setup_intent"})
#: Keys whose ``name`` is a product/catalogue name, not a person.
_NAMED_THINGS = frozenset(
    "product price plan coupon promotion_code tax_rate shipping_rate feature entitlements.feature "
    "billing.meter tax_code file webhook_endpoint billing_portal.configuration".split()
)
_EMAIL_KEYS = frozenset({"email", "customer_email", "receipt_email", "billing_email"})
_NAME_KEYS = frozenset({"name", "customer_name"})
_PHONE_KEYS = frozenset({"phone", "customer_phone"})
_ADDRESS_KEYS = frozenset({"address", "customer_address"})
_DROP_KEYS = frozenset({"ip_address", "client_ip", "ip"})
#: Bearer secrets: a PaymentIntent's or SetupIntent's client secret (Stripe: never store or log
#: it) and the capability links that show an invoice or a receipt to whoever holds them.
BEARER_KEYS = frozenset({"client_secret", "hosted_invoice_url", "invoice_pdf", "receipt_url"})
_TAX_KEYS = frozenset({"tax_ids", "customer_tax_ids"})
#: Metadata keys that name a person or company outright: the value is masked whole.
_PII_METADATA = ("name", "company", "contact", "email", "phone", "address", "vat", "tax", "iban", "person", "owner")
_CARD_KEEP = ("brand", "last4", "exp_month", "exp_year")


def customer_pii(customers: Iterable[dict[str, Any]]) -> list[str]:
    """Customers' own PII in clear (emails, names, phones, street lines, shipping, tax ids, PII-named
    metadata): the ``known`` strings text is masked with and saved records are scanned for."""
    known: list[str] = []
    for cust in customers:
        known += [str(cust[k]) for k in ("email", "name", "phone") if isinstance(cust.get(k), str)]
        shipping = cust.get("shipping") or {}
        if isinstance(shipping, dict):
            known += [str(shipping[k]) for k in ("name", "phone") if isinstance(shipping.get(k), str)]
        for addr in (cust.get("address") or {}, shipping.get("address") if isinstance(shipping, dict) else None):
            if isinstance(addr, dict):
                known += [str(addr[k]) for k in ("line1", "line2") if isinstance(addr.get(k), str)]
        tax_ids = (cust.get("tax_ids") or {})
        for tax in (tax_ids.get("data") if isinstance(tax_ids, dict) else tax_ids) or []:
            if isinstance(tax, dict) and isinstance(tax.get("value"), str):
                known.append(tax["value"])
        for key, value in (cust.get("metadata") or {}).items():
            if isinstance(value, str) and _pii_metadata_key(str(key)):
                known.append(value)
    return sorted({k for k in known if len(k) >= 4 and "***" not in k})


def _pii_metadata_key(key: str) -> bool:
    low = key.lower()
    return any(word in low for word in _PII_METADATA)


def stripe_objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every dict with an ``object`` field anywhere in ``node`` (nested ones too)."""
    if isinstance(node, dict):
        if isinstance(node.get("object"), str):
            yield node
        for value in node.values():
            yield from stripe_objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from stripe_objects(value)


#: Fields of the merchant's catalogue objects that hold its own words (a product's name, a price's nickname).
_CATALOGUE_FIELDS = ("name", "nickname", "description", "unit_label", "statement_descriptor", "lookup_key")
#: Of those, the ones that name the thing: kept readable whole where text quotes them (.names rule 4).
_CATALOGUE_NAMES = ("name", "nickname", "statement_descriptor")


def catalogue_words(node: Any, known: Iterable[str] = ()) -> Vocabulary:
    """The words of the merchant's catalogue inside ``node`` (names, nicknames and descriptions of
    products, prices, plans, coupons...): a name part that is one of them ("Team" of customer
    "Personal Team" beside product "Team Workspace") is the case's own word, not the customer.
    A ``known`` string inside the catalogue (a product named after its customer) gives no words;
    the catalogue's names themselves (``Acme Analytics Pro`` beside customer ``Acme Analytics``)
    are the vocabulary's phrases, kept readable where text quotes them (:mod:`.names`)."""
    needles = known_needles(known)
    whole = re.compile("|".join(map(re.escape, needles)), re.IGNORECASE) if needles else None
    words: set[str] = set()
    phrases: set[str] = set()
    for obj in stripe_objects(node):
        if obj.get("object") in _NAMED_THINGS:
            for key in _CATALOGUE_FIELDS:
                if isinstance(obj.get(key), str):
                    text = whole.sub(" ", obj[key]) if whole else obj[key]
                    words.update(re.findall(r"[^\W\d_]{3,}", text))
                    if key in _CATALOGUE_NAMES and re.search(r"[^\W\d_]", obj[key]):
                        phrases.add(obj[key])
    return vocabulary(words, phrases=phrases, catalogue=words)


def mask_object(obj: Any, known: Iterable[str] | None = None, common: Vocabulary = NO_WORDS) -> Any:
    """A copy of Stripe objects with every PII field masked (see the module docstring).

    Works on any nesting of dicts and lists (a snapshot's ``objects``, an event's ``data.object``).
    ``known`` defaults to :func:`customer_pii` of every customer object found inside ``obj``.
    ``common``: ordinary words a lone name part is not masked as (the toolkit's lexicon, the
    case's :func:`catalogue_words`); each key is still masked on its own (``reports.slim``).
    Idempotent: a masked object is returned unchanged.
    """
    if known is None:
        known = customer_pii(o for o in stripe_objects(obj) if o.get("object") == "customer")
    return _mask(obj, known_needles(known), None, common)


def mask_strings(node: Any, known: Iterable[str], common: Vocabulary = NO_WORDS) -> Any:
    """Every string in ``node`` through :func:`mask_text` (keys and non-strings untouched): for our
    own records, whose evidence and details quote Stripe text (product names, comments), and
    whose own words (``Cancel now and refund``) ``common`` keeps from reading as a name part."""
    needles = known_needles(known)
    if isinstance(node, str):
        return mask_text(node, needles, common)
    if isinstance(node, list):
        return [mask_strings(v, needles, common) for v in node]
    if isinstance(node, dict):
        return {k: mask_strings(v, needles, common) for k, v in node.items()}
    return node


def _mask_address(value: Any) -> Any:
    if isinstance(value, dict):
        return {"country": value.get("country")}
    return None if value is None else "***"


def _mask_tax_ids(value: Any, known: list[str], common: Vocabulary) -> Any:
    if isinstance(value, dict) and isinstance(value.get("data"), list):  # an expanded list object
        return {**value, "data": _mask_tax_ids(value["data"], known, common)}
    if isinstance(value, list):
        return [{**_mask(t, known, None, common), "value": "***"} if isinstance(t, dict) else "***" for t in value]
    return None if value is None else "***"


def _mask_metadata(value: Any, known: list[str], common: Vocabulary) -> Any:
    if not isinstance(value, dict):
        return _mask(value, known, None, common)
    out: dict[str, Any] = {}
    for k, v in value.items():  # keys are free text too: {"jane@example.com": "vip"} is an email all the same
        key = mask_text(str(k), known, common)
        while key in out and key != str(k):
            key += "*"  # two keys masked alike stay two keys
        out[key] = ("***" if _pii_metadata_key(str(k)) and isinstance(v, str) and v and v != "***"
                    else mask_text(v, known, common) if isinstance(v, str) else v)
    return out


def _mask(obj: Any, known: list[str], parent: str | None, common: Vocabulary) -> Any:
    if isinstance(obj, list):
        return [_mask(v, known, parent, common) for v in obj]
    if isinstance(obj, str):
        return mask_text(obj, known, common)
    if not isinstance(obj, dict):
        return obj
    kind = obj.get("object") if isinstance(obj.get("object"), str) else parent
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key in _DROP_KEYS or key in BEARER_KEYS:
            out[key] = None if value is None else "***"
        elif key in _EMAIL_KEYS and isinstance(value, str):
            out[key] = mask_email(value)
        elif key in _NAME_KEYS and isinstance(value, str):  # a product's name is no person's, but text all the same
            out[key] = mask_text(value, known, common) if kind in _NAMED_THINGS else mask_name(value)
        elif key in _PHONE_KEYS and isinstance(value, str):
            out[key] = mask_phone(value)
        elif key in _ADDRESS_KEYS:
            out[key] = _mask_address(value)
        elif key == "card" and isinstance(value, dict):
            out[key] = {k: value.get(k) for k in _CARD_KEEP if k in value}
        elif key == "value" and kind == "tax_id" or key in _TAX_KEYS:
            out[key] = _mask_tax_ids(value, known, common) if key in _TAX_KEYS else ("***" if value else value)
        elif key == "metadata":
            out[key] = _mask_metadata(value, known, common)
        elif key == "custom_fields" and isinstance(value, list):
            out[key] = [{**f, "value": "***" if f.get("value") else f.get("value")} if isinstance(f, dict) else "***"
                        for f in value]
        else:
            out[key] = _mask(value, known, kind, common)
    return out
