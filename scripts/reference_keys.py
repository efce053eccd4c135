"""Derive tests/sandbox/reference_keys.json from Stripe's example objects (field names only).

Usage: .venv/bin/python scripts/reference_keys.py [REFERENCE_JSON]

REFERENCE_JSON defaults to ../shared/reference/stripe-objects.json (relative to the repo root):
one example object per kind, from Stripe's OpenAPI fixtures. Only field NAMES and nesting are
kept, never values, so the output is our own fixture that
``tests/sandbox/test_reference_shapes.py`` compares the sandbox's objects with.

Each field maps to ``null`` (a leaf: scalar, id, null, free-form hash or a list of scalars) or to
a node ``{"keys": {...}, "nullable": bool, "id_ok": bool}`` for a nested object, or
``{"list_of": node}`` for a list of objects (its first element). ``nullable`` is the SDK's
annotation (``Optional[...]``): a polymorphic or situational sub-hash may be null in ours, but
its key must be there. ``id_ok`` marks an expandable field (an id when not expanded).

The fixtures lag the API in places. A field the SDK's typed class for the pinned API version
(stripe 16.1.0, 2026-10-28.endive) doesn't declare, or that the API returns only when expanded
(``INCLUDABLE``), is left out and listed under ``dropped``; a field the SDK declares as always
present (not ``Optional``) but the example lacks is added as a leaf and listed under ``added``.
"""

from __future__ import annotations

import json
import sys
import typing
from pathlib import Path
from typing import Any, ForwardRef, Union

import stripe
from stripe._list_object import ListObject
from stripe._object_classes import get_object_class
from stripe._stripe_object import StripeObject, UntypedStripeObject

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "reference" / "stripe-objects.json"
OUT = ROOT / "tests" / "sandbox" / "reference_keys.json"

#: Free-form or polymorphic values whose keys are not a shape (compared as leaves).
OPAQUE = {"metadata", "previous_attributes"}
OPAQUE_PATHS = {"event.data.object"}  # any kind; checked against its own kind separately
#: Returned only when expanded in the current API version, though the fixtures show them.
INCLUDABLE = {
    "charge.refunds": "includable only since 2022-11-15 (docs.stripe.com/changelog/2022-11-15/deprecates-charges-auto-expand)",
}


def declared(cls: type) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for name, ann in klass.__dict__.get("__annotations__", {}).items():
            if not name.startswith("_") and typing.get_origin(ann) is not typing.ClassVar:
                fields[name] = ann
    return fields


def _members(ann: Any) -> tuple[bool, list[Any]]:
    if typing.get_origin(ann) is Union:
        args = typing.get_args(ann)
        return type(None) in args, [a for a in args if a is not type(None)]
    return False, [ann]


def _object_class(members: list[Any], value: dict[str, Any]) -> type | None:
    """The typed class a nested hash is parsed into, if the annotation names one."""
    for m in members:
        origin = typing.get_origin(m) or m
        if isinstance(origin, type) and issubclass(origin, (ListObject, UntypedStripeObject)):
            return None
        if isinstance(m, type) and issubclass(m, StripeObject) and m is not StripeObject:
            return m
    if "object" in value:
        cls = get_object_class("V1", str(value["object"]))
        return None if cls is StripeObject else cls
    return None


def _item_class(members: list[Any]) -> type | None:
    for m in members:
        if typing.get_origin(m) in (list, typing.List):
            (item,) = typing.get_args(m) or (Any,)
            if isinstance(item, type) and issubclass(item, StripeObject) and item is not StripeObject:  # type: ignore[arg-type]
                return item
    return None


def node(value: Any, cls: type | None, path: str, dropped: dict[str, str], added: dict[str, str]) -> Any:
    """Key tree of one value; ``cls`` is the SDK class of an object value (None: not typed)."""
    if isinstance(value, list):
        first = value[0] if value else None
        if isinstance(first, dict) and first:
            return {"list_of": node(first, cls, f"{path}[]", dropped, added)}
        return None
    if not isinstance(value, dict) or not value or path in OPAQUE_PATHS:
        return None
    fields = declared(cls) if cls else None
    keys: dict[str, Any] = {}
    for name, sub in value.items():
        where = f"{path}.{name}"
        if where in INCLUDABLE:
            dropped[where] = INCLUDABLE[where]
            continue
        if fields is not None and name not in fields:
            dropped[where] = f"not declared by {cls.__qualname__} (stripe {stripe.VERSION}, {stripe.api_version})"  # type: ignore[union-attr]
            continue
        if name in OPAQUE or where in OPAQUE_PATHS:
            keys[name] = None
            continue
        nullable, members = _members(fields[name]) if fields is not None else (False, [])
        if isinstance(sub, dict) and sub.get("object") == "list" and isinstance(sub.get("data"), list):
            data = sub["data"]
            item_cls = None
            if data and isinstance(data[0], dict) and "object" in data[0]:
                item_cls = get_object_class("V1", str(data[0]["object"]))
                item_cls = None if item_cls is StripeObject else item_cls
            inner = {k: None for k in sub if k != "data"}
            inner["data"] = node(data, item_cls, f"{where}.data", dropped, added)
            keys[name] = {"keys": inner, "nullable": nullable, "id_ok": False}
        elif isinstance(sub, dict) and sub:
            sub_cls = _object_class(members, sub) if fields is not None else None
            child = node(sub, sub_cls, where, dropped, added)
            id_ok = str in members
            keys[name] = None if child is None else {**child, "nullable": nullable, "id_ok": id_ok}
        elif isinstance(sub, list):
            keys[name] = node(sub, _item_class(members), where, dropped, added)
        else:
            keys[name] = None
    for name, ann in (fields or {}).items():
        if name not in value and not _members(ann)[0]:
            keys[name] = None
            added[f"{path}.{name}"] = f"always present per {cls.__qualname__} (stripe {stripe.VERSION})"  # type: ignore[union-attr]
    return {"keys": keys}


def build(source: Path) -> dict[str, Any]:
    examples = json.loads(source.read_text())
    dropped: dict[str, str] = {}
    added: dict[str, str] = {}
    kinds = {}
    for kind, obj in sorted(examples.items()):
        cls = get_object_class("V1", str(obj.get("object", kind)))
        kinds[kind] = node(obj, None if cls is StripeObject else cls, kind, dropped, added)["keys"]
    return {
        "_about": "Field names (no values) of Stripe's example objects, derived by scripts/reference_keys.py "
                  "from Stripe's OpenAPI fixtures; see that script for the format.",
        "sdk": {"stripe": stripe.VERSION, "api_version": stripe.api_version},
        "dropped": dict(sorted(dropped.items())),
        "added": dict(sorted(added.items())),
        "kinds": kinds,
    }


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    if not source.exists():
        print(f"reference objects not found: {source}", file=sys.stderr)
        return 1
    OUT.write_text(json.dumps(build(source), indent=1, sort_keys=False) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
