"""The ``--state`` file: a base snapshot plus an append-only journal of what changed.

Why: rewriting the whole store after every write costs the store's size (hundreds of MB
at 50k subscriptions); a journal line per changed object costs what the write changed.

Layout: ``PATH`` is the base snapshot, the same JSON document older sandboxes wrote
(``{"objects", "settings", "idempotency"}``, so old state files still load) plus
``"journal": {"generation": G}``. ``PATH.journal`` holds JSON lines: a header
``{"gen": G}``, then batches of ``kind``/``put``/``del``/``idem``/``settings`` lines each closed by a
``{"commit": n}`` line. Loading is base + every committed batch of the journal whose
generation matches; a torn or uncommitted tail (a process killed mid-append) is dropped.
Compaction writes a new base (tmp + fsync + replace) under a new generation, then a fresh
journal: a crash between the two leaves a journal of the old generation, which is ignored.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["StateFile", "journal_path", "COMPACT_FRACTION", "COMPACT_MIN_BYTES"]

#: The journal is folded into a new base once it outgrows this fraction of the base ...
COMPACT_FRACTION = 0.5
#: ... and this many bytes (a small store compacts rarely, not after every batch).
COMPACT_MIN_BYTES = 1 << 20

Doc = dict[str, Any]


def journal_path(base: Path) -> Path:
    """The journal that sits next to a base snapshot."""
    return base.with_name(base.name + ".journal")


def _fsync_write(path: Path, chunks: Iterable[str]) -> int:
    """Write a file atomically (tmp + fsync + replace); its size in bytes."""
    tmp = path.with_name(path.name + ".tmp")
    size = 0
    with open(tmp, "w", encoding="utf-8") as fh:
        for chunk in chunks:
            size += fh.write(chunk)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return size


class StateFile:
    """One ``--state`` path: reads base + journal, writes journal batches and compactions,
    and remembers a hash of each object's last persisted JSON (so an unchanged object a
    read handed out writes nothing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.journal = journal_path(path)
        self.generation: str | None = None
        self.base_bytes = 0
        self.journal_bytes = 0
        self.header_bytes = 0
        self.batches = 0
        self.saved: dict[str, dict[str, int]] = {}
        self.saved_settings = ""
        #: serialises file writes; taken while the store lock is held, released after the write
        self.io = threading.Lock()

    # ----- reading -------------------------------------------------------------------
    def load(self) -> Doc:
        """The base document with every committed journal batch applied."""
        doc = json.loads(self.path.read_text())
        out: Doc = {"objects": doc.get("objects", {}), "settings": doc.get("settings", {}),
                    "idempotency": doc.get("idempotency", {})}
        self.base_bytes = self.path.stat().st_size
        gen = (doc.get("journal") or {}).get("generation")
        self.generation = gen if isinstance(gen, str) else None
        if self.generation is not None and not self._replay(out):
            self._fresh_journal()
        return out

    def _replay(self, doc: Doc) -> bool:
        """Apply the journal's committed batches; False when it is missing or of another generation."""
        try:
            raw = self.journal.read_bytes()
        except FileNotFoundError:
            return False
        objects, settings, idem = doc["objects"], doc["settings"], doc["idempotency"]
        good, offset, pending, header = 0, 0, [], False
        for line in raw.split(b"\n")[:-1]:  # the part after the last newline is torn by definition
            offset += len(line) + 1
            try:
                entry = json.loads(line)
            except ValueError:
                break
            if not header:
                if entry.get("gen") != self.generation:
                    return False
                header, good, self.header_bytes = True, offset, offset
                continue
            if "commit" in entry:
                for e in pending:
                    _apply(e, objects, settings, idem)
                pending, good = [], offset
                self.batches += 1
            else:
                pending.append(entry)
        if not header:
            return False
        if good < len(raw):  # drop the torn tail so the next append starts on a clean line
            with open(self.journal, "r+b") as fh:
                fh.truncate(good)
        self.journal_bytes = good
        return True

    def remember(self, objects: dict[str, dict[str, Any]], settings: dict[str, Any]) -> None:
        """Hash every loaded object's JSON: the baseline later flushes compare against."""
        self.saved = {kind: {oid: hash(json.dumps(obj)) for oid, obj in bucket.items()}
                      for kind, bucket in objects.items()}
        self.saved_settings = json.dumps(settings)

    # ----- writing -------------------------------------------------------------------
    def needs_compaction(self) -> bool:
        return self.generation is None or (self.journal_bytes - self.header_bytes) > max(
            COMPACT_MIN_BYTES, COMPACT_FRACTION * self.base_bytes)

    def batch(self, objects: dict[str, dict[str, Any]], touched: dict[tuple[str, str], bool],
              idem_new: list[str], idempotency: dict[str, Any], settings: dict[str, Any]) -> list[str]:
        """Journal lines for what changed since the last flush (call under the store lock).

        ``touched`` maps (kind, id) -> whether the object left its bucket meanwhile, in the
        order keys were inserted (so new objects replay in creation order)."""
        lines: list[str] = []
        for (kind, oid), removed in touched.items():
            if kind not in self.saved and kind in objects:  # a new kind: its bucket exists even if emptied
                self.saved[kind] = {}
                lines.append(json.dumps({"kind": kind}))
            cur = objects.get(kind, {}).get(oid)
            saved = self.saved.get(kind, {})
            if cur is None:
                if saved.pop(oid, None) is not None:
                    lines.append(json.dumps({"del": kind, "id": oid}))
                continue
            text = json.dumps(cur)
            h = hash(text)
            known = saved.get(oid)
            if known is not None and known == h and not removed:
                continue
            move = ', "move": true' if removed and known is not None else ""
            lines.append(f'{{"put": {json.dumps(kind)}, "id": {json.dumps(oid)}{move}, "obj": {text}}}')
            self.saved[kind][oid] = h
        for key in idem_new:
            if key in idempotency:
                lines.append(json.dumps({"idem": key, "entry": list(idempotency[key])}))
        text = json.dumps(settings)
        if text != self.saved_settings:
            lines.append(json.dumps({"settings": settings}))
            self.saved_settings = text
        return lines

    def append(self, lines: list[str]) -> int:
        """Append one committed batch (call holding :attr:`io`); the bytes written."""
        if not lines:
            return 0
        self.batches += 1
        data = ("\n".join(lines) + f'\n{{"commit": {self.batches}}}\n').encode()
        with open(self.journal, "ab") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        self.journal_bytes += len(data)
        return len(data)

    def snapshot(self, objects: dict[str, dict[str, Any]], settings: dict[str, Any],
                 idempotency: dict[str, Any], *, own: bool = True) -> tuple[list[str], str]:
        """The base document as text chunks and its new generation (call under the store
        lock). ``own``: this is our state file, so the hashes become the new baseline."""
        gen = secrets.token_hex(8)
        chunks: list[str] = ['{"objects": {']
        hashes: dict[str, dict[str, int]] = {}
        for k, (kind, bucket) in enumerate(objects.items()):
            seen = hashes[kind] = {}
            parts = []
            for oid, obj in bucket.items():
                text = json.dumps(obj)
                seen[oid] = hash(text)
                parts.append(f"{json.dumps(oid)}: {text}")
            chunks.append((", " if k else "") + f"{json.dumps(kind)}: {{" + ", ".join(parts) + "}")
        chunks.append(f'}}, "settings": {json.dumps(settings)}, "idempotency": '
                      f'{json.dumps({key: list(v) for key, v in idempotency.items()})}, '
                      f'"journal": {{"generation": {json.dumps(gen)}}}}}')
        if own:
            self.saved, self.saved_settings = hashes, json.dumps(settings)
        return chunks, gen

    def write_base(self, chunks: list[str], gen: str, *, own: bool = True) -> None:
        """Replace the base atomically, then start a fresh journal (call holding :attr:`io`)."""
        size = _fsync_write(self.path, chunks)
        if not own:
            journal_path(self.path).unlink(missing_ok=True)
            return
        self.base_bytes, self.generation = size, gen
        self._fresh_journal()

    def _fresh_journal(self) -> None:
        header = json.dumps({"gen": self.generation}) + "\n"
        self.header_bytes = self.journal_bytes = _fsync_write(self.journal, [header])
        self.batches = 0


def _apply(entry: Doc, objects: dict[str, dict[str, Any]], settings: dict[str, Any], idem: dict[str, Any]) -> None:
    if "kind" in entry:
        objects.setdefault(entry["kind"], {})
    elif "put" in entry:
        bucket = objects.setdefault(entry["put"], {})
        if entry.get("move"):
            bucket.pop(entry["id"], None)
        bucket[entry["id"]] = entry["obj"]
    elif "del" in entry:
        objects.get(entry["del"], {}).pop(entry["id"], None)
    elif "idem" in entry:
        idem[entry["idem"]] = entry["entry"]
    elif "settings" in entry:
        settings.update(entry["settings"])
