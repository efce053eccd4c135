"""Lists and searches longer than one page are read whole (the defect: page 2 was asked for with
the first page written into its URL, because a list object's ``next_page`` is a bound method).

Stripe paginates lists with ``starting_after`` and ``has_more``
(https://docs.stripe.com/api/pagination) and search results with the ``next_page`` token
(https://docs.stripe.com/api/pagination/search).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe

from billing_nb.config import API_VERSION
from billing_nb.reading.provider import StripeReader
from billing_nb.sandbox.server import ThreadedSandbox


@pytest.fixture(scope="module")
def client() -> Iterator[stripe.StripeClient]:
    with ThreadedSandbox() as sb:
        yield stripe.StripeClient("sk_test_pages", base_addresses={"api": sb.url}, stripe_version=API_VERSION)


def test_a_list_and_a_search_of_250_objects_are_read_whole(client: stripe.StripeClient) -> None:
    with ThreadPoolExecutor(8) as pool:
        made = set(pool.map(lambda i: client.v1.customers.create({"email": "many@example.com", "name": f"N{i}"}).id,
                            range(250)))
    reader = StripeReader(client)
    rows, pages = reader.list_all(client.v1.customers.list, {"limit": 100})
    assert {r["id"] for r in rows} == made and len(rows) == 250
    assert pages == 3
    found, search_pages = reader.list_all(client.v1.customers.search, {"query": "email:'many@example.com'", "limit": 100})
    assert {r["id"] for r in found} == made
    assert search_pages == 3


# --- every list kind a case snapshot reads, 250+ objects each --------------------------------------
N = 260


@pytest.fixture(scope="module")
def big(client: stripe.StripeClient) -> tuple[str, dict[str, int]]:
    """One customer with N subscriptions (so N invoices, charges and payment intents), N refunds,
    N credit notes and N checkout sessions, created concurrently through the public SDK."""
    v1 = client.v1
    cus = v1.customers.create({"email": "big.account@example.com", "name": "Big Account"}).id
    pm = v1.payment_methods.attach("pm_card_visa", {"customer": cus}).id
    v1.customers.update(cus, {"invoice_settings": {"default_payment_method": pm}})
    prod = v1.products.create({"name": "Seat"}).id
    price = v1.prices.create({"product": prod, "unit_amount": 1000, "currency": "usd",
                              "recurring": {"interval": "month"}}).id
    with ThreadPoolExecutor(8) as pool:
        subs = list(pool.map(lambda _: v1.subscriptions.create(
            {"customer": cus, "items": [{"price": price}], "expand": ["latest_invoice"]}), range(N)))
        invoices = [s.latest_invoice for s in subs]
        list(pool.map(lambda inv: v1.credit_notes.create(
            {"invoice": inv.id, "amount": 100, "credit_amount": 100}), invoices))
        charges = [c.id for c in v1.charges.list({"customer": cus, "limit": 100}).auto_paging_iter()]
        list(pool.map(lambda ch: v1.refunds.create({"charge": ch, "amount": 50}), charges))
        list(pool.map(lambda _: v1.checkout.sessions.create({
            "customer": cus, "mode": "subscription", "line_items": [{"price": price, "quantity": 1}],
            "success_url": "https://example.com/ok"}), range(N)))
    return cus, {"charges": len(charges)}


def test_every_list_of_a_case_is_read_whole(client: stripe.StripeClient, big: tuple[str, dict[str, int]]) -> None:
    from billing_nb.reading.waves import build_snapshot

    cus, made = big
    assert made["charges"] == N
    snap = build_snapshot(StripeReader(client), cus)
    for kind in ("subscriptions", "invoices", "charges", "payment_intents", "refunds", "credit_notes",
                 "checkout_sessions"):
        assert len(snap.of(kind)) == N, kind
        assert len({o["id"] for o in snap.of(kind)}) == N, kind
    # nothing here for events to explain (one-seat paid subscriptions): not read, nothing cut
    assert not snap.extra["events_read"] and snap.extra["truncated"] == []


def test_a_list_cut_at_the_page_cap_is_reported_in_the_record(client: stripe.StripeClient,
                                                             big: tuple[str, dict[str, int]]) -> None:
    from billing_nb.analysis.identify import identify
    from billing_nb.reading.waves import build_snapshot

    cus, _ = big
    snap = build_snapshot(StripeReader(client, max_pages=1), cus)
    cut = {n["list"]: n for n in snap.extra["truncated"]}
    for what in ("subscriptions", "invoices", "charges", "checkout sessions", "credit notes"):
        assert cut[f"{what} of {cus}"] == {"list": f"{what} of {cus}", "read": 100, "pages": 1}
    assert len(snap.of("invoices")) == 100
    summary = identify(snap)
    assert summary.billing_state()["truncated"] == snap.extra["truncated"]


class _Obj(dict):  # what list_all reads of an SDK object
    def to_dict(self, for_json: bool = False) -> dict:
        return dict(self)


def _pager(rows: list[dict]):
    def list_(params: dict, *rest: dict) -> object:
        params = rest[0] if rest else params  # invoices.line_items.list(invoice, params)
        ids = [r["id"] for r in rows]
        start = ids.index(params["starting_after"]) + 1 if "starting_after" in params else 0
        page = rows[start:start + params["limit"]]
        from types import SimpleNamespace
        return SimpleNamespace(data=[_Obj(r) for r in page], has_more=start + len(page) < len(rows))
    return list_


def test_embedded_lists_cut_by_stripe_are_read_to_the_end() -> None:
    """Stripe embeds at most 10 of a charge's refunds or an invoice's lines (``has_more`` true, the
    rest behind the sublist's own URL: https://docs.stripe.com/api/charges/object#charge_object-refunds,
    https://docs.stripe.com/api/invoices/line_item); the reader reads the rest from where it stopped."""
    from types import SimpleNamespace

    from billing_nb.reading.concurrency import run_wave
    from billing_nb.reading.waves import _complete, _rest_of_sublists

    refunds = [{"id": f"re_{i:03d}", "charge": "ch_1"} for i in range(130)]
    lines = [{"id": f"il_{i:03d}"} for i in range(115)]
    v1 = SimpleNamespace(refunds=SimpleNamespace(list=_pager(refunds)),
                         invoices=SimpleNamespace(line_items=SimpleNamespace(list=_pager(lines))),
                         invoice_payments=SimpleNamespace(list=_pager([])))
    reader = StripeReader(SimpleNamespace(v1=v1))  # type: ignore[arg-type]
    charge = {"id": "ch_1", "refunds": {"data": refunds[:10], "has_more": True}}
    invoice = {"id": "in_1", "lines": {"data": lines[:10], "has_more": True}, "payments": {"data": [], "has_more": False}}
    jobs = _rest_of_sublists(reader, [charge], [invoice])
    assert set(jobs) == {("refunds", "ch_1"), ("lines", "in_1")}
    got = run_wave(jobs, 4)
    assert [r["id"] for r in got[("refunds", "ch_1")][0]] == [r["id"] for r in refunds[10:]]
    _complete([invoice], "in_1", "lines", got[("lines", "in_1")][0])
    assert [x["id"] for x in invoice["lines"]["data"]] == [x["id"] for x in lines] and not invoice["lines"]["has_more"]
    assert reader.truncated == []
