"""The casebook over time, for the casebook notebook's charts: cases per bucket per month,
money moved per month, and the product gaps seen most.

Cases are few (hundreds, not millions): these walk the records
(:class:`~billing_nb.records.casebook.Casebook`) directly.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pandas as pd
from IPython.display import Image

from ..records.casebook import Casebook, gap_frequency
from . import charts

__all__ = ["cases_per_month", "money_per_month", "cases_chart", "money_chart", "gaps_chart"]


def _month(created_at: object) -> str:
    text = str(created_at or "")
    return text[:7] if len(text) >= 7 and text[4] == "-" else "unknown"


def cases_per_month(book: Casebook) -> pd.DataFrame:
    """Cases opened per month (``created_at``) and confirmed bucket (``pending`` when none)."""
    counts: Counter[tuple[str, str]] = Counter()
    for rec in book.records:
        cls = rec.record.get("classification") or {}
        counts[(_month(rec.record.get("created_at")), str(cls.get("bucket") or "pending"))] += 1
    rows = [{"month": m, "bucket": b, "cases": n} for (m, b), n in sorted(counts.items())]
    return pd.DataFrame(rows, columns=["month", "bucket", "cases"])


def money_per_month(book: Casebook) -> pd.DataFrame:
    """Refunded and credited per month and currency (integer minor units)."""
    totals: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"refunded": 0, "credited": 0})
    for rec in book.records:
        impact = rec.record.get("revenue_impact") or {}
        for kind in ("refunded", "credited"):
            value = impact.get(kind)
            if isinstance(value, dict) and isinstance(value.get("value"), int) and value.get("currency"):
                totals[(_month(rec.record.get("created_at")), str(value["currency"]))][kind] += int(value["value"])
    rows = [{"month": m, "currency": c, **t} for (m, c), t in sorted(totals.items())]
    return pd.DataFrame(rows, columns=["month", "currency", "refunded", "credited"])


def cases_chart(book: Casebook) -> Image:
    return charts.cases_chart(cases_per_month(book))


def money_chart(book: Casebook) -> Image:
    return charts.money_chart(money_per_month(book))


def gaps_chart(book: Casebook, top: int = 10) -> Image:
    return charts.gaps_chart(gap_frequency(book.records), top)
