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
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .errors import missing
from .persist import StateFile
from .saving import SAVE_INTERVAL, Saving, _Recorded
from .ordering import INDEXED, Ordering
from .undo import Undo

__all__ = ["Store", "RequestLog", "INDEXED", "REQUEST_LOG_SIZE", "SAVE_INTERVAL", "PREFIX_KIND", "KIND_PREFIX", "MISSING_LABEL", "ACCOUNT_DEFAULTS", "Obj"]

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
    "txr": "tax_rate",
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

#: Entries the request log keeps (the oldest are dropped): a long benchmark must not grow it forever.
REQUEST_LOG_SIZE = 10_000

class RequestLog(list[dict[str, Any]]):
    """The request log: a list (tests slice it) that drops its oldest entries past
    :data:`REQUEST_LOG_SIZE` (trimmed in steps of a tenth, so an append stays O(1))."""

    def append(self, entry: dict[str, Any]) -> None:
        super().append(entry)
        if len(self) > REQUEST_LOG_SIZE + REQUEST_LOG_SIZE // 10:
            del self[: len(self) - REQUEST_LOG_SIZE]


#: Called on every new (or reset, or loaded) store to put in what a Stripe account holds
#: before any API call, e.g. the Dashboard's default portal configuration. Hooks must be
#: idempotent and emit no events.
ACCOUNT_DEFAULTS: list[Callable[["Store"], Any]] = []


