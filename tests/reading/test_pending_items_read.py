"""Pending invoice items are read only for a customer whose live plan changed since its newest
invoice: a renewal (its update names ``items``, whose periods moved) reads none; a seat change
made with ``create_prorations`` does, and its pending prorations arrive in the snapshot."""

from __future__ import annotations

from typing import Any

from billing_nb.reading.waves import _changed_since_invoiced, _items_changed
from tests.scenarios import world


def _objects(w: Any, cus: str) -> dict[str, list[dict[str, Any]]]:
    return {"subscriptions": [s.to_dict() for s in w.c.v1.subscriptions.list({"customer": cus, "status": "all"}).data],
            "invoices": [i.to_dict() for i in w.c.v1.invoices.list({"customer": cus}).data],
            "events": [e.to_dict() for e in w.c.v1.events.list({"limit": 100}).data]}


def test_a_renewal_is_no_change_and_a_seat_change_is() -> None:
    with world() as w:
        start = 1_790_000_000
        clock = w.clock(start)
        cus = w.customer("renews@example.com", clock=clock)
        sub = w.subscribe(cus, (w.price(w.product(), 1000), 3))
        w.advance(clock, start + 32 * 86400)  # one renewal
        assert not _changed_since_invoiced(cus, _objects(w, cus))
        item = sub["items"]["data"][0]["id"]
        w.c.v1.subscriptions.update(sub.id, {"items": [{"id": item, "quantity": 2}],
                                             "proration_behavior": "create_prorations"})
        assert _changed_since_invoiced(cus, _objects(w, cus))


def test_an_update_naming_items_counts_only_a_price_quantity_or_count_change() -> None:
    now = {"items": {"data": [{"id": "si_1", "price": {"id": "price_a"}, "quantity": 3}]}}
    assert not _items_changed(now, {"items": {"data": [{"id": "si_1", "current_period_end": 1}]}})
    assert not _items_changed(now, {"items": None})
    assert _items_changed(now, {"items": {"data": [{"id": "si_1", "quantity": 5}]}})
    assert _items_changed(now, {"items": {"data": [{"id": "si_1", "price": "price_b"}]}})
    assert _items_changed(now, {"items": {"data": []}})
    assert _items_changed(now, {"quantity": 2})
