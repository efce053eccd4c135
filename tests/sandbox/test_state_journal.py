"""``--state`` persistence: a base snapshot plus a journal of what each flush changed.

A restart must restore the store exactly (the JSON of ``dump()``, key order included: lists
page in creation order), a torn journal tail must be dropped, and a small write into a large
store must append a few bytes, not rewrite the store.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest
import stripe
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as hs

from billing_nb.sandbox.persist import journal_path
from billing_nb.sandbox.server import ThreadedSandbox, start, stop
from billing_nb.sandbox.store import Store

KEY = "sk_test_journal"


def _text(store: Store) -> str:
    with store.lock:
        return json.dumps(store.dump())


def _orders(store: Store) -> dict[str, list[str]]:
    """Each kind's list order as the store pages it (newest first)."""
    return {k: [o["id"] for o in store.newest(k)] for k in store.iter_kinds() if store.objects[k]}


def _flush(store: Store) -> None:
    store.save_soon()
    store.flush()


def test_restart_restores_exactly_after_creates_updates_deletes_clocks_and_replays(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with ThreadedSandbox(store=Store(path)) as sb:
        c = stripe.StripeClient(KEY, base_addresses={"api": sb.url}, max_network_retries=0)
        clock = c.v1.test_helpers.test_clocks.create(params={"frozen_time": 1_780_000_000})
        _flush(sb.store)  # the first flush writes the base; everything after goes to the journal
        base_size = path.stat().st_size
        prod = c.v1.products.create(params={"name": "Team"})
        monthly = c.v1.prices.create(params={"product": prod.id, "currency": "usd", "unit_amount": 1200,
                                             "recurring": {"interval": "month"}})
        yearly = c.v1.prices.create(params={"product": prod.id, "currency": "eur", "unit_amount": 9900,
                                            "recurring": {"interval": "year"}})
        cust = c.v1.customers.create(params={"email": "a@example.com", "test_clock": clock.id},
                                     options={"idempotency_key": "journal-cust-a"})
        pm = c.v1.payment_methods.attach("pm_card_visa", params={"customer": cust.id})
        c.v1.customers.update(cust.id, params={"invoice_settings": {"default_payment_method": pm.id}})
        sub = c.v1.subscriptions.create(params={"customer": cust.id, "items": [{"price": monthly.id, "quantity": 2}]},
                                        options={"idempotency_key": "journal-sub-a"})
        c.v1.subscriptions.update(sub.id, params={"items": [{"id": sub["items"].data[0].id, "quantity": 5}]})
        c.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": 1_780_000_000 + 40 * 86400})
        gone = c.v1.customers.create(params={"email": "gone@example.com"})
        c.v1.customers.delete(gone.id)
        other = c.v1.customers.create(params={"email": "b@example.com"})
        c.v1.subscriptions.create(params={"customer": other.id, "items": [{"price": yearly.id}],
                                          "payment_behavior": "default_incomplete"})
        again = c.v1.customers.create(params={"email": "a@example.com", "test_clock": clock.id},
                                      options={"idempotency_key": "journal-cust-a"})  # a replay: nothing new
        assert again.id == cust.id
        httpx.post(f"{sb.url}/_sandbox/settings", json={"retry_days": [1, 2]})
        _flush(sb.store)
        assert path.stat().st_size == base_size, "the base is not rewritten by a small batch"
        assert journal_path(path).stat().st_size > 0
        live, orders = _text(sb.store), _orders(sb.store)
        restored = Store(path)
        assert _text(restored) == live
        assert _orders(restored) == orders
        assert restored.settings["retry_days"] == [1, 2]
    closed = Store(path)  # the clean shutdown compacted: the same state from the base alone
    assert _text(closed) == live
    assert journal_path(path).read_text().count("\n") == 1  # just the new generation's header


_KINDS = ("customer", "subscription")
_op = hs.one_of(
    hs.tuples(hs.just("insert"), hs.sampled_from(_KINDS), hs.integers(0, 2), hs.integers(0, 9)),
    hs.tuples(hs.just("update"), hs.sampled_from(_KINDS), hs.integers(0, 2), hs.integers(0, 9)),
    hs.tuples(hs.just("page"), hs.sampled_from(_KINDS), hs.integers(1, 5), hs.integers(0, 9)),
    hs.tuples(hs.just("where"), hs.sampled_from(_KINDS), hs.integers(0, 3), hs.integers(0, 9)),
    hs.tuples(hs.just("scan_touch"), hs.sampled_from(_KINDS), hs.integers(0, 2), hs.integers(0, 9)),
    hs.tuples(hs.just("pop"), hs.sampled_from(_KINDS), hs.integers(0, 2), hs.integers(0, 0)),
    hs.tuples(hs.just("delete_flag"), hs.sampled_from(_KINDS), hs.integers(0, 2), hs.integers(0, 0)),
    hs.tuples(hs.just("idem"), hs.just(""), hs.integers(0, 10), hs.integers(0, 9)),
    hs.tuples(hs.just("setting"), hs.just(""), hs.integers(0, 3), hs.integers(0, 9)),
    hs.tuples(hs.just("flush"), hs.just(""), hs.integers(0, 0), hs.integers(0, 0)),
    hs.tuples(hs.just("flush"), hs.just(""), hs.integers(0, 0), hs.integers(0, 0)),
    hs.tuples(hs.just("compact"), hs.just(""), hs.integers(0, 0), hs.integers(0, 0)),
    hs.tuples(hs.just("swap"), hs.just(""), hs.integers(0, 0), hs.integers(0, 0)),
)


def _run(store: Store, ops: list[tuple[str, str, int, int]], check: bool = False) -> None:
    """Apply operations the way handlers do; with ``check``, every flush is followed by a
    reload that must equal the store in memory."""
    import copy

    for op, kind, n, v in ops:
        oid = f"{kind[:3]}_{n}"
        if op == "insert":
            store.insert({"id": oid, "object": kind, "customer": f"cus_{n % 4}", "status": str(v), "n": [v]})
        elif op == "update" and (obj := store.maybe(kind, oid)) is not None:
            obj["status"], obj.setdefault("n", []).append(v)
        elif op == "page":
            for obj in list(store.newest(kind))[:n]:
                if v % 2:
                    obj["seen"] = v
        elif op == "where":
            for obj in store.where(kind, customer=f"cus_{n}"):
                obj["w"] = v
        elif op == "scan_touch":
            for obj in store.scan(kind):
                if obj["id"] == oid:
                    store.touch(obj)["s"] = v
        elif op == "pop":
            store.pop(kind, oid)
        elif op == "delete_flag" and (obj := store.maybe(kind, oid)) is not None:
            obj["deleted"] = True
        elif op == "idem":
            store.idempotency[f"k:{n}:{v}"] = ("fp", 200, {"id": oid, "v": v})
        elif op == "setting":
            store.settings[f"s{n}"] = v
        elif op == "flush":
            _flush(store)
            if check:
                assert store.state_path is not None
                again = Store(store.state_path)
                assert _text(again) == _text(store) and _orders(again) == _orders(store)
        elif op == "compact":
            store.save()
        elif op == "swap":  # a wholesale rollback (copy, change, restore) as error_if_incomplete did
            store.objects = copy.deepcopy(store.objects)
            store.reindex()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hs.lists(_op, max_size=40))
