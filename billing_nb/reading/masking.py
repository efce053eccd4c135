"""Masking of PII and secrets, applied to everything read from Stripe before it is saved.

Emails become ``j***@example.com``, names initials (``J. D.``), phones ``***-***-1234``,
addresses their country only; keys (``sk_``, ``rk_``, ``pk_``, ``whsec_``) and card
numbers (Luhn-valid 13-19 digits) never appear. :func:`find_pii` is the same detection
for :mod:`billing_nb.records.scan`, which proves saved artifacts clean.

Stripe object ids (``cus_``, ``ch_3Pg...``), unix timestamps and amounts are never
touched: every pattern below is anchored so that digits inside an id or a plain
integer cannot match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["customer_pii", "find_pii", "known_needles", "mask_email", "mask_name", "mask_phone", "mask_text",
           "mask_object"]

# --- patterns ----------------------------------------------------------------------
_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_KEY = re.compile(r"(?<![A-Za-z0-9])(?:(?:sk|rk|pk)_(?:test|live)_|whsec_)[A-Za-z0-9_]{8,}")
_PHONE = re.compile(
    r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?![\w])"  # international: +1 415 555 0142, +14155550142
    r"|(?<![\w(])\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}(?!\w)"  # (415) 555-0142
    r"|(?<![\w.+-])\d{3}([.-])\d{3}\1\d{4}(?![\w-])"  # 415-555-0142, 415.555.0142
    r"|(?<![\w.+-])[2-9]\d{2} \d{3} \d{4}(?![\w-])"  # 415 555 0142
)
_CARD = re.compile(
    r"(?<![\w.+/-])(?:"
    r"\d{13,19}"  # contiguous
    r"|\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?"  # 4-4-4-4(-3)
    r"|\d{4}([ -])\d{6}\2\d{4,5}"  # amex 4-6-5, diners 4-6-4
    r")(?![\w/+-]|\.\d)"
)
_MASKED_PHONE = re.compile(r"^(?:\*{3}-)+\d{2,4}$")

#: Keys whose ``name`` is a product/catalogue name, not a person.
_NAMED_THINGS = frozenset(
    "product price plan coupon promotion_code tax_rate shipping_rate feature entitlements.feature "
    "billing.meter tax_code file webhook_endpoint".split()
)
_EMAIL_KEYS = frozenset({"email", "customer_email", "receipt_email", "billing_email"})
_NAME_KEYS = frozenset({"name", "customer_name"})
_PHONE_KEYS = frozenset({"phone", "customer_phone"})
_ADDRESS_KEYS = frozenset({"address", "customer_address"})
_DROP_KEYS = frozenset({"ip_address", "client_ip", "ip"})
_CARD_KEEP = ("brand", "last4", "exp_month", "exp_year")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _is_phone(match: str) -> bool:
    return 8 <= sum(ch.isdigit() for ch in match) <= 15


def _card_digits(match: str) -> str | None:
    digits = re.sub(r"\D", "", match)
    if 13 <= len(digits) <= 19 and len(set(digits)) > 1 and _luhn(digits):
        return digits
    return None


# --- maskers -------------------------------------------------------------------------
def mask_email(email: str | None) -> str | None:
    """``josefina.ardmore@example.com`` -> ``j***@example.com`` (idempotent)."""
    if email is None:
        return None
    local, at, domain = email.strip().partition("@")
    if not at:
        return "***"
    return f"{local[:1] or '*'}***@{domain}"


def mask_name(name: str | None) -> str | None:
    """``Josefina Ardmore`` -> ``J. A.`` (idempotent)."""
    if name is None:
        return None
    parts = [p for p in re.split(r"\s+", name.strip()) if p]
    return " ".join(f"{p[0].upper()}." for p in parts)


def mask_phone(phone: str | None) -> str | None:
    """``+1 415 555 0142`` -> ``***-***-0142``; short numbers keep their last 2 digits."""
    if phone is None:
        return None
    phone = phone.strip()
    if not phone or _MASKED_PHONE.match(phone):
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 8:
        return f"***-***-{digits[-4:]}"
    return f"***-{digits[-2:]}" if len(digits) >= 2 else "***"


def _mask_key(match: re.Match[str]) -> str:
    text = match.group(0)
    prefix = re.match(r"(?:(?:sk|rk|pk)_(?:test|live)_|whsec_)", text)
    return f"{prefix.group(0) if prefix else ''}***"


def _mask_card(match: re.Match[str]) -> str:
    digits = _card_digits(match.group(0))
    return f"****{digits[-4:]}" if digits else match.group(0)


def mask_text(text: str, known: Iterable[str] | None = None) -> str:
    """Mask emails, phones, keys and card numbers found in free text (complaints).

    ``known`` adds the case's own PII (the customer's names, emails, phones, street lines):
    each is masked wherever it appears, case-insensitively, and a name's capitalised parts
    (``Josefina``, ``Ardmore-Quill``) are masked on their own too.
    """
    if not text:
        return text
    if known:
        text = _mask_known(text, _needles(known))
    text = _KEY.sub(_mask_key, text)
    text = _EMAIL.sub(lambda m: m.group(0) if _is_service_address(m.group(0)) else mask_email(m.group(0)) or "***", text)
    text = _CARD.sub(_mask_card, text)
    return _PHONE.sub(lambda m: (mask_phone(m.group(0)) or "***") if _is_phone(m.group(0)) else m.group(0), text)


def _is_service_address(address: str) -> bool:
    """Stripe's own addresses (``support@stripe.com`` in the SDK's errors) are not a person's PII."""
    return address.lower().endswith("@stripe.com")


