"""The snapshot's request plan: three concurrent waves from the lookup's first request.

Each wave is a set of independent requests issued at once on a thread pool; a wave starts
when what it needs has arrived. Per customer, the lists are:

- ``subscriptions.list(customer, status=all)`` expanding ``data.default_payment_method``,
  ``data.discounts.source.coupon`` (four levels, Stripe's limit: a forever coupon counts in MRR) and
  ``data.schedule`` (the subscription schedule that manages it: its phases say what the
  subscription becomes and whether it ends, collapsed into ``subscription_schedules``);
  (a subscription item's ``price`` is always a whole object, not an expandable field);
- ``invoices.list(customer)`` expanding ``data.payments`` (includable: the invoice payments
  that link an invoice to its payment intent) and ``data.amount_paid_off_stripe`` (includable:
  what was paid outside Stripe, e.g. a bank transfer marked paid out of band; changelog
  2026-05-27.dahlia); lines are part of the invoice object;
- ``charges.list(customer)`` expanding ``data.refunds`` (not included by default since
  2022-11-15) and ``data.payment_intent`` -- this replaces separate refund and
  payment-intent lists (refunds have no customer filter at all);
- ``checkout.sessions.list(customer)``;

and once for the account: ``billing_portal.configurations.list``, and -- in wave 3, only when
the lists show something events explain (:func:`events_needed`) -- ``events.list`` (one page
of the newest events of the types a case reads, from the last 30 days before the customers'
test clock -- Stripe has no customer filter on events -- filtered here to the case's objects;
``extra["events_read"]`` says whether they were read, ``extra["events_page_full"]`` when older
ones may be missing).

========  ===============================================================================
wave      requests
========  ===============================================================================
1         the lookup (:meth:`StripeReader.named_customers`: email list + search, a
          retrieve, or a metadata search); a ``cus_`` lookup names its customer, so that
          customer's lists and the portal configurations go in this wave too
2         the email wave (others sharing the named customers' emails; not for an email
          lookup, which is one already), the lists not yet made
3         what the lists revealed: ``events.list`` when :func:`events_needed`, ``products.list(ids=)`` for the products of the
          subscriptions, live or ended (product metadata may mark a per-seat product, and
          the product's name is the plan's name on every page, an incomplete or canceled
          one too; a fifth expand level to reach it is not allowed), ``disputes.list(charge=)`` per disputed
          charge, ``credit_notes.list(customer=)`` for customers with credit-note amounts
          or refunds, ``prices.retrieve(expand=[tiers])`` per tiered price on the subscriptions
          (Stripe includes ``tiers`` only when expanded, and ``data.items.data.price.tiers`` is
          five levels; none in an ordinary case), ``prices.retrieve(expand=[currency_options])``
          per price a subscription bills in another currency than the price's default (a
          multi-currency price: the subscription pays that currency's option) and
          ``coupons.retrieve(expand=[currency_options])`` per ``amount_off`` coupon in another
          currency (none in an ordinary case), and the caller's ``previews`` (Stripe's previews for the refund
          options, computed by :mod:`billing_nb.records` from the snapshot so far)
========  ===============================================================================

A customer found only in wave 2 (an id lookup whose email is shared) has its lists in
one more wave, before wave 3. A plan changed and changed back since the newest invoice
(Stripe's cancel preview shows its pending prorations, or the events show the change) has the
customer's pending invoice items, and the events if not read, in one more wave after it. Payment methods arrive expanded on the customer and the
subscriptions; test clocks on the customer. Expanded objects are collapsed back to ids in
their parent and stored under their own kind, so every later step reads ids and looks
objects up in the snapshot. Nothing is fetched twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from .snapshot import CaseSnapshot, from_ts

from .concurrency import Rows, run_jobs
from .lookup import lookup_kind, order_customers
from .objects import line_is_proration, line_price, line_subscription_item
from .prices import (coupon_ids_needing_options, price_reads, subscription_currency, subscription_discounts,
                     with_coupon_options, with_price_details)
from .provider import StripeReader
from .rows import invoice_subscription, obj_id

__all__ = ["build_snapshot", "EVENT_TYPES", "PENDING_SEEN", "PreviewJobs", "events_needed"]

#: The caller's third-wave jobs: given the snapshot so far (every list in, products, disputes
#: and credit notes not yet), independent requests whose results (dicts) are merged into
#: ``extra["stripe_figures"]`` -- e.g. Stripe's previews of the refund options.
PreviewJobs = Callable[[CaseSnapshot], dict[str, Callable[[], dict[str, Any]]]]
#: A preview job's result key (popped, not a figure): true when Stripe's preview showed invoice
#: items pending from an earlier change that the lists did not reveal.
PENDING_SEEN = "_pending_seen"


#: Event types a case reads (Stripe's ``types`` filter takes up to 20): cancellation
#: requests, payment-method updates (gaps), failures, disputes and checkout outcomes --
#: not the high-volume ``invoice.paid``/``*.created`` noise that would crowd them out.
EVENT_TYPES = [
    "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
    "customer.updated", "payment_method.attached", "setup_intent.succeeded",
    "invoice.payment_failed", "invoice.payment_action_required", "charge.failed", "charge.refunded",
    "charge.dispute.created", "checkout.session.completed", "checkout.session.expired",
    "billing_portal.session.created", "credit_note.created",
]
#: Stripe keeps events for 30 days; older ones cannot be listed anyway.
EVENT_WINDOW = 30 * 86400


def _collapse(obj: dict[str, Any], key: str, sink: list[dict[str, Any]]) -> None:
    value = obj.get(key)
    if isinstance(value, dict) and "id" in value:
        sink.append(value)
        obj[key] = value["id"]


def _unique(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(str(row.get("id")), row)
    return list(seen.values())


def _touches(event: dict[str, Any], ids: set[str]) -> bool:
    obj = (event.get("data") or {}).get("object") or {}
    return obj.get("id") in ids or obj.get("customer") in ids


def _products_needed(subs: list[dict[str, Any]]) -> bool:
    """Whether the products are read: any subscription. A live one's product metadata tells seats from
    duplicates (and marks a per-seat product even at quantity 1); every one's product name is the
    plan's name in the evidence, the page and the record (an incomplete or canceled subscription
    showed its price's nickname, ``pro-month``, or the product id without it)."""
    return bool(subs)


