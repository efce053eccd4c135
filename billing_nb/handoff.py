"""Step 5: render the handoff (six headings), the follow-up message and backlog drafts.

Templates live in ``templates/`` (Jinja2, StrictUndefined); ``BILLING_NB_TEMPLATES``
points at a team's own folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["HEADINGS", "templates_dir", "render_handoff", "render_followup", "render_backlog"]

HEADINGS: tuple[str, ...] = ("CUSTOMER", "BILLING STATE", "DECISION", "ACTION TAKEN", "FOLLOW-UP", "PRODUCT GAP")


def templates_dir(override: Path | None = None) -> Path:
    raise NotImplementedError


def render_followup(record: dict[str, Any], override: Path | None = None) -> str:
    """The customer message for the record's bucket (templates/followup/<bucket>.md.j2)."""
    raise NotImplementedError


def render_handoff(record: dict[str, Any], override: Path | None = None) -> str:
    """The handoff markdown from a case.json-shaped record (with followup already set)."""
    raise NotImplementedError


def render_backlog(record: dict[str, Any], override: Path | None = None) -> str:
    """Issue drafts for the record's product gaps."""
    raise NotImplementedError
