"""Route table for the sandbox: ``@route("POST", "/v1/refunds", accepts=(...))`` on plain functions.

A handler takes ``(ctx, params, **path_args)`` and returns a Stripe object (a dict);
it raises :class:`~billing_nb.sandbox.errors.ApiError` to refuse. Resource modules
register on import; :func:`dispatch` finds the handler for a method and path.

Every route declares the top-level parameters it implements (``accepts``; ``expand`` is
always allowed). :func:`dispatch` refuses any other one with Stripe's 400
``parameter_unknown`` before the handler runs, so a parameter is either implemented or
refused, never silently ignored. As a second net, parameters are tracked while the
handler runs: one that was sent and accepted but never read is a sandbox bug (logged; in
strict mode, :data:`STRICT` or ``BILLING_NB_SANDBOX_STRICT=1``, a 500 ``api_error``).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError
from .limits import check_limits
from .params import Params, tracking
from .store import Obj, Store

__all__ = ["Ctx", "Route", "route", "dispatch", "find", "ROUTES", "STRICT", "UNREAD", "EXERCISED"]

log = logging.getLogger("billing_nb.sandbox")
STRICT = os.environ.get("BILLING_NB_SANDBOX_STRICT", "") == "1"
UNREAD: set[tuple[str, str, str]] = set()  # (method, pattern, parameter) sent, accepted and never read
EXERCISED: set[tuple[str, str, str]] = set()  # (method, pattern, top-level parameter) sent and read by a success


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


@dataclass(frozen=True)
class Route:
    """One endpoint: method, path pattern, handler and the parameters it implements."""

    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: Handler
    accepts: frozenset[str]


ROUTES: list[Route] = []


def route(method: str, pattern: str, *, accepts: Iterable[str]) -> Callable[[Handler], Handler]:
    """Register a handler for ``METHOD /v1/path/{arg}`` implementing the ``accepts`` parameters."""
    regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")
    names = frozenset(accepts)

    def wrap(fn: Handler) -> Handler:
        ROUTES.append(Route(method.upper(), pattern, regex, fn, names))
        return fn

    return wrap


def find(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route serving ``METHOD path`` and its path arguments, or Stripe's 404."""
    for r in ROUTES:
        match = r.regex.match(path)
        if match and r.method == method:
            return r, match.groupdict()
    # Stripe answers an unknown path, or a known path with the wrong method, the same way:
    # 404 invalid_request_error, no code (message as in Stripe responses recorded by
    # public clients' tests, e.g. "Unrecognized request URL (GET: /v1/missing). ...").
    raise ApiError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/.", validation=True,
    )


def dispatch(ctx: Ctx, params: Params) -> Obj:
    """Refuse undeclared parameters, run the handler, and flag accepted ones it never read."""
    r, args = find(ctx.method, ctx.path)
    params.allow(*r.accepts)
    check_limits(r.method, r.pattern, params.data)
    with tracking(params) as seen:
        result = r.handler(ctx, params, **args)
    for name in seen.sent & seen.read:
        if "[" not in name:
            EXERCISED.add((r.method, r.pattern, name))
    unread = sorted(seen.unread() - {"expand"})
    if unread:
        for name in unread:
            UNREAD.add((r.method, r.pattern, name))
        log.warning("sandbox: %s %s accepted but did not read %s", r.method, r.pattern, unread)
        if STRICT or os.environ.get("BILLING_NB_SANDBOX_STRICT", "") == "1":
            raise ApiError(500, f"Sandbox bug: parameter(s) accepted but not implemented: {', '.join(unread)}",
                           type="api_error")
    return result