#: Subscription statuses with nothing unusual for the events to explain.
_QUIET_STATUSES = ("active", "trialing")


def events_needed(objects: dict[str, list[dict[str, Any]]]) -> bool:
    """Whether any step reads the case's events, decided from the lists.

    Events say when a cancellation was asked for (a subscription canceled or set to end), how
    seats and plans moved (a quantity above one now or on an invoice, a proration, a price not
    the one first invoiced), and whether the card was updated after a failure (a payment that
    failed, an invoice left unpaid). A case with none of these -- live subscriptions of one seat
    each, on their first price, every invoice paid -- has nothing for them to explain, and
    Stripe's events cannot be filtered by customer (a busy account's newest page is mostly other
    customers'): such a case does not read them. A change undone before any invoice leaves
    prorations pending, which Stripe's preview of a cancel shows (:data:`PENDING_SEEN`): then the
    events are read after all. Only a change undone with no money effect at all goes unseen.
    """
    for sub in objects.get("subscriptions") or []:
        if (sub.get("status") not in _QUIET_STATUSES or sub.get("cancel_at_period_end") or sub.get("cancel_at")
                or sub.get("canceled_at") or sub.get("schedule") or sub.get("pause_collection")):
            return True
        items = ((sub.get("items") or {}).get("data")) or []
        if len(items) > 1 or any(int(i.get("quantity") or 0) > 1 for i in items):
            return True
        invoiced = sorted((inv for inv in objects.get("invoices") or [] if invoice_subscription(inv) == sub.get("id")),
                          key=lambda inv: (int(inv.get("created") or 0), str(inv.get("id"))))
        if invoiced:
            billed = {line_price(ln) for ln in ((invoiced[0].get("lines") or {}).get("data") or [])}
            if any(obj_id(i.get("price")) not in billed for i in items):
                return True  # a plan change since the first invoice
    for inv in objects.get("invoices") or []:
        if inv.get("status") in ("open", "uncollectible") or int(inv.get("attempt_count") or 0) > 1:
            return True
        for line in ((inv.get("lines") or {}).get("data") or []):
            if line_is_proration(line) or int(line.get("quantity") or 0) > 1:
                return True
    if any(charge.get("status") == "failed" for charge in objects.get("charges") or []):
        return True
    return any(pi.get("last_payment_error") or pi.get("status") in ("requires_payment_method", "requires_action")
               for pi in objects.get("payment_intents") or [])


