"""Plain-text tables for the terminal: what the CLI and the demo print of cases and records."""

from __future__ import annotations

from typing import Any

__all__ = ["print_table"]


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
