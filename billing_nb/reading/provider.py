"""The only module that reads Stripe (with :mod:`gather`, its request plan).

``StripeReader`` resolves a lookup to customers and builds a :class:`CaseSnapshot` in
as few sequential request waves as possible (expand + list filters, independent lists
issued concurrently; see :mod:`billing_nb.reading.waves`). Stripe's exceptions are translated
here, once, into :mod:`billing_nb.exceptions`, keeping Stripe's request id.

Lookups (:func:`billing_nb.reading.lookup.lookup_kind`, pure): an email, a ``cus_``/``sub_``/``in_``/``ch_``/``pi_``/``cs_``
id, or ``metadata:KEY=VALUE``. Every lookup resolves to the customer it names *plus* every
other customer object sharing that customer's email (a ``duplicate_customer`` anomaly
later, never an error). The lookup costs one or two waves:

========================  =============================================================
email                     ``customers.list(email=)`` (case-sensitive, immediate) and
                          ``customers.search(email:'…')`` (any case, lags) concurrently
cus_                      ``customers.retrieve``, then the email wave (list + search)
sub_ in_ ch_ pi_ cs_      ``retrieve(expand=customer)``, then the email wave
metadata:KEY=VALUE        ``customers.search(metadata['KEY']:'VALUE')``, then the email wave
========================  =============================================================

Customers are fetched with ``test_clock`` and ``invoice_settings.default_payment_method``
expanded, so the case's clock and default card cost no extra request.
"""

from __future__ import annotations

import os
import re
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import stripe

from ..config import API_VERSION, Settings
from ..exceptions import (
    LookupNotFoundError,
    MalformedIdError,
    StripeApiError,
    StripeInvalidRequestError,
    StripeNotFoundError,
    StripeRateLimitError,
    StripeUnavailableError,
)
from .lookup import LOOKUP_KINDS, Resolution, lookup_kind, order_customers, search_literal
from .concurrency import run_wave

__all__ = ["MAX_PAGES", "LOOKUP_KINDS", "Resolution", "make_client", "api_base", "cut_mid_reply", "translate", "unreachable_message", "lookup_kind", "StripeReader"]

#: Expansions on customer reads: the clock and the default card arrive with the customer, and the
#: coupon of the customer's own discount, which its subscriptions without one bill with (a forever
#: coupon counts in MRR: reading.prices.subscription_discounts).
CUSTOMER_EXPAND = ["test_clock", "invoice_settings.default_payment_method", "discount.source.coupon"]

#: Page cap per list: 100 pages of 100 objects. Reaching it is reported, never silent.
MAX_PAGES = 100

T = TypeVar("T")
P = TypeVar("P")


def make_client(settings: Settings) -> stripe.StripeClient:
    """A StripeClient with the key, base address, retries and pinned API version.

    Its HTTP client is the SDK's default synchronous one (``requests``), given explicitly so
    that the SDK does not also build its asynchronous fallback: that imports httpx (half a
    second of a case kernel's start on a busy machine), and nothing here is asynchronous.
    """
    return stripe.StripeClient(
        settings.api_key,
        base_addresses={"api": settings.api_base} if settings.api_base else {},
        max_network_retries=settings.max_network_retries,
        stripe_version=API_VERSION,
        http_client=stripe.RequestsClient(),
    )


def api_base(client: stripe.StripeClient) -> str | None:
    """The API address this client really talks to (None when it is Stripe's default)."""
    base = getattr(getattr(client, "_requestor", None), "base_addresses", None) or {}
    api = base.get("api") if isinstance(base, dict) else None
    return None if not api or api == stripe.DEFAULT_API_BASE else str(api)


def unreachable_message(exc: stripe.StripeError, base: str | None = None) -> str:
    """Why the API could not be reached and what to check: ``STRIPE_API_BASE`` and the sandbox
    commands (the SDK's own text is reduced to its network error). ``base`` is the address the
    client was given; without it, the environment's."""
    text = str(getattr(exc, "_message", None) or exc)
    found = re.search(r"\(Network error: (.*?)\)?\s*$", text, re.S)
    reason = (found.group(1) if found else text).strip().splitlines()[0] if text.strip() else type(exc).__name__
    errno = re.search(r"\[Errno -?\d+\] ([^\"')]+)", reason)
    reason = errno.group(1).strip().lower() if errno else reason[:200]
    env = os.environ.get("STRIPE_API_BASE")
    if not base:
        base = env or f"{stripe.DEFAULT_API_BASE} (STRIPE_API_BASE is not set)"
    elif env and env.rstrip("/") != base.rstrip("/"):
        base = f"{base} (STRIPE_API_BASE is {env})"
    return (f"cannot reach the Stripe API at {base}: {reason}. Check STRIPE_API_BASE; for the local sandbox "
            "run `billing-nb sandbox start` (or `billing-nb sandbox status`) and use the STRIPE_API_BASE it prints")


