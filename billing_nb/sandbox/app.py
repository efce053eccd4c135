"""The ASGI app: auth, knobs, idempotency, dispatch, expand, Stripe-shaped errors.

Handlers are synchronous and run under the store lock on the event loop thread, so
each request is atomic; the ``--latency-ms`` sleep happens before the lock, so
concurrent requests overlap their latency as they would against Stripe.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import random
import time
from collections import deque
from dataclasses import dataclass
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import resources  # noqa: F401  (registers every route)
from .access import api_key, check_permission
from .engine.clock import forget_next_due
from .errors import ApiError
from .listing import expand
from .params import Params, decode
from .routing import Ctx, dispatch
from .store import Store

#: The environment variable a managed sandbox process gets its instance token from.
INSTANCE_ENV = "BILLING_NB_SANDBOX_INSTANCE"

__all__ = ["Knobs", "create_app", "INSTANCE_ENV"]

log = logging.getLogger("billing_nb.sandbox")


@dataclass
class Knobs:
    """Test and benchmark knobs, all off by default."""

    latency_ms: int = 0
    rate_limit: float = 0.0  # requests per second; 0 = unlimited
    fail_rate: float = 0.0  # fraction of requests failing with 500 / dropped connection
    fail_writes_to: str = ""  # with fail_rate: only POSTs to paths starting with this fail (one kind of write)
    seed: int | None = None


class _RateLimiter:
    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self.stamps: deque[float] = deque()

    def allow(self) -> bool:
        if self.per_second <= 0:
            return True
        now = time.monotonic()
        while self.stamps and now - self.stamps[0] > 1.0:
            self.stamps.popleft()
        if len(self.stamps) >= self.per_second:
            return False
        self.stamps.append(now)
        return True


def _public(node: Any) -> Any:
    """Drop sandbox-internal keys (those starting with "_") from a response, recursively."""
    if isinstance(node, dict):  # leaves are not recursed into: a list page has ~100k of them
        return {k: (_public(v) if isinstance(v, (dict, list)) else v) for k, v in node.items()
                if not (type(k) is str and k[:1] == "_")}
    if isinstance(node, list):
        return [_public(v) if isinstance(v, (dict, list)) else v for v in node]
    return node


def _mask_key(key: str) -> str:
    """Stripe's masking in "Invalid API Key provided: sk_live_*****...AAAA": the key's
    prefix and last four characters, a star for each character between."""
    parts = key.split("_")
    prefix = "_".join(parts[:2]) + "_" if len(parts) > 2 and parts[0] in ("sk", "rk", "pk") else ""
    if len(key) - len(prefix) <= 4:
        return prefix + "*" * (len(key) - len(prefix))
    return prefix + "*" * (len(key) - len(prefix) - 4) + key[-4:]


def _fingerprint(method: str, path: str, body: Any) -> str:
    return hashlib.sha256(json.dumps([method, path, body], sort_keys=True).encode()).hexdigest()


# API reference, Idempotent requests: "Idempotency keys are up to 255 characters long."
IDEMPOTENCY_KEY_MAX = 255


_DROP = "sandbox: simulated dropped connection"


class _QuietDrops(logging.Filter):
    """uvicorn logs an ASGI app's exception with its whole traceback; an injected drop
    (:class:`_Dropped`, ``--fail-rate``) is the knob working, not an error: 50 tracebacks in
    a fault-injected benchmark's output hid its figures."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (isinstance(exc, ConnectionAbortedError) and str(exc) == _DROP)


class _Dropped(Response):
    """An injected dropped connection: headers and part of the body, then the connection closes
    (the client sees a broken response, as when a connection drops mid-reply)."""

    def __init__(self) -> None:
        super().__init__(status_code=500)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 500,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"512")]})
        await send({"type": "http.response.body", "body": b'{"error": {', "more_body": True})
        raise ConnectionAbortedError(_DROP)


def _stamp_events(st: Store, before: int, request_id: str, idem: str | None, clock_advance: bool) -> None:
    """API-caused events name their request (API reference, Event object: ``request.id`` and
    ``request.idempotency_key``; null for automatic events such as the renewals a test clock's
    advance runs, whose own ``test_helpers.test_clock.*`` events the request did cause)."""
    for event in st.since("event", before):
        if not clock_advance or event["type"].startswith("test_helpers."):
            event["request"] = {"id": request_id, "idempotency_key": idem}


