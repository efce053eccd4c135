"""A Stripe-compatible HTTP server on 127.0.0.1: Stripe test mode in a box.

The names below load on first use, so ``billing-nb --help`` (which registers the sandbox's
sub-commands from :mod:`.cli`) does not import the server, its routes and uvicorn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import Knobs, create_app
    from .server import ThreadedSandbox, start, status, stop
    from .store import Store

__all__ = ["Knobs", "create_app", "ThreadedSandbox", "start", "status", "stop", "Store"]

_HOMES = {"Knobs": "app", "create_app": "app", "ThreadedSandbox": "server", "start": "server",
          "status": "server", "stop": "server", "Store": "store"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value
