"""The per-effect file lock the executor holds around one begin - write - finish.

Two processes sharing a cases folder must never call Stripe for the same effect at once,
and a begin without a finish found *while holding the lock* must belong to a run that
died. ``flock`` gives both: the kernel releases a dead process's lock with its descriptor.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..exceptions import StorageError

__all__ = ["effect_lock"]


@contextmanager
def effect_lock(folder: Path, key: str, timeout: float = 600.0) -> Iterator[None]:
    """Hold ``folder/<key>.lock`` exclusively (waiting up to ``timeout`` seconds for another
    process holding it); a one-line :class:`StorageError` when it can't be made or taken."""
    try:
        folder.mkdir(exist_ok=True)
        fd = os.open(folder / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as err:
        raise StorageError.of(folder, err) from err
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StorageError(f"{folder / key}.lock: another run has held this effect's lock for "
                                       f"{timeout:.0f}s") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
