"""What the portfolio notebook's cells call: the store (synced first), metrics as formatted
tables, and their charts.

One call per cell: :func:`open_portfolio` syncs (incrementally after the first time) and
opens the store; each :class:`Portfolio` method answers one question. Tables are for
people: money formatted in its currency, months as "Jan 2025", dates as YYYY-MM-DD,
plain column names; the integer rows stay one ``metric(name)`` away.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import Image

from . import charts
from .metrics import DuckEngine, formatted, run_metric
from .queries import LIVE
from .store import AccountStore, default_db_path, open_store
from .sweep import batch_lines, sweep

__all__ = ["Portfolio", "open_portfolio", "month_label", "date_label"]


def month_label(month: str) -> str:
    """"2025-01" -> "Jan 2025"."""
    return datetime.strptime(month, "%Y-%m").strftime("%b %Y")


def date_label(ts: Any) -> str:
    if ts is None or pd.isna(ts):
        return ""
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%d")


def _titled(frame: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Only the named columns, renamed for people, numbered from 1."""
    out = pd.DataFrame(frame[[c for c in names if c in frame.columns]]).rename(columns=names)
    out.index = pd.RangeIndex(1, len(out) + 1)
    return out


def _months(frame: pd.DataFrame, column: str = "month") -> pd.DataFrame:
    if column in frame.columns:
        frame = frame.assign(**{column: [month_label(m) for m in frame[column]]})
    return frame


