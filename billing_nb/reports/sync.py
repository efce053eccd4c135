"""``billing-nb sync``: copy the whole account into the local store, resumably and incrementally.

A **full** sync lists every kind to its end (newest first, ``starting_after``), one thread
per kind, every request under one :class:`~billing_nb.reading.pages.RateLimiter`. Each page
is masked at the door (:func:`~billing_nb.reports.slim.masked_rows`: the fields a row keeps) and saved with its
cursor in one transaction, so an interrupted sync resumes after the last saved page.

An **incremental** sync reads what is newer than the last one: per kind the objects
created since (``ending_before`` the newest id seen, paging toward newer ones), and every
object named by the events since (``events.list``, ``ending_before`` the newest event
seen), each retrieved fresh. Stripe keeps events for 30 days
(https://docs.stripe.com/api/events): beyond that, or when the newest event seen is gone,
the sync reads everything again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

from ..exceptions import ConfigError, StripeInvalidRequestError, StripeNotFoundError
from ..reading.pages import Page, RateLimiter, iter_pages, raw_lister, retrieve_throttled
from ..reading.prices import (coupon_ids_needing_options, price_reads, subscription_discounts, with_coupon_options,
                              with_price_details)
from ..reading.provider import StripeReader
from .store import AccountStore
from .slim import masked_rows
from .tables import KIND_TABLE, Row

__all__ = ["SyncResult", "sync_account", "source_of", "KINDS", "EVENT_WINDOW_DAYS", "EVENT_KIND"]

#: Listed kinds, in the order their progress bars appear.
KINDS: tuple[str, ...] = tuple(KIND_TABLE)
EVENT_WINDOW_DAYS = 30
#: An event's ``data.object.object`` -> the kind whose table holds it.
EVENT_KIND = {"customer": "customers", "product": "products", "price": "prices", "subscription": "subscriptions",
              "invoice": "invoices", "charge": "charges", "refund": "refunds", "credit_note": "credit_notes",
              "dispute": "disputes"}
_CHILDREN = {"subscriptions": ("subscription_items", "subscription_id"),
             "invoices": ("invoice_line_items", "invoice_id")}
#: Discounts read with their coupons (a coupon's duration says whether it counts in MRR; a
#: discount cannot be retrieved on its own: https://docs.stripe.com/api/discounts/object).
#: Four levels, Stripe's expansion limit.
EXPAND = {"customers": ["data.discount.source.coupon"], "subscriptions": ["data.discounts.source.coupon"],
          "invoices": ["data.discounts.source.coupon"]}
#: The same on a single object retrieved afresh (by its id's prefix).
_EXPAND_ONE = {"cus": ("customers", ["discount.source.coupon"]), "sub": ("subscriptions", ["discounts.source.coupon"]),
               "in": ("invoices", ["discounts.source.coupon"])}


@dataclass
class SyncResult:
    """What one run did: its mode, objects saved per kind, objects refreshed from events,
    requests made and how long it took."""

    mode: str
    saved: dict[str, int] = field(default_factory=dict)
    refreshed: int = 0
    requests: int = 0
    seconds: float = 0.0


#: Kinds whose list-all leaves out test-clock objects: they are listed once without a clock and
#: once per clock (https://docs.stripe.com/api/customers/list#list_customers-test_clock,
#: https://docs.stripe.com/api/subscriptions/list#list_subscriptions-test_clock).
PER_CLOCK = ("customers", "subscriptions")


def _split(job: str) -> tuple[str, str | None]:
    """A job is a kind, or ``kind@clock_id`` for one clock's objects of a :data:`PER_CLOCK` kind;
    its sync state and newest-id mark are kept under the job's name."""
    kind, _, clock = job.partition("@")
    return kind, clock or None


def _lister(reader: StripeReader, job: str, page_size: int) -> tuple[Callable[[Any], Any], dict[str, Any]]:
    kind, clock = _split(job)
    params: dict[str, Any] = {"limit": page_size}
    if kind == "subscriptions":
        params["status"] = "all"  # canceled ones too: their history is the churn
    if clock:
        params["test_clock"] = clock
    if kind in EXPAND:
        params["expand"] = list(EXPAND[kind])
    return raw_lister(reader, f"/v1/{kind}"), params


