"""The sandbox's state: every object by kind and id, clocks, events, idempotency.

Handlers never keep state elsewhere. ``Store.now(customer)`` is the one clock: the
customer's test clock frozen time when it has one, else the wall clock, so that
created times, periods and prorations follow simulated time.
"""

from __future__ import annotations

import copy
import json
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .errors import missing

__all__ = ["Store", "PREFIX_KIND", "KIND_PREFIX", "MISSING_LABEL", "ACCOUNT_DEFAULTS", "Obj"]

Obj = dict[str, Any]

#: Id prefix -> object kind (the value of the ``object`` field).
PREFIX_KIND: dict[str, str] = {
    "cus": "customer",
    "prod": "product",
    "price": "price",
    "pm": "payment_method",
    "sub": "subscription",
    "si": "subscription_item",
    "in": "invoice",
    "il": "line_item",
    "ii": "invoiceitem",
    "inpay": "invoice_payment",
    "pi": "payment_intent",
    "ch": "charge",
    "re": "refund",
    "cn": "credit_note",
    "cnli": "credit_note_line_item",
    "du": "dispute",
    "cs": "checkout.session",
    "bpc": "billing_portal.configuration",
    "bps": "billing_portal.session",
    "clock": "test_helpers.test_clock",
    "evt": "event",
    "txn": "balance_transaction",
    "cbtxn": "customer_balance_transaction",
    "di": "discount",
}
KIND_PREFIX = {v: k for k, v in PREFIX_KIND.items()}

#: How Stripe names a kind in ``No such <label>: 'id'`` (its ``object`` value, with a few
#: exceptions), e.g. "No such payment_intent: 'pi_x'", "No such PaymentMethod: 'pm_x'",
#: "No such checkout.session: 'cs_x'", "No such subscription_item: 'si_x'".
MISSING_LABEL: dict[str, str] = {
    "payment_method": "PaymentMethod",
    "test_helpers.test_clock": "test_clock",
}

_ALPHABET = string.ascii_letters + string.digits

#: Called on every new (or reset, or loaded) store to put in what a Stripe account holds
#: before any API call, e.g. the Dashboard's default portal configuration. Hooks must be
#: idempotent and emit no events.
ACCOUNT_DEFAULTS: list[Callable[["Store"], Any]] = []


class Store:
    """In-memory Stripe account state; thread-safe through one re-entrant lock."""

    def __init__(self, state_path: Path | None = None) -> None:
        self.lock = threading.RLock()
        self.state_path = state_path
        self.objects: dict[str, dict[str, Obj]] = {}
        self.idempotency: dict[str, tuple[str, int, Obj]] = {}
        self.request_log: list[dict[str, Any]] = []
        self.settings: dict[str, Any] = {
            # dunning: retries after a failed renewal (days), then what happens
            "retry_days": [3, 5, 7],
            "after_retries": "unpaid",  # or "canceled"
        }
        self.hooks: list[Callable[[Store], None]] = []
        if state_path and state_path.exists():
            self.load(state_path)
        self.ensure_account_defaults()

    def ensure_account_defaults(self) -> None:
        for hook in ACCOUNT_DEFAULTS:
            hook(self)

    # ----- ids and time -------------------------------------------------------------
    @staticmethod
    def new_id(prefix: str, length: int = 24) -> str:
        return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))

    def wall_now(self) -> int:
        return int(time.time())

    def clock_of(self, customer_id: str | None) -> Obj | None:
        if not customer_id:
            return None
        cust = self.objects.get("customer", {}).get(customer_id)
        clock_id = cust.get("test_clock") if cust else None
        if not clock_id:
            return None
        return self.objects.get("test_helpers.test_clock", {}).get(clock_id)

    def now(self, customer_id: str | None = None) -> int:
        """Simulated now for a customer: its test clock's frozen time, else wall time."""
        clock = self.clock_of(customer_id)
        return int(clock["frozen_time"]) if clock else self.wall_now()

    # ----- objects ------------------------------------------------------------------
    def insert(self, obj: Obj) -> Obj:
        kind = obj["object"]
        self.objects.setdefault(kind, {})[obj["id"]] = obj
        return obj

    def get(self, kind: str, obj_id: str, param: str = "id") -> Obj:
        found = self.objects.get(kind, {}).get(obj_id)
        if found is None or found.get("deleted"):
            raise missing(MISSING_LABEL.get(kind, kind), obj_id, param)
        return found

    def maybe(self, kind: str, obj_id: str | None) -> Obj | None:
        if not obj_id:
            return None
        return self.objects.get(kind, {}).get(obj_id)

    def find(self, obj_id: str) -> Obj | None:
        """Any object by id, using the id prefix to know its kind."""
        prefix = obj_id.split("_", 1)[0]
        kind = PREFIX_KIND.get(prefix)
        if kind is None:
            for bucket in self.objects.values():
                if obj_id in bucket:
                    return bucket[obj_id]
            return None
        return self.objects.get(kind, {}).get(obj_id)

    def all(self, kind: str) -> list[Obj]:
        """Objects of a kind, newest first (Stripe's list order)."""
        items = [o for o in self.objects.get(kind, {}).values() if not o.get("deleted")]
        return list(reversed(items))

    def where(self, kind: str, **equals: Any) -> list[Obj]:
        return [o for o in self.all(kind) if all(o.get(k) == v for k, v in equals.items())]

    def matching(self, kind: str, **filters: Any) -> list[Obj]:
        """Like :meth:`where`, but a filter given as None is no filter (a list's optional params)."""
        return self.where(kind, **{k: v for k, v in filters.items() if v is not None})

    # ----- events -------------------------------------------------------------------
    def emit(
        self,
        type_: str,
        obj: Obj,
        *,
        customer_id: str | None = None,
        previous: dict[str, Any] | None = None,
    ) -> Obj:
        cust = customer_id or (obj.get("customer") if isinstance(obj.get("customer"), str) else None)
        if obj.get("object") == "customer":
            cust = obj["id"]
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous:
            data["previous_attributes"] = previous
        event = {
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": self.now(cust),
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
        }
        return self.insert(event)

    # ----- persistence --------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.objects.clear()
            self.idempotency.clear()
            self.request_log.clear()
            self.ensure_account_defaults()

    def dump(self) -> dict[str, Any]:
        return {"objects": self.objects, "settings": self.settings,
                "idempotency": {k: list(v) for k, v in self.idempotency.items()}}

    def save(self, path: Path | None = None) -> None:
        target = path or self.state_path
        if target is None:
            return
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.dump()))
        tmp.replace(target)

    def load(self, path: Path) -> None:
        data = json.loads(path.read_text())
        self.objects = data.get("objects", {})
        self.settings.update(data.get("settings", {}))
        self.idempotency = {k: (v[0], int(v[1]), v[2]) for k, v in data.get("idempotency", {}).items()}

    def iter_kinds(self) -> Iterable[str]:
        return list(self.objects)
