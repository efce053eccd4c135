"""The sandbox's lists walk from the cursor's position (and a customer's own index), so a
page costs its length, not the store's size; and they page exactly as the old full scan did."""

from __future__ import annotations

import random
from typing import Any

from billing_nb.sandbox.listing import list_object, list_page
from billing_nb.sandbox.params import Params
from billing_nb.sandbox.store import REQUEST_LOG_SIZE, Store


def _store(n: int, customers: int = 7, seed: int = 1) -> Store:
    rng = random.Random(seed)
    store = Store()
    for i in range(n):
        store.insert({"id": f"sub_{i:06d}", "object": "subscription", "customer": f"cus_{rng.randrange(customers)}",
                      "status": rng.choice(["active", "canceled", "past_due"]), "created": 1_700_000_000 + i})
    return store


def _params(**raw: Any) -> Params:
    return Params({k: str(v) for k, v in raw.items()})


def _walk(store: Store, limit: int, *, customer: str | None = None, status: str | None = None,
          backwards_from: str | None = None) -> list[list[str]]:
    """Every page, following the cursor the way a client does, with the new and the old listing."""
    keep = (lambda o: status is None or o["status"] == status)
    pages_new: list[list[str]] = []
    pages_old: list[list[str]] = []
    for pages, fn in ((pages_new, "new"), (pages_old, "old")):
        cursor: dict[str, str] = {"ending_before": backwards_from} if backwards_from else {}
        while True:
            p = _params(limit=limit, **cursor)
            if fn == "new":
                page = list_page(p, store, "subscription", keep, "/v1/subscriptions", customer=customer)
            else:
                rows = [o for o in store.all("subscription") if (customer is None or o["customer"] == customer) and keep(o)]
                page = list_object(p, rows, "/v1/subscriptions")
            ids = [o["id"] for o in page["data"]]
            pages.append(ids)
            if not page["has_more"] or not ids:
                break
            cursor = {"ending_before": ids[0]} if backwards_from else {"starting_after": ids[-1]}
    assert pages_new == pages_old
    return pages_new


def test_pages_match_the_full_scan_for_every_filter() -> None:
    store = _store(600)
    for limit in (1, 7, 100):
        for customer in (None, "cus_3"):
            for status in (None, "active"):
                pages = _walk(store, limit, customer=customer, status=status)
                flat = [i for page in pages for i in page]
                assert flat == sorted(flat, reverse=True) and len(flat) == len(set(flat))
    # ending_before walks toward newer objects, each page still newest first
    pages = _walk(store, 10, backwards_from="sub_000300")
    assert [i for page in pages for i in page] and all(p == sorted(p, reverse=True) for p in pages)


def test_a_page_visits_only_its_own_objects(monkeypatch: Any) -> None:
    big = _store(20_000, customers=50)
    visited = {"n": 0}
    original = Store._live  # pyright: ignore[reportPrivateUsage]

    def counting(self: Store, kind: str, positions: Any) -> Any:
        for obj in original(self, kind, positions):
            visited["n"] += 1
            yield obj

    monkeypatch.setattr(Store, "_live", counting)
    page = list_page(_params(limit=100, starting_after="sub_010000"), big, "subscription", lambda o: True, "/x")
    assert [o["id"] for o in page["data"]][:2] == ["sub_009999", "sub_009998"] and visited["n"] == 101
    visited["n"] = 0
    one = list_page(_params(limit=100), big, "subscription", lambda o: True, "/x", customer="cus_7")
    assert all(o["customer"] == "cus_7" for o in one["data"]) and visited["n"] == 101  # the customer's index


def test_deleted_and_popped_objects_are_skipped() -> None:
    store = _store(50)
    store.objects["subscription"].pop("sub_000049")
    store.objects["subscription"]["sub_000048"]["deleted"] = True
    page = list_page(_params(limit=3), store, "subscription", lambda o: True, "/x")
    assert [o["id"] for o in page["data"]] == ["sub_000047", "sub_000046", "sub_000045"]


def test_state_reload_rebuilds_the_indexes(tmp_path: Any) -> None:
    path = tmp_path / "state.json"
    store = _store(30)
    store.state_path = path
    store.save()
    again = Store(path)
    page = list_page(_params(limit=5, starting_after="sub_000010"), again, "subscription", lambda o: True, "/x",
                     customer="cus_2")
    assert all(o["customer"] == "cus_2" and o["id"] < "sub_000010" for o in page["data"])


def test_request_log_is_bounded() -> None:
    store = Store()
    for i in range(3 * REQUEST_LOG_SIZE):
        store.request_log.append({"i": i})
    assert REQUEST_LOG_SIZE <= len(store.request_log) <= REQUEST_LOG_SIZE * 1.1
    assert store.request_log[-1]["i"] == 3 * REQUEST_LOG_SIZE - 1 and store.request_log[0]["i"] > 0


def test_state_is_saved_in_the_background_not_per_write(tmp_path: Any, monkeypatch: Any) -> None:
    import time

    import billing_nb.sandbox.saving as saving_module
    from billing_nb.sandbox.persist import StateFile

    monkeypatch.setattr(saving_module, "SAVE_INTERVAL", 0.2)
    path = tmp_path / "state.json"
    store = Store(path)
    writes = {"base": 0, "batch": 0}
    real_base, real_append = StateFile.write_base, StateFile.append

    def base(self: StateFile, *a: Any, **k: Any) -> None:
        writes["base"] += 1
        real_base(self, *a, **k)

    def append(self: StateFile, lines: list[str]) -> int:
        writes["batch"] += 1
        return real_append(self, lines)

    monkeypatch.setattr(StateFile, "write_base", base)
    monkeypatch.setattr(StateFile, "append", append)
    for i in range(200):  # 200 writes: at most a few saves, none of them during the writes
        store.insert({"id": f"cus_{i}", "object": "customer"})
        store.save_soon()
    assert writes == {"base": 0, "batch": 0}
    time.sleep(0.6)
    assert 1 <= writes["base"] + writes["batch"] <= 3 and len(Store(path).objects["customer"]) == 200
    store.insert({"id": "cus_last", "object": "customer"})
    store.save_soon()
    store.close()  # what shutdown does
    assert "cus_last" in Store(path).objects["customer"]


def test_a_stopped_sandbox_keeps_its_writes(tmp_path: Any) -> None:
    import stripe

    from billing_nb.sandbox.server import start, stop

    state = tmp_path / "state.json"
    info = start(run_dir=tmp_path / "run", state=state)
    try:
        client = stripe.StripeClient("sk_test_state", base_addresses={"api": info.url})
        made = client.v1.customers.create(params={"email": "kept@example.com"})
    finally:
        stop(tmp_path / "run")
    assert made.id in Store(state).objects["customer"]
