"""The sandbox's ``--state`` persistence at size: what one small write costs now (a journal
batch) against what it cost before (the whole store re-serialised and rewritten), and the
scoped rollback of ``error_if_incomplete`` against a deep copy of the store.

Objects are synthetic but shaped and sized like the sandbox's (a subscription ~2 KB with
its items, a customer, two invoices each), inserted straight into a Store.
Usage: python benchmarks/state_journal.py [--subs 20000]
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from billing_nb.sandbox.persist import journal_path
from billing_nb.sandbox.store import Store


def _sub(i: int) -> dict[str, Any]:
    item = {"id": f"si_{i:014d}", "object": "subscription_item", "quantity": 1 + i % 9, "metadata": {},
            "price": {"id": "price_team", "object": "price", "currency": "usd", "unit_amount": 1200,
                      "recurring": {"interval": "month", "interval_count": 1}, "product": "prod_team",
                      "metadata": {}, "nickname": None, "lookup_key": None},
            "current_period_start": 1_780_000_000, "current_period_end": 1_782_592_000}
    return {"id": f"sub_{i:014d}", "object": "subscription", "customer": f"cus_{i:014d}", "status": "active",
            "created": 1_780_000_000 + i, "items": {"object": "list", "data": [item], "has_more": False},
            "metadata": {"plan": "team", "note": "x" * 200}, "latest_invoice": f"in_{i:014d}b",
            "cancel_at_period_end": False, "collection_method": "charge_automatically", "discounts": []}


def _fill(store: Store, subs: int) -> None:
    for i in range(subs):
        store.insert({"id": f"cus_{i:014d}", "object": "customer", "email": f"c{i}@example.com",
                      "name": f"Customer {i}", "created": 1_780_000_000 + i, "metadata": {},
                      "invoice_settings": {"default_payment_method": None}})
        store.insert(_sub(i))
        for half in "ab":
            store.insert({"id": f"in_{i:014d}{half}", "object": "invoice", "customer": f"cus_{i:014d}",
                          "status": "paid", "total": 1200, "currency": "usd", "created": 1_780_000_000 + i,
                          "lines": {"data": [{"id": f"il_{i:014d}{half}", "amount": 1200, "description": "Team"}]}})


def _timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subs", type=int, default=20_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bnb-state-"))
    path = work / "state.json"
    store = Store(path)
    _fill(store, args.subs)
    objects = sum(len(b) for b in store.objects.values())
    whole, text = _timed(lambda: json.dumps(store.dump()))
    print(f"{args.subs} subscriptions, {objects} objects; the old per-flush save: json.dumps {whole:.2f} s, "
          f"{len(text) / 1e6:.1f} MB rewritten")
    base, _ = _timed(store.save)
    print(f"compaction (base write, tmp + fsync + replace): {base:.2f} s, {path.stat().st_size / 1e6:.1f} MB")
    journal = journal_path(path)
    costs = []
    for n in range(20):
        before = journal.stat().st_size
        sub = store.get("subscription", f"sub_{n * 7:014d}")
        sub["items"]["data"][0]["quantity"] += 1
        store.emit("customer.subscription.updated", sub, previous={"items": {}})
        for page_obj in itertools.islice(store.newest("invoice"), 100):  # a read's page, handed out unchanged
            assert page_obj["object"] == "invoice"
        store.save_soon()
        spent, _ = _timed(store.flush)
        costs.append((spent, journal.stat().st_size - before))
    costs.sort()
    print(f"one write + a 100-object read page, flushed: median {costs[10][0] * 1000:.1f} ms, "
          f"{costs[10][1]} bytes appended (base untouched)")
    loaded, again = _timed(lambda: Store(path))
    assert json.dumps(again.dump()) == json.dumps(store.dump())
    print(f"restart (base + {len(costs)} journal batches): {loaded:.2f} s, restored exactly")
    deep, _ = _timed(lambda: copy.deepcopy(store.objects))
    store.begin()
    scoped, _ = _timed(lambda: store.get("subscription", f"sub_{3:014d}").update(status="past_due"))
    back, _ = _timed(store.rollback)
    print(f"rollback: deep copy of the store {deep:.2f} s (before) vs first-touch copy {scoped * 1000:.2f} ms "
          f"+ restore {back * 1000:.2f} ms")


if __name__ == "__main__":
    main()
