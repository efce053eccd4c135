"""Auditing past cases: what the casebook holds, and whether the records can be trusted.

Pure reading of a cases folder: every ``case.json`` under it (see docs/CASE_JSON.md) and
the SQLite ledger beside them (``ledger.sqlite``). The frames answer the review
questions (bucket mix, status, money refunded/credited per currency, product gaps) and
the audit checks catch what must never happen: an executed action without an
idempotency key, a ledger that disagrees with a record, a write begun and never
finished, PII in clear in a record, a case left pending too long, an effect counted by
two records, and (given a Stripe client) Stripe's own objects against the records: a
refund or credit note written twice, or one that the records miscount.
Nothing here writes; a missing ledger is read as empty, not created.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..actions.ledger import LEDGER_FILENAME, Ledger, LedgerEntry
from .reconcile import double_counts, stripe_mismatches
from ..money import Money
from .scan import masked_place, scan

__all__ = ["CaseRecord", "Casebook", "Audit", "open_casebook", "cases_frame", "bucket_mix", "status_mix",
           "money_totals", "gap_frequency", "missing_idempotency_keys", "ledger_mismatches", "dangling_begins",
           "leaks", "stale_pending", "double_counts", "stripe_mismatches", "audit", "LEDGER_NAME"]

#: The ledger file the runner and the case notebook write under the cases folder.
LEDGER_NAME = LEDGER_FILENAME


@dataclass(frozen=True)
class CaseRecord:
    """One record folder's case.json, as written."""

    path: Path  # the case.json file
    record: dict[str, Any] = field(repr=False)

    @property
    def case_id(self) -> str:
        return str(self.record.get("case_id") or self.path.parent.name)


@dataclass(frozen=True)
class Casebook:
    """Every record under ``cases_dir`` and the ledger's rows, read once."""

    cases_dir: Path
    records: list[CaseRecord]
    entries: list[LedgerEntry]
    unreadable: list[Path] = field(default_factory=list)  # case.json files that are not JSON objects