def _changed_since_invoiced(cid: str, objects: dict[str, list[dict[str, Any]]]) -> bool:
    """Whether a live subscription of ``cid`` differs from what its newest invoice billed: an
    item added, or one whose price or quantity is not what a regular (non-proration) line of
    that invoice billed, or an event of the period changing its items. Only such a change can
    leave proration invoice items pending (a plain renewal bills what the subscription holds)."""
    for sub in objects.get("subscriptions") or []:
        if str(sub.get("customer")) != cid or sub.get("status") not in ("active", "trialing", "past_due", "unpaid"):
            continue
        invoices = sorted((inv for inv in objects.get("invoices") or [] if invoice_subscription(inv) == sub.get("id")
                           and any(not line_is_proration(ln) for ln in ((inv.get("lines") or {}).get("data") or []))),
                          key=lambda inv: (int(inv.get("created") or 0), str(inv.get("id"))))
        if not invoices:
            continue  # nothing billed yet (a trial): nothing to prorate against
        billed = {(line_subscription_item(ln), line_price(ln), int(ln.get("quantity") or 0))
                  for ln in ((invoices[-1].get("lines") or {}).get("data") or []) if not line_is_proration(ln)}
        for item in ((sub.get("items") or {}).get("data") or []):
            price = item.get("price")
            key = (item.get("id"), obj_id(price), int(item.get("quantity") or 0))
            if key not in billed:
                return True
        since = int(invoices[-1].get("created") or 0)
        for ev in objects.get("events") or []:
            obj = (ev.get("data") or {}).get("object") or {}
            prev = (ev.get("data") or {}).get("previous_attributes") or {}
            if (ev.get("type") == "customer.subscription.updated" and obj.get("id") == sub.get("id")
                    and int(ev.get("created") or 0) >= since and _items_changed(obj, prev)):
                return True
    return False


def _items_changed(obj: dict[str, Any], prev: dict[str, Any]) -> bool:
    """Whether an update changed what is billed: an item added or removed, or an item's price or
    quantity. A renewal's update names ``items`` too (the periods live on them), with only the
    fields that changed, so only a price or quantity there, or a different item count, counts."""
    if "quantity" in prev or "plan" in prev:
        return True
    if not isinstance(prev.get("items"), dict):
        return False  # not named, or named without what it was: no sign of a change in what is billed
    before = [i for i in ((prev.get("items") or {}).get("data") or []) if isinstance(i, dict)]
    now = [i for i in ((obj.get("items") or {}).get("data") or []) if isinstance(i, dict)]
    if len(before) != len(now):
        return True
    by_id = {i.get("id"): i for i in now if i.get("id")}
    for at, old in enumerate(before):
        cur = by_id.get(old.get("id")) if old.get("id") else now[at]
        if cur is None:
            return True
        if "price" in old and obj_id(old.get("price")) != obj_id(cur.get("price")):
            return True
        if "quantity" in old and int(old.get("quantity") or 0) != int(cur.get("quantity") or 0):
            return True
    return False


