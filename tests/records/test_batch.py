"""Batches (issue 15): the calling process is a worker, kernels launch before the worker's
own start-up and are waited for at the notebook, and nothing in a worker compiles the IRI
grammar. Counts and facts, never times."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.notebook]


def _notebook(path: Path, source: str) -> Path:
    """A one-cell notebook written as plain JSON (nbformat is what the check is about)."""
    path.write_text(json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {}, "outputs": [],
                   "source": source}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_a_worker_that_launches_its_kernel_early_never_compiles_the_iri_grammar(tmp_path: Path) -> None:
    """A worker's kernel launched without waiting (``wait=False``) runs a notebook; nbformat
    (through papermill) is imported without ``rfc3987_syntax``, whose grammar compile cost every
    spawned batch worker about 2 s of CPU when papermill was imported before the engine's guard."""
    nb = _notebook(tmp_path / "in.ipynb", "x = 6 * 7\nprint(x)")
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from billing_nb.records.kernels import WarmKernel
        kernel = WarmKernel(wait=False)
        try:
            kernel.execute(Path({str(nb)!r}), Path({str(tmp_path / 'out.ipynb')!r}), {{}}, timeout=60)
        finally:
            kernel.shutdown()
        print('rfc3987_syntax' in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"
    executed = json.loads((tmp_path / "out.ipynb").read_text())
    assert any("42" in "".join(o.get("text", "")) for o in executed["cells"][0]["outputs"])


def test_a_kernel_that_dies_while_booting_fails_at_once(tmp_path: Path) -> None:
    """The warm-up is queued before the kernel is up; a kernel that dies before answering it is
    reported as dead within seconds, not after the 60-s start timeout."""
    import os
    import signal
    import time

    from billing_nb.records.kernels import WarmKernel

    kernel = WarmKernel(wait=False, start_timeout=60)
    try:
        pid = kernel.km.provisioner.pid  # type: ignore[union-attr]
        os.kill(pid, signal.SIGKILL)
        t0 = time.monotonic()
        with pytest.raises(RuntimeError, match="died"):
            kernel.wait_ready()
        assert time.monotonic() - t0 < 30
        assert kernel.broken
    finally:
        kernel.shutdown()


@pytest.mark.sandbox
def test_a_two_worker_batch_runs_cases_in_the_calling_process_too(demo_env: Any, tmp_path: Path) -> None:
    """Of a 2-worker batch, the calling process runs cases itself (no process spawned for it) and
    a spawned worker runs the others; every result comes back once, in input order."""
    from billing_nb.records.batch import run_batch
    from billing_nb.records.runner import CaseRequest

    people = [demo_env.story(s) for s in ("dup_personal", "failed_renewal", "team", "disputed")] * 2
    seen: list[tuple[str, bool]] = []
    results = run_batch([CaseRequest(lookup=p.lookup, bucket=p.expected_bucket) for p in people],
                        cases_dir=tmp_path / "cases", workers=2,
                        on_done=lambda r: seen.append((r.case_id, threading.current_thread() is threading.main_thread())))
    assert [r.status for r in results] == ["done"] * len(people), [r.error for r in results]
    assert [r.record["customer"]["id"] for r in results] == [p.customer_id for p in people]
    assert sorted(c for c, _ in seen) == sorted(r.case_id for r in results)  # each reported once
    assert any(mine for _, mine in seen), "the calling process ran no case"
    assert not all(mine for _, mine in seen), "no spawned worker ran a case"


@pytest.mark.sandbox
def test_a_batch_whose_progress_callback_fails_stops_handing_out_cases(demo_env: Any, tmp_path: Path) -> None:
    """A failing ``on_done`` (a closed progress stream, Ctrl-C in the caller) ends the batch: the
    error reaches the caller, the workers stop after the case they are running, and no worker
    process is left behind -- the queued cases are not run on unseen."""
    import multiprocessing

    from billing_nb.records.batch import run_batch
    from billing_nb.records.runner import CaseRequest

    person = demo_env.story("dup_personal")
    calls: list[str] = []

    def broken(result: Any) -> None:
        calls.append(result.case_id)
        raise BrokenPipeError("progress stream closed")

    with pytest.raises(BrokenPipeError):
        run_batch([CaseRequest(lookup=person.lookup, bucket=person.expected_bucket)] * 12,
                  cases_dir=tmp_path / "cases", workers=2, on_done=broken)
    assert not multiprocessing.active_children()
    records = list((tmp_path / "cases").glob("*/*/case.json"))
    assert 1 <= len(calls) and len(records) <= 4, (len(calls), len(records))  # at most the cases already running


@pytest.mark.sandbox
def test_a_case_whose_early_kernel_died_while_booting_runs_on_its_own_kernel(demo_env: Any, tmp_path: Path) -> None:
    """A worker's kernel is launched before the case is read; if it dies before it is ready, the
    case still runs (papermill starts a kernel for it) and the worker sees the kernel as broken."""
    import os
    import signal

    from billing_nb.records.kernels import WarmKernel
    from billing_nb.records.runner import CaseRequest, run_case

    person = demo_env.story("team")
    kernel = WarmKernel(wait=False)
    try:
        os.kill(kernel.km.provisioner.pid, signal.SIGKILL)  # type: ignore[union-attr]
        result = run_case(CaseRequest(lookup=person.lookup, bucket=person.expected_bucket),
                          cases_dir=tmp_path / "cases", kernel=kernel)
    finally:
        kernel.shutdown()
    assert result.status == "done", result.error
    assert result.record["customer"]["id"] == person.customer_id
    assert kernel.broken


@pytest.mark.sandbox
def test_a_spawned_worker_killed_mid_batch_costs_only_its_running_case(demo_env: Any, tmp_path: Path) -> None:
    """The OOM killer takes a spawned worker: the batch still ends, the calling process runs the
    queued cases, at most the killed worker's running case fails (and says so), every case is
    reported once, and the killed worker's kernel does not outlive the batch."""
    import multiprocessing
    import os
    import signal
    import time

    import psutil

    from billing_nb.records.batch import run_batch
    from billing_nb.records.runner import CaseRequest

    person = demo_env.story("dup_personal")
    seen: list[str] = []
    victims: list[int] = []
    orphans: list[psutil.Process] = []

    def on_done(result: Any) -> None:
        seen.append(result.status)
        if not victims:
            for child in multiprocessing.active_children():
                proc = psutil.Process(child.pid)
                orphans.extend(proc.children(recursive=True))  # its kernel
                victims.append(child.pid)
                os.kill(child.pid, signal.SIGKILL)

    t0 = time.monotonic()
    results = run_batch([CaseRequest(lookup=person.lookup, bucket=person.expected_bucket)] * 8,
                        cases_dir=tmp_path / "cases", workers=2, on_done=on_done)
    assert victims and orphans, "no spawned worker (with its kernel) to kill"
    assert time.monotonic() - t0 < 120
    statuses = [r.status for r in results]
    assert statuses.count("done") >= len(results) - 1, [r.error for r in results]
    failed = [r for r in results if r.status != "done"]
    assert all("died" in (r.error or "") for r in failed), [r.error for r in failed]
    assert len(seen) == len(results), "every case is reported once, the lost one too"
    assert not multiprocessing.active_children()
    deadline = time.monotonic() + 15  # ipykernel notices its parent is gone within about a second
    while time.monotonic() < deadline and any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in orphans):
        time.sleep(0.2)
    assert not [p.pid for p in orphans if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], "the killed worker's kernel lives on"


