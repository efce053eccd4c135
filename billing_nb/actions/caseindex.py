"""The casebook index: one row per case record, kept in the ledger's database file.

It lives beside the ledger so the casebook and the audit read one file, and a case's
row is replaced (never duplicated) each time its record is saved. This module holds the
table's schema and turns a ``case.json`` dict into its row; :class:`~.ledger.Ledger` runs
the SQL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["CASEBOOK_SCHEMA", "UPSERT_SQL", "index_row", "decode_row"]

CASEBOOK_SCHEMA = """
CREATE TABLE IF NOT EXISTS casebook (
    case_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    created_at TEXT,
    status TEXT,
    customer TEXT,
    bucket TEXT,
    suggested TEXT,
    n_executed INTEGER NOT NULL DEFAULT 0,
    refunded INTEGER NOT NULL DEFAULT 0,
    credited INTEGER NOT NULL DEFAULT 0,
    currency TEXT,
    indexed_at TEXT NOT NULL,
    summary TEXT NOT NULL
);
"""

_FIELDS = ("case_id", "path", "created_at", "status", "customer", "bucket", "suggested", "n_executed",
           "refunded", "credited", "currency", "indexed_at", "summary")
UPSERT_SQL = (f"INSERT INTO casebook ({', '.join(_FIELDS)}) VALUES ({', '.join('?' for _ in _FIELDS)})"
              " ON CONFLICT(case_id) DO UPDATE SET "
              + ", ".join(f"{f}=excluded.{f}" for f in _FIELDS if f != "case_id"))


def index_row(record: dict[str, Any], path: Path, indexed_at: str) -> tuple[Any, ...]:
    """The index row of a record (a case.json dict), in :data:`UPSERT_SQL`'s order."""
    classification = record.get("classification") or {}
    impact = record.get("revenue_impact") or {}
    refunded = impact.get("refunded") or {}
    credited = impact.get("credited") or {}
    customer = record.get("customer") or {}
    summary = {
        "complaint": record.get("complaint", ""),
        "anomalies": [a.get("kind") for a in (record.get("billing_state") or {}).get("anomalies", [])],
        "executed": [e.get("action_id") for e in record.get("executed", [])],
        "error": record.get("error"),
    }
    return (
        record["case_id"], str(path), record.get("created_at"), record.get("status"),
        customer.get("id"), classification.get("bucket"), classification.get("suggested"),
        len(record.get("executed", [])), int(refunded.get("value", 0)), int(credited.get("value", 0)),
        refunded.get("currency") or credited.get("currency"), indexed_at, json.dumps(summary, sort_keys=True),
    )


def decode_row(row: dict[str, Any]) -> dict[str, Any]:
    """A fetched index row as a plain dict, its ``summary`` decoded."""
    item = dict(row)
    item["summary"] = json.loads(item["summary"])
    return item
