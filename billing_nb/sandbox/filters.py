"""List filters on integer fields (``created``, ``due_date``, ...), validated as Stripe validates them.

Stripe's range filters take an exact integer or a hash of ``gt``/``gte``/``lt``/``lte``
(API reference, List customers: ``created``). A malformed value is the client's error: 400
``invalid_request_error`` naming the parameter, never a 500 from a failed conversion.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import invalid, unknown_param
from .params import Params

__all__ = ["range_filter", "equals"]

Obj = dict[str, Any]
_BOUNDS = ("gt", "gte", "lt", "lte")


def _integer(value: Any, param: str) -> int:
    if not isinstance(value, str):
        raise invalid(f"Invalid integer: {param}", param, "parameter_invalid_integer")
    try:
        return int(value)
    except ValueError:
        raise invalid(f"Invalid integer: {value}", param, "parameter_invalid_integer") from None


def range_filter(p: Params, name: str = "created", field: str | None = None) -> Callable[[Obj], bool]:
    """The predicate for ``name=<int>`` or ``name[gt|gte|lt|lte]=<int>`` on ``field`` (default ``name``)."""
    raw = p.raw(name)
    key = field or name
    if raw is None or raw == "":
        return lambda o: True
    if isinstance(raw, str):
        exact = _integer(raw, name)
        return lambda o: o.get(key) == exact
    if not isinstance(raw, dict):
        raise invalid(f"Invalid {name}: must be an integer or a hash of gt, gte, lt, lte", name)
    for k in raw:
        if k not in _BOUNDS:
            raise unknown_param(f"{name}[{k}]")
    bounds = {k: _integer(v, f"{name}[{k}]") for k, v in raw.items()}

    def ok(o: Obj) -> bool:
        v = o.get(key)
        if v is None:
            return False
        v = int(v)
        return (("gt" not in bounds or v > bounds["gt"]) and ("gte" not in bounds or v >= bounds["gte"])
                and ("lt" not in bounds or v < bounds["lt"]) and ("lte" not in bounds or v <= bounds["lte"]))

    return ok


def equals(value: Any, field: str) -> Callable[[Obj], bool]:
    """A predicate keeping objects whose ``field`` equals ``value`` (no filter when value is None)."""
    return (lambda o: True) if value is None else (lambda o: o.get(field) == value)