#: How the SDK's HTTP client reports a reply cut off mid-body (the server answered, the
#: connection broke before the end): the SDK does not retry these, a read is safe to repeat.
_CUT_MID_REPLY = ("ChunkedEncodingError", "IncompleteRead", "Connection broken", "RemoteDisconnected",
                  "ProtocolError", "Server disconnected")


def cut_mid_reply(exc: BaseException) -> bool:
    """Whether a connection error is a reply cut off mid-way (retried as a read), not a host
    that can't be reached (refused, unknown name: reported at once)."""
    text = f"{exc} {getattr(exc, '_message', '') or ''}"
    return isinstance(exc, stripe.APIConnectionError) and any(marker in text for marker in _CUT_MID_REPLY)


def translate(exc: stripe.StripeError, base: str | None = None) -> StripeApiError:
    """Map a stripe exception to ours, keeping message, code and request id; ``base`` names
    the address an unreachable API was tried at."""
    message = exc.user_message or str(getattr(exc, "_message", None) or exc) or type(exc).__name__
    kwargs: dict[str, Any] = {
        "request_id": exc.request_id,
        "code": exc.code,
        "http_status": exc.http_status,
        "param": getattr(exc, "param", None),
    }
    status = exc.http_status or 0
    if isinstance(exc, stripe.InvalidRequestError):
        if exc.code == "resource_missing" or status == 404:
            return StripeNotFoundError(message, **kwargs)
        return StripeInvalidRequestError(message, **kwargs)
    if isinstance(exc, stripe.RateLimitError) or status == 429:
        return StripeRateLimitError(message, **kwargs)
    if isinstance(exc, stripe.APIConnectionError) and cut_mid_reply(exc):
        where = base or os.environ.get("STRIPE_API_BASE") or stripe.DEFAULT_API_BASE
        return StripeUnavailableError(f"the connection to the Stripe API at {where} broke in the middle of a reply "
                                      "(still failing after retries); try again", **kwargs)
    if isinstance(exc, stripe.APIConnectionError):
        return StripeUnavailableError(unreachable_message(exc, base), **kwargs)
    if (isinstance(exc, stripe.APIError) and status >= 500) or status >= 500:
        return StripeUnavailableError(f"Stripe is unavailable: {message}", **kwargs)
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return StripeApiError(f"Stripe refused the API key: {message}", **kwargs)
    return StripeApiError(message, **kwargs)