def open_casebook(cases_dir: Path | str) -> Casebook:
    """Read every ``case.json`` under the folder (sorted by path) and the ledger, if any."""
    root = Path(cases_dir)
    records: list[CaseRecord] = []
    unreadable: list[Path] = []
    for path in sorted(root.rglob("case.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict):
            records.append(CaseRecord(path, data))
        else:
            unreadable.append(path)
    ledger_path = root / LEDGER_NAME
    entries = Ledger(ledger_path).entries() if ledger_path.exists() else []
    return Casebook(root, records, entries, unreadable)


# --- review frames ---------------------------------------------------------------------
def _money(value: Any) -> Money | None:
    if isinstance(value, dict) and isinstance(value.get("value"), int) and value.get("currency"):
        return Money(int(value["value"]), str(value["currency"]))
    return None


def cases_frame(records: list[CaseRecord]) -> pd.DataFrame:
    """One row per case: when, status, bucket, what was executed and what money moved."""
    rows = []
    for rec in records:
        r = rec.record
        cls = r.get("classification") or {}
        impact = r.get("revenue_impact") or {}
        refunded, credited = _money(impact.get("refunded")), _money(impact.get("credited"))
        rows.append({"case_id": rec.case_id, "created_at": r.get("created_at"), "status": r.get("status"),
                     "customer": (r.get("customer") or {}).get("id"), "suggested": cls.get("suggested"),
                     "bucket": cls.get("bucket"), "confirmed_by": cls.get("confirmed_by"),
                     "executed": len(r.get("executed") or []),
                     "refunded": refunded.format() if refunded else "", "credited": credited.format() if credited else ""})
    return pd.DataFrame(rows, columns=["case_id", "created_at", "status", "customer", "suggested", "bucket",
                                       "confirmed_by", "executed", "refunded", "credited"])


def bucket_mix(records: list[CaseRecord]) -> pd.DataFrame:
    """Cases per confirmed bucket (``pending`` when none), and how often the suggestion was kept."""
    counts: Counter[str] = Counter()
    kept: Counter[str] = Counter()
    for rec in records:
        cls = rec.record.get("classification") or {}
        bucket = cls.get("bucket") or "pending"
        counts[bucket] += 1
        kept[bucket] += int(cls.get("bucket") is not None and cls.get("bucket") == cls.get("suggested"))
    total = sum(counts.values()) or 1
    rows = [{"bucket": b, "cases": n, "share": f"{n / total:.0%}", "suggestion_kept": kept[b]}
            for b, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return pd.DataFrame(rows, columns=["bucket", "cases", "share", "suggestion_kept"])


def status_mix(records: list[CaseRecord]) -> pd.DataFrame:
    """Cases per status (done, pending, failed)."""
    counts = Counter(str(rec.record.get("status") or "unknown") for rec in records)
    return pd.DataFrame([{"status": s, "cases": n} for s, n in sorted(counts.items())], columns=["status", "cases"])


def money_totals(records: list[CaseRecord]) -> pd.DataFrame:
    """Refunded, credited and still-pending refund totals per currency (minor units and formatted),
    never mixed: a refund Stripe holds pending is booked pending until it succeeds."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: {"refunded": 0, "credited": 0, "pending": 0, "cases": 0})
    for rec in records:
        impact = rec.record.get("revenue_impact") or {}
        seen: set[str] = set()
        for kind, field_ in (("refunded", "refunded"), ("credited", "credited"), ("pending", "refund_pending")):
            m = _money(impact.get(field_))
            if m is not None and m.amount:
                totals[m.currency][kind] += m.amount
                seen.add(m.currency)
        for cur in seen:
            totals[cur]["cases"] += 1
    rows = [{"currency": cur, "cases": t["cases"], "refunded_minor": t["refunded"], "credited_minor": t["credited"],
             "refunded": Money(t["refunded"], cur).format(), "credited": Money(t["credited"], cur).format(),
             "refund_pending_minor": t["pending"], "refund_pending": Money(t["pending"], cur).format()}
            for cur, t in sorted(totals.items())]
    return pd.DataFrame(rows, columns=["currency", "cases", "refunded_minor", "credited_minor", "refunded", "credited",
                                       "refund_pending_minor", "refund_pending"])


def gap_frequency(records: list[CaseRecord]) -> pd.DataFrame:
    """How many cases each product gap showed up in: the backlog's priority order."""
    cases: Counter[str] = Counter()
    titles: dict[str, str] = {}
    severity: dict[str, str] = {}
    rank = {"low": 0, "medium": 1, "high": 2}
    for rec in records:
        for kind, gap in {str(g.get("kind")): g for g in rec.record.get("product_gaps") or []}.items():
            cases[kind] += 1
            titles.setdefault(kind, str(gap.get("title") or ""))
            sev = str(gap.get("severity") or "medium")
            if rank.get(sev, 1) >= rank.get(severity.get(kind, "low"), 0):
                severity[kind] = sev
    rows = [{"gap": k, "title": titles[k], "cases": n, "severity": severity[k]}
            for k, n in sorted(cases.items(), key=lambda kv: (-kv[1], kv[0]))]
    return pd.DataFrame(rows, columns=["gap", "title", "cases", "severity"])


# --- audit checks ----------------------------------------------------------------------
def missing_idempotency_keys(records: list[CaseRecord]) -> pd.DataFrame:
    """Executed actions recorded without an idempotency key (a re-run could double them)."""
    rows = [{"case_id": rec.case_id, "action_id": e.get("action_id"), "status": e.get("status")}
            for rec in records for e in rec.record.get("executed") or []
            if not str(e.get("idempotency_key") or "").strip()]
    return pd.DataFrame(rows, columns=["case_id", "action_id", "status"])


def ledger_mismatches(records: list[CaseRecord], entries: list[LedgerEntry]) -> pd.DataFrame:
    """Where the ledger's finish rows and the records' ``executed`` lists disagree.

    Compared per (case, action): the idempotency key, the status and the Stripe object of
    the case's last finish. A finish for a case with no record is listed too.
    """
    finishes: dict[tuple[str, str], LedgerEntry] = {}
    for e in entries:
        if e.phase == "finish":
            finishes[(e.case_id, e.action_id)] = e
    known = {rec.case_id for rec in records}
    rows: list[dict[str, Any]] = []

    def add(case_id: str, action_id: str, problem: str) -> None:
        rows.append({"case_id": case_id, "action_id": action_id, "problem": problem})

    for rec in records:
        for ex in rec.record.get("executed") or []:
            action = str(ex.get("action_id"))
            fin = finishes.pop((rec.case_id, action), None)
            if fin is None:
                add(rec.case_id, action, "in case.json, no ledger finish")
                continue
            for name, ours, theirs in (("idempotency key", ex.get("idempotency_key"), fin.idempotency_key),
                                       ("status", ex.get("status"), fin.status),
                                       ("stripe object", ex.get("stripe_object"), fin.stripe_object)):
                if ours != theirs:
                    add(rec.case_id, action, f"{name} differs: case.json {ours!r}, ledger {theirs!r}")
    for (case_id, action), _ in sorted(finishes.items()):
        add(case_id, action, "ledger finish, not in case.json" if case_id in known else "ledger finish for a case with no record")
    return pd.DataFrame(rows, columns=["case_id", "action_id", "problem"])


def dangling_begins(entries: list[LedgerEntry]) -> pd.DataFrame:
    """Ledger begins with no later finish for the same action and key: a write that may
    have reached Stripe without being recorded (the executor resolves it on a re-run)."""
    rows = []
    finished: set[tuple[str, str]] = set()
    for e in reversed(entries):  # newest first: a finish is seen before the begins it resolves
        if e.phase == "finish":
            finished.add((e.action_id, e.idempotency_key))
        elif (e.action_id, e.idempotency_key) not in finished:
            rows.append({"seq": e.seq, "at": e.at, "case_id": e.case_id, "action_id": e.action_id,
                         "idempotency_key": e.idempotency_key})
    rows.reverse()
    return pd.DataFrame(rows, columns=["seq", "at", "case_id", "action_id", "idempotency_key"])


def leaks(records: list[CaseRecord], known: list[str] | None = None) -> pd.DataFrame:
    """PII or secrets in clear in any file of a record folder (``redact.scan``; excerpts masked, and
    the case id, file name and JSON pointer too: a file or a key can be named after the customer)."""
    rows = []
    for rec in records:
        for leak in scan(rec.path.parent, known=known):
            rows.append({"case_id": masked_place(rec.case_id, known), "file": masked_place(Path(leak.path).name, known),
                         "kind": leak.kind, "where": masked_place(leak.where, known) if leak.where else f"line {leak.line}",
                         "excerpt": leak.excerpt})
    return pd.DataFrame(rows, columns=["case_id", "file", "kind", "where", "excerpt"])


def stale_pending(records: list[CaseRecord], now: datetime, days: int = 7) -> pd.DataFrame:
    """Cases still pending more than ``days`` after they were opened (``now`` aware UTC)."""
    if now.tzinfo is None:
        raise ValueError("now must be aware UTC")
    rows = []
    for rec in records:
        if rec.record.get("status") != "pending":
            continue
        try:
            created = datetime.fromisoformat(str(rec.record.get("created_at")))
        except ValueError:
            continue
        age = (now - created).total_seconds() / 86400
        if age > days:
            rows.append({"case_id": rec.case_id, "created_at": rec.record.get("created_at"), "age_days": int(age),
                         "suggested": (rec.record.get("classification") or {}).get("suggested")})
    return pd.DataFrame(rows, columns=["case_id", "created_at", "age_days", "suggested"])


@dataclass(frozen=True)
class Audit:
    """Every check's findings; ``checks`` is the one-line-per-check overview."""

    missing_keys: pd.DataFrame
    mismatches: pd.DataFrame
    dangling: pd.DataFrame
    leaks: pd.DataFrame
    stale: pd.DataFrame
    unreadable: list[Path]
    double: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["idempotency_key", "action_id", "cases"]))
    stripe: pd.DataFrame | None = None  # None: no client given, Stripe not checked

    @property
    def checks(self) -> pd.DataFrame:
        items = [("every executed action has an idempotency key", len(self.missing_keys)),
                 ("ledger finishes match case.json executed", len(self.mismatches)),
                 ("no dangling ledger begins", len(self.dangling)),
                 ("no PII or secrets in clear", len(self.leaks)),
                 ("no stale pending cases", len(self.stale)),
                 ("every case.json readable", len(self.unreadable)),
                 ("every effect counted by one record at most", len(self.double))]
        if self.stripe is not None:
            items.append(("Stripe's refunds and credit notes match the records (one each, counted once)",
                          len(self.stripe)))
        return pd.DataFrame([{"check": c, "findings": n, "ok": n == 0} for c, n in items],
                            columns=["check", "findings", "ok"])

    @property
    def ok(self) -> bool:
        return bool(self.checks["ok"].all())


def audit(book: Casebook, *, now: datetime | None = None, pending_days: int = 7,
          known: list[str] | None = None, client: Any = None) -> Audit:
    """Run every check over the casebook (``now`` defaults to the wall clock, UTC); with a
    ``stripe.StripeClient`` the records are also checked against Stripe's objects."""
    now = now or datetime.now(UTC)
    return Audit(missing_idempotency_keys(book.records), ledger_mismatches(book.records, book.entries),
                 dangling_begins(book.entries), leaks(book.records, known), stale_pending(book.records, now, pending_days),
                 list(book.unreadable), double_counts(book.records),
                 stripe_mismatches(book.records, book.entries, client) if client is not None else None)