def _response(status: int, body: Any, request_id: str, extra: dict[str, str] | None = None) -> Response:
    headers = {"Request-Id": request_id, "Stripe-Version": "2026-10-28.endive"}
    headers.update(extra or {})
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(store: Store | None = None, knobs: Knobs | None = None) -> Starlette:
    """Build the sandbox app around a store (a fresh one when not given)."""
    st = store or Store()
    st.ensure_account_defaults()  # a store made before the resources registered their defaults
    kn = knobs or Knobs()
    limiter = _RateLimiter(kn.rate_limit)
    rng = random.Random(kn.seed)

    async def control(request: Request) -> Response:
        """Sandbox-only endpoints under /_sandbox (not part of Stripe's API)."""
        action = request.path_params["action"]
        with st.lock:
            if request.method != "GET":
                forget_next_due(st)
            if action == "requests":
                if request.method == "DELETE":
                    st.request_log.clear()
                return JSONResponse({"count": len(st.request_log), "data": st.request_log})
            if action == "reset" and request.method == "POST":
                st.reset()
                st.save()
                return JSONResponse({"reset": True})
            if action == "health":
                # pid and instance let `sandbox start` and the demo tell their own server from a stranger's
                return JSONResponse({"ok": True, "objects": sum(len(v) for v in st.objects.values()),
                                     "pid": os.getpid(), "instance": os.environ.get(INSTANCE_ENV, "")})
            if action == "settings" and request.method == "POST":
                st.settings.update(await request.json())
                st.save_soon()
                return JSONResponse(st.settings)
        return JSONResponse({"error": "unknown control action"}, status_code=404)

    async def api(request: Request) -> Response:
        started = time.monotonic()
        request_id = "req_" + Store.new_id("x", 14)[2:]
        method = request.method.upper()
        path = request.url.path
        status = 500
        try:
            if kn.latency_ms:
                await asyncio.sleep(kn.latency_ms / 1000)
            response = await _handle(request, request_id, method, path)
            status = response.status_code
            return response
        finally:
            entry = {
                "request_id": request_id,
                "method": method,
                "path": path,
                "status": status,
                "started": started,
                "ms": round((time.monotonic() - started) * 1000, 2),
            }
            st.request_log.append(entry)
            log.info("%s %s %s -> %s", request_id, method, path, status)

    async def _handle(request: Request, request_id: str, method: str, path: str) -> Response:
        key = api_key(request.headers.get("authorization", ""))
        if not key:
            err = ApiError(401, "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
            return _response(401, err.body(request_id), request_id)
        if not key.startswith(("sk_test_", "rk_test_")):
            shown = _mask_key(key)
            err = ApiError(401, f"Invalid API Key provided: {shown}", code="api_key_invalid" if not key.startswith(("sk_live_", "rk_live_")) else None)
            return _response(401, err.body(request_id), request_id)
        if not limiter.allow():
            err = ApiError(429, "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.", code="rate_limit")
            return _response(429, err.body(request_id), request_id)
        if kn.fail_rate and (not kn.fail_writes_to or method == "POST" and path.startswith(kn.fail_writes_to)) \
                and rng.random() < kn.fail_rate:
            if rng.random() < 0.5:
                return _Dropped()
            err = ApiError(500, "An unknown error occurred", type="api_error")
            return _response(500, err.body(request_id), request_id)

        raw = await request.body() if method == "POST" else request.url.query.encode()
        try:
            data = decode(raw)
            check_permission(st.settings, key, method, path)
        except ApiError as exc:
            return _response(exc.status, exc.body(request_id), request_id)
        except Exception:  # noqa: BLE001 - a malformed body is the client's error
            err = ApiError(400, "Invalid request body: could not decode form parameters")
            return _response(400, err.body(request_id), request_id)
        idem = request.headers.get("idempotency-key") if method == "POST" else None
        if idem is not None and len(idem) > IDEMPOTENCY_KEY_MAX:
            err = ApiError(400, f"The idempotency key provided is {len(idem)} characters long, but idempotency keys "
                           f"can be at most {IDEMPOTENCY_KEY_MAX} characters long.")
            return _response(400, err.body(request_id), request_id)
        with st.lock:
            if idem:
                scoped = f"{key}:{idem}"
                fp = _fingerprint(method, path, data)
                stored = st.idempotency.get(scoped)
                if stored is not None:
                    if stored[0] != fp:
                        err = ApiError(
                            400,
                            "Keys for idempotent requests can only be used with the same parameters they were first used with. "
                            f"Try using a key other than '{idem}' if you meant to execute a different request.",
                            type="idempotency_error",
                        )
                        return _response(400, err.body(request_id), request_id)
                    return _response(stored[1], stored[2], request_id, {"Idempotent-Replayed": "true"})
            params = Params(data)
            ctx = Ctx(store=st, request_id=request_id, method=method, path=path, api_key=key, idempotency_key=idem,
                      extra={"base_url": str(request.base_url).rstrip("/")})
            events_before = st.mark("event")
            save = True
            try:
                obj = dispatch(ctx, params)
                body = _public(expand(st, obj, params.expand()))
                status = 200
            except ApiError as exc:
                body, status = exc.body(request_id), exc.status
                # "We save results only after the execution of an endpoint begins. If incoming
                # parameters fail validation ... no idempotent result is saved" (Idempotent requests).
                save = not exc.validation
            except Exception as exc:  # noqa: BLE001 - never crash the server on a request
                log.exception("sandbox handler failed for %s %s", method, path)
                body, status = ApiError(500, f"Internal sandbox error: {type(exc).__name__}", type="api_error").body(request_id), 500
            if method in ("POST", "DELETE"):
                forget_next_due(st)
                _stamp_events(st, events_before, request_id, idem, path.endswith("/advance"))
            if idem and save:
                st.idempotency[f"{key}:{idem}"] = (_fingerprint(method, path, data), status, body)
            if method in ("POST", "DELETE") and status == 200:
                st.save_soon()
        return _response(status, body, request_id)

    routes = [
        Route("/_sandbox/{action}", control, methods=["GET", "POST", "DELETE"]),
        Route("/{path:path}", api, methods=["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        quiet = _QuietDrops()
        logger = logging.getLogger("uvicorn.error")  # configured by uvicorn by now
        logger.addFilter(quiet)
        try:
            yield
            st.close()  # the writes of the last SAVE_INTERVAL, before uvicorn re-raises SIGTERM
        finally:
            logger.removeFilter(quiet)

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.store = st
    app.state.knobs = kn
    return app
