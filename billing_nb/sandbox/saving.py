"""When the ``--state`` file is written: a saver thread journals what writes touched.

Why a mixin of :class:`~billing_nb.sandbox.store.Store`: the store's accessors record what
they hand out; this side turns those records into journal batches and compactions
(:mod:`billing_nb.sandbox.persist` is the file format) without a write ever waiting on disk.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from .persist import StateFile

Obj = dict[str, Any]
log = logging.getLogger("billing_nb.sandbox")

__all__ = ["Saving", "SAVE_INTERVAL", "TOUCHED_FLUSH"]

#: Seconds between saves of a ``--state`` file: writes mark the store dirty and a saver
#: thread appends what changed at most this often (and on shutdown), never once per request.
SAVE_INTERVAL = 2.0
#: Objects handed out (by reads too) after which the saver flushes even with no write: a
#: read-through of a large account is hashed a slice at a time, not all at the next write.
TOUCHED_FLUSH = 5_000


class _Recorded(dict[str, Any]):
    """The idempotency table: remembers the keys set since the last flush (entries are only
    ever added, by ``table[key] = entry``), so a flush journals just those."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.new: list[str] = []

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.new.append(key)


class Saving:
    """Persistence for the store: ``save_soon`` after a write, ``flush`` by the saver thread,
    ``close`` on shutdown, ``save`` for a whole snapshot now, ``load`` at start."""

    lock: threading.RLock
    state_path: Path | None
    settings: dict[str, Any]
    _objects: dict[str, dict[str, Any]]
    _idempotency: _Recorded
    _touched: dict[tuple[str, str], bool]
    _full: bool
    _state: StateFile | None
    _dirty: bool
    _saver: threading.Thread | None

    def reindex(self) -> None:  # the store's: positions and indexes from ``objects``
        raise NotImplementedError

    @property
    def objects(self) -> dict[str, dict[str, Obj]]:
        """Every object by kind and id (read-only use: changes made here are not tracked)."""
        return self._objects

    @objects.setter
    def objects(self, value: dict[str, dict[str, Obj]]) -> None:
        self._objects, self._full = value, True  # a wholesale swap: journal nothing, rewrite the base

    @property
    def idempotency(self) -> dict[str, Any]:
        return self._idempotency

    @idempotency.setter
    def idempotency(self, value: dict[str, Any]) -> None:
        self._idempotency, self._full = _Recorded(value), True

    def dump(self) -> dict[str, Any]:
        return {"objects": self._objects, "settings": self.settings,
                "idempotency": {k: list(v) for k, v in self._idempotency.items()}}

    def _state_file(self) -> StateFile | None:
        if self.state_path is None:
            return None
        if self._state is None or self._state.path != self.state_path:
            self._state, self._full = StateFile(self.state_path), True
        return self._state

    def save(self, path: Path | None = None) -> None:
        """Write a whole base snapshot now: our own state file compacted (its journal
        restarts), or a copy at another ``path`` (a benchmark's prepared account)."""
        if path is not None and path != self.state_path:
            with self.lock:
                other = StateFile(path)
                chunks, gen = other.snapshot(self._objects, self.settings, self._idempotency, own=False)
            other.write_base(chunks, gen, own=False)
            return
        self._flush(compact=True)

    def save_soon(self) -> None:
        """After a write: the state file is brought up to date within :data:`SAVE_INTERVAL`
        by a background thread, so a write costs nothing however large the store is."""
        if self.state_path is None:
            return
        self._dirty = True
        self._start_saver()

    def _start_saver(self) -> None:
        if self._saver is None:
            self._saver = threading.Thread(target=self._save_loop, name="sandbox-state", daemon=True)
            self._saver.start()

    def _save_loop(self) -> None:
        while True:
            time.sleep(SAVE_INTERVAL)
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - a full disk must not stop later saves
                log.exception("sandbox: saving %s failed; the next save rewrites it whole", self.state_path)

    def flush(self) -> None:
        """Journal the writes not saved yet (the saver thread, every :data:`SAVE_INTERVAL`)."""
        if self._dirty or len(self._touched) >= TOUCHED_FLUSH:
            self._flush(compact=False)

    def close(self) -> None:
        """On clean shutdown: everything saved and the journal folded into the base."""
        sf = self._state_file()
        if sf is None or (not self._dirty and not sf.path.exists()):
            return  # nothing was ever written: leave no file behind
        if self._dirty or self._touched or self._idempotency.new:
            self._flush(compact=False)
        if sf.batches:
            self._flush(compact=True)

    def _flush(self, *, compact: bool) -> None:
        with self.lock:
            sf = self._state_file()
            if sf is None:
                return
            self._dirty = False
            if compact or self._full or sf.needs_compaction():
                chunks, gen = sf.snapshot(self._objects, self.settings, self._idempotency)
                self._full = False

                def write() -> None:
                    sf.write_base(chunks, gen)
            else:
                lines = sf.batch(self._objects, self._touched, self._idempotency.new, self._idempotency,
                                 self.settings)

                def write() -> None:
                    sf.append(lines)
            self._touched = {}
            self._idempotency.new = []
            sf.io.acquire()  # under the store lock: batches reach the disk in the order they were taken
        try:
            write()
        except BaseException:
            self._full = True  # what was taken is not on disk: the next flush rewrites the base
            raise
        finally:
            sf.io.release()

    def load(self, path: Path) -> None:
        sf = StateFile(path)
        data = sf.load()
        self.objects = data["objects"]
        self.settings.update(data["settings"])
        self.idempotency = {k: (v[0], int(v[1]), v[2]) for k, v in data["idempotency"].items()}
        self.reindex()
        if path == self.state_path:
            sf.remember(self._objects, self.settings)
            self._state, self._touched = sf, {}
            self._full = sf.generation is None  # an old-format file: the first flush rewrites it
            self._idempotency.new = []
            self._start_saver()  # a loaded account's reads are hashed in slices (TOUCHED_FLUSH)

