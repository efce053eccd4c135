from __future__ import annotations

import multiprocessing as _mp
import sqlite3
import threading
from typing import Any
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from billing_nb.actions.ledger import Ledger


def test_begin_finish_completed_and_dangling(tmp_path: Path) -> None:
    led = Ledger.in_dir(tmp_path)
    assert led.completed("refund:ch_1:100") is None
    led.begin("case-a", "refund:ch_1:100", "k1")
    assert led.dangling("refund:ch_1:100") is not None
    assert led.completed("refund:ch_1:100") is None
    led.finish("case-a", "refund:ch_1:100", "k1", status="succeeded", stripe_object="re_1", request_id="req_1")
    assert led.dangling("refund:ch_1:100") is None
    done = led.completed("refund:ch_1:100")
    assert done is not None and done.stripe_object == "re_1" and done.request_id == "req_1"
    assert [e.phase for e in led.entries("case-a")] == ["begin", "finish"]
    assert led.entries("case-b") == []


def test_failed_finish_is_not_completion(tmp_path: Path) -> None:
    led = Ledger(tmp_path / "l.sqlite3")
    led.begin("c", "retry:in_1", "k")
    led.finish("c", "retry:in_1", "k", status="failed", stripe_object=None, request_id="req", error="card_declined")
    assert led.completed("retry:in_1") is None
    assert led.dangling("retry:in_1") is None


def test_replayed_begin_resolved_by_one_finish(tmp_path: Path) -> None:
    led = Ledger(tmp_path / "l.sqlite3")
    led.begin("c1", "a", "k")  # crashed
    led.begin("c2", "a", "k")  # the re-run replays the same key
    led.finish("c2", "a", "k", status="succeeded", stripe_object="re_1", request_id=None)
    assert led.dangling("a") is None


