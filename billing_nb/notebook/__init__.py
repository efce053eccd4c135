"""What the notebooks' cells call: the case driver (:func:`start_case`), its views and widgets.

The case driver is imported on first use, so a report kernel that only wants the table
formatting (:mod:`.format`) does not load the whole case machinery."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cells import CaseNotebook, start_case

__all__ = ["CaseNotebook", "start_case"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import cells

        return getattr(cells, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