def _needles(known: Iterable[str]) -> list[str]:
    """Known strings worth looking for, longest first (so a full name goes before its parts)."""
    return sorted({k.strip() for k in known if k and len(k.strip()) >= 3}, key=len, reverse=True)


def _known_kind(value: str) -> str:
    if "@" in value:
        return "email"
    digits = sum(ch.isdigit() for ch in value)
    if digits >= 7 and re.fullmatch(r"[\d\s()+.-]+", value):
        return "phone"
    return "address" if digits else "name"


def _mask_known(text: str, needles: list[str]) -> str:
    for k in needles:
        kind = _known_kind(k)
        masked = {"email": mask_email(k), "name": mask_name(k), "phone": mask_phone(k)}.get(kind) or "***"
        text = re.sub(re.escape(k), lambda _, m=masked: m, text, flags=re.IGNORECASE)
        if kind == "name":
            parts = {p for p in re.split(r"\s+", k) if len(p) >= 3} | {p for p in re.split(r"[\s-]+", k) if len(p) >= 3}
            for part in sorted(parts, key=len, reverse=True):
                if part[0].isupper():
                    text = re.sub(rf"(?<![\w-]){re.escape(part)}(?![\w-])", f"{part[0]}.", text)
    return text


def _mask_address(value: Any) -> Any:
    if isinstance(value, dict):
        return {"country": value.get("country")}
    return None if value is None else "***"


def customer_pii(customers: Iterable[dict[str, Any]]) -> list[str]:
    """Customers' own PII in clear (emails, names, phones, street lines): the ``known`` strings
    that free text is masked with and that saved records are scanned for. Masked values are skipped."""
    known: list[str] = []
    for cust in customers:
        known += [str(cust[k]) for k in ("email", "name", "phone") if isinstance(cust.get(k), str)]
        for addr in (cust.get("address") or {}, (cust.get("shipping") or {}).get("address") or {}):
            if isinstance(addr, dict):
                known += [str(addr[k]) for k in ("line1", "line2") if isinstance(addr.get(k), str)]
    return sorted({k for k in known if len(k) >= 4 and "***" not in k})


def mask_object(obj: Any) -> Any:
    """A copy of Stripe objects with PII fields masked (email, name, phone, address, ...).

    Works on any nesting of dicts and lists (a snapshot's ``objects``, an event's
    ``data.object``). Cards keep brand, last4 and expiry only; every other string goes
    through :func:`mask_text`, which leaves ids, timestamps and amounts alone.
    """
    return _mask(obj)


def _mask_tax_ids(value: Any) -> Any:
    if isinstance(value, list):
        return [{**_mask(t), "value": "***"} if isinstance(t, dict) else "***" for t in value]
    return None if value is None else "***"


def _mask(obj: Any) -> Any:
    if isinstance(obj, list):
        return [_mask(v) for v in obj]
    if isinstance(obj, str):
        return mask_text(obj)
    if not isinstance(obj, dict):
        return obj
    kind = obj.get("object") if isinstance(obj.get("object"), str) else None
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key in _DROP_KEYS:
            out[key] = None if value is None else "***"
        elif key in _EMAIL_KEYS and isinstance(value, str):
            out[key] = mask_email(value)
        elif key in _NAME_KEYS and isinstance(value, str) and kind not in _NAMED_THINGS:
            out[key] = mask_name(value)
        elif key in _PHONE_KEYS and isinstance(value, str):
            out[key] = mask_phone(value)
        elif key in _ADDRESS_KEYS:
            out[key] = _mask_address(value)
        elif key == "card" and isinstance(value, dict):
            out[key] = {k: value.get(k) for k in _CARD_KEEP if k in value}
        elif key == "value" and kind == "tax_id" or key == "tax_ids" and isinstance(value, list):
            out[key] = _mask_tax_ids(value)
        else:
            out[key] = _mask(value)
    return out


def known_needles(known: Iterable[str]) -> list[str]:
    """The exact strings (names, addresses, emails) a scan looks for, as the masker sees them."""
    return _needles(known)


def find_pii(line: str, known: list[str]) -> list[tuple[int, int, str]]:
    """Every (start, end, kind) of PII or a secret in ``line``; ``known`` from :func:`known_needles`.

    Kinds: email, key, card, phone, and name/address/email for the known strings.
    Spans may overlap; the caller decides which to report.
    """
    hits: list[tuple[int, int, str]] = []
    for kind, pattern in (("email", _EMAIL), ("key", _KEY), ("card", _CARD), ("phone", _PHONE)):
        for m in pattern.finditer(line):
            if kind == "card" and not _card_digits(m.group(0)) or kind == "phone" and not _is_phone(m.group(0)):
                continue
            hits.append((m.start(), m.end(), kind))
    for k in known:
        for m in re.finditer(re.escape(k), line, flags=re.IGNORECASE):
            hits.append((m.start(), m.end(), _known_kind(k)))
    return hits
