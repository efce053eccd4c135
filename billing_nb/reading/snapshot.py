"""CaseSnapshot: the frozen Stripe data of one case.

Raw Stripe objects (plain dicts, exactly as the API returned them) grouped by kind,
with when they were fetched and the case's "now" (the customer's test clock time when
it has one, else the wall clock). Everything after ``provider`` reads only this, so
analysis is pure and re-runnable offline from a saved JSON file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from .pii import NO_WORDS, Vocabulary

__all__ = ["CaseSnapshot", "KINDS", "ts", "from_ts", "portal_in_use"]

#: The kinds a snapshot holds, in display order.
KINDS: tuple[str, ...] = (
    "customers",
    "subscriptions",
    "subscription_schedules",
    "products",
    "invoices",
    "payment_intents",
    "charges",
    "refunds",
    "credit_notes",
    "disputes",
    "checkout_sessions",
    "payment_methods",
    "portal_configurations",
    "test_clocks",
    "discounts",
    "events",
)


def _json_default(value: Any) -> Any:
    """Stripe's decimal strings come back from the SDK as Decimal: write them as strings again."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def from_ts(value: int | None) -> datetime | None:
    """Unix seconds (Stripe's timestamps) to an aware UTC datetime."""
    return None if value is None else datetime.fromtimestamp(int(value), tz=UTC)


def ts(value: datetime) -> int:
    """Aware datetime to unix seconds."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: times in billing-nb are aware UTC")
    return int(value.timestamp())


@dataclass
class CaseSnapshot:
    """Everything a case needs, fetched once.

    ``customer_ids[0]`` is the primary customer (the one the lookup named, or the most
    recently active one for an email); the others share the person's email.
    ``objects[kind]`` holds raw Stripe dicts for each kind in :data:`KINDS`.
    Subscriptions carry ``items.data[].price`` as full price objects with ``product``
    as an id; invoices carry ``lines.data`` and ``payments.data`` where Stripe returns
    them.
    """

    lookup_kind: str
    customer_ids: list[str]
    objects: dict[str, list[dict[str, Any]]]
    fetched_at: datetime
    now: datetime
    request_count: int = 0
    waves: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for kind in KINDS:
            self.objects.setdefault(kind, [])
        if self.fetched_at.tzinfo is None or self.now.tzinfo is None:
            raise ValueError("snapshot times must be aware UTC")

    # --- convenient views -----------------------------------------------------------
    @property
    def primary_customer_id(self) -> str:
        return self.customer_ids[0]

    @property
    def now_ts(self) -> int:
        return ts(self.now)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return self.objects[kind]

    def by_id(self, obj_id: str) -> dict[str, Any] | None:
        """Find any object in the snapshot by its id."""
        for rows in self.objects.values():
            for obj in rows:
                if obj.get("id") == obj_id:
                    return obj
        return None

    def portal_configuration(self) -> dict[str, Any] | None:
        """The billing portal configuration customers meet, one answer for every step.

        The one named in ``extra["portal_configuration"]`` (from BILLING_NB_PORTAL_CONFIGURATION);
        else the newest active non-default one (an API-made configuration exists to be named by
        the app's portal sessions); else the active default (Dashboard) one.
        """
        return portal_in_use(self.objects.get("portal_configurations", []), self.extra.get("portal_configuration"))

    def catalogue_words(self) -> Vocabulary:
        """The merchant's catalogue words in this snapshot (:func:`~.masking.catalogue_words`)."""
        from .masking import catalogue_words

        return catalogue_words(self.objects, self.known_pii())

    def known_pii(self) -> list[str]:
        """The customers' own PII in clear, for masking free text such as the complaint; a
        snapshot loaded from disk holds it masked already."""
        from .masking import customer_pii

        return customer_pii(self.of("customers"))

    # --- persistence ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "lookup_kind": self.lookup_kind,
            "customer_ids": self.customer_ids,
            "fetched_at": self.fetched_at.isoformat(),
            "now": self.now.isoformat(),
            "request_count": self.request_count,
            "waves": self.waves,
            "extra": self.extra,
            "objects": self.objects,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseSnapshot:
        return cls(
            lookup_kind=data["lookup_kind"],
            customer_ids=list(data["customer_ids"]),
            objects={k: list(v) for k, v in data["objects"].items()},
            fetched_at=datetime.fromisoformat(data["fetched_at"]),
            now=datetime.fromisoformat(data["now"]),
            request_count=int(data.get("request_count", 0)),
            waves=int(data.get("waves", 0)),
            extra=dict(data.get("extra", {})),
        )

    def save(self, path: Path, *, mask_pii: bool = True, readable: bool = True, common: Vocabulary = NO_WORDS) -> Path:
        """Write the snapshot as JSON; PII is masked unless ``mask_pii`` is False (``common``: the
        ordinary words a lone name part is not masked as, :func:`~.masking.mask_object`). ``readable``:
        indented with sorted keys, for a record; else compact (json's C encoder, ~3x faster),
        for a file only a program reads."""
        data = self.to_dict()
        if mask_pii:
            from .masking import mask_object

            data["objects"] = mask_object(data["objects"], common=common)
        text = (json.dumps(data, indent=1, sort_keys=True, default=_json_default) if readable
                else json.dumps(data, separators=(",", ":"), default=_json_default))
        path.write_text(text)
        return path

    @classmethod
    def load(cls, path: Path) -> CaseSnapshot:
        return cls.from_dict(json.loads(path.read_text()))


def portal_in_use(configurations: list[dict[str, Any]], named: str | None = None) -> dict[str, Any] | None:
    """The configuration customers meet: the named one; else the newest active non-default
    (an API-made one exists to be named by the app's portal sessions); else the active default.

    One rule for a case (:meth:`CaseSnapshot.portal_configuration`) and the whole account.
    """
    active = [c for c in configurations if c.get("active", True)]
    for conf in active:
        if named and conf.get("id") == named:
            return conf
    active.sort(key=lambda c: (bool(c.get("is_default")), -(c.get("created") or 0)))
    return active[0] if active else None
