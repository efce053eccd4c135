"""A scoped rollback for the store: undo one request's changes without copying the store.

Why: ``payment_behavior=error_if_incomplete`` must undo everything an update did when its
invoice can't be paid. Deep-copying the whole store for that costs seconds at 50k
subscriptions; this copies each object the first time the store hands it out inside the
transaction (the same accessors that record touches for ``--state``), so the cost is what
the request touched.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["Undo"]

Obj = dict[str, Any]


class Undo:
    """What a transaction changed: first-touch copies, inserted ids, creation-order marks."""

    def __init__(self, objects: dict[str, dict[str, Obj]], order: dict[str, list[str]]) -> None:
        self.kinds = set(objects)
        self.marks = {kind: len(ids) for kind, ids in order.items()}
        self.kept: dict[tuple[str, str], tuple[Obj, Obj]] = {}  # key -> (the object, its copy)
        self.absent: set[tuple[str, str]] = set()  # ids that did not exist before
        self.inserted: list[Obj] = []
        self.popped_pos: dict[tuple[str, str], int] = {}
        self.removed: set[tuple[str, str]] = set()  # popped at some point: their dict place is lost

    def keep(self, kind: str, obj: Obj) -> None:
        """Called on hand-out, before the caller changes the object."""
        key = (kind, obj["id"])
        if key not in self.kept and key not in self.absent:
            self.kept[key] = (obj, copy.deepcopy(obj))

    def inserting(self, kind: str, obj: Obj, existing: Obj | None) -> None:
        key = (kind, obj["id"])
        if existing is not None:
            self.keep(kind, existing)
        elif key not in self.kept:
            self.absent.add(key)
        self.inserted.append(obj)

    def popping(self, kind: str, obj: Obj, position: int | None) -> None:
        self.keep(kind, obj)
        key = (kind, obj["id"])
        self.removed.add(key)
        if position is not None and position < self.marks.get(kind, 0) and key not in self.popped_pos:
            self.popped_pos[key] = position

    def restore(self, objects: dict[str, dict[str, Obj]], order: dict[str, list[str]],
                pos: dict[str, dict[str, int]], index: dict[tuple[str, str], dict[Any, list[int]]],
                indexed: dict[str, tuple[str, ...]]) -> bool:
        """Put every object back as it was; True when a kind's dict order had to be rebuilt
        (an object popped and put back), which a journal cannot express precisely."""
        for obj in self.inserted:  # positions and index entries appended since the marks
            kind = obj["object"]
            mark = self.marks.get(kind, 0)
            for name in indexed.get(kind, ()):
                found = index.get((kind, name), {}).get(obj.get(name))
                while found and found[-1] >= mark:
                    found.pop()
        for kind, ids in list(order.items()):
            mark = self.marks.get(kind, 0)
            where = pos.get(kind, {})
            for p, oid in enumerate(ids[mark:], mark):
                if where.get(oid) == p:
                    del where[oid]
            del ids[mark:]
        for kind, oid in self.absent:
            objects.get(kind, {}).pop(oid, None)
        moved: set[str] = set()
        for (kind, oid), (obj, saved) in self.kept.items():
            obj.clear()
            obj.update(saved)
            bucket = objects.setdefault(kind, {})
            if bucket.get(oid) is not obj:
                if oid not in bucket or (kind, oid) in self.removed:
                    moved.add(kind)
                bucket[oid] = obj
        for (kind, oid), p in self.popped_pos.items():
            pos.setdefault(kind, {})[oid] = p
        for kind in moved:  # back into creation order
            bucket, where = objects[kind], pos.get(kind, {})
            rebuilt = {oid: bucket[oid] for p, oid in enumerate(order.get(kind, [])) if oid in bucket and where.get(oid) == p}
            rebuilt.update((oid, obj) for oid, obj in bucket.items() if oid not in rebuilt)
            objects[kind] = rebuilt
        for kind in set(objects) - self.kinds:
            del objects[kind]
        for kind in set(order) - set(self.marks):
            order.pop(kind, None)
            pos.pop(kind, None)
        return bool(moved)