@example([("insert", "customer", 1, 1), ("flush", "", 0, 0), ("update", "customer", 1, 5), ("flush", "", 0, 0)])
@example([("insert", "customer", 1, 1), ("flush", "", 0, 0), ("where", "customer", 1, 5), ("flush", "", 0, 0)])
@example([("insert", "customer", 1, 1), ("insert", "customer", 2, 1), ("flush", "", 0, 0), ("pop", "customer", 1, 0),
          ("insert", "customer", 1, 3), ("flush", "", 0, 0)])
@example([("insert", "subscription", 0, 1), ("flush", "", 0, 0), ("scan_touch", "subscription", 0, 4),
          ("idem", "", 1, 1), ("setting", "", 1, 2), ("flush", "", 0, 0)])
def test_any_sequence_of_operations_reloads_to_the_same_store(ops: list[tuple[str, str, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.json"
        store = Store(path)
        _run(store, ops, check=True)
        _flush(store)
        again = Store(path)
        assert _text(again) == _text(store)
        assert _orders(again) == _orders(store)
        _run(again, ops[: len(ops) // 2])  # a restarted store keeps journaling correctly
        _flush(again)
        assert _text(Store(path)) == _text(again)


def test_a_torn_or_uncommitted_journal_tail_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = Store(path)
    store.insert({"id": "cus_1", "object": "customer", "email": "one@example.com"})
    _flush(store)  # base
    store.get("customer", "cus_1")["email"] = "two@example.com"
    store.insert({"id": "cus_2", "object": "customer"})
    _flush(store)  # one committed batch
    committed = _text(store)
    journal = journal_path(path)
    with open(journal, "ab") as fh:  # an uncommitted batch, then a line cut off mid-write
        fh.write(b'{"put": "customer", "id": "cus_3", "obj": {"id": "cus_3", "object": "customer"}}\n')
        fh.write(b'{"put": "customer", "id": "cus_1", "obj": {"id": "cus_1", "ema')
    again = Store(path)
    assert _text(again) == committed and "cus_3" not in again.objects["customer"]
    again.insert({"id": "cus_4", "object": "customer"})  # appends after the good prefix, not the fragment
    _flush(again)
    assert _text(Store(path)) == _text(again)
    assert journal.read_bytes().endswith(b"}\n")


def test_a_journal_of_an_older_generation_is_ignored(tmp_path: Path) -> None:
    """A crash between compaction's base replace and its fresh journal must not replay old lines."""
    path = tmp_path / "state.json"
    store = Store(path)
    store.insert({"id": "cus_1", "object": "customer", "v": 1})
    _flush(store)
    store.get("customer", "cus_1")["v"] = 2
    _flush(store)
    stale = journal_path(path).read_bytes()  # says v=2 for the old base
    store.get("customer", "cus_1")["v"] = 3
    store.save()  # compaction: new base (v=3), fresh journal
    journal_path(path).write_bytes(stale)  # as if the fresh journal never got written
    assert Store(path).objects["customer"]["cus_1"]["v"] == 3


def test_an_old_single_file_state_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    old = {"objects": {"customer": {"cus_1": {"id": "cus_1", "object": "customer"}}},
           "settings": {"retry_days": [2]}, "idempotency": {"k": ["fp", 200, {"id": "cus_1"}]}}
    path.write_text(json.dumps(old))
    store = Store(path)
    assert store.objects["customer"]["cus_1"]["id"] == "cus_1" and store.idempotency["k"][1] == 200
    store.insert({"id": "cus_2", "object": "customer"})
    _flush(store)  # the first flush rewrites it in the new format
    assert "journal" in json.loads(path.read_text()) and set(Store(path).objects["customer"]) == {"cus_1", "cus_2"}


def test_a_small_write_into_a_large_store_appends_a_few_bytes(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = Store(path)
    for i in range(20_000):
        store.insert({"id": f"sub_{i:06d}", "object": "subscription", "customer": f"cus_{i % 500}",
                      "status": "active", "items": {"data": [{"price": "price_x", "quantity": 1 + i % 7}]},
                      "metadata": {"note": "x" * 100}})
    store.save()
    base = path.stat().st_size
    assert base > 20_000 * 200
    journal = journal_path(path)
    before = journal.stat().st_size
    store.get("subscription", "sub_000123")["status"] = "canceled"
    store.insert({"id": "cus_new", "object": "customer"})
    _flush(store)
    grown = journal.stat().st_size - before
    assert 0 < grown < 2_000, grown
    assert path.stat().st_size == base
    page = list(store.newest("subscription"))[:100]  # read traffic hands out a page: nothing to write
    assert len(page) == 100 and store.where("subscription", customer="cus_7")
    size = journal.stat().st_size
    _flush(store)
    assert journal.stat().st_size == size
    assert Store(path).objects["subscription"]["sub_000123"]["status"] == "canceled"


@pytest.mark.timeout(60)
def test_a_killed_sandbox_restarts_with_every_flushed_write(tmp_path: Path) -> None:
    state, run = tmp_path / "state.json", tmp_path / "run"
    info = start(run_dir=run, state=state)
    made: list[tuple[str, str]] = []
    try:
        c = stripe.StripeClient(KEY, base_addresses={"api": info.url}, max_network_retries=0)
        for i in range(15):
            key = f"kill-test-{i}"
            made.append((key, c.v1.customers.create(params={"email": f"k{i}@example.com"},
                                                    options={"idempotency_key": key}).id))
        deadline = time.monotonic() + 15
        journal = journal_path(state)
        while time.monotonic() < deadline:  # acknowledged; now wait until the saver flushed them
            text = (state.read_text() if state.exists() else "") + (journal.read_text() if journal.exists() else "")
            if made[-1][1] in text:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the last write was never flushed")
        stop_traffic = threading.Event()

        def traffic() -> None:
            n = 0
            while not stop_traffic.is_set():
                try:
                    c.v1.customers.create(params={"email": f"more{n}@example.com"})
                except stripe.StripeError:
                    return
                n += 1

        flushed = journal.stat().st_size
        worker = threading.Thread(target=traffic)
        worker.start()
        deadline = time.monotonic() + 10
        while journal.stat().st_size == flushed and time.monotonic() < deadline:
            time.sleep(0.05)  # kill just after a flush that happened mid-traffic
        os.kill(info.pid, signal.SIGKILL)
        stop_traffic.set()
        worker.join(timeout=10)
    finally:
        try:
            os.kill(info.pid, signal.SIGKILL)
        except OSError:
            pass
    again = start(run_dir=run, state=state)
    try:
        c = stripe.StripeClient(KEY, base_addresses={"api": again.url}, max_network_retries=0)
        for key, cid in made:
            assert c.v1.customers.retrieve(cid).email is not None
        raw = httpx.post(f"{again.url}/v1/customers", data={"email": "k3@example.com"},
                         headers={"Authorization": f"Bearer {KEY}", "Idempotency-Key": made[3][0]})
        assert raw.json()["id"] == made[3][1] and raw.headers.get("Idempotent-Replayed") == "true"
    finally:
        stop(run)


def test_handlers_never_reach_into_store_objects_directly() -> None:
    """A change made through ``store.objects`` is invisible to the journal and the rollback;
    handlers use the accessors (get/maybe/find/where/newest/insert/pop, or scan + touch)."""
    import re

    import billing_nb.sandbox as pkg

    root = Path(pkg.__file__).parent
    pattern = re.compile(r"\b(?:st|store|self\.store|ctx\.store)\.objects\b")
    allowed = {("app.py", "sum(len(v) for v in st.objects.values())")}  # the health count, read-only
    found = []
    for file in root.rglob("*.py"):
        if file.name in ("store.py", "saving.py"):
            continue
        for line in file.read_text().splitlines():
            if pattern.search(line) and not any(file.name == f and frag in line for f, frag in allowed):
                found.append(f"{file.relative_to(root)}: {line.strip()}")
    assert found == []


def test_a_read_through_is_hashed_in_slices_and_writes_nothing(tmp_path: Path) -> None:
    """Reads hand objects out too; past TOUCHED_FLUSH of them the saver flushes with no write
    pending, so a sync's read-through never makes the next write hash the whole account."""
    from billing_nb.sandbox.saving import TOUCHED_FLUSH

    path = tmp_path / "state.json"
    store = Store(path)
    for i in range(TOUCHED_FLUSH + 10):
        store.insert({"id": f"cus_{i}", "object": "customer"})
    store.save()
    size = journal_path(path).stat().st_size
    assert len(store.all("customer")) == TOUCHED_FLUSH + 10
    store.flush()  # what the saver thread does every SAVE_INTERVAL
    assert not store._touched  # noqa: SLF001
    assert journal_path(path).stat().st_size == size
