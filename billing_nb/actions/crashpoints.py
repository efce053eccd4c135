"""Deterministic kill points, so crash-recovery tests do not depend on timing.

A test sets ``BILLING_NB_TEST_CRASH_AT=<point>[+<seconds>][:tree]`` in the environment of
the run it wants to kill; when the run reaches that point the process SIGKILLs itself
(``:tree`` first kills its parent's process group: the CLI that started this kernel, as
when a laptop dies). ``+<seconds>`` kills that long *after* the point while the run goes
on: ``begun+0.2`` against a slow Stripe (``--latency-ms``) dies with the write in flight.
Unset, :func:`crash_point` does nothing. The points, in the order a
write passes them (``POINTS``):

- ``confirmed``: the bucket is confirmed and saved, the approved writes not started;
- ``in_progress``: the record is saved ``in_progress``, no ledger row for the write yet;
- ``begun``: the ledger's begin is written, Stripe not called;
- ``written``: Stripe answered the write, the ledger's finish is not written;
- ``finished``: the ledger's finish is written, the record that counts it is not saved;
- ``counted``: the record listing the write is saved, its final status is not;
- ``final_save``: the final record is in its temp file, not yet renamed over case.json.

Inside a write of several calls (``WITHIN_WRITES``, not passed by every write):

- ``cancelled``: a cancel now has landed in Stripe, the subscription's pending proration items are
  not yet deleted (a re-run finds the cancel done and must still delete them).
"""

from __future__ import annotations

import os
import signal
import threading
import time

__all__ = ["CRASH_ENV", "POINTS", "WITHIN_WRITES", "crash_point"]

#: The environment variable naming the point at which the run kills itself.
CRASH_ENV = "BILLING_NB_TEST_CRASH_AT"
#: Every point the toolkit passes, in order.
POINTS = ("confirmed", "in_progress", "begun", "written", "finished", "counted", "final_save")
#: Points between the calls of one write, passed only by the writes that make them.
WITHIN_WRITES = ("cancelled",)


def _kill(tree: bool) -> None:
    if tree:
        parent = os.getppid()
        if parent > 1:
            try:
                os.killpg(os.getpgid(parent), signal.SIGKILL)
            except OSError:
                os.kill(parent, signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


def crash_point(name: str) -> None:
    """SIGKILL this process (and with ``:tree`` its parent's group) if the test asked for ``name``."""
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return
    where, _, scope = spec.partition(":")
    point, _, delay = where.partition("+")
    if point != name:
        return
    if not delay:
        _kill(scope == "tree")
        return

    def later() -> None:
        time.sleep(float(delay))
        _kill(scope == "tree")
    threading.Thread(target=later, daemon=True).start()