def test_ledger_is_append_only(tmp_path: Path) -> None:
    led = Ledger(tmp_path / "l.sqlite3")
    led.begin("c", "a", "k")
    conn = sqlite3.connect(led.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE ledger SET status = 'x'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM ledger")
    conn.close()


def test_wal_mode(tmp_path: Path) -> None:
    led = Ledger(tmp_path / "l.sqlite3")
    conn = sqlite3.connect(led.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def _hammer(args: tuple[str, int]) -> int:
    path, worker = args
    led = Ledger(Path(path))
    for i in range(40):
        led.begin(f"case-{worker}", f"a-{worker}-{i}", "k")
        led.finish(f"case-{worker}", f"a-{worker}-{i}", "k", status="succeeded", stripe_object=None, request_id=None)
    return worker


def test_concurrent_processes(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    Ledger(path)
    with ProcessPoolExecutor(4) as pool:
        assert sorted(pool.map(_hammer, [(str(path), w) for w in range(4)])) == [0, 1, 2, 3]
    entries = Ledger(path).entries()
    assert len(entries) == 4 * 40 * 2
    assert [e.seq for e in entries] == sorted(e.seq for e in entries)


def test_casebook_index(tmp_path: Path) -> None:
    led = Ledger(tmp_path / "l.sqlite3")
    record = {
        "case_id": "2026-11-24-cus_A-1",
        "created_at": "2026-11-24T06:00:00+00:00",
        "status": "done",
        "customer": {"id": "cus_A"},
        "classification": {"suggested": "duplicate_subscription", "bucket": "duplicate_subscription"},
        "executed": [{"action_id": "refund:ch_1:100"}],
        "revenue_impact": {"refunded": {"value": 100, "currency": "usd"}, "credited": {"value": 0, "currency": "usd"}},
    }
    led.index_case(record, tmp_path / "cases" / "x")
    led.index_case({**record, "status": "failed"}, tmp_path / "cases" / "x")
    rows = led.cases()
    assert len(rows) == 1
    assert rows[0]["status"] == "failed" and rows[0]["refunded"] == 100 and rows[0]["bucket"] == "duplicate_subscription"
    assert rows[0]["summary"]["executed"] == ["refund:ch_1:100"]


def test_claim_adopts_an_unresolved_begin_and_reports_completion(tmp_path: Path) -> None:
    """Keys are the effect's, so every case claims the same key; an open begin is adopted."""
    led = Ledger(tmp_path / "l.sqlite3")
    first = led.claim("case-a", "refund:ch_1:500", "key-e")
    assert (first.key, first.case_id, first.done, first.recovering) == ("key-e", "case-a", None, False)
    second = led.claim("case-b", "refund:ch_1:500", "key-e")  # case-a died before its finish
    assert (second.key, second.case_id, second.recovering) == ("key-e", "case-a", True)
    led.finish("case-b", "refund:ch_1:500", "key-e", status="recovered", stripe_object="re_1", request_id="r")
    third = led.claim("case-c", "refund:ch_1:500", "key-e")
    assert third.done is not None and third.done.stripe_object == "re_1" and third.done.status == "recovered"
    assert led.completed_effect("key-e") is not None and led.dangling_effect("key-e") is None


def test_effect_lock_excludes_another_process(tmp_path: Path) -> None:
    """flock on locks/<key>.lock: a second process waits while the first holds it."""
    import subprocess
    import sys
    import time

    led = Ledger(tmp_path / "l.sqlite3")
    code = ("import sys, time; from pathlib import Path; from billing_nb.actions.ledger import Ledger\n"
            "led = Ledger(Path(sys.argv[1]))\n"
            "print('waiting', flush=True)\n"
            "with led.lock('key-x'):\n    print(time.time(), flush=True)\n")
    with led.lock("key-x"):
        child = subprocess.Popen([sys.executable, "-c", code, str(led.path)], stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdout.readline().strip() == "waiting"
        time.sleep(0.5)
        assert child.poll() is None, "the other process got the lock while it was held"
        released = time.time()
    out, _ = child.communicate(timeout=30)
    assert float(out) >= released


def test_corrupt_ledger_is_one_clear_error(tmp_path: Path) -> None:
    from billing_nb.exceptions import CorruptFileError

    bad = tmp_path / "ledger.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CorruptFileError, match="ledger.sqlite: not a readable SQLite ledger") as err:
        Ledger(bad)
    assert err.value.exit_code == 2


# --- across forks: a forked child never uses, nor closes, its parent's connection ----------------


_SHARED: dict[str, Ledger] = {}


def _child_appends(n: int, tag: str) -> None:
    """In a forked child: append through the Ledger object the parent made and used."""
    led = _SHARED["led"]
    for i in range(n):
        led.begin(f"{tag}", f"{tag}-{i}", f"k-{tag}-{i}")
    led.close()


def _rows(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [tuple(r) for r in conn.execute("SELECT case_id, action_id FROM ledger ORDER BY seq")]
    finally:
        conn.close()


def test_forked_children_write_beside_a_parent_that_keeps_its_connection(tmp_path: Path) -> None:
    led = Ledger(tmp_path / "ledger.sqlite")
    led.begin("parent", "parent-0", "k-parent-0")  # the parent's connection is open when it forks
    _SHARED["led"] = led
    ctx = _mp.get_context("fork")
    children = [ctx.Process(target=_child_appends, args=(40, f"child{c}")) for c in range(4)]
    for p in children:
        p.start()
    for i in range(1, 41):  # the parent goes on writing on its kept connection meanwhile
        led.begin("parent", f"parent-{i}", f"k-parent-{i}")
    for p in children:
        p.join(60)
        assert p.exitcode == 0
    led.begin("parent", "parent-last", "k-parent-last")  # and after they are gone
    rows = _rows(tmp_path / "ledger.sqlite")
    assert len(rows) == 1 + 40 + 4 * 40 + 1
    assert len(set(rows)) == len(rows)
    assert {c for c, _ in rows} == {"parent", "child0", "child1", "child2", "child3"}


def test_a_fork_while_another_thread_writes_loses_nothing(tmp_path: Path) -> None:
    led = Ledger(tmp_path / "ledger.sqlite")
    _SHARED["led"] = led
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        i = 0
        while not stop.is_set():
            led.begin("thread", f"thread-{i}", f"k-thread-{i}")
            written.append(i)
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        ctx = _mp.get_context("fork")
        for c in range(3):
            p = ctx.Process(target=_child_appends, args=(20, f"fork{c}"))
            p.start()
            p.join(60)
            assert p.exitcode == 0
    finally:
        stop.set()
        t.join(30)
    rows = _rows(tmp_path / "ledger.sqlite")
    assert sum(1 for c, _ in rows if c.startswith("fork")) == 60
    assert sum(1 for c, _ in rows if c == "thread") == len(written)


def _open_and_write(path: str, tag: str, barrier: Any) -> None:
    barrier.wait(30)
    led = Ledger(Path(path))
    for i in range(10):
        led.begin(tag, f"{tag}-{i}", f"k-{tag}-{i}")


def test_processes_opening_a_new_ledger_at_once_all_succeed(tmp_path: Path) -> None:
    ctx = _mp.get_context("spawn")
    for attempt in range(3):
        path = tmp_path / f"new{attempt}" / "ledger.sqlite"
        barrier = ctx.Barrier(6)
        procs = [ctx.Process(target=_open_and_write, args=(str(path), f"p{n}", barrier)) for n in range(6)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(120)
        assert [p.exitcode for p in procs] == [0] * 6
        assert len(_rows(path)) == 60


def test_a_new_ledger_locked_by_another_process_waits_then_fails_in_one_line(tmp_path: Path) -> None:
    from billing_nb.exceptions import StorageError

    path = tmp_path / "ledger.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process mid-write on a file not yet set up
    try:
        with pytest.raises(StorageError) as err:
            Ledger(path, timeout=0.5)
        assert "\n" not in str(err.value) and "locked" in str(err.value) and str(path) in str(err.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    led = Ledger(path, timeout=0.5)  # once it lets go, the same open succeeds
    led.begin("c", "a", "k")
    assert [e.action_id for e in led.entries()] == ["a"]
