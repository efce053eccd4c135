"""Masking of PII and secrets, and the scanner that proves saved artifacts are clean.

Emails become ``j***@example.com``, names initials (``J. D.``), phones ``***-***-1234``,
addresses their country only; keys (``sk_``, ``rk_``, ``pk_``, ``whsec_``) and card
numbers (Luhn-valid 13-19 digits) never appear. ``scan`` runs on every record.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["mask_email", "mask_name", "mask_phone", "mask_text", "mask_object", "Leak", "scan"]


def mask_email(email: str | None) -> str | None:
    raise NotImplementedError


def mask_name(name: str | None) -> str | None:
    raise NotImplementedError


def mask_phone(phone: str | None) -> str | None:
    raise NotImplementedError


def mask_text(text: str) -> str:
    """Mask emails, phones, keys and card numbers found in free text (complaints)."""
    raise NotImplementedError


def mask_object(obj: Any) -> Any:
    """A copy of Stripe objects with PII fields masked (email, name, phone, address, ...)."""
    raise NotImplementedError


@dataclass(frozen=True)
class Leak:
    path: str
    line: int
    kind: str  # email | phone | key | card | name | address
    excerpt: str  # masked, safe to print


def scan(path: Path, known: list[str] | None = None) -> list[Leak]:
    """Every leak in a file or folder; ``known`` adds exact strings (names, addresses) to look for."""
    raise NotImplementedError
