"""Append-only SQLite ledger of every executed action, and the casebook index.

Each write is recorded before the Stripe call (``begin``) and after it (``finish``),
so a crash between the two is visible and a re-run resolves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LedgerEntry", "Ledger"]


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    at: str  # ISO UTC
    case_id: str
    action_id: str
    idempotency_key: str
    phase: str  # begin | finish
    status: str | None
    stripe_object: str | None
    request_id: str | None
    error: str | None


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path

    def begin(self, case_id: str, action_id: str, key: str) -> int:
        raise NotImplementedError

    def finish(self, case_id: str, action_id: str, key: str, *, status: str, stripe_object: str | None,
               request_id: str | None, error: str | None = None) -> int:
        raise NotImplementedError

    def completed(self, action_id: str) -> LedgerEntry | None:
        """The succeeded entry for this action id in any case, if there is one."""
        raise NotImplementedError

    def dangling(self, action_id: str) -> LedgerEntry | None:
        """A begin with no finish (a crash in between), if there is one."""
        raise NotImplementedError

    def entries(self, case_id: str | None = None) -> list[LedgerEntry]:
        raise NotImplementedError

    def index_case(self, record: dict[str, Any], path: Path) -> None:
        """Add or update the casebook index row for a record."""
        raise NotImplementedError

    def cases(self) -> list[dict[str, Any]]:
        raise NotImplementedError
