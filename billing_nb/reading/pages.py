"""Paging one Stripe list at a time, under a shared request rate, for the account sync.

``StripeReader.list_all`` reads a whole list in one call; a sync of a large account needs
the pages one by one (to save each page and its cursor before asking for the next, so an
interrupted sync resumes), and every request of every concurrent list under one rate
(Stripe allows 100 reads/s live and 25/s in test mode:
https://docs.stripe.com/rate-limits). Lists are paged with ``starting_after`` (the last
object's id, https://docs.stripe.com/api/pagination); search results with ``page``.
"""

from __future__ import annotations

import threading
from collections import deque
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import stripe

from .provider import StripeReader

__all__ = ["RateLimiter", "Page", "iter_pages", "raw_lister", "retrieve_throttled"]


class RateLimiter:
    """At most ``rate`` requests in any window of ``1 + margin`` seconds, across threads
    (``None``/0: no limit).

    Stripe counts requests over a sliding second; a request sent on time may still arrive
    late and bunch up with the next ones, so the window is a little longer than the
    server's (``margin``, 0.1 s by default): each window then stays under the limit even
    when delivery delays vary by up to the margin, and no request meets a 429.
    """

    def __init__(self, rate: float | None, *, margin: float = 0.1) -> None:
        self.rate = int(rate) if rate and rate > 0 else None
        self.window = 1.0 + margin
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self.acquired = 0

    def acquire(self) -> None:
        """Block until the next request may go out."""
        while True:
            with self._lock:
                now = time.monotonic()
                if self.rate is None:
                    self.acquired += 1
                    return
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                if len(self._sent) < self.rate:
                    self._sent.append(now)
                    self.acquired += 1
                    return
                wait = self.window - (now - self._sent[0])
            time.sleep(max(wait, 0.001))


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
    """A list endpoint read as plain JSON (``StripeClient.raw_request``): a sync of a large
    account spends most of its time building the SDK's objects otherwise, only to turn them
    back into dicts. Errors still raise the SDK's exceptions, which ``reader.call`` translates."""

    def fetch(params: dict[str, Any]) -> dict[str, Any]:
        return cast(dict[str, Any], reader.client.raw_request("get", path, **params).data)

    return fetch


def retrieve_throttled(reader: StripeReader, obj_id: str, limiter: RateLimiter | None = None) -> dict[str, Any]:
    """``reader.retrieve`` under the shared rate."""
    if limiter is not None:
        limiter.acquire()
    return reader.retrieve(obj_id)