def _list_jobs(reader: StripeReader, cid: str) -> dict[tuple[str, str], Callable[[], Rows]]:
    return {
        ("subscriptions", cid): lambda: reader.list_all("/v1/subscriptions", {
            "customer": cid, "status": "all", "limit": 100,
            "expand": ["data.default_payment_method", "data.discounts.source.coupon", "data.schedule"]},
            what=f"subscriptions of {cid}"),
        ("invoices", cid): lambda: reader.list_all("/v1/invoices", {
            "customer": cid, "limit": 100, "expand": ["data.payments", "data.amount_paid_off_stripe"]},
            what=f"invoices of {cid}"),
        ("charges", cid): lambda: reader.list_all("/v1/charges", {
            "customer": cid, "limit": 100, "expand": ["data.refunds", "data.payment_intent"]}, what=f"charges of {cid}"),
        ("checkout_sessions", cid): lambda: reader.list_all("/v1/checkout/sessions", {"customer": cid, "limit": 100},
                                                            what=f"checkout sessions of {cid}"),
    }


def _pending_items_job(reader: StripeReader, cid: str) -> Callable[[], Rows]:
    """A customer's pending invoice items (prorations waiting for the next invoice)."""
    return lambda: reader.list_all("/v1/invoiceitems", {"customer": cid, "pending": True, "limit": 100},
                                   what=f"pending invoice items of {cid}")


def _rest_of_sublists(reader: StripeReader, charges: list[dict[str, Any]],
                      invoices: list[dict[str, Any]]) -> dict[tuple[str, str], Callable[[], Rows]]:
    """The rest of every embedded list Stripe cut (``has_more`` on a charge's refunds, an
    invoice's lines or payments), read through the same pager from where it stopped."""
    v1 = reader.client.v1
    jobs: dict[tuple[str, str], Callable[[], Rows]] = {}

    def after(sub: dict[str, Any]) -> dict[str, Any]:
        data = sub.get("data") or []
        return {"starting_after": data[-1]["id"]} if data else {}

    for ch in charges:
        sub = ch.get("refunds") or {}
        if isinstance(sub, dict) and sub.get("has_more"):
            jobs[("refunds", ch["id"])] = lambda c=ch["id"], a=after(sub): reader.list_all(
                v1.refunds.list, cast(Any, {"charge": c, "limit": 100, **a}), what=f"refunds of {c}")
    for inv in invoices:
        lines = inv.get("lines") or {}
        if isinstance(lines, dict) and lines.get("has_more"):
            jobs[("lines", inv["id"])] = lambda i=inv["id"], a=after(lines): reader.list_all(
                lambda p, i=i: v1.invoices.line_items.list(i, cast(Any, p)), cast(Any, {"limit": 100, **a}),
                what=f"lines of {i}")
        pays = inv.get("payments") or {}
        if isinstance(pays, dict) and pays.get("has_more"):
            jobs[("payments", inv["id"])] = lambda i=inv["id"], a=after(pays): reader.list_all(
                v1.invoice_payments.list, cast(Any, {"invoice": i, "limit": 100, **a}), what=f"payments of {i}")
    return jobs


def _complete(invoices: list[dict[str, Any]], invoice_id: str, key: str, rows: list[dict[str, Any]]) -> None:
    """Append the rest of an invoice's lines/payments to its embedded list, now whole."""
    for inv in invoices:
        if inv.get("id") == invoice_id and isinstance(inv.get(key), dict):
            inv[key]["data"] = list(inv[key].get("data") or []) + rows
            inv[key]["has_more"] = False


