"""Check sandbox objects against the stripe SDK's typed resource classes.

stripe-python (v16) declares every field of a resource as a class annotation, e.g.
``stripe.Customer.__annotations__["email"] == Optional[str]``, with nested objects as
inner ``StripeObject`` subclasses (``stripe.Customer.InvoiceSettings``). The spec marks
a field ``Optional`` when it may be null *or* absent; any other field is always present
and never null. The rules checked here:

* no key in the object that the class does not declare;
* every declared non-Optional field present and not null;
* pure ``Literal`` fields hold one of their values; ``int``/``str``/``bool`` fields hold
  that type;
* with ``deep=True`` (default) the same rules for nested objects, list items, expanded
  fields and ``ListObject`` pages whose class can be resolved.

Use :func:`assert_shape(obj, cls)` in tests; :func:`class_for` finds the class from the
object's ``object`` value.
"""

from __future__ import annotations

import typing
from typing import Any, ForwardRef, Literal, Union

from stripe._list_object import ListObject
from stripe._object_classes import get_object_class
from stripe._stripe_object import StripeObject, UntypedStripeObject

__all__ = ["assert_shape", "shape_problems", "class_for", "declared_fields"]

_NONE = type(None)


def declared_fields(cls: type) -> dict[str, Any]:
    """Field name -> annotation, merged over the MRO (ClassVars and private names left out)."""
    fields: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for name, ann in klass.__dict__.get("__annotations__", {}).items():
            if name.startswith("_") or typing.get_origin(ann) is typing.ClassVar:
                continue
            fields[name] = ann
    return fields


def class_for(obj: dict[str, Any]) -> type:
    """The SDK class for an object's ``object`` value (``StripeObject`` when unknown)."""
    return get_object_class("V1", str(obj.get("object")))


def _to_dict(obj: Any) -> Any:
    if isinstance(obj, StripeObject):
        return obj.to_dict()
    return obj


def _parts(ann: Any) -> tuple[bool, list[Any]]:
    """(nullable, the non-None members of a Union or the annotation itself)."""
    if typing.get_origin(ann) is Union:
        args = list(typing.get_args(ann))
        return _NONE in args, [a for a in args if a is not _NONE]
    return False, [ann]


def _is_class(member: Any, base: type) -> bool:
    return isinstance(member, type) and issubclass(member, base)


def _check_value(value: Any, ann: Any, where: str, deep: bool, out: list[str]) -> None:
    nullable, members = _parts(ann)
    if value is None:
        if not nullable:
            out.append(f"{where}: null, but the SDK declares it non-nullable ({ann})")
        return
    literals = [m for m in members if typing.get_origin(m) is Literal]
    if literals and len(literals) == len(members):
        allowed = {v for lit in literals for v in typing.get_args(lit)}
        if value not in allowed:
            out.append(f"{where}: {value!r} is not one of {sorted(map(str, allowed))[:8]}...")
        return
    if len(members) == 1:
        m = members[0]
        if m is bool and not isinstance(value, bool):
            out.append(f"{where}: expected bool, got {type(value).__name__}")
        elif m is int and (not isinstance(value, int) or isinstance(value, bool)):
            out.append(f"{where}: expected int, got {type(value).__name__}")
        elif m is str and not isinstance(value, str):
            out.append(f"{where}: expected str, got {type(value).__name__}")
        elif m is float and not isinstance(value, (int, float)):
            out.append(f"{where}: expected number, got {type(value).__name__}")
    if not deep:
        return
    for m in members:
        origin = typing.get_origin(m)
        if origin in (list, typing.List):
            if not isinstance(value, list):
                out.append(f"{where}: expected a list, got {type(value).__name__}")
                return
            (item_ann,) = typing.get_args(m) or (Any,)
            for i, item in enumerate(value):
                _check_value(item, item_ann, f"{where}[{i}]", deep, out)
            return
        if _is_class(origin, UntypedStripeObject) or _is_class(m, UntypedStripeObject):
            if not isinstance(value, dict):
                out.append(f"{where}: expected an object (hash), got {type(value).__name__}")
            return
        if _is_class(origin, ListObject) or _is_class(m, ListObject):
            if isinstance(value, dict):
                out.extend(_list_problems(value, where, deep))
            return
        if _is_class(m, StripeObject) and isinstance(value, dict):
            if m is StripeObject:
                return
            out.extend(shape_problems(value, m, deep=deep, where=where))
            return
    if isinstance(value, dict) and any(isinstance(m, ForwardRef) for m in members) and "object" in value:
        cls = class_for(value)
        if cls is not StripeObject:
            out.extend(shape_problems(value, cls, deep=deep, where=where))


def _list_problems(value: dict[str, Any], where: str, deep: bool) -> list[str]:
    out: list[str] = []
    if value.get("object") != "list" or not isinstance(value.get("data"), list):
        return [f"{where}: expected a list object"]
    for i, item in enumerate(value["data"]):
        if isinstance(item, dict) and "object" in item and class_for(item) is not StripeObject:
            out.extend(shape_problems(item, class_for(item), deep=deep, where=f"{where}.data[{i}]"))
    return out


def shape_problems(obj: Any, cls: type, *, deep: bool = True, where: str = "") -> list[str]:
    """Every way ``obj`` (a dict or StripeObject) differs from ``cls``'s declared fields."""
    data = _to_dict(obj)
    label = where or getattr(cls, "OBJECT_NAME", cls.__name__)
    if not isinstance(data, dict):
        return [f"{label}: expected an object, got {type(data).__name__}"]
    fields = declared_fields(cls)
    problems = [f"{label}.{k}: not declared by {cls.__qualname__}" for k in data if k not in fields]
    for name, ann in fields.items():
        nullable, _ = _parts(ann)
        if name not in data:
            if not nullable:
                problems.append(f"{label}.{name}: missing (required by {cls.__qualname__})")
            continue
        _check_value(data[name], ann, f"{label}.{name}", deep, problems)
    return problems


def assert_shape(obj: Any, cls: type | None = None, *, deep: bool = True) -> None:
    """Fail with every difference between ``obj`` and the SDK class ``cls``.

    ``cls`` defaults to the class for the object's ``object`` value. Pass
    ``deep=False`` to check top-level fields only.
    """
    data = _to_dict(obj)
    target = cls or class_for(data)
    problems = shape_problems(data, target, deep=deep)
    if problems:
        raise AssertionError(f"{len(problems)} shape problem(s) vs {target.__qualname__}:\n  " + "\n  ".join(problems))
