"""What the CLI and the demo print: aligned tables, and progress while cases and reports run.

Progress goes to stderr: a tqdm bar on a terminal, one line per step otherwise (logs and
CI keep a readable trace instead of carriage returns), so stdout stays the result alone.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

__all__ = ["print_table", "Progress", "progress"]


def print_table(rows: list[dict[str, Any]]) -> None:
    """Rows of dicts as aligned columns (the first row's keys), or ``(none)``."""
    if not rows:
        print("(none)")
        return
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in cols))


class Progress(Protocol):
    def step(self, note: str = "") -> None: ...


class _Lines:
    def __init__(self, total: int, desc: str) -> None:
        self.total, self.desc, self.n = total, desc, 0

    def step(self, note: str = "") -> None:
        self.n += 1
        print(f"{self.desc}: {self.n}/{self.total}" + (f" {note}" if note else ""), file=sys.stderr, flush=True)


class _Bar:
    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def step(self, note: str = "") -> None:
        if note:
            self.bar.set_postfix_str(note, refresh=False)
        self.bar.update(1)


@contextmanager
def progress(total: int, desc: str, *, bar: bool | None = None) -> Iterator[Progress]:
    """A progress reporter for ``total`` steps: a bar when stderr is a terminal (or ``bar``)."""
    use_bar = sys.stderr.isatty() if bar is None else bar
    if not use_bar:
        yield _Lines(total, desc)
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, file=sys.stderr, unit="case" if "case" in desc else "step",
              dynamic_ncols=True) as t:
        yield _Bar(t)
