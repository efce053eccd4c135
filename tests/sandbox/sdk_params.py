"""The SDK's typed parameters for an endpoint, read from stripe-python's generated services.

stripe-python generates one service method per endpoint, naming its params TypedDict and its
HTTP method and path (``self._request("post", "/v1/customers/{customer}", ...)``); the
TypedDicts in ``stripe/params`` list every parameter Stripe's API reference documents for it.
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from pathlib import Path
from typing import Any

import stripe
from stripe._request_options import RequestOptions

__all__ = ["sdk_params", "params_class"]

_METHOD = re.compile(
    r"\n    def (\w+)\(.*?params: (?:Optional\[)?\"(\w+Params)\"\]?.*?self\._request\(\s*\"(\w+)\",\s*\"([^\"]+)\"",
    re.S)


_IMPORT = re.compile(r"from (stripe\.params[\w.]*) import \(?\s*(\w+Params)\b")
# The module-level API's params TypedDicts also carry the request options (api_key, ...).
_OPTIONS = frozenset(RequestOptions.__required_keys__ | RequestOptions.__optional_keys__)


def _normalise(path: str) -> str:
    return re.sub(r"\{\w+\}", "{}", path)


@cache
def _table() -> dict[tuple[str, str], tuple[str, str]]:
    root = Path(stripe.__file__).parent
    table: dict[tuple[str, str], tuple[str, str]] = {}
    for f in sorted(root.rglob("*_service.py")):
        text = f.read_text()
        modules = {name: mod for mod, name in _IMPORT.findall(text)}
        for chunk in re.split(r"(?=\n    (?:async )?def )", text):
            if chunk.startswith("\n    async def"):
                continue
            m = _METHOD.search(chunk)
            if m and m.group(2) in modules:
                table.setdefault((m.group(3).upper(), _normalise(m.group(4))), (modules[m.group(2)], m.group(2)))
    return table


def params_class(method: str, pattern: str) -> Any:
    """The TypedDict for ``METHOD pattern`` (path arguments in braces), or None."""
    found = _table().get((method.upper(), _normalise(pattern)))
    return getattr(importlib.import_module(found[0]), found[1]) if found else None


def sdk_params(method: str, pattern: str) -> frozenset[str] | None:
    """Every top-level parameter the SDK types for the endpoint (None: not in the SDK)."""
    cls = params_class(method, pattern)
    if cls is None:
        return None
    return frozenset(cls.__required_keys__ | cls.__optional_keys__) - _OPTIONS
