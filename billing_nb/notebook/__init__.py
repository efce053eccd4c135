"""What the notebooks' cells call: the case driver (:func:`start_case`), its views and widgets."""

from __future__ import annotations

from .cells import CaseNotebook, start_case

__all__ = ["CaseNotebook", "start_case"]