class _Gather:
    """The waves' bookkeeping: what has been fetched, how many waves and requests it took."""

    def __init__(self, reader: StripeReader) -> None:
        self.reader = reader
        self.start = reader.request_count
        self.waves = 0
        self.wave_requests: list[int] = []
        self.got: dict[tuple[str, str], Rows] = {}

    def wave(self, jobs: dict[Any, Callable[[], Any]]) -> dict[Any, Any]:
        if not jobs:
            return {}
        before = self.reader.request_count
        results = run_jobs(jobs, self.reader.concurrency)
        pages = [r[1] for k, r in results.items() if isinstance(k, tuple) and isinstance(r, tuple)]
        self.waves += max([1, *pages])
        self.wave_requests.append(self.reader.request_count - before)
        for key, value in results.items():
            if isinstance(key, tuple):
                self.got[key] = value
        return results


#: Lookup kinds that name one billing object (not a customer): the plan narrows to it.
_OBJECT_LOOKUPS = ("subscription", "invoice", "charge", "payment_intent")


def build_snapshot(reader: StripeReader, lookup: str, *, previews: PreviewJobs | None = None) -> CaseSnapshot:
    """Resolve the lookup and fetch everything in three concurrent waves (module docstring)."""
    g = _Gather(reader)
    noted = len(reader.truncated)
    kind = lookup_kind(lookup)
    # --- wave 1: the lookup; a cus_ lookup's own lists ride along ------------------------
    first: dict[Any, Callable[[], Any]] = {"lookup": lambda: reader.named_customers(lookup)}
    if kind == "customer":
        first.update(_list_jobs(reader, lookup.strip()))
        first[("portal_configurations", "")] = lambda: reader.list_all("/v1/billing_portal/configurations", {"limit": 100},
                                                                       what="portal configurations")
    got = g.wave(first)
    kind, customers = got["lookup"]
    # the lookup's own requests: wave 1 less the lists that rode along
    named_requests = g.wave_requests[0] - sum(pages for _, pages in g.got.values())
    # --- wave 2: others sharing the email, the remaining lists, events ------------------
    objects: dict[str, list[dict[str, Any]]] = {"payment_methods": [], "test_clocks": [], "payment_intents": [], "discounts": [],
                                             "subscription_schedules": []}

    def take(custs: list[dict[str, Any]]) -> None:
        for cust in custs:
            _collapse(cust, "test_clock", objects["test_clocks"])
            _collapse(cust.setdefault("invoice_settings", {}) or {}, "default_payment_method", objects["payment_methods"])

    take(customers)
    clocks = [int(c["frozen_time"]) for c in objects["test_clocks"] if c.get("frozen_time")]
    since = min([int(datetime.now(UTC).timestamp()), *clocks]) - EVENT_WINDOW
    second: dict[Any, Callable[[], Any]] = {}
    if kind != "email":
        second["others"] = lambda: reader.sharing_emails(customers)
    for cust in customers:
        second.update({k: j for k, j in _list_jobs(reader, cust["id"]).items() if k not in g.got})
    if ("portal_configurations", "") not in g.got:
        second[("portal_configurations", "")] = lambda: reader.list_all("/v1/billing_portal/configurations", {"limit": 100},
                                                                        what="portal configurations")
    got = g.wave(second)
    others: list[dict[str, Any]] = got.get("others", [])
    # ... plus the email wave's (a list and a search per email, one page each as a rule)
    lookup_requests = named_requests + (2 * len({str(c["email"]).lower() for c in customers if c.get("email")})
                                        if kind != "email" else 0)
    if others:  # an id lookup whose email is shared: those customers' lists, one more wave
        take(others)
        customers = customers + others
        g.wave({k: j for c in others for k, j in _list_jobs(reader, c["id"]).items()})
    ids = [c["id"] for c in customers]

    for (kind_name, _), (rows, _) in g.got.items():
        objects.setdefault(kind_name, []).extend(rows)
    for sub in objects["subscriptions"]:
        _collapse(sub, "default_payment_method", objects["payment_methods"])
        _collapse(sub, "schedule", objects["subscription_schedules"])
        discounts = sub.get("discounts") or []
        objects["discounts"].extend(d for d in discounts if isinstance(d, dict) and "id" in d)
        sub["discounts"] = [d["id"] if isinstance(d, dict) and "id" in d else d for d in discounts]
    refunds: list[dict[str, Any]] = []
    for charge in objects["charges"]:
        _collapse(charge, "payment_intent", objects["payment_intents"])
        refunds.extend(((charge.get("refunds") or {}).get("data")) or [])
    objects["refunds"] = refunds
    case_ids = set(ids) | {o["id"] for k in ("subscriptions", "invoices", "charges", "checkout_sessions") for o in objects[k]}
    objects["events"] = []

    subs_by_customer: dict[str, list[dict[str, Any]]] = {}
    for sub in objects["subscriptions"]:
        subs_by_customer.setdefault(str(sub.get("customer")), []).append(sub)
    ordered = order_customers(kind, customers, subs_by_customer)
    objects["customers"] = ordered
    for key in ("payment_methods", "test_clocks", "payment_intents", "refunds", "discounts", "subscription_schedules"):
        objects[key] = _unique(objects[key])
    fetched = datetime.now(UTC)
    clock_id = ordered[0].get("test_clock")
    clock = next((c for c in objects["test_clocks"] if c.get("id") == clock_id), None)
    now = from_ts(int(clock["frozen_time"])) if clock and clock.get("frozen_time") else fetched
    snap = CaseSnapshot(
        lookup_kind=kind, customer_ids=[c["id"] for c in ordered], objects=objects,
        fetched_at=fetched, now=now or fetched, request_count=0, waves=0,
        extra={"events_read": False, "events_page_full": False,
               # the object an id lookup named (a charge, invoice...): what the case is about
               **({"lookup_object": lookup.strip()} if kind in _OBJECT_LOOKUPS else {})},
    )

    def take_events(rows: list[dict[str, Any]]) -> None:
        objects["events"] = [e for e in rows if _touches(e, case_ids)]
        snap.extra.update({"events_read": True, "events_page_full": len(rows) >= 100})

    # --- wave 3: what the lists revealed, and the caller's previews ----------------------
    third: dict[Any, Callable[[], Any]] = {}
    if _products_needed(objects["subscriptions"]):
        products = sorted({
            str(item["price"]["product"]) for sub in objects["subscriptions"]
            for item in ((sub.get("items") or {}).get("data") or [])
            if isinstance(item.get("price"), dict) and isinstance(item["price"].get("product"), str)
        })
        for at in range(0, len(products), 100):  # ``ids`` takes up to 100 ids a request
            third[("products", str(at))] = lambda chunk=products[at:at + 100]: reader.list_all(
                "/v1/products", {"ids": chunk, "limit": 100}, what="products")
    # tiered prices, and prices billed in another currency than their default (a multi-currency
    # price's option): none in an ordinary case, no request
    for pid, expand in price_reads(objects["subscriptions"]).items():
        third[("priced", pid)] = lambda pid=pid, expand=expand: ([reader.price_expanded(pid, expand)], 1)
    by_discount = {str(d.get("id")): d for d in objects["discounts"]}
    by_customer = {str(c.get("id")): c for c in ordered}
    billed_discounts = [(found, subscription_currency(sub)) for sub in objects["subscriptions"]
                        for ref in subscription_discounts(sub, by_customer.get(str(obj_id(sub.get("customer")))))
                        for found in [ref if isinstance(ref, dict) else by_discount.get(str(ref))]
                        if isinstance(found, dict)]  # its own, else its customer's
    for cid in coupon_ids_needing_options(billed_discounts):  # an amount_off coupon in another currency
        third[("coupon_options", cid)] = lambda cid=cid: ([reader.coupon_with_options(cid)], 1)
    for charge in objects["charges"]:
        if charge.get("disputed"):
            third[("disputes", charge["id"])] = lambda ch=charge["id"]: reader.list_all(
                "/v1/disputes", {"charge": ch, "limit": 100}, what=f"disputes of {ch}")
    credited = {inv["customer"] for inv in objects["invoices"]
                if (inv.get("post_payment_credit_notes_amount") or 0) or (inv.get("pre_payment_credit_notes_amount") or 0)}
    credited |= {ch.get("customer") for ch in objects["charges"] if (ch.get("amount_refunded") or 0) > 0}
    for cid in sorted(c for c in credited if c in ids):
        third[("credit_notes", cid)] = lambda cid=cid: reader.list_all(
            "/v1/credit_notes", {"customer": cid, "limit": 100}, what=f"credit notes of {cid}")
    # pending invoice items (a change made with proration_behavior=create_prorations, not yet
    # invoiced): what the customer is owed or owes beside the paid invoices, and what a cancel
    # now would leave behind (Stripe: "still charged at the end of the period, unless manually
    # deleted", docs.stripe.com/api/subscriptions/cancel). Read for a customer whose live plan
    # changed since it was last invoiced: only such a change leaves prorations pending.
    for cid in [c["id"] for c in ordered if _changed_since_invoiced(c["id"], objects)]:
        third[("invoiceitems", cid)] = _pending_items_job(reader, cid)
    third.update(_rest_of_sublists(reader, objects["charges"], objects["invoices"]))
    events_job = lambda: reader.list_all("/v1/events", {  # noqa: E731
        "limit": 100, "types": EVENT_TYPES, "created": {"gte": since}}, max_pages=1, what="events (newest page)")
    if events_needed(objects):
        third[("events", "")] = events_job
    preview_jobs = previews(snap) if previews is not None else {}
    third.update({f"preview:{key}": job for key, job in preview_jobs.items()})
    got = g.wave(third)
    for key, value in got.items():
        if isinstance(key, tuple) and key[0] in ("lines", "payments"):
            _complete(objects["invoices"], key[1], key[0], value[0])
        elif isinstance(key, tuple) and key[0] == "priced":
            with_price_details(objects["subscriptions"], value[0])
        elif isinstance(key, tuple) and key[0] == "coupon_options":
            with_coupon_options(objects["discounts"] + [d for c in ordered for d in subscription_discounts({}, c)],
                                value[0])
        elif key == ("events", ""):
            take_events(value[0])
        elif isinstance(key, tuple):
            objects.setdefault(key[0], []).extend(value[0])
    pending_seen: set[str] = set()
    if previews is not None:
        figures: dict[str, Any] = {}
        for key in preview_jobs:
            result = dict(got[f"preview:{key}"])
            if result.pop(PENDING_SEEN, False):
                pending_seen.add(key)
            figures.update(result)
        snap.extra["stripe_figures"] = figures
    # A change undone within the period (seats up with prorations, then down) leaves prorations
    # pending that the objects alone do not show; Stripe's preview of a cancel shows them, and so
    # do the events. Those customers' pending items (and the events, if not read), one more wave:
    # rare, as the objects name every other change.
    fourth: dict[Any, Callable[[], Any]] = {}
    if pending_seen and ("events", "") not in got:
        fourth[("events", "")] = events_job
    seen_subs = {key.split(":", 1)[-1] for key in pending_seen}
    seen_customers = {str(obj_id(sub.get("customer"))) for sub in objects["subscriptions"] if sub.get("id") in seen_subs}
    late = [c["id"] for c in ordered if ("invoiceitems", c["id"]) not in got
            and (c["id"] in seen_customers or _changed_since_invoiced(c["id"], objects))]
    for cid in late:
        fourth[("invoiceitems", cid)] = _pending_items_job(reader, cid)
    for key, value in g.wave(fourth).items():
        if key == ("events", ""):
            take_events(value[0])
        else:
            objects.setdefault(key[0], []).extend(value[0])

    snap.request_count = reader.request_count - g.start
    snap.waves = g.waves
    snap.extra.update({"lookup_requests": lookup_requests, "wave_requests": g.wave_requests,
                       "truncated": [dict(n) for n in reader.truncated[noted:]]})
    return snap
