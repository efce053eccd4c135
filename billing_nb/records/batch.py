"""Batches of cases on warm kernels, one worker per core.

Each worker keeps one :class:`~billing_nb.records.kernels.WarmKernel` across its cases
(every case in a fresh namespace). Start-up is what a batch pays once per worker, so it
is overlapped and shared where it can be:

- the calling process is the first worker (its imports are done; no process to spawn),
  and the others are spawned processes taking cases from the same queue (a worker that
  dies leaves its queued cases to the rest; only its running case fails);
- a worker launches its kernel first (``WarmKernel(wait=False)``: the kernel boots and
  imports the case's modules in its own process) and only then imports the runner and
  reads its first case's snapshot, waiting for the kernel at the notebook's start.

This module imports the runner lazily, so a spawned worker's kernel is already booting
while the worker imports it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


def _worker_main(jobs: Any, results: Any, cases_dir: str | None, timeout: int) -> None:
    worker = _Worker()  # the kernel boots while the first job's imports run
    try:
        while (item := jobs.get()) is not None:
            index, request = item
            results.put((index, worker.run(request, cases_dir, timeout)))
    finally:
        worker.close()
    # A clean end: the results are flushed to the caller and the kernel is stopped; a spawned
    # process's interpreter teardown (a fifth of a second, every module's objects freed) would
    # only keep the caller waiting in ``join``. An error above ends the usual way, with its code.
    results.close()
    results.join_thread()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


#: Put on the results queue by the calling process when its own cases are done.
_WAKE = (-1, None)


def _died(request: CaseRequest) -> CaseResult:
    from .runner import CaseResult

    return CaseResult(case_id=request.case_id or "", status="failed", record_dir=None, exit_code=3,
                      error="the batch worker running this case died")


def run_batch(requests: list[CaseRequest], *, cases_dir: Path | None = None, workers: int | None = None,
              timeout: int = 0, on_done: Callable[[CaseResult], None] | None = None) -> list[CaseResult]:
    """Run many cases on workers sized to the cores (the calling process and spawned
    processes), each with one warm kernel reused across its cases (a fresh namespace per
    case); results in input order. ``timeout``: seconds per notebook (0: the runner's).

    ``on_done(result)`` is called as each case finishes (in completion order, one call at a
    time), for progress; a case whose worker died is reported when the batch ends.
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
    ctx = mp.get_context("spawn")  # no inherited threads or sockets (a sandbox thread, a kernel's)
    jobs, outcomes = ctx.Queue(), ctx.Queue()
    for item in enumerate(requests):
        jobs.put(item)
    for _ in range(size):  # one stop for each spawned worker and one for this process
        jobs.put(None)
    procs = [ctx.Process(target=_worker_main, args=(jobs, outcomes, folder, timeout), daemon=False)
             for _ in range(size - 1)]
    for proc in procs:
        proc.start()
    done: dict[int, CaseResult] = {}
    lock = threading.Lock()
    mine_finished = threading.Event()
    failures: list[BaseException] = []  # on_done's, raised in the collector thread

    def finish(index: int, result: CaseResult) -> None:
        with lock:
            done[index] = result
            if on_done:
                on_done(result)

    def collect() -> None:  # the spawned workers' results, as they come
        while True:
            with lock:
                if len(done) >= len(requests):
                    return
            try:
                index, result = outcomes.get(timeout=0.05 if mine_finished.is_set() else 0.5)
            except queue.Empty:
                if mine_finished.is_set() and not any(p.is_alive() for p in procs):
                    try:
                        index, result = outcomes.get(timeout=0.5)  # a last result still in the pipe
                    except queue.Empty:
                        return
                else:
                    continue
            if result is None:  # the caller's wake-up: its own cases are done (checked above)
                continue
            try:
                finish(index, result)
            except BaseException as err:  # noqa: BLE001 - re-raised by the caller's thread
                failures.append(err)
                _stop_handing_out(jobs, len(procs))

    collector = threading.Thread(target=collect, name="billing-nb-batch-results", daemon=True)
    collector.start()
    worker = _Worker()
    try:
        while not failures and (item := jobs.get()) is not None:
            index, request = item
            finish(index, worker.run(request, folder, timeout))
    except BaseException:
        _stop_handing_out(jobs, len(procs))  # Ctrl-C, a failing on_done: the workers stop after their case
        raise
    finally:
        worker.close()
        mine_finished.set()
        outcomes.put(_WAKE)  # the collector may be waiting for a result this process has just recorded
        collector.join()
        for proc in procs:
            proc.join(timeout=30)
    if failures:
        raise failures[0]
    for i, r in enumerate(requests):
        if i not in done:  # its worker died (killed, out of memory) while running it
            finish(i, _died(r))
    return [done[i] for i in range(len(requests))]


def _stop_handing_out(jobs: Any, workers: int) -> None:
    """Take every queued case back and queue one stop per spawned worker (and one for the
    calling process, which may be taking from the queue meanwhile): each ends after the case
    it is running, instead of the batch running on after the caller stopped."""
    while True:
        try:
            jobs.get(timeout=0.05)
        except queue.Empty:
            break
    for _ in range(workers + 1):
        jobs.put(None)
