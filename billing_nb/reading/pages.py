"""Paging one Stripe list at a time, under a shared request rate, for the account sync.

``StripeReader.list_all`` reads a whole list in one call; a sync of a large account needs
the pages one by one (to save each page and its cursor before asking for the next, so an
interrupted sync resumes), and every request of every concurrent list under one rate
(Stripe allows 100 reads/s live and 25/s in test mode:
https://docs.stripe.com/rate-limits). Lists are paged with ``starting_after`` (the last
object's id, https://docs.stripe.com/api/pagination); search results with ``page``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import stripe

from .provider import StripeReader

__all__ = ["RateLimiter", "Page", "iter_pages", "raw_lister", "retrieve_throttled"]


class RateLimiter:
    """Requests paced on a schedule, one every ``(1 + margin) / (rate - 2)`` seconds, across
    threads (``None``/0: no limit).

    Stripe counts requests over a sliding second (https://docs.stripe.com/rate-limits). A
    window-only limiter lets ``rate`` requests out at once; they queue at the server, and
    the queue's delays vary: when the first of a window is served late and the next
    window's first on time, two windows' requests meet in one server second and the last
    is a 429 (two of 210 at 25/s in the 5k benchmark). Paced on a schedule, requests do not
    queue: a server second holds at most ``rate / (1 + margin) + 2`` (see :meth:`acquire`).
    """

    def __init__(self, rate: float | None, *, margin: float = 0.1) -> None:
        self.rate = int(rate) if rate and rate > 0 else None
        self.window = 1.0 + margin
        # with one slot of catch-up (see acquire) any second holds at most 1 / interval + 2
        # requests: spaced by window / (rate - 2), that stays under rate, with the margin
        self.interval = self.window / (self.rate - 2 if self.rate > 2 else self.rate) if self.rate else 0.0
        self._slack = self.interval if self.rate and self.rate > 2 else 0.0
        self._next = 0.0  # the monotonic time the next request may go out (the last one's + interval)
        self._lock = threading.Lock()
        self.acquired = 0

    def acquire(self) -> None:
        """Block until the next slot of the schedule, one every ``interval``.

        A thread that wakes late (another holds the GIL through a page's JSON parse) takes
        its slot from the schedule, not from when it woke, so late wakes do not thin the
        rate (counted from the wake, the 50k sync used 53% of 25/s while an unlimited one
        made 24/s). The schedule never runs more than one interval behind: at most two
        requests go out within one interval, and any second holds at most
        ``1 / interval + 2`` = ``(rate - 2) / (1 + margin) + 2`` (22 of Stripe's 25 at
        ``rate=25``; at ``rate <= 2`` nothing is caught up)."""
        while True:
            with self._lock:
                now = time.monotonic()
                if self.rate is None or now >= self._next:
                    self._next = max(self._next, now - self._slack) + self.interval
                    self.acquired += 1
                    return
                wait = self._next - now
            time.sleep(wait)


@dataclass(frozen=True)
class Page:
    """One page of a list: its objects as dicts, the cursor to resume after it, and
    whether more follow."""

    data: list[dict[str, Any]]
    cursor: str | None
    has_more: bool


def iter_pages(reader: StripeReader, fn: Callable[[Any], Any], params: dict[str, Any], *,
               limiter: RateLimiter | None = None, after: str | None = None) -> Iterator[Page]:
    """The pages of a list (or search) endpoint, from ``after`` (a cursor from an earlier
    :class:`Page`) on; each request waits for ``limiter`` and goes through ``reader.call``."""
    cursor = after
    while True:
        current = dict(params)
        if cursor:
            current["page" if cursor.startswith("page:") else "starting_after"] = cursor.removeprefix("page:")
        if limiter is not None:
            limiter.acquire()
        page = reader.call(lambda p=current: fn(p))
        if isinstance(page, dict):  # a raw JSON page (raw_lister): no SDK objects built
            data = list(page.get("data") or [])
            token = page.get("next_page") if page.get("object") == "search_result" else None
            more = bool(page.get("has_more")) and bool(data)
            cursor = "page:" + token if isinstance(token, str) and token else (str(data[-1]["id"]) if data else cursor)
            yield Page(data, cursor, more)
            if not more:
                return
            continue
        data = [cast(dict[str, Any], o.to_dict(for_json=True)) for o in page.data]
        token = page.next_page if isinstance(page, stripe.SearchResultObject) else None
        if isinstance(token, str) and token:
            cursor = "page:" + token
        elif data:
            cursor = str(data[-1]["id"])
        more = bool(page.has_more) and bool(data)
        yield Page(data, cursor, more)
        if not more:
            return


def raw_lister(reader: StripeReader, path: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A list endpoint read as plain JSON: a sync of a large account spends most of its time
    building the SDK's objects otherwise, only to turn them back into dicts. Errors still
    raise the SDK's exceptions, which ``reader.call`` translates.

    ``StripeClient.raw_request`` parses every body with ``object_pairs_hook=OrderedDict``
    (a Python call per JSON object: 9 ms for a page of 100 invoices, 3x plain
    ``json.loads``); a successful body is parsed here with plain dicts, through the same
    requestor (its retries, headers and telemetry), and anything else goes to the SDK's
    own interpretation (its error classes)."""
    requestor = getattr(reader.client, "_requestor", None)
    fast = callable(getattr(requestor, "request_raw", None)) and callable(getattr(requestor, "_interpret_response", None))

    def fetch(params: dict[str, Any]) -> dict[str, Any]:
        if not fast:  # another SDK layout: the public call
            return cast(dict[str, Any], reader.client.raw_request("get", path, **params).data)
        body, code, headers = requestor.request_raw(  # type: ignore[union-attr]
            "get", path, params=params, options={}, base_address="api", api_mode="V1", usage=["raw_request"])
        if 200 <= code < 300:
            try:
                data = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
            except ValueError:
                data = None
            if isinstance(data, dict):
                return data
        return cast(dict[str, Any], requestor._interpret_response(body, code, headers, "V1").data)  # type: ignore[union-attr]

    return fetch


def retrieve_throttled(reader: StripeReader, obj_id: str, limiter: RateLimiter | None = None) -> dict[str, Any]:
    """``reader.retrieve`` under the shared rate."""
    if limiter is not None:
        limiter.acquire()
    return reader.retrieve(obj_id)
