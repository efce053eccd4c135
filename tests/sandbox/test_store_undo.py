"""The scoped rollback behind ``payment_behavior=error_if_incomplete``: the store must come
back byte-identical (objects, events, key and list order), copying only what was touched.

API reference, Update a subscription (payment_behavior): "Use error_if_incomplete if you want
Stripe to return an HTTP 402 status code if a subscription's invoice cannot be paid ... this
parameter does not update the subscription and returns an error instead."
https://docs.stripe.com/api/subscriptions/update#update_subscription-payment_behavior
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import stripe
from hypothesis import example, given, settings
from hypothesis import strategies as hs
from test_b_support import clock, customer, price, set_card, subscribe
from test_state_journal import _KINDS, _orders, _run, _text

from billing_nb.sandbox.server import ThreadedSandbox
from billing_nb.sandbox.store import Store

KEY = "sk_test_undo"


def _objects(store: Store) -> str:
    """Objects (events included) and settings; the idempotency table gains the 402 by design
    (Idempotent requests: results are saved once an endpoint's execution begins)."""
    with store.lock:
        return json.dumps([store.objects, store.settings])


def _index_view(store: Store) -> list[list[str]]:
    return [[o["id"] for o in store.newest("subscription", customer=f"cus_{c}")] for c in range(4)]


def test_a_refused_update_and_a_preview_leave_the_store_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with ThreadedSandbox(store=Store(path)) as sb:
        c = stripe.StripeClient(KEY, base_addresses={"api": sb.url}, max_network_retries=0)
        ck = clock(c)
        monthly, yearly = price(c, 1000), price(c, 9000, interval="year")
        cus = customer(c, ck.id)
        sub = subscribe(c, cus.id, (monthly.id, 1))
        set_card(c, cus.id, "pm_card_chargeCustomerFail")
        sb.store.save_soon()
        sb.store.flush()
        before, orders = _objects(sb.store), _orders(sb.store)
        change = [{"id": sub["items"].data[0].id, "price": yearly.id}]
        with pytest.raises(stripe.CardError) as err:
            c.v1.subscriptions.update(sub.id, params={"items": change, "payment_behavior": "error_if_incomplete"})
        assert err.value.http_status == 402
        assert _objects(sb.store) == before and _orders(sb.store) == orders
        preview = c.v1.invoices.create_preview(params={"customer": cus.id, "subscription": sub.id,
                                                       "subscription_details": {"items": change}})
        assert preview.total > 0
        assert _objects(sb.store) == before and _orders(sb.store) == orders
        sb.store.save_soon()
        sb.store.flush()
        assert _text(Store(path)) == _text(sb.store)  # the journal agrees with the rolled-back store


_inside = hs.lists(hs.tuples(hs.sampled_from(["insert", "update", "page", "where", "scan_touch", "pop", "delete_flag"]),
                             hs.sampled_from(_KINDS), hs.integers(0, 6), hs.integers(0, 9)), max_size=30)


@settings(max_examples=60, deadline=None)
@given(hs.lists(hs.tuples(hs.just("insert"), hs.sampled_from(_KINDS), hs.integers(0, 6), hs.integers(0, 9)),
                max_size=12), _inside)
@example([("insert", "customer", 0, 0), ("insert", "customer", 1, 0)],  # popped and put back: its old place
         [("pop", "customer", 0, 0), ("insert", "customer", 0, 0)])
def test_any_changes_inside_a_transaction_roll_back_exactly(setup: list[tuple[str, str, int, int]],
                                                           ops: list[tuple[str, str, int, int]]) -> None:
    store = Store()
    _run(store, setup)
    store.emit("customer.created", {"id": "cus_x", "object": "customer"})
    before, orders, index = _text(store), _orders(store), _index_view(store)
    store.begin()
    _run(store, ops)
    store.emit("invoice.created", {"id": "in_x", "object": "invoice"})
    store.rollback()
    assert _text(store) == before
    assert _orders(store) == orders and _index_view(store) == index
    _run(store, ops)  # and the store still works normally afterwards
    assert json.loads(_text(store))


def test_a_rollback_copies_only_what_was_touched() -> None:
    store = Store()
    for i in range(20_000):
        store.insert({"id": f"sub_{i:06d}", "object": "subscription", "customer": f"cus_{i % 500}", "status": "active"})
    store.begin()
    store.get("subscription", "sub_000042")["status"] = "canceled"
    store.insert({"id": "sub_new", "object": "subscription", "customer": "cus_1", "status": "active"})
    undo = store._undo  # noqa: SLF001
    assert undo is not None and len(undo.kept) == 1 and len(undo.absent) == 1
    store.rollback()
    assert store.get("subscription", "sub_000042")["status"] == "active"
    assert store.maybe("subscription", "sub_new") is None
    assert [o["id"] for o in store.newest("subscription", customer="cus_1")][:2] == ["sub_019501", "sub_019001"]
