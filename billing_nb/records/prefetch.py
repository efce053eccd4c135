"""The runner's read of a case: the snapshot fetched while the kernel starts, and the
private file that hands it to the notebook.

The snapshot's three request waves (:func:`billing_nb.records.case.fetch_snapshot`) run on
a thread while the kernel boots and imports the notebook's modules, so neither waits for
the other. The raw snapshot (PII in clear: the notebook masks what it saves) goes to a
0600 file in a fresh 0700 folder outside the record; the runner deletes it after the run,
and only its path is a notebook parameter.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..reading.provider import StripeReader
from ..reading.snapshot import CaseSnapshot
from .kernels import WarmKernel

__all__ = ["read_while_kernel_starts", "handoff_file"]


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


def handoff_file(snapshot: CaseSnapshot) -> Path:
    """The raw snapshot in a private folder (0700/0600) outside the record, for the kernel."""
    folder = Path(tempfile.mkdtemp(prefix="bnb-handoff-"))
    path = folder / "snapshot.json"
    snapshot.save(path, mask_pii=False, readable=False)  # only the kernel reads it
    path.chmod(0o600)
    return path
