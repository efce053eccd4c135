"""Batches of cases on warm kernels, one worker per core.

Each worker keeps one :class:`~billing_nb.records.kernels.WarmKernel` across its cases
(every case in a fresh namespace). Start-up is what a batch pays once per worker, so it
is overlapped and shared where it can be:

- the calling process is the first worker (its imports are done; no process to spawn),
  and the others are spawned processes;
- a worker launches its kernel first (``WarmKernel(wait=False)``: the kernel boots and
  imports the case's modules in its own process) and only then imports the runner and
  reads its first case's snapshot, waiting for the kernel at the notebook's start.

The calling process hands the cases out, one at a time, each spawned worker on a pipe of
its own (not a shared queue: a process killed while reading a shared queue holds its lock
for good, and every other reader then waits forever). Each worker says when it starts
a case, so a worker that dies (killed, out of memory) costs only the case it had started,
reported at once; a case sent to it but not started goes to a worker still alive.

This module imports the runner lazily, so a spawned worker's kernel is already booting
while the worker imports it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .kernels import WarmKernel

if TYPE_CHECKING:
    from .runner import CaseRequest, CaseResult

__all__ = ["run_batch"]


def _run_one(request: CaseRequest, cases_dir: str | None, timeout: int, kernel: WarmKernel | None = None) -> CaseResult:
    from .. import exceptions as exc
    from ..reading.masking import mask_text
    from .runner import DEFAULT_TIMEOUT, CaseResult, run_case

    try:
        return run_case(request, cases_dir=Path(cases_dir) if cases_dir else None, timeout=timeout or DEFAULT_TIMEOUT,
                        kernel=kernel)
    except (exc.BillingNbError, OSError) as err:  # one case's failure never stops the batch
        ours = exc.StorageError.of(cases_dir, err)
        return CaseResult(case_id=request.case_id or "", status="failed", record_dir=None,
                          exit_code=ours.exit_code, error=str(ours))
    except Exception as err:  # noqa: BLE001 - one case's failure never stops a batch
        return CaseResult(case_id=request.case_id or "", status="failed", record_dir=None,
                          exit_code=3, error=mask_text(f"{type(err).__name__}: {err}"))


class _Worker:
    """A batch worker's warm kernel: launched when the worker starts (booting while the
    worker imports and reads), replaced when it breaks."""

    def __init__(self) -> None:
        self.kernel: WarmKernel | None = None
        self._launch()

    def _launch(self) -> None:
        try:
            self.kernel = WarmKernel(wait=False)
        except Exception:  # noqa: BLE001 - this case starts its own kernel instead
            self.kernel = None

    def run(self, request: CaseRequest, cases_dir: str | None, timeout: int) -> CaseResult:
        if self.kernel is not None and (self.kernel.broken or not self.kernel.alive()):
            self.close()
        if self.kernel is None:
            self._launch()
        return _run_one(request, cases_dir, timeout, self.kernel)

    def close(self) -> None:
        if self.kernel is not None:
            self.kernel.stop()
            self.kernel = None


def _worker_main(conn: Connection, cases_dir: str | None, timeout: int) -> None:
    """A spawned worker: run the cases the caller sends (``(index, request)``) until ``None``,
    saying ``(index, None)`` as it starts one and ``(index, result)`` when it is done."""
    worker = _Worker()  # the kernel boots while the first job's imports run
    try:
        while (item := conn.recv()) is not None:
            index, request = item
            conn.send((index, None))  # started: from here a death costs this case
            conn.send((index, worker.run(request, cases_dir, timeout)))
    finally:
        worker.close()
    # A clean end: every result is written to the pipe and the kernel is stopped; a spawned
    # process's interpreter teardown (a fifth of a second, every module's objects freed) would
    # only keep the caller waiting in ``join``. An error above ends the usual way, with its code.
    conn.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _died(request: CaseRequest) -> CaseResult:
    from .runner import CaseResult

    return CaseResult(case_id=request.case_id or "", status="failed", record_dir=None, exit_code=3,
                      error="the batch worker running this case died")


class _Cases:
    """The cases not yet handed out, shared by the calling process's own worker and the
    dispatcher of the spawned ones; :meth:`stop` hands out no more."""

    def __init__(self, requests: list[CaseRequest]) -> None:
        self._items = list(enumerate(requests))
        self._back: list[tuple[int, CaseRequest]] = []
        self._next = 0
        self._lock = threading.Lock()
        self.stopped = False

    def take(self) -> tuple[int, CaseRequest] | None:
        with self._lock:
            if self.stopped:
                return None
            if self._back:
                return self._back.pop()
            if self._next >= len(self._items):
                return None
            self._next += 1
            return self._items[self._next - 1]

    def give_back(self, item: tuple[int, CaseRequest]) -> None:
        """A case its worker never started (it died first); it goes to the next taker."""
        with self._lock:
            self._back.append(item)

    def stop(self) -> None:
        with self._lock:
            self.stopped = True


def run_batch(requests: list[CaseRequest], *, cases_dir: Path | None = None, workers: int | None = None,
              timeout: int = 0, on_done: Callable[[CaseResult], None] | None = None) -> list[CaseResult]:
    """Run many cases on workers sized to the cores (the calling process and spawned
    processes), each with one warm kernel reused across its cases (a fresh namespace per
    case); results in input order. ``timeout``: seconds per notebook (0: the runner's).

    ``on_done(result)`` is called as each case finishes (in completion order, one call at a
    time), for progress -- a case whose worker died too, as soon as the death is seen.
    """
    size = max(1, min(workers or os.cpu_count() or 1, len(requests) or 1))
    folder = str(cases_dir) if cases_dir else None
    if size == 1:
        worker = _Worker()
        try:
            results: list[CaseResult] = []
            for r in requests:
                results.append(worker.run(r, folder, timeout))
                if on_done:
                    on_done(results[-1])
            return results
        finally:
            worker.close()
    cases = _Cases(requests)
    done: dict[int, CaseResult] = {}
    lock = threading.Lock()
    failures: list[BaseException] = []  # the dispatcher thread's (on_done's), raised by the caller's

    def finish(index: int, result: CaseResult) -> None:
        with lock:
            done[index] = result
            if on_done:
                on_done(result)

    ctx = mp.get_context("spawn")  # no inherited threads or sockets (a sandbox thread, a kernel's)
    # a worker's pipe: its process, the case sent to it, and whether it has started that case
    running: dict[Connection, tuple[BaseProcess, tuple[int, CaseRequest] | None, bool]] = {}
    for _ in range(size - 1):
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=_worker_main, args=(theirs, folder, timeout), daemon=False)
        proc.start()
        theirs.close()  # the worker's end lives in the worker only: its death is an EOF here
        running[mine] = (proc, None, False)
        _hand_out(mine, cases, running)

    procs = [proc for proc, _, _ in running.values()]

    def dispatch() -> None:  # the spawned workers' results as they come, and their next cases
        try:
            _dispatch()
        except BaseException as err:  # noqa: BLE001 - re-raised by the caller's thread
            failures.append(err)
            cases.stop()
        finally:
            for conn in list(running):  # only after an error: a worker reads EOF and ends
                _retire(conn, running)
            for proc in procs:
                proc.join(timeout=30)

    def _dispatch() -> None:
        while running:
            for ready in wait(list(running)):
                conn = cast(Connection, ready)
                proc, item, started = running[conn]
                try:
                    index, result = conn.recv()
                except (EOFError, OSError):  # the worker is gone: only the case it had started is lost
                    _retire(conn, running)
                    if item is None:
                        continue
                    if not started:
                        cases.give_back(item)
                        continue
                    result, index = _died(item[1]), item[0]
                if result is None:  # it has started the case sent to it
                    running[conn] = (proc, item, True)
                    continue
                try:
                    finish(index, result)
                except BaseException as err:  # noqa: BLE001 - re-raised by the caller's thread
                    failures.append(err)
                    cases.stop()
                if conn in running:
                    _hand_out(conn, cases, running)

    dispatcher = threading.Thread(target=dispatch, name="billing-nb-batch-dispatch", daemon=True)
    dispatcher.start()
    worker = _Worker()
    try:
        for last_round in (False, True):  # then what a dead worker's pipe gave back, once all are done
            if last_round:
                dispatcher.join()
            while not failures and (item := cases.take()) is not None:
                index, request = item
                finish(index, worker.run(request, folder, timeout))
    except BaseException:
        cases.stop()  # Ctrl-C, a failing on_done: the workers stop after their case
        raise
    finally:
        worker.close()
        dispatcher.join()
    if failures:
        raise failures[0]
    for i, r in enumerate(requests):
        if i not in done:  # never expected: a case neither run nor lost with a worker
            finish(i, _died(r))
    return [done[i] for i in range(len(requests))]


def _hand_out(conn: Connection, cases: _Cases, running: dict[Connection, Any]) -> None:
    """Send a worker its next case, or ``None`` (it ends) when there is none; a worker whose
    pipe is broken gives the case back and is retired."""
    proc, _, _ = running[conn]
    item = cases.take()
    try:
        conn.send(item)
    except OSError:
        if item is not None:
            cases.give_back(item)
        _retire(conn, running)
        return
    if item is None:
        _retire(conn, running)
    else:
        running[conn] = (proc, item, False)


def _retire(conn: Connection, running: dict[Connection, Any]) -> None:
    """A worker that has ended or is ending: its pipe closed (its process is reaped when the
    dispatcher ends, so a slow exit never holds up another worker's next case)."""
    running.pop(conn)
    conn.close()
