"""Decode Stripe's bracket-notation form/query encoding and coerce typed values.

The SDK sends ``items[0][price]=price_x&metadata[k]=v&expand[0]=data.customer``; we
decode that into nested dicts and lists, then handlers read typed values through
:class:`Params`, which also rejects unknown parameters as Stripe does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qsl

from .errors import ApiError, unknown_param
from .errors import invalid as _invalid

__all__ = ["decode", "Params", "one_of", "tracking", "Seen"]

_TOKEN = re.compile(r"\[([^\]]*)\]")


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        fixed = {k: _listify(v) for k, v in node.items()}
        if fixed and all(k.isdigit() for k in fixed):
            return [fixed[k] for k in sorted(fixed, key=int)]
        return fixed
    return node


def decode(raw: str | bytes) -> dict[str, Any]:
    """Decode an urlencoded body or query string into nested dicts/lists of strings."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    root: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True, strict_parsing=False):
        head = key.split("[", 1)[0]
        if not head:
            raise invalid(f"Invalid parameter name: {key}")
        path = [head] + _TOKEN.findall(key[len(head):])
        node = root
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        last = path[-1]
        if last == "":  # a[]=x form
            last = str(len(node))
        node[last] = value
    return _listify(root)


_MISSING = object()

# Stripe's metadata limits (Docs, "Metadata"): up to 50 keys, key names up to 40 characters,
# values up to 500 characters; square brackets are not allowed in keys.
METADATA_KEYS, METADATA_KEY_LEN, METADATA_VALUE_LEN = 50, 40, 500
# Stripe's OpenAPI spec gives string parameters a maxLength of 5000 unless a field says less
# ("The spec does match what our API support today", stripe/openapi#51).
STRING_MAX = 5000


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    """A refusal of a parameter's value: validation, so no idempotent result is saved."""
    return _invalid(message, param, code, validation=True)


def one_of(choices: tuple[str, ...] | list[str]) -> str:
    """Stripe's enum list: ``duplicate, fraudulent, or requested_by_customer``.

    Real message: "Invalid reason: must be one of duplicate, fraudulent, or
    requested_by_customer" (quoted from Stripe responses in several public fakes' tests).
    """
    items = list(choices)
    if len(items) <= 2:
        return " or ".join(items)
    return ", ".join(items[:-1]) + ", or " + items[-1]


class Seen:
    """The parameters a request sent and the ones its handler read (full bracket names)."""

    def __init__(self) -> None:
        self.sent: set[str] = set()
        self.read: set[str] = set()

    def unread(self) -> set[str]:
        return self.sent - self.read


_SEEN: ContextVar[Seen | None] = ContextVar("billing_nb_sandbox_seen", default=None)


@contextmanager
def tracking(top: Params) -> Iterator[Seen]:
    """Track, while a handler runs, which sent parameters it reads (through any Params)."""
    seen = Seen()
    token = _SEEN.set(seen)
    try:
        top.register(seen)
        yield seen
    finally:
        _SEEN.reset(token)


class Params:
    """Typed access to decoded parameters, with Stripe's unknown-parameter check."""

    def __init__(self, data: dict[str, Any], prefix: str = "") -> None:
        self.data = data
        self.prefix = prefix
        self._seen: Seen | None = None
        seen = _SEEN.get()
        if seen is not None:
            self.register(seen)

    def register(self, seen: Seen) -> None:
        self._seen = seen
        seen.sent.update(self._name(k) for k in self.data)

    def _mark(self, name: str) -> None:
        if self._seen is not None:
            self._seen.read.add(self._name(name))

    def allow(self, *names: str) -> Params:
        """Refuse any top-level parameter outside ``names`` (plus ``expand``)."""
        allowed = set(names) | {"expand"}
        for key in self.data:
            if key not in allowed:
                raise unknown_param(self._name(key))
        return self

    def has(self, name: str) -> bool:
        self._mark(name)
        return name in self.data

    def _name(self, name: str) -> str:
        return f"{self.prefix}{name}]" if self.prefix.endswith("[") else self.prefix + name

    def raw(self, name: str, default: Any = None) -> Any:
        self._mark(name)
        return self.data.get(name, default)

    def str(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        self._mark(name)
        value = self.data.get(name, _MISSING)
        if value is _MISSING or value == "":
            if required:
                raise invalid(f"Missing required param: {self._name(name)}.", self._name(name), "parameter_missing")
            return default
        if not isinstance(value, str):
            raise invalid(f"Invalid string: {value!r}", self._name(name))
        if len(value) > STRING_MAX:
            raise invalid(f"Invalid string: {value[:20]}...; must be at most {STRING_MAX} characters", self._name(name))
        return value

    def req(self, name: str) -> str:
        value = self.str(name, required=True)
        assert value is not None
        return value

    def int(self, name: str, default: int | None = None, *, required: bool = False) -> int | None:
        value = self.str(name, required=required)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise invalid(f"Invalid integer: {value}", self._name(name), "parameter_invalid_integer") from None

    def bool(self, name: str, default: bool | None = None) -> bool | None:
        value = self.str(name)
        if value is None:
            return default
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
        raise invalid(f"Invalid boolean: {value}", self._name(name))

    def enum(self, name: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
        value = self.str(name)
        if value is None:
            return default
        if value not in choices:
            raise invalid(f"Invalid {name}: must be one of {one_of(choices)}", self._name(name))
        return value

    def sub(self, name: str) -> Params | None:
        self._mark(name)
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, dict):
            raise invalid(f"Invalid object: {self._name(name)}", self._name(name))
        return Params(value, prefix=f"{self._name(name)}[")

    def list(self, name: str) -> list[Any]:
        self._mark(name)
        value = self.data.get(name)
        if value is None or value == "":
            return []
        if isinstance(value, dict):  # a single element sent as dict with non-numeric keys
            raise invalid(f"Invalid array: {self._name(name)}", self._name(name))
        return list(value)

    def metadata(self, current: dict[str, str] | None = None) -> dict[str, str]:
        """Merge ``metadata`` as Stripe does: empty value deletes a key, ``""`` clears all."""
        result = dict(current or {})
        self._mark("metadata")
        value = self.data.get("metadata", _MISSING)
        if value is _MISSING:
            return result
        if value == "":
            return {}
        if not isinstance(value, dict):
            raise invalid("Invalid metadata: must be an object", "metadata")
        for key, val in value.items():
            name = self._name("metadata") + f"[{key}]"
            # Wording as Stripe's engineers gave it (stripe/stripe-php#246): "Invalid key: %{key}
            # must be a string under %{limit} characters", "Invalid val: %{value} must be ...".
            if len(key) > METADATA_KEY_LEN:
                raise invalid(f"Invalid key: {key} must be a string under {METADATA_KEY_LEN} characters", "metadata")
            if not isinstance(val, str):
                raise invalid(f"Invalid string: {name}", name)
            if len(val) > METADATA_VALUE_LEN:
                raise invalid(f"Invalid val: {val} must be a string under {METADATA_VALUE_LEN} characters", "metadata")
            if val == "":
                result.pop(key, None)
            else:
                result[key] = val
        if len(result) > METADATA_KEYS:
            raise invalid(f"You can have up to {METADATA_KEYS} metadata keys; this request would set {len(result)}.",
                          self._name("metadata"))
        return result

    def expand(self) -> list[str]:
        return [str(x) for x in self.list("expand")]
