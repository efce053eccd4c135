"""How often a kind of case came back this month, read from the casebook's records.

Why: a product-bug item for the product team weighs more when five customers reported
the same failure this month than when one did; the count comes from the case records the
runner already writes (``cases/<date>/<case_id>/case.json``), read only, never written.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

__all__ = ["cases_this_month"]

_WINDOW = 40 * 86400  # only files touched in the last 40 days can be from this month


def cases_this_month(cases_dir: Path, bucket: str, now: datetime, *, exclude: str | None = None) -> int:
    """Records under ``cases_dir`` confirmed as ``bucket`` and created in ``now``'s month (``exclude``: this case)."""
    if not cases_dir.is_dir():
        return 0
    month = f"{now:%Y-%m}"
    cutoff = time.time() - _WINDOW
    count = 0
    for path in cases_dir.rglob("case.json"):
        try:
            if path.stat().st_mtime < cutoff:
                continue
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(record, dict) or record.get("case_id") == exclude:
            continue
        created = str(record.get("created_at") or "")
        if created.startswith(month) and (record.get("classification") or {}).get("bucket") == bucket:
            count += 1
    return count