class StripeReader:
    """Reads a case's Stripe data through one StripeClient.

    Every request goes through :meth:`call`, which counts it and translates errors.
    """

    def __init__(self, client: stripe.StripeClient, *, concurrency: int = 16, rate_limit_retries: int = 4,
                 backoff: float = 0.25, max_pages: int = MAX_PAGES) -> None:
        self.client = client
        self.api_base = api_base(client)
        self.max_pages = max_pages
        #: Lists cut at the page cap while Stripe had more (see :meth:`list_all`), for the record.
        self.truncated: list[dict[str, Any]] = []
        self.concurrency = concurrency
        self.rate_limit_retries = rate_limit_retries
        self.backoff = backoff
        self.request_count = 0
        self._lock = threading.Lock()

    # --- the one wrapper ------------------------------------------------------------
    def call(self, fn: Callable[[], T]) -> T:
        """Run one Stripe request: counted, and its error translated into ours.

        The SDK retries connection errors, 409s and 5xx (``max_network_retries``) but not
        429s; every request here only reads, so a rate-limited one (or a 5xx still failing
        after the SDK's retries: a read is always safe to repeat) is retried after an
        exponential, jittered backoff (Stripe's advice), :attr:`rate_limit_retries` times.
        https://docs.stripe.com/rate-limits#handling-limiting-gracefully
        """
        for attempt in range(self.rate_limit_retries + 1):
            with self._lock:
                self.request_count += 1
            try:
                return fn()
            except stripe.StripeError as exc:
                ours = translate(exc, self.api_base)
                retry = isinstance(ours, StripeRateLimitError) or isinstance(ours, StripeUnavailableError) and (
                    (ours.http_status or 0) >= 500 or cut_mid_reply(exc))  # an unreachable host fails fast
                # after the SDK's retries
                if not retry or attempt == self.rate_limit_retries:
                    raise ours from exc
            time.sleep(self.backoff * (2**attempt) * (1 + random.random()))
        raise AssertionError("unreachable")  # pragma: no cover

    def _raw_page(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """One GET of a list or search endpoint as Stripe's JSON, through the client's own
        requestor (same key, version, retries, errors), without building SDK objects: for a
        page of 100 events with their data objects that construction (then ``to_dict`` back)
        was most of a case's reading CPU, and the reader only wants the dicts."""
        return cast(dict[str, Any], self.client.raw_request("get", path, **params).data)

    def list_all(self, fn: Callable[[P], Any] | str, params: P, *, max_pages: int | None = None,
                 what: str = "") -> tuple[list[dict[str, Any]], int]:
        """Every object of a list (or search) endpoint, as dicts, and the pages it took.

        ``fn`` is an SDK list/search method, or the endpoint's path (``"/v1/charges"``,
        ``"/v1/customers/search"``), read as raw JSON (:meth:`_raw_page`): the same dicts.
        The one pager of the reader: lists by ``starting_after`` on ``has_more``, searches by
        the ``next_page`` token (https://docs.stripe.com/api/pagination). It stops at
        ``max_pages`` (default :attr:`max_pages`); a list cut there while Stripe still had more is
        never silent: a note ``{"list": what, "read": n, "pages": p}`` goes to :attr:`truncated`.
        """
        limit_pages = self.max_pages if max_pages is None else max_pages
        rows: list[dict[str, Any]] = []
        current: dict[str, Any] = dict(cast(dict[str, Any], params))
        pages = 0
        while True:
            token: Any = None
            if isinstance(fn, str):
                raw = self.call(lambda p=current, path=fn: self._raw_page(path, p))
                data = [cast(dict[str, Any], o) for o in raw.get("data") or []]
                has_more = bool(raw.get("has_more"))
                token = raw.get("next_page") if raw.get("object") == "search_result" else None
            else:
                page = self.call(lambda p=current: fn(cast(P, p)))
                data = [cast(dict[str, Any], o.to_dict(for_json=True)) for o in page.data]
                has_more = bool(page.has_more)
                # A search result carries its next page's token in the JSON; on a list object
                # ``next_page`` is the SDK's auto-paging method (always truthy), never a token.
                token = page.next_page if isinstance(page, stripe.SearchResultObject) else None
            pages += 1
            rows.extend(data)
            if not has_more or not data:
                return rows, pages
            if pages >= limit_pages:
                with self._lock:
                    self.truncated.append({"list": what or (fn if isinstance(fn, str) else getattr(fn, "__qualname__", "list")),
                                           "read": len(rows), "pages": pages})
                return rows, pages
            if isinstance(token, str) and token:
                current = {**current, "page": token}
            else:
                current = {**current, "starting_after": data[-1]["id"]}

    # --- lookup ---------------------------------------------------------------------
    def _by_email(self, email: str) -> list[dict[str, Any]]:
        """Every customer with this email in any letter case, in one concurrent wave:
        ``customers.list(email=)`` is exact and case-sensitive but sees new customers at once;
        ``customers.search`` ignores case but its index lags up to a minute."""
        expand = [f"data.{e}" for e in CUSTOMER_EXPAND]
        query = "email:" + search_literal(email)
        got = run_wave({
            "list": lambda: self.list_all("/v1/customers", {"email": email, "limit": 100, "expand": expand}),
            "search": lambda: self.list_all("/v1/customers/search", {"query": query, "limit": 100, "expand": expand}),
        }, self.concurrency)
        rows = got["list"][0] + [c for c in got["search"][0] if c["id"] not in {r["id"] for r in got["list"][0]}]
        return [c for c in rows if not c.get("deleted") and str(c.get("email") or "").lower() == email.lower()]

    def _retrieve_expanded(self, service: Any, value: str, expand: list[str], fallback: list[str]) -> dict[str, Any]:
        """Retrieve with ``expand``; a deleted customer (a stub without ``test_clock`` or
        ``invoice_settings``) can make Stripe refuse those expansions, so on an ``expand``
        error it is asked again with ``fallback`` only."""
        try:
            return cast(dict[str, Any], self.call(lambda: service.retrieve(value, {"expand": expand})).to_dict(for_json=True))
        except StripeInvalidRequestError as exc:
            if exc.param != "expand":
                raise
        return cast(dict[str, Any], self.call(lambda: service.retrieve(value, {"expand": fallback})).to_dict(for_json=True))

    def _named_customer(self, kind: str, value: str) -> dict[str, Any] | None:
        v1 = self.client.v1
        if kind == "customer":
            obj = self._retrieve_expanded(v1.customers, value, CUSTOMER_EXPAND, [])
            if obj.get("deleted"):
                raise LookupNotFoundError(f"customer {value} has been deleted in Stripe")
            return obj
        expand = ["customer"] + [f"customer.{e}" for e in CUSTOMER_EXPAND]
        fallback = ["customer"]
        if kind == "payment_intent":  # a guest payment's billing email is on its charge
            expand, fallback = expand + ["latest_charge"], fallback + ["latest_charge"]
        services: dict[str, Any] = {
            "subscription": v1.subscriptions, "invoice": v1.invoices, "charge": v1.charges,
            "payment_intent": v1.payment_intents, "checkout_session": v1.checkout.sessions,
        }
        obj = self._retrieve_expanded(services[kind], value, expand, fallback)
        customer = obj.get("customer")
        if isinstance(customer, dict) and customer.get("deleted"):
            raise LookupNotFoundError(f"the customer of {kind.replace('_', ' ')} {value} ({customer.get('id')}) "
                                      "has been deleted in Stripe")
        if isinstance(customer, dict):
            return cast(dict[str, Any], customer)
        email = ((obj.get("customer_details") or {}).get("email")) if kind == "checkout_session" else None
        if email:  # a guest checkout: the session knows the email only
            found = self._by_email(email)
            return found[0] if found else None
        if kind in ("charge", "payment_intent"):
            raise LookupNotFoundError(self._guest_payment(kind, value, obj))
        return None

    def _guest_payment(self, kind: str, value: str, obj: dict[str, Any]) -> str:
        """Why a payment made without a customer (a guest payment: no ``customer``) cannot open a
        case, and what the analyst can do: a case reads a customer's subscriptions, invoices and
        charges, and a guest payment is on none of them. Its ``receipt_email`` or
        ``billing_details.email`` may belong to a customer (named by id, never the email)."""
        charge = obj if kind == "charge" else obj.get("latest_charge")
        charge = charge if isinstance(charge, dict) else {}
        email = obj.get("receipt_email") or charge.get("receipt_email") or (charge.get("billing_details") or {}).get("email")
        what = f"{kind.replace('_', ' ')} {value} is a guest payment: it has no customer in Stripe"
        if not email:
            return (f"{what}, and no receipt or billing email; look the case up by the email or customer id the "
                    "person gives, or refund the payment itself (it is on no customer's case)")
        found = self._by_email(str(email))
        if found:
            return (f"{what}; its receipt email belongs to customer {found[0]['id']}: look the case up by that id "
                    "(the guest payment is not on that customer: refund it on the payment itself)")
        return (f"{what}, and no customer has its receipt email; refund the payment itself, or look the case up by "
                "the email or customer id the person gives")

    def named_customers(self, lookup: str) -> tuple[str, list[dict[str, Any]]]:
        """The lookup's first step only: its kind and the customers it names (for an email,
        every customer with that email), without the wave for others sharing their email."""
        kind = lookup_kind(lookup)
        value = lookup.strip()
        shown = {"email": "that email address", "metadata": "that metadata"}.get(kind, value)
        try:
            if kind == "email":
                found = self._by_email(value)
            elif kind == "metadata":
                key, _, val = value[len("metadata:"):].partition("=")
                query = f"metadata['{key}']:{search_literal(val)}"
                found, _ = self.list_all("/v1/customers/search", {"query": query, "limit": 100, "expand": [f"data.{e}" for e in CUSTOMER_EXPAND]})
            else:
                named = self._named_customer(kind, value)
                found = [named] if named else []
        except StripeNotFoundError as exc:
            raise LookupNotFoundError(f"no {kind.replace('_', ' ')} {shown} in Stripe ({exc})") from exc
        if not found:
            raise LookupNotFoundError(f"no customer found for {shown}")
        return kind, found

    def sharing_emails(self, customers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Other customers sharing these customers' emails (any letter case), one concurrent wave."""
        emails = sorted({c["email"].lower() for c in customers if c.get("email")})
        got = run_wave({e: (lambda e=e: (self._by_email(e), 1)) for e in emails}, self.concurrency)
        known = {c["id"] for c in customers}
        others: list[dict[str, Any]] = []
        for email in emails:
            for c in got[email][0]:
                if c["id"] not in known:
                    known.add(c["id"])
                    others.append(c)
        return others

    def resolve_customers(self, lookup: str) -> tuple[str, list[dict[str, Any]]]:
        """The lookup's kind and its customer objects (the named one first, unordered otherwise)."""
        kind, found = self.named_customers(lookup)
        if kind != "email":
            found += self.sharing_emails(found)
        return kind, found

    def resolve(self, lookup: str) -> Resolution:
        """Resolve a lookup to its customers, primary first (the most recently active)."""
        start = self.request_count
        kind, customers = self.resolve_customers(lookup)
        subs: dict[str, list[dict[str, Any]]] = {}
        if len(customers) > 1 and kind in ("email", "metadata"):  # an id lookup pins its own customer
            jobs = {c["id"]: (lambda cid=c["id"]: self.list_all(self.client.v1.subscriptions.list, {"customer": cid, "status": "all", "limit": 100})) for c in customers}
            subs = {cid: rows for cid, (rows, _) in run_wave(jobs, self.concurrency).items()}
        ordered = order_customers(kind, customers, subs)
        return Resolution(kind, tuple(c["id"] for c in ordered), tuple(ordered), self.request_count - start)

    # --- single objects ---------------------------------------------------------------
    def retrieve(self, obj_id: str) -> dict[str, Any]:
        """Fresh copy of one object by id (for guards that check a target has not changed)."""
        v1 = self.client.v1
        prefix = obj_id.split("_", 1)[0]
        services: dict[str, Any] = {
            "cus": v1.customers, "sub": v1.subscriptions, "in": v1.invoices, "ch": v1.charges,
            "pi": v1.payment_intents, "cs": v1.checkout.sessions, "re": v1.refunds, "cn": v1.credit_notes,
            "du": v1.disputes, "dp": v1.disputes, "pm": v1.payment_methods, "price": v1.prices, "prod": v1.products,
            "clock": v1.test_helpers.test_clocks, "si": v1.subscription_items, "evt": v1.events,
            "txr": v1.tax_rates,
        }
        service = v1.subscription_schedules if obj_id.startswith("sub_sched_") else services.get(prefix)
        if service is None:
            raise MalformedIdError(f"cannot retrieve an object with prefix {prefix + '_'!r}")
        return cast(dict[str, Any], self.call(lambda: service.retrieve(obj_id)).to_dict(for_json=True))

    def price_with_tiers(self, price_id: str) -> dict[str, Any]:
        """One price with its ``tiers`` (not included by default: "To include it in the response,
        expand the tiers field"). A subscription list cannot reach them (``data.items.data.price.tiers``
        is five levels, over Stripe's four), and prices.list has no ``ids`` filter, so a tiered
        price is retrieved on its own."""
        return self.price_expanded(price_id, ["tiers"])

    def price_expanded(self, price_id: str, expand: list[str]) -> dict[str, Any]:
        """One price with fields Stripe includes only when expanded: ``tiers``, ``currency_options``
        (a multi-currency price's per-currency amounts) and an option's tiers
        (``currency_options.eur.tiers``); see :func:`billing_nb.reading.prices.price_reads`."""
        return cast(dict[str, Any], self.call(
            lambda: self.client.raw_request("get", f"/v1/prices/{price_id}", expand=list(expand)).data))

    def coupon_with_options(self, coupon_id: str) -> dict[str, Any]:
        """One coupon with its ``currency_options`` (an ``amount_off`` per currency, not included by
        default; five levels below a subscription list's ``data.discounts.source.coupon``)."""
        return cast(dict[str, Any], self.call(
            lambda: self.client.raw_request("get", f"/v1/coupons/{coupon_id}", expand=["currency_options"]).data))

    def preview_credit_note(self, invoice_id: str, refund_amount: int) -> dict[str, Any]:
        """Stripe's own credit note preview for refunding ``refund_amount`` of a paid invoice."""
        return cast(dict[str, Any], self.call(
            lambda: self.client.v1.credit_notes.preview(
                {"invoice": invoice_id, "amount": refund_amount, "refund_amount": refund_amount})
        ).to_dict(for_json=True))

    def preview_balance_credits(self, credits: list[list[Any]]) -> dict[str, Any]:
        """Stripe's credit note previews crediting the customer's balance (``credit_amount``, no refund)
        on each ``[invoice_id, amount]``: what Stripe would write for a period the balance paid."""
        data = [cast(dict[str, Any], self.call(
            lambda inv=str(inv), amount=int(amount): self.client.v1.credit_notes.preview(
                {"invoice": inv, "amount": amount, "credit_amount": amount})).to_dict(for_json=True))
            for inv, amount in credits if int(amount) > 0]
        return {"object": "list", "data": data}

    def preview_invoice(self, subscription_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """``invoices.create_preview`` for a subscription change (``subscription_details``, ...)."""
        merged = cast(Any, {"subscription": subscription_id, **params})
        return cast(dict[str, Any], self.call(lambda: self.client.v1.invoices.create_preview(merged)).to_dict(for_json=True))