@pytest.mark.parametrize("items, code", [([("case", None)], 0), ([("not", "a", "job")], 1)])
def test_a_spawned_worker_flushes_its_results_and_ends_with_its_own_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, items: list[Any], code: int) -> None:
    """A spawned worker skips its interpreter's teardown at a clean end (``os._exit(0)`` after
    its kernel stops): the result it sent last still reaches the caller, its kernel is gone,
    and an error in the worker still ends it with a failing code, not a silent 0."""
    import multiprocessing as mp
    import os

    import psutil

    from billing_nb.records.batch import _worker_main
    from billing_nb.records.runner import CaseRequest

    for key in [k for k in os.environ if k.startswith("STRIPE_")]:
        monkeypatch.delenv(key)  # the case fails fast, before any request: no key
    ctx = mp.get_context("spawn")
    mine, theirs = ctx.Pipe()
    proc = ctx.Process(target=_worker_main, args=(theirs, str(tmp_path / "cases"), 60))
    proc.start()
    theirs.close()
    for item in items:
        mine.send((0, CaseRequest(lookup="cus_Nobody123")) if item == ("case", None) else item)
    kernels: list[psutil.Process] = []
    while proc.is_alive() and not kernels:
        try:
            kernels = psutil.Process(proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            break
    if code == 0:
        assert mine.recv() == (0, None)  # started
        index, result = mine.recv()
        assert index == 0 and result.status == "failed" and "STRIPE_API_KEY" in (result.error or ""), result.error
        mine.send(None)
    proc.join(timeout=120)
    assert proc.exitcode == code
    _, alive = psutil.wait_procs(kernels, timeout=15)
    assert not alive, "the worker's kernel outlived it"


@pytest.mark.sandbox
def test_a_spawned_worker_killed_between_cases_loses_none(demo_env: Any, tmp_path: Path) -> None:
    """A spawned worker killed after an answer, as it waits for or receives its next case (the
    OOM killer does not wait for a good moment): no case is lost. The caller hands cases out
    one at a time on the worker's own pipe and the worker says when it starts one, so a case
    sent to a dead or dying worker goes to one still alive. Before, workers took cases from a
    shared queue themselves: the killed one had already taken its next case, which failed as
    "died" without ever running."""
    import multiprocessing
    import os
    import signal

    from billing_nb.records.batch import run_batch
    from billing_nb.records.runner import CaseRequest

    person = demo_env.story("dup_personal")
    victims: list[int] = []
    seen: list[str] = []

    def on_done(result: Any) -> None:
        seen.append(result.status)
        if victims or threading.current_thread() is threading.main_thread():
            return
        for child in multiprocessing.active_children():  # this result's worker, between two cases
            victims.append(child.pid or 0)
            os.kill(child.pid or 0, signal.SIGKILL)

    results = run_batch([CaseRequest(lookup=person.lookup, bucket=person.expected_bucket)] * 6,
                        cases_dir=tmp_path / "cases", workers=2, on_done=on_done)
    assert victims, "no spawned worker answered"
    assert [r.status for r in results] == ["done"] * 6, [r.error for r in results]
    assert len(seen) == 6
    assert not multiprocessing.active_children()
