"""Creation order and indexes: how a list walks from its cursor instead of the whole kind.

Why a mixin of :class:`~billing_nb.sandbox.store.Store`: a page must cost its own length at
50k subscriptions, so each kind keeps its ids in creation order (position -> id, id ->
position) and the positions per value of the :data:`INDEXED` fields.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["Ordering", "INDEXED"]

Obj = dict[str, Any]

#: Fields that never change once an object exists, indexed per value so a filtered list
#: (``subscriptions.list(customer=)``) walks only that customer's objects.
INDEXED: dict[str, tuple[str, ...]] = {
    "subscription": ("customer",), "invoice": ("customer",), "charge": ("customer",),
    "payment_intent": ("customer",), "credit_note": ("customer", "invoice"), "invoiceitem": ("customer",),
    "refund": ("charge", "customer"), "dispute": ("charge",), "checkout.session": ("customer",),
    "balance_transaction": ("source",), "subscription_schedule": ("customer",),
}


class Ordering:
    """Positions, indexes and the lazy newest-first / newer walks over them."""

    _objects: dict[str, dict[str, Obj]]
    _order: dict[str, list[str]]
    _pos: dict[str, dict[str, int]]
    _index: dict[tuple[str, str], dict[Any, list[int]]]
    state_path: Any
    _undo: Any

    def _seen(self, kind: str, obj: Obj | None) -> Obj | None:  # the store's: records a hand-out
        raise NotImplementedError

    def _track(self, kind: str, obj: Obj) -> None:
        pos = self._pos.setdefault(kind, {})
        if obj["id"] in pos:
            return
        order = self._order.setdefault(kind, [])
        pos[obj["id"]] = len(order)
        order.append(obj["id"])
        for name in INDEXED.get(kind, ()):
            value = obj.get(name)
            if isinstance(value, str):
                self._index.setdefault((kind, name), {}).setdefault(value, []).append(pos[obj["id"]])

    def reindex(self) -> None:
        """Rebuild the positions and indexes from ``objects`` (after a load or reset)."""
        self._order, self._pos, self._index = {}, {}, {}
        for kind, bucket in self._objects.items():
            for obj in bucket.values():
                self._track(kind, obj)

    def position(self, kind: str, obj_id: str) -> int | None:
        """Where an object sits in its kind's creation order (None: never seen)."""
        return self._pos.get(kind, {}).get(obj_id)

    def mark(self, kind: str) -> int:
        """A bookmark in a kind's creation order, for :meth:`since`."""
        return len(self._order.get(kind, []))

    def since(self, kind: str, mark: int) -> list[Obj]:
        """Objects of a kind created after a :meth:`mark` and still there, oldest first."""
        order, bucket, pos = self._order.get(kind, []), self._objects.get(kind, {}), self._pos.get(kind, {})
        found = [bucket[i] for p, i in enumerate(order[mark:], mark) if i in bucket and pos.get(i) == p]
        for obj in found:
            self._seen(kind, obj)
        return found

    def _positions(self, kind: str, equals: dict[str, Any]) -> list[int] | None:
        """The positions an indexed equality filter narrows a kind to (None: no index)."""
        for name, value in equals.items():
            if value is not None and name in INDEXED.get(kind, ()):
                return self._index.get((kind, name), {}).get(value, [])
        return None

    def _live(self, kind: str, positions: Iterable[int]) -> Iterator[Obj]:
        order, bucket, pos = self._order.get(kind, []), self._objects.get(kind, {}), self._pos.get(kind, {})
        tracking = self.state_path is not None or self._undo is not None
        for p in positions:
            oid = order[p]
            obj = bucket.get(oid)
            if obj is not None and not obj.get("deleted") and pos.get(oid) == p:  # not a popped id's old place
                if tracking:
                    self._seen(kind, obj)
                yield obj

    def newest(self, kind: str, after: str | None = None, **equals: Any) -> Iterator[Obj]:
        """Objects of a kind newest first, from just older than ``after`` (Stripe's list
        order and ``starting_after``), lazily: a page costs its own length."""
        start = self.position(kind, after) if after else None
        narrowed = self._positions(kind, equals)
        if narrowed is None:
            top = (len(self._order.get(kind, [])) if start is None else start) - 1
            return self._live(kind, range(top, -1, -1))
        cut = len(narrowed) if start is None else bisect.bisect_left(narrowed, start)
        return self._live(kind, (narrowed[i] for i in range(cut - 1, -1, -1)))

    def newer(self, kind: str, before: str, **equals: Any) -> Iterator[Obj]:
        """Objects just newer than ``before``, closest first (``ending_before``)."""
        start = self.position(kind, before)
        if start is None:
            return iter(())
        narrowed = self._positions(kind, equals)
        if narrowed is None:
            return self._live(kind, range(start + 1, len(self._order.get(kind, []))))
        cut = bisect.bisect_right(narrowed, start)
        return self._live(kind, (narrowed[i] for i in range(cut, len(narrowed))))