class Store(Ordering, Saving):
    """In-memory Stripe account state; thread-safe through one re-entrant lock.

    With a ``state_path``, every object an accessor hands out (or that is inserted or
    popped) is recorded as touched; a flush journals those whose JSON changed. Code that
    changes an object must get it through these accessors (never ``store.objects``), or
    :meth:`touch` it."""

    def __init__(self, state_path: Path | None = None) -> None:
        self.lock = threading.RLock()
        self.state_path = state_path
        self._objects: dict[str, dict[str, Obj]] = {}
        self._idempotency = _Recorded()
        self.request_log: RequestLog = RequestLog()
        # (kind, id) -> "left its bucket since the last flush", in first-touch order
        self._touched: dict[tuple[str, str], bool] = {}
        self._full = True  # nothing precise to journal: the next flush writes a whole new base
        self._state: StateFile | None = None
        self._undo: Undo | None = None  # an open transaction (begin/rollback)
        # creation order per kind (position -> id, id -> position) and the INDEXED fields'
        # positions per value: lists walk from a cursor's position, never the whole kind
        self._order: dict[str, list[str]] = {}
        self._pos: dict[str, dict[str, int]] = {}
        self._index: dict[tuple[str, str], dict[Any, list[int]]] = {}
        self.caught_up: dict[str, int] = {}
        self._dirty = False
        self._saver: threading.Thread | None = None  # wall second of the last catch-up, per customer ("*": all)
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
        cust = self._objects.get("customer", {}).get(customer_id)
        clock_id = cust.get("test_clock") if cust else None
        if not clock_id:
            return None
        return self._objects.get("test_helpers.test_clock", {}).get(clock_id)

    def now(self, customer_id: str | None = None) -> int:
        """Simulated now for a customer: its test clock's frozen time, else wall time."""
        clock = self.clock_of(customer_id)
        return int(clock["frozen_time"]) if clock else self.wall_now()

    # ----- objects ------------------------------------------------------------------
    def touch(self, obj: Obj) -> Obj:
        """Record that an object (got by :meth:`scan`, or from a nested reference) changes."""
        self._seen(obj["object"], obj)
        return obj

    def _seen(self, kind: str, obj: Obj | None) -> Obj | None:
        if obj is not None:
            if self.state_path is not None:
                self._touched.setdefault((kind, obj["id"]), False)
            if self._undo is not None:
                self._undo.keep(kind, obj)
        return obj

    # ----- transactions: undo one request's changes (error_if_incomplete) ------------------
    def begin(self) -> None:
        """Start recording what to undo: each object is copied on its first hand-out."""
        if self._undo is not None:
            raise RuntimeError("a store transaction is already open")
        self._undo = Undo(self._objects, self._order)

    def commit(self) -> None:
        self._undo = None

    def rollback(self) -> None:
        """Every object back as it was at :meth:`begin`; those inserted since are gone."""
        undo, self._undo = self._undo, None
        if undo is not None and undo.restore(self._objects, self._order, self._pos, self._index, INDEXED):
            self._full = True  # a kind's dict order was rebuilt: the next flush rewrites the base

    def insert(self, obj: Obj) -> Obj:
        kind = obj["object"]
        bucket = self._objects.setdefault(kind, {})
        existing = bucket.get(obj["id"])
        fresh = existing is None
        if self._undo is not None:
            self._undo.inserting(kind, obj, existing)
        bucket[obj["id"]] = obj
        if self.state_path is not None:
            key = (kind, obj["id"])
            if fresh:  # a new dict entry: it replays after those inserted before it
                self._touched[key] = self._touched.pop(key, False)
            else:
                self._touched.setdefault(key, False)
        self._track(kind, obj)
        return obj

    def pop(self, kind: str, obj_id: str) -> Obj | None:
        """Remove an object outright (a create undone), unlike Stripe's ``deleted`` flag."""
        found = self._objects.get(kind, {}).pop(obj_id, None)
        # its position goes too: put back, it is created anew (newest), as after a restart
        position = self._pos.get(kind, {}).pop(obj_id, None)
        if found is not None and self._undo is not None:
            self._undo.popping(kind, found, position)
        if found is not None and self.state_path is not None:
            key = (kind, obj_id)
            self._touched.pop(key, None)
            self._touched[key] = True
        return found

    def get(self, kind: str, obj_id: str, param: str = "id") -> Obj:
        found = self._objects.get(kind, {}).get(obj_id)
        if found is None or found.get("deleted"):
            raise missing(MISSING_LABEL.get(kind, kind), obj_id, param)
        self._seen(kind, found)
        return found

    def maybe(self, kind: str, obj_id: str | None) -> Obj | None:
        """An object or None, deleted ones included (``deleted: true`` stays in the store)."""
        if not obj_id:
            return None
        return self._seen(kind, self._objects.get(kind, {}).get(obj_id))

    def find(self, obj_id: str) -> Obj | None:
        """Any object by id, using the id prefix to know its kind."""
        prefix = obj_id.split("_", 1)[0]
        kind = "subscription_schedule" if obj_id.startswith("sub_sched_") else PREFIX_KIND.get(prefix)
        if kind is None:
            for name, bucket in self._objects.items():
                if obj_id in bucket:
                    return self._seen(name, bucket[obj_id])
            return None
        return self._seen(kind, self._objects.get(kind, {}).get(obj_id))

    def count(self, kind: str) -> int:
        """How many objects of a kind the store holds (deleted ones included), in O(1)."""
        return len(self._objects.get(kind, {}))

    def scan(self, kind: str) -> list[Obj]:
        """Live objects of a kind, oldest first, NOT recorded as touched: for read-only
        passes over a whole kind (the engine's due-work scan); :meth:`touch` what you change."""
        return [o for o in self._objects.get(kind, {}).values() if not o.get("deleted")]

    def all(self, kind: str) -> list[Obj]:
        """Objects of a kind, newest first (Stripe's list order)."""
        items = self.scan(kind)
        for obj in items:
            self._seen(kind, obj)
        return list(reversed(items))

    def where(self, kind: str, **equals: Any) -> list[Obj]:
        found = [o for o in reversed(self.scan(kind)) if all(o.get(k) == v for k, v in equals.items())]
        for obj in found:
            self._seen(kind, obj)
        return found

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

    # ----- persistence (Saving: when; persist.py: the file format) ----------------
    def reset(self) -> None:
        with self.lock:
            self._objects.clear()
            self._idempotency.clear()
            self.request_log.clear()
            self._full = True
            self.reindex()
            self.ensure_account_defaults()


    def iter_kinds(self) -> Iterable[str]:
        return list(self._objects)
