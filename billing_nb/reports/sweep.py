"""``billing-nb sweep``: the account's problems, found in the store, as a batch of cases.

Each finding is one SQL query over the store; each names a lookup ``billing-nb case``
accepts (a ``cus_``, ``sub_`` or ``ch_`` id), why, and a suggested bucket. The batch file
(JSON lines, :func:`batch_lines`) carries ``lookup``, ``reason`` and ``suggested_bucket``
but no ``bucket``: ``billing-nb batch`` opens each case pending, its own classifier
suggesting the bucket, and nothing moves money until an analyst confirms one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd

from .queries import LIVE
from .store import AccountStore

__all__ = ["FINDINGS", "sweep", "batch_lines", "RENEWAL_WINDOW_DAYS"]

#: A cancellation this soon after a paid renewal reads as "charged just before I cancelled".
RENEWAL_WINDOW_DAYS = 7

#: finding -> (suggested bucket, SQL returning lookup, customer_id, detail, due, amount, currency)
FINDINGS: dict[str, tuple[str, str]] = {
    "duplicate_subscriptions": ("duplicate_subscription", f"""
        SELECT MIN(s.customer_id) AS lookup, MIN(s.customer_id) AS customer_id,
               COUNT(*) || ' live subscriptions to ' || COALESCE(MAX(pr.name), p.product_id) || ' ('
                 || STRING_AGG(s.id, ', ' ORDER BY s.id) || ')' AS detail,
               CAST(NULL AS BIGINT) AS due,
               CAST(SUM(COALESCE(si.amount, CASE WHEN COALESCE(s.currency, p.currency) = p.currency
                                                 THEN p.unit_amount * si.quantity END)) AS BIGINT) AS amount,
               MIN(COALESCE(s.currency, p.currency)) AS currency
        FROM subscriptions s JOIN customers c ON c.id = s.customer_id
        JOIN subscription_items si ON si.subscription_id = s.id JOIN prices p ON p.id = si.price_id
        LEFT JOIN products pr ON pr.id = p.product_id
        WHERE s.status IN {LIVE}
        GROUP BY COALESCE(c.email_key, c.id), p.product_id HAVING COUNT(DISTINCT s.id) > 1"""),
    "duplicate_customers": ("duplicate_subscription", """
        SELECT MIN(c.id) AS lookup, MIN(c.id) AS customer_id,
               COUNT(*) || ' customer objects share one email (' || MIN(c.email) || '): '
                 || STRING_AGG(c.id, ', ' ORDER BY c.id) AS detail,
               CAST(NULL AS BIGINT) AS due, CAST(NULL AS BIGINT) AS amount, CAST(NULL AS VARCHAR) AS currency
        FROM customers c WHERE NOT c.deleted AND c.email_key IS NOT NULL
        GROUP BY c.email_key HAVING COUNT(*) > 1"""),
    "past_due": ("failed_payment", """
        SELECT s.id AS lookup, s.customer_id, 'subscription ' || s.status AS detail, CAST(NULL AS BIGINT) AS due,
               CAST(i.amount_remaining AS BIGINT) AS amount, i.currency
        FROM subscriptions s LEFT JOIN invoices i ON i.id = s.latest_invoice_id
        WHERE s.status IN ('past_due', 'unpaid')"""),
    "failing_card": ("failed_payment", f"""
        WITH last_charge AS (
          SELECT payment_method, status, failure_code,
                 ROW_NUMBER() OVER (PARTITION BY payment_method ORDER BY created DESC, id DESC) AS rn
          FROM charges WHERE payment_method IS NOT NULL)
        SELECT s.id AS lookup, s.customer_id,
               'pays with a card whose last charge failed (' || COALESCE(lc.failure_code, 'declined') || ')' AS detail,
               CAST(NULL AS BIGINT) AS due, CAST(NULL AS BIGINT) AS amount, s.currency
        FROM subscriptions s JOIN customers c ON c.id = s.customer_id
        JOIN last_charge lc ON lc.rn = 1 AND lc.payment_method = COALESCE(s.default_payment_method, c.default_payment_method)
        WHERE s.status IN {LIVE} AND lc.status = 'failed'"""),
    "open_disputes": ("unclear", """
        SELECT d.charge_id AS lookup, ch.customer_id, 'dispute ' || d.id || ' (' || COALESCE(d.reason, 'no reason')
                 || ') is ' || d.status AS detail,
               d.evidence_due_by AS due, CAST(d.amount AS BIGINT) AS amount, d.currency
        FROM disputes d LEFT JOIN charges ch ON ch.id = d.charge_id
        WHERE d.status IN ('warning_needs_response', 'needs_response', 'warning_under_review', 'under_review')"""),
    "renewal_before_cancel": ("missing_self_serve", f"""
        SELECT s.id AS lookup, s.customer_id,
               'renewal ' || i.id || ' charged ' || CAST((s.canceled_at - COALESCE(i.paid_at, i.created)) / 3600 AS BIGINT)
                 || ' h before the cancellation request' AS detail,
               CAST(NULL AS BIGINT) AS due, CAST(i.amount_paid AS BIGINT) AS amount, i.currency
        FROM subscriptions s JOIN invoices i ON i.subscription_id = s.id
        WHERE i.billing_reason = 'subscription_cycle' AND i.status = 'paid' AND i.amount_paid > 0
          AND s.canceled_at IS NOT NULL AND s.canceled_at >= COALESCE(i.paid_at, i.created)
          AND s.canceled_at - COALESCE(i.paid_at, i.created) <= {RENEWAL_WINDOW_DAYS} * 86400"""),
}

_COLUMNS = ["finding", "lookup", "customer_id", "reason", "suggested_bucket", "due", "amount", "currency"]


def sweep(store: AccountStore) -> pd.DataFrame:
    """Every finding, most urgent first (open disputes by due date, then the rest)."""
    frames = []
    for name, (bucket, sql) in FINDINGS.items():
        found = store.query(sql)
        if found.empty:
            continue
        found.insert(0, "finding", name)
        found["suggested_bucket"] = bucket
        frames.append(found.rename(columns={"detail": "reason"}))
    if not frames:
        return pd.DataFrame(columns=_COLUMNS)
    out = pd.concat(frames, ignore_index=True)[_COLUMNS]
    rank = {n: i for i, n in enumerate(FINDINGS)}
    out = pd.DataFrame(out.assign(order=[rank[str(f)] for f in out["finding"]]))
    return out.sort_values(by=["due", "order", "lookup"], na_position="last").drop(columns="order").reset_index(drop=True)


def _due_text(due: object) -> str:
    if due is None or pd.isna(due):  # type: ignore[arg-type]
        return ""
    return f"; evidence due {datetime.fromtimestamp(int(due), UTC):%Y-%m-%d %H:%M} UTC"  # type: ignore[call-overload]


def batch_lines(found: pd.DataFrame) -> list[str]:
    """One JSON line per lookup (its findings' reasons joined), for ``billing-nb batch``."""
    lines: dict[str, dict[str, object]] = {}
    for row in found.to_dict(orient="records"):
        reason = str(row["reason"]) + _due_text(row["due"])
        entry = lines.get(str(row["lookup"]))
        if entry is None:
            lines[str(row["lookup"])] = {"lookup": row["lookup"], "reason": reason,
                                         "suggested_bucket": row["suggested_bucket"], "findings": [row["finding"]]}
        else:
            entry["reason"] = f"{entry['reason']}; {reason}"
            entry["findings"].append(row["finding"])  # type: ignore[attr-defined]
    return [json.dumps(v, sort_keys=True) for v in lines.values()]
