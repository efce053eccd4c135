"""Route table for the sandbox: ``@route("POST", "/v1/refunds")`` on plain functions.

A handler takes ``(ctx, params, **path_args)`` and returns a Stripe object (a dict);
it raises :class:`~billing_nb.sandbox.errors.ApiError` to refuse. Resource modules
register on import; :func:`dispatch` finds the handler for a method and path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError
from .params import Params
from .store import Obj, Store

__all__ = ["Ctx", "route", "dispatch", "ROUTES"]


@dataclass
class Ctx:
    """What a handler knows about the request besides its parameters."""

    store: Store
    request_id: str
    method: str
    path: str
    api_key: str
    idempotency_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[..., Obj]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Register a handler for ``METHOD /v1/path/{arg}``."""
    regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")

    def wrap(fn: Handler) -> Handler:
        ROUTES.append((method.upper(), regex, fn))
        return fn

    return wrap


def dispatch(ctx: Ctx, params: Params) -> Obj:
    path_known = False
    for method, regex, fn in ROUTES:
        match = regex.match(ctx.path)
        if not match:
            continue
        path_known = True
        if method == ctx.method:
            return fn(ctx, params, **match.groupdict())
    # Stripe answers an unknown path, or a known path with the wrong method, the same way:
    # 404 invalid_request_error, no code (message as in Stripe responses recorded by
    # public clients' tests, e.g. "Unrecognized request URL (GET: /v1/missing). ...").
    del path_known
    raise ApiError(
        404,
        f"Unrecognized request URL ({ctx.method}: {ctx.path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/.",
    )
