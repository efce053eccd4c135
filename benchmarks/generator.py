"""Synthetic accounts written straight into the store (benchmarks only, never tests).

``generate(path, subscriptions)`` fills a DuckDB store (the same tables ``billing-nb sync``
writes) with N subscriptions over two years, in SQL, in seconds: 80% monthly / 20% annual,
USD and EUR, 1-25 seats, a tenth cancelled, a twentieth upgraded mid-period (a credit
and a debit proration line), a twentieth paying late. Deterministic (hash-based).
"""

from __future__ import annotations

from pathlib import Path

from billing_nb.reports.store import open_store

__all__ = ["generate"]

START = 1_704_067_200  # 2024-01-01 UTC
MONTH = 2_629_746  # an average month, seconds
YEAR = 31_556_952


def generate(path: Path, subscriptions: int) -> dict[str, int]:
    """Write the synthetic account; rows per table."""
    with open_store(path) as store:
        con = store.con
        n = int(subscriptions)
        con.execute("SET threads TO 2")
        con.execute("SET memory_limit = '1500MB'")  # the benchmark's whole budget is 2 GB
        con.execute("SET preserve_insertion_order = false")
        con.execute("""
            INSERT INTO products SELECT 'prod_' || i, 1700000000, 'Plan ' || i, TRUE, NULL FROM range(5) t(i)""")
        con.execute("""
            INSERT INTO prices
            SELECT 'price_' || p || '_' || cur || '_' || iv, 1700000000, 'prod_' || p, cur,
                   CASE iv WHEN 'month' THEN (p + 1) * 1000 ELSE (p + 1) * 10000 END, 'recurring', iv, 1, TRUE,
                   NULL, NULL, NULL
            FROM range(5) a(p), (VALUES ('usd'), ('eur')) b(cur), (VALUES ('month'), ('year')) c(iv)""")
        con.execute(f"""
            CREATE TEMP TABLE gen AS
            SELECT i, hash(i) AS h,
                   'sub_' || i AS id, 'cus_' || (i * 4 // 5) AS customer_id,
                   CASE WHEN hash(i) % 10 < 2 THEN 'year' ELSE 'month' END AS iv,
                   CASE WHEN hash(i * 7) % 4 = 0 THEN 'eur' ELSE 'usd' END AS cur,
                   hash(i * 3) % 5 AS plan, 1 + hash(i * 11) % 25 AS qty,
                   {START} + hash(i * 13) % (20 * {MONTH}) AS started
            FROM range({n}) t(i)""")
        con.execute(f"""
            CREATE TEMP TABLE gen2 AS
            SELECT *, CASE WHEN h % 10 = 0 THEN started + (1 + h % 9) * {MONTH} + 86400 END AS ended,
                   CASE WHEN iv = 'month' THEN {MONTH} ELSE {YEAR} END AS step
            FROM gen""")
        con.execute(f"""
            CREATE TEMP TABLE periods AS
            SELECT g.*, k, g.started + k * g.step AS ps, g.started + (k + 1) * g.step AS pe
            FROM gen2 g, range(CAST(CEIL((COALESCE(g.ended, {START} + 24 * {MONTH}) - g.started) / g.step) AS BIGINT)) r(k)""")
        con.execute("""
            INSERT INTO customers SELECT DISTINCT customer_id, MIN(started), NULL, NULL, NULL, MIN(cur), FALSE, FALSE,
                   NULL, NULL, NULL, NULL FROM gen2 GROUP BY customer_id""")
        con.execute("""
            INSERT INTO subscriptions
            SELECT id, started, customer_id, CASE WHEN ended IS NOT NULL THEN 'canceled'
                   WHEN h % 20 = 1 THEN 'past_due' ELSE 'active' END, cur, started, ended, NULL, FALSE, ended,
                   NULL, NULL, 'charge_automatically', NULL, ended, NULL, '[]' FROM gen2""")
        con.execute("""
            INSERT INTO subscription_items
            SELECT 'si_' || i, started, id, 'price_' || plan || '_' || cur || '_' || iv, qty, NULL, NULL, NULL FROM gen2""")
        con.execute("""
            INSERT INTO invoices
            SELECT 'in_' || i || '_' || k, ps, customer_id, id,
                   CASE WHEN h % 20 = 1 AND k = 0 THEN 'open' ELSE 'paid' END,
                   CASE WHEN k = 0 THEN 'subscription_create' ELSE 'subscription_cycle' END, cur, 0, 0, 0, 0,
                   CASE WHEN h % 20 = 2 THEN 2 ELSE 1 END, ps, pe, ps, NULL, NULL, 0 FROM periods""")
        con.execute("""
            INSERT INTO invoice_line_items
            SELECT 'il_' || p.i || '_' || p.k, 'in_' || p.i || '_' || p.k, p.id, 'si_' || p.i,
                   'price_' || p.plan || '_' || p.cur || '_' || p.iv, p.cur, pr.unit_amount * p.qty, p.qty, FALSE,
                   p.ps, p.pe, 'subscription', 0, 0, NULL, NULL
            FROM periods p JOIN prices pr ON pr.id = 'price_' || p.plan || '_' || p.cur || '_' || p.iv""")
        # a twentieth of the monthly ones add two seats halfway through their first period
        con.execute(f"""
            INSERT INTO invoice_line_items
            SELECT 'il_up_' || p.i || '_' || s.sign, 'in_' || p.i || '_1', p.id, 'si_' || p.i,
                   'price_' || p.plan || '_' || p.cur || '_' || p.iv, p.cur,
                   s.sign * pr.unit_amount * (p.qty + CASE WHEN s.sign = 1 THEN 2 ELSE 0 END) // 2,
                   p.qty + CASE WHEN s.sign = 1 THEN 2 ELSE 0 END, TRUE, p.ps + {MONTH} // 2, p.pe, 'invoiceitem', 0, 0, NULL, NULL
            FROM periods p JOIN prices pr ON pr.id = 'price_' || p.plan || '_' || p.cur || '_' || p.iv,
                 (VALUES (-1), (1)) s(sign)
            WHERE p.k = 0 AND p.iv = 'month' AND p.h % 20 = 3 AND p.pe < COALESCE(p.ended, 9999999999)""")
        con.execute("""
            INSERT INTO refunds SELECT 're_' || i, started + 86400 * 3, NULL, NULL, 500, cur, 'succeeded', NULL
            FROM gen2 WHERE h % 50 = 7""")
        con.execute("""
            INSERT INTO credit_notes SELECT 'cn_' || i, started + 86400 * 5, 'in_' || i || '_0', customer_id, 300, 300,
                   cur, 'issued', NULL, 'post_payment' FROM gen2 WHERE h % 70 = 9""")
        con.execute("""
            INSERT INTO disputes SELECT 'du_' || i, started + 86400 * 9, NULL, NULL, 1000, cur, 'needs_response',
                   'fraudulent', started + 86400 * 30 FROM gen2 WHERE h % 500 = 11""")
        # what refunds and disputes took out of the balance (Stripe's reporting categories)
        con.execute("""
            INSERT INTO balance_transactions
            SELECT 'txn_re_' || i, started + 86400 * 3, 're_' || i, 'refund', 'refund', -500, 0, -500, cur,
                   'available', started + 86400 * 5 FROM gen2 WHERE h % 50 = 7
            UNION ALL
            SELECT 'txn_du_' || i, started + 86400 * 9, 'du_' || i, 'adjustment', 'dispute', -1000, 1500, -2500, cur,
                   'available', started + 86400 * 11 FROM gen2 WHERE h % 500 = 11""")
        for table in ("gen", "gen2", "periods"):
            con.execute(f"DROP TABLE {table}")
        con.execute("CHECKPOINT")
        return store.counts()
