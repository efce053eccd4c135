"""The runner's read of a case: the snapshot fetched while the kernel starts, and the
private file that hands it to the notebook.

The snapshot's three request waves (:func:`billing_nb.records.case.fetch_snapshot`) run on
a thread while the kernel boots and imports the notebook's modules, so neither waits for
the other. The raw snapshot (PII in clear: the notebook masks what it saves) goes to a
0600 file in a fresh 0700 folder outside the record; the kernel deletes it once read, the
runner after the run, and only its path is a notebook parameter. A runner killed before
either (SIGKILL, a power cut) leaves its folder behind: the next handoff sweeps this user's
folders older than :data:`STALE_AFTER`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..reading.provider import StripeReader
from ..reading.snapshot import CaseSnapshot
from .kernels import WarmKernel

__all__ = ["read_while_kernel_starts", "handoff_file", "sweep_stale_handoffs", "PREFIX", "STALE_AFTER"]

PREFIX = "bnb-handoff-"
#: A handoff older than this is a killed run's (a case reads it within seconds of writing it).
STALE_AFTER = 3600.0


def read_while_kernel_starts(reader: StripeReader, lookup: str, *, start_kernel: bool) -> tuple[CaseSnapshot, WarmKernel | None]:
    """The case's snapshot, read while a kernel starts (when one is wanted)."""
    from .case import fetch_snapshot

    if not start_kernel:
        return fetch_snapshot(reader, lookup), None
    with ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(fetch_snapshot, reader, lookup)
        kernel: WarmKernel | None = None
        try:
            kernel = WarmKernel()
        except Exception:  # noqa: BLE001 - papermill's own start (with its retry) takes over
            kernel = None
        try:
            return reading.result(), kernel
        except BaseException:
            if kernel is not None:
                kernel.shutdown()
            raise


def sweep_stale_handoffs(root: Path | None = None, *, older_than: float = STALE_AFTER) -> int:
    """Remove this user's handoff folders older than ``older_than`` seconds (a killed runner's,
    PII in clear); another user's, or a fresh one a running case still needs, are left. The
    number removed."""
    base = Path(root or tempfile.gettempdir())
    now, uid, removed = time.time(), os.getuid() if hasattr(os, "getuid") else None, 0
    for folder in base.glob(f"{PREFIX}*"):
        try:
            info = folder.lstat()
        except OSError:
            continue
        if not folder.is_dir() or folder.is_symlink() or (uid is not None and info.st_uid != uid):
            continue
        if now - info.st_mtime > older_than:
            shutil.rmtree(folder, ignore_errors=True)
            removed += not folder.exists()
    return removed


def handoff_file(snapshot: CaseSnapshot) -> Path:
    """The raw snapshot in a private folder (0700/0600) outside the record, for the kernel;
    first, stale ones a killed runner left are swept."""
    sweep_stale_handoffs()
    folder = Path(tempfile.mkdtemp(prefix=PREFIX))
    path = folder / "snapshot.json"
    snapshot.save(path, mask_pii=False, readable=False)  # only the kernel reads it
    path.chmod(0o600)
    return path