class _Syncer:
    def __init__(self, reader: StripeReader, store: AccountStore, limiter: RateLimiter,
                 progress: Callable[[str], Any] | None, page_size: int = 100) -> None:
        self.reader, self.store, self.limiter, self.progress = reader, store, limiter, progress
        self.page_size = page_size
        self._bars: dict[str, Any] = {}
        self._bars_lock = threading.Lock()

    def bar(self, kind: str) -> Any:
        """One progress bar per kind, shared by its per-clock jobs."""
        if self.progress is None:
            return None
        with self._bars_lock:
            if kind not in self._bars:
                self._bars[kind] = self.progress(kind)
            return self._bars[kind]

    def clocks(self) -> list[str]:
        """Every test clock's id (objects on them are listed per clock)."""
        return [str(c["id"]) for page in iter_pages(self.reader, raw_lister(self.reader, "/v1/test_helpers/test_clocks"),
                                                    {"limit": 100}, limiter=self.limiter) for c in page.data]

    # --- one page into the store --------------------------------------------------------
    def _complete_children(self, kind: str, obj: dict[str, Any]) -> None:
        """An invoice's lines and a subscription's items come embedded, ten at most: the
        rest are listed (rare: more than ten lines or items)."""
        embedded = obj.get("lines") if kind == "invoices" else obj.get("items") if kind == "subscriptions" else None
        if kind == "subscriptions":
            self._tiers([obj])
            self._coupon_options([(d, obj.get("currency")) for d in obj.get("discounts") or []])
        elif kind == "customers":
            self._coupon_options([(d, obj.get("currency")) for d in subscription_discounts({}, obj)])
        if not embedded or not embedded.get("has_more"):
            return
        v1 = self.reader.client.v1
        if kind == "invoices":
            fn: Callable[[Any], Any] = lambda p: v1.invoices.line_items.list(obj["id"], p)  # noqa: E731
            params: dict[str, Any] = {"limit": 100}
        else:
            fn, params = v1.subscription_items.list, {"subscription": obj["id"], "limit": 100}
        embedded["data"] = [o for page in iter_pages(self.reader, fn, params, limiter=self.limiter) for o in page.data]
        embedded["has_more"] = False

    def _tiers(self, subs: list[dict[str, Any]]) -> None:
        """A tiered price's tiers, and a multi-currency price's ``currency_options`` when a
        subscription bills in another currency than its default, on the items that use it: Stripe
        shows them only when expanded, and ``data.items.data.price.tiers`` is five levels (over the
        limit), so each such price is retrieved once per run and need (no request when there is none)."""
        cache: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = self.__dict__.setdefault("_tier_cache", {})
        for pid, expand in price_reads(subs).items():
            key = (pid, tuple(expand))
            if key not in cache:
                cache[key] = cast(dict[str, Any], self.reader.call(
                    lambda p=pid, e=expand: self.reader.client.raw_request("get", f"/v1/prices/{p}", expand=e).data))
        with_price_details(subs, list(cache.values()))

    def _coupon_options(self, pairs: list[tuple[Any, Any]]) -> None:
        """An ``amount_off`` coupon's ``currency_options`` where it applies in another currency than
        its own (not included by default, five levels below a list): each retrieved once per run."""
        cache: dict[str, dict[str, Any]] = self.__dict__.setdefault("_coupon_cache", {})
        wanted = [(d, str(c).lower() if c else None) for d, c in pairs if isinstance(d, dict)]
        for cid in coupon_ids_needing_options(wanted):
            if cid not in cache:
                cache[cid] = cast(dict[str, Any], self.reader.call(
                    lambda c=cid: self.reader.client.raw_request("get", f"/v1/coupons/{c}",
                                                                 expand=["currency_options"]).data))
        with_coupon_options([d for d, _ in wanted], list(cache.values()))

    def save(self, kind: str, objects: list[dict[str, Any]], state: tuple[Any, ...] | None) -> None:
        rows: dict[str, list[Row]] = {}
        for obj in objects:
            self._complete_children(kind, obj)
            for table, got in masked_rows(kind, obj, self.store.email_key).items():
                rows.setdefault(table, []).extend(got)
        children = {}
        if kind in _CHILDREN:
            table, column = _CHILDREN[kind]
            children[table] = (column, [o["id"] for o in objects])
        self.store.upsert(rows, state=state, replace_children=children)  # type: ignore[arg-type]

    # --- a kind, in full or since its newest id ----------------------------------------------
    def full(self, job: str, run: int, state: dict[str, Any] | None) -> int:
        """List the kind from its newest object (or from the saved cursor) to its end."""
        fn, params = _lister(self.reader, job, self.page_size)
        kind, _ = _split(job)
        resume = state if state and state["mode"] == "full" and state["run_started"] == run and not state["complete"] else None
        count = resume["rows"] if resume else 0
        head = self.store.meta(f"head:{job}:pending") if resume else None
        bar = self.bar(kind)
        for page in iter_pages(self.reader, fn, params, limiter=self.limiter, after=resume["cursor"] if resume else None):
            if head is None and page.data:
                head = str(page.data[0]["id"])
                self.store.set_meta(f"head:{job}:pending", head)
            count += len(page.data)
            self.save(kind, page.data, (job, page.cursor, not page.has_more, count, run, "full"))
            if bar is not None:
                bar.update(len(page.data))
        self.store.set_meta(f"head:{job}", head or "")
        return count

    def newer(self, job: str, run: int, state: dict[str, Any] | None) -> int:
        """Objects created since the last sync: pages toward newer ones from the newest seen."""
        fn, params = _lister(self.reader, job, self.page_size)
        kind, _ = _split(job)
        resume = state if state and state["mode"] == "incremental" and state["run_started"] == run and not state["complete"] else None
        cursor = (resume or {}).get("cursor") or self.store.meta(f"head:{job}") or None
        count = resume["rows"] if resume else 0
        bar = self.bar(kind)
        for page in self._toward_newer(fn, params, cursor):
            count += len(page.data)
            self.save(kind, page.data, (job, page.cursor, not page.has_more, count, run, "incremental"))
            if bar is not None:
                bar.update(len(page.data))
        head = self.store.state().get(job, {}).get("cursor")
        self.store.set_meta(f"head:{job}", head or cursor or "")
        return count

    def _toward_newer(self, fn: Callable[[Any], Any], params: dict[str, Any], cursor: str | None) -> Iterator[Page]:
        """``ending_before`` pages: each returns the objects just newer than the cursor
        (still newest first), so the next cursor is the page's first object."""
        if not cursor:  # nothing was there last time: everything is new
            yield from iter_pages(self.reader, fn, params, limiter=self.limiter)
            return
        while True:
            self.limiter.acquire()
            page = self.reader.call(lambda p={**params, "ending_before": cursor}: fn(p))
            if isinstance(page, dict):
                data, more = list(page.get("data") or []), bool(page.get("has_more"))
            else:
                data, more = [o.to_dict(for_json=True) for o in page.data], bool(page.has_more)
            cursor = str(data[0]["id"]) if data else cursor
            yield Page(data, cursor, more and bool(data))
            if not more or not data:
                return

    # --- events -------------------------------------------------------------------------
    def events(self, run: int, state: dict[str, Any] | None, workers: int) -> int:
        """Retrieve afresh every object an event since the last sync names (deleted ones are
        dropped), page by page, the events cursor saved after each."""
        resume = state if state and state["run_started"] == run and not state["complete"] else None
        cursor = (resume or {}).get("cursor") or self.store.meta("head:events") or None
        refreshed = 0
        for page in self._toward_newer(raw_lister(self.reader, "/v1/events"), {"limit": self.page_size}, cursor):
            changed: dict[str, str] = {}
            deleted: dict[str, list[str]] = {}
            for event in page.data:
                obj = (event.get("data") or {}).get("object") or {}
                if obj.get("object") == "discount":  # a coupon on or off: its customer and subscription change
                    for ref, owner in ((obj.get("customer"), "customers"), (obj.get("subscription"), "subscriptions")):
                        if _ref(ref):
                            changed[_ref(ref)] = owner  # type: ignore[index]
                    continue
                kind = EVENT_KIND.get(str(obj.get("object")))
                if kind is None or not obj.get("id"):
                    continue
                # customer.subscription.deleted is a cancellation (the subscription stays
                # retrievable); only these three kinds are really deleted
                if event.get("type") in ("customer.deleted", "product.deleted", "price.deleted"):
                    deleted.setdefault(kind, []).append(obj["id"])
                else:
                    changed[obj["id"]] = kind
            for kind, ids in deleted.items():
                self.store.mark_deleted(KIND_TABLE[kind], ids)
            with ThreadPoolExecutor(max_workers=workers) as pool:
                fresh = list(pool.map(self._fresh, changed))
            by_kind: dict[str, list[dict[str, Any]]] = {}
            for obj_id, obj in zip(changed, fresh, strict=True):
                if obj is not None and not obj.get("deleted"):
                    by_kind.setdefault(changed[obj_id], []).append(obj)
            for kind, objs in by_kind.items():
                self.save(kind, objs, None)
            refreshed += len(changed)
            self.store.upsert({}, state=("events", page.cursor, not page.has_more, refreshed, run, "incremental"))
        self.store.set_meta("head:events", (self.store.state().get("events") or {}).get("cursor") or cursor or "")
        return refreshed

    def _fresh(self, obj_id: str) -> dict[str, Any] | None:
        try:
            one = _EXPAND_ONE.get(obj_id.split("_", 1)[0])
            if one is None:
                return retrieve_throttled(self.reader, obj_id, self.limiter)
            self.limiter.acquire()
            service = getattr(self.reader.client.v1, one[0])
            got = self.reader.call(lambda: service.retrieve(obj_id, {"expand": list(one[1])}))
            return cast(dict[str, Any], got.to_dict(for_json=True))
        except StripeNotFoundError:
            return None

    def events_head(self) -> str | None:
        """The newest event now: the next incremental sync replays the events after it."""
        self.limiter.acquire()
        page = self.reader.call(lambda: self.reader.client.v1.events.list({"limit": 1}))
        return str(page.data[0].id) if page.data else None