class Portfolio:
    """The account store, read-only, with each metric computed once."""

    def __init__(self, store: AccountStore, synced: str = "") -> None:
        self.store = store
        self.synced = synced
        self._metric = cache(lambda name: run_metric(DuckEngine(store.con), name))

    def metric(self, name: str) -> pd.DataFrame:
        """A metric's integer rows (minor units), as ``billing-nb metrics NAME --json`` prints them."""
        return self._metric(name).copy()

    # --- tables ---------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """Rows per table, all read completely (a sync never samples)."""
        counts = self.store.counts()
        rows = [{"table": t, "rows": n, "read": "completely"} for t, n in counts.items()]
        out = _titled(pd.DataFrame(rows), {"table": "Table", "rows": "Rows", "read": "Read"})
        out.attrs["synced"] = self.synced
        return out

    def mrr(self) -> pd.DataFrame:
        return _titled(formatted("mrr", self.metric("mrr")), {
            "currency": "Currency", "live_subscriptions": "Live subscriptions", "customers": "Customers",
            "mrr": "MRR", "arr": "ARR"})

    def movements(self) -> pd.DataFrame:
        return _titled(_months(formatted("movements", self.metric("movements"))), {
            "month": "Month", "currency": "Currency", "new": "New", "expansion": "Expansion",
            "contraction": "Contraction", "churn": "Churn", "reactivation": "Reactivation", "mrr_end": "MRR at month end"})

    def plans(self) -> pd.DataFrame:
        """Per product and price; the price by its name (nickname, else amount and interval), not its id."""
        frame = formatted("plans", self.metric("plans"))
        names = self._price_names()
        frame["price_id"] = [names.get(str(p), str(p)) for p in frame["price_id"]]
        return _titled(frame, {
            "product": "Product", "price_id": "Price", "currency": "Currency", "billing_interval": "Interval",
            "subscriptions": "Subscriptions", "seats": "Seats", "mrr": "MRR"})

    def _price_names(self) -> dict[str, str]:
        rows: list[dict[str, Any]] = self.store.query(  # pyright: ignore[reportUnknownMemberType]
            "SELECT id, nickname, unit_amount, currency, recurring_interval AS every,"
            " recurring_interval_count AS n FROM prices").to_dict("records")
        names: dict[str, str] = {}
        for r in rows:
            every, n, nickname = r["every"], r["n"], r["nickname"]
            per = "" if not isinstance(every, str) else (f" / {int(n)} {every}s" if n and int(n) > 1 else f" / {every}")
            names[str(r["id"])] = nickname if isinstance(nickname, str) and nickname else f"{_money(r['unit_amount'], r['currency'])}{per}"
        return names

    def intervals(self) -> pd.DataFrame:
        return _titled(formatted("intervals", self.metric("intervals")), {
            "currency": "Currency", "billing_interval": "Interval", "interval_count": "Every",
            "subscriptions": "Subscriptions", "share": "Share", "mrr": "MRR"})

    def conversion(self) -> pd.DataFrame:
        return _titled(_months(formatted("conversion", self.metric("conversion"))), {
            "month": "Month", "currency": "Currency", "monthly_customers": "Paying monthly (start)",
            "monthly_to_annual": "Monthly → annual", "annual_to_monthly": "Annual → monthly",
            "mrr_to_annual": "MRR moved to annual", "conversion_rate": "Conversion"})

    def seat_holders(self, top: int = 20) -> pd.DataFrame:
        """The live subscriptions with the most seats."""
        rows = self.store.query(f"""
            SELECT s.id AS subscription, s.customer_id AS customer, c.email, pr.name AS product, si.quantity AS seats
            FROM subscriptions s JOIN subscription_items si ON si.subscription_id = s.id
            LEFT JOIN customers c ON c.id = s.customer_id LEFT JOIN prices p ON p.id = si.price_id
            LEFT JOIN products pr ON pr.id = p.product_id
            WHERE s.status IN {LIVE} AND si.quantity > 1 ORDER BY si.quantity DESC, s.id LIMIT {int(top)}""")
        return _titled(rows, {"subscription": "Subscription", "customer": "Customer", "email": "Email (masked)",
                              "product": "Product", "seats": "Seats"})

    def churn(self) -> pd.DataFrame:
        return _titled(_months(formatted("churn", self.metric("churn"))), {
            "month": "Month", "currency": "Currency", "customers_start": "Customers (start)",
            "churned_customers": "Churned", "customer_churn_rate": "Customer churn", "churned_mrr": "MRR churned",
            "mrr_churn_rate": "MRR churn"})

    def churn_risk(self) -> pd.DataFrame:
        """Live subscriptions at risk: past_due, unpaid, incomplete, or cancelling at period end."""
        rows = self.store.query("""
            SELECT s.id AS subscription, s.customer_id AS customer, s.status,
                   CASE WHEN s.cancel_at_period_end THEN 'cancels at period end' ELSE '' END AS cancelling,
                   i.amount_remaining AS owed, i.currency, i.created
            FROM subscriptions s LEFT JOIN invoices i ON i.id = s.latest_invoice_id
            WHERE s.status IN ('past_due', 'unpaid', 'incomplete')
               OR (s.cancel_at_period_end AND s.status IN ('active', 'trialing'))
            ORDER BY CASE s.status WHEN 'unpaid' THEN 0 WHEN 'past_due' THEN 1 ELSE 2 END, s.id""")
        rows["owed"] = [_money(a, c) for a, c in zip(rows["owed"], rows["currency"], strict=True)]
        rows["created"] = [date_label(t) for t in rows["created"]]
        return _titled(rows, {"subscription": "Subscription", "customer": "Customer", "status": "Status",
                              "cancelling": "Cancelling", "owed": "Owed on latest invoice", "created": "Invoiced"})

    def sweep(self) -> pd.DataFrame:
        """The sweep's findings: what `billing-nb sweep` writes into a batch of cases."""
        found = sweep(self.store)
        found["due"] = [date_label(d) for d in found["due"]]
        found["amount"] = [_money(a, c) for a, c in zip(found["amount"], found["currency"], strict=True)]
        return _titled(found, {"finding": "Finding", "lookup": "Lookup", "reason": "Reason",
                               "suggested_bucket": "Suggested bucket", "due": "Due", "amount": "Amount"})

    def sweep_batch(self, path: str | Path | None = None) -> str:
        """The batch file's lines (written to ``path`` when given), for `billing-nb batch`."""
        lines = batch_lines(sweep(self.store))
        if path:
            Path(path).write_text("".join(line + "\n" for line in lines))
        return "\n".join(lines)

    def duplicates(self) -> pd.DataFrame:
        """One row per subscription of a person (customers matched by email) holding several
        live subscriptions to one product, and per customer object sharing an email."""
        rows = self.store.query(f"""
            WITH live AS (
              SELECT s.id, s.customer_id, COALESCE(c.email_key, c.id) AS person, p.product_id, s.created
              FROM subscriptions s JOIN customers c ON c.id = s.customer_id
              JOIN subscription_items si ON si.subscription_id = s.id JOIN prices p ON p.id = si.price_id
              WHERE s.status IN {LIVE}),
            groups AS (SELECT person, product_id FROM live GROUP BY person, product_id HAVING COUNT(DISTINCT id) > 1),
            people AS (SELECT email_key FROM customers WHERE NOT deleted AND email_key IS NOT NULL
                       GROUP BY email_key HAVING COUNT(*) > 1)
            SELECT 'duplicate subscription' AS finding, l.customer_id, c.email, l.id AS subscription,
                   pr.name AS product, l.created
            FROM live l JOIN groups g ON g.person = l.person AND g.product_id = l.product_id
            JOIN customers c ON c.id = l.customer_id LEFT JOIN products pr ON pr.id = l.product_id
            UNION ALL
            SELECT 'duplicate customer', c.id, c.email, NULL, NULL, c.created
            FROM customers c JOIN people p ON p.email_key = c.email_key WHERE NOT c.deleted
            ORDER BY 1 DESC, 3, 6""")
        rows["created"] = [date_label(t) for t in rows["created"]]
        rows["subscription"] = rows["subscription"].fillna("")
        rows["product"] = rows["product"].fillna("")
        return _titled(rows, {"finding": "Finding", "customer_id": "Customer", "email": "Email (masked)",
                              "subscription": "Subscription", "product": "Product", "created": "Created"})

    def dunning(self) -> pd.DataFrame:
        return _titled(_months(formatted("dunning", self.metric("dunning"))), {
            "month": "Month", "currency": "Currency", "failed_invoices": "Invoices that failed",
            "recovered": "Recovered", "recovery_rate": "Recovery rate", "recovered_amount": "Recovered amount",
            "outstanding_amount": "Still owed"})

    def refunds(self) -> pd.DataFrame:
        return _titled(_months(formatted("refunds", self.metric("refunds"))), {
            "month": "Month", "currency": "Currency", "refunds": "Refunds", "refunded": "Refunded",
            "refund_pending": "Refunds pending",
            "credit_notes": "Credit notes", "credited": "Credited", "disputes": "Disputes", "disputed": "Disputed",
            "balance_out": "Out of the balance"})

    def unpaid(self) -> pd.DataFrame:
        rows = self.store.query("""
            SELECT status, currency, COUNT(*) AS invoices, SUM(amount_remaining) AS remaining FROM invoices
            WHERE status IN ('open', 'uncollectible') GROUP BY status, currency ORDER BY status, currency""")
        rows["remaining"] = [_money(a, c) for a, c in zip(rows["remaining"], rows["currency"], strict=True)]
        rows["currency"] = rows["currency"].str.upper()
        return _titled(rows, {"status": "Status", "currency": "Currency", "invoices": "Invoices", "remaining": "Owed"})

    # --- charts -----------------------------------------------------------------------
    def movements_chart(self) -> Image:
        return charts.movements_chart(self.metric("movements"))

    def intervals_chart(self) -> Image:
        return charts.intervals_chart(self.metric("intervals"), self.metric("conversion"))

    def seats_chart(self) -> Image:
        return charts.seats_chart(self.metric("seats"))

    def cohorts_chart(self) -> Image:
        return charts.cohorts_chart(self.metric("retention"))


def _money(amount: Any, currency: Any) -> str:
    from ..money import Money

    if amount is None or pd.isna(amount) or not currency or pd.isna(currency):
        return ""
    return Money(int(amount), str(currency)).format()


def open_portfolio(db: str | Path | None = None, *, sync: bool = True, rate_limit: float | None = 25) -> Portfolio:
    """Bring the store up to date (when ``sync``; key from STRIPE_API_KEY) and open it read-only."""
    path = Path(db) if db else default_db_path()
    synced = ""
    if sync:
        from ..config import load_settings
        from ..reading.provider import StripeReader, make_client
        from .sync import source_of, sync_account

        settings = load_settings()
        with open_store(path) as store:
            result = sync_account(StripeReader(make_client(settings)), store, rate_limit=rate_limit,
                                  source=source_of(settings.api_key, settings.api_base))
        synced = f"{result.mode} sync, {result.requests} requests, {result.seconds:.1f} s"
    return Portfolio(open_store(path, read_only=True), synced)
