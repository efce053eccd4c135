"""Deterministic kill points, so crash-recovery tests do not depend on timing.

A test sets ``BILLING_NB_TEST_CRASH_AT=<point>`` (or ``<point>:tree``) in the environment of
the run it wants to kill; when the run reaches that point the process SIGKILLs itself
(``:tree`` first kills its parent's process group: the CLI that started this kernel, as
when a laptop dies). Unset, :func:`crash_point` does nothing. The points, in the order a
write passes them (``POINTS``):

- ``in_progress``: the record is saved ``in_progress``, no ledger row for the write yet;
- ``begun``: the ledger's begin is written, Stripe not called;
- ``written``: Stripe answered the write, the ledger's finish is not written;
- ``finished``: the ledger's finish is written, the record that counts it is not saved;
- ``counted``: the record listing the write is saved, its final status is not;
- ``final_save``: the final record is in its temp file, not yet renamed over case.json.
"""

from __future__ import annotations

import os
import signal

__all__ = ["CRASH_ENV", "POINTS", "crash_point"]

#: The environment variable naming the point at which the run kills itself.
CRASH_ENV = "BILLING_NB_TEST_CRASH_AT"
#: Every point the toolkit passes, in order.
POINTS = ("in_progress", "begun", "written", "finished", "counted", "final_save")


def crash_point(name: str) -> None:
    """SIGKILL this process (and with ``:tree`` its parent's group) if the test asked for ``name``."""
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return
    point, _, scope = spec.partition(":")
    if point != name:
        return
    if scope == "tree":
        parent = os.getppid()
        if parent > 1:
            try:
                os.killpg(os.getpgid(parent), signal.SIGKILL)
            except OSError:
                os.kill(parent, signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