def _ref(value: Any) -> str | None:
    """An id whether the field came expanded or not."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


def sync_account(reader: StripeReader, store: AccountStore, *, rate_limit: float | None = 25,
                 progress: Callable[[str], Any] | None = None, full: bool = False, workers: int = 8,
                 page_size: int = 100, source: str | None = None,
                 now: Callable[[], float] = time.time) -> SyncResult:
    """Bring the store up to date with the account (see the module doc for the modes).

    ``progress(kind)`` returns a bar (anything with ``update(n)``) per kind; ``full``
    forces a complete re-read; ``page_size`` is the list ``limit`` (tests page in fives).
    ``source`` names the account (see :func:`source_of`): a store filled from another one
    is refused, or emptied first when ``full``."""
    _check_source(store, source, full)
    started = time.monotonic()
    first_request = reader.request_count
    syncer = _Syncer(reader, store, RateLimiter(rate_limit), progress, page_size)
    state = store.state()
    last = store.meta("last_sync_at")
    recent = last is not None and now() - float(last) < (EVENT_WINDOW_DAYS - 1) * 86400
    interrupted = state.pop("_run", None)  # a run row that was never cleared: that run stopped midway
    mode = interrupted["mode"] if interrupted else ("incremental" if recent and not full else "full")
    run = int(interrupted["run_started"]) if interrupted else int(now())
    if not interrupted:
        state = {}
        if mode == "full":
            store.set_meta("head:events:pending", syncer.events_head() or "")
        store.upsert({}, state=("_run", None, False, 0, run, mode))
    result = SyncResult(mode)
    if mode == "incremental":
        try:
            result = _run(syncer, mode, run, state, workers)
        except StripeInvalidRequestError as err:  # the newest id or event seen is gone: read it all again
            if err.param != "ending_before":
                raise
            store.clear_state()
            mode, run, state = "full", int(now()), {}
            store.set_meta("head:events:pending", syncer.events_head() or "")
            store.upsert({}, state=("_run", None, False, 0, run, mode))
    if mode == "full":
        result = _run(syncer, mode, run, state, workers)
        store.set_meta("head:events", store.meta("head:events:pending") or "")
    store.set_meta("last_sync_at", str(run))
    store.clear_state()
    result.requests = reader.request_count - first_request
    result.seconds = time.monotonic() - started
    return result


def source_of(api_key: str, api_base: str | None) -> str:
    """A name for the account a key reads (a hash: the key itself is never stored)."""
    import hashlib

    return hashlib.sha256(f"{api_base or 'stripe'}|{api_key}".encode()).hexdigest()[:16]


def _check_source(store: AccountStore, source: str | None, full: bool) -> None:
    held = store.meta("source")
    if source is None or held in (None, source):
        if source is not None:
            store.set_meta("source", source)
        return
    if not full:
        raise ConfigError(f"the store {store.path} holds another account (or was filled with another key): pass "
                          "--db for a store of its own, or --full to empty it and read this account")
    store.wipe()
    store.set_meta("source", source)


def _run(syncer: _Syncer, mode: str, run: int, state: dict[str, dict[str, Any]], workers: int) -> SyncResult:
    """Every kind concurrently (one thread each; a :data:`PER_CLOCK` kind one per test clock
    too), then, incrementally, the events."""
    result = SyncResult(mode)
    clocks = syncer.clocks()
    jobs = [k for k in KINDS] + [f"{k}@{c}" for k in KINDS if k in PER_CLOCK for c in clocks]
    todo = [k for k in jobs if not (state.get(k, {}).get("complete") and state[k]["run_started"] == run)]
    step = syncer.full if mode == "full" else syncer.newer
    with ThreadPoolExecutor(max_workers=min(len(todo), len(KINDS) + 2) or 1) as pool:
        futures = {k: pool.submit(step, k, run, state.get(k)) for k in todo}
        for job, f in futures.items():
            kind = _split(job)[0]
            result.saved[kind] = result.saved.get(kind, 0) + f.result()
    if mode == "incremental":
        result.refreshed = syncer.events(run, state.get("events"), workers)
    return result
