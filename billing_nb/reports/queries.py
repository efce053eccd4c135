"""The metric definitions, written once as portable SQL over the Sigma-shaped tables.

Written in DuckDB's dialect but only with what every warehouse has (CTEs, window
functions, CASE, integer columns, a ``calendar_months`` table instead of date functions),
so SQLGlot transpiles them unchanged to SQLite here and to Snowflake, Redshift or
Databricks where Stripe Data Pipeline lands the same tables (docs/SCALE.md).

MRR comes from invoice lines, as ChartMogul derives it (https://help.chartmogul.com/hc/en-us/articles/
206086409): each subscription line says what a subscription item was billed at from its
period start; a credit for unused time (a negative proration) ends that rate, the
positive proration that follows it (same start) gives the new one, and the subscription's
``ended_at`` ends it all. A line's rate is what it recurs at net of forever coupons
(``recurring_amount``: its amount less its forever ``discount_amounts``; for a proration the
price times the quantity times what the forever percentages leave, ``forever_factor``) over the interval's months; once and
repeating coupons leave it whole, as Stripe counts MRR (support.stripe.com/questions/billing-analytics).
MRR at a month is the sum of the rates running
at its last second (``eval_at``; for the month in progress, the account's latest activity). Movements compare each customer's MRR with the month before:
new (first MRR), reactivation (MRR again after none), expansion, contraction, churn (to
zero: a customer with another live subscription contracts, never churns). Contraction and
churn are negative, so ``mrr_end = previous mrr_end + new + expansion + contraction +
churn + reactivation``.

The current metrics (``mrr``, ``plans``, ``intervals``, ``seats``) sum ``item_mrr``: each live
item's MRR net of the forever coupons on its subscription (else its customer), worked out
exactly beside the tables (:mod:`billing_nb.reports.recurring`, like ``calendar_months``).
"""

from __future__ import annotations

#: The metric names, in the order ``billing-nb metrics`` lists them (here, not in metrics.py,
#: so building the CLI's parser imports no pandas).
METRICS: tuple[str, ...] = ("mrr", "movements", "plans", "intervals", "conversion", "seats", "churn", "retention",
                            "dunning", "refunds")

__all__ = ["METRICS", "QUERIES", "BASE", "LIVE"]

LIVE = "('active', 'trialing', 'past_due')"

#: The customer-month MRR every history metric starts from (a CTE chain, continued below).
BASE = """
WITH lines AS (
  SELECT l.subscription_id, COALESCE(l.subscription_item_id, l.subscription_id || ':' || l.price_id) AS item_key,
         i.customer_id, l.currency, l.period_start, l.period_end, l.proration, l.amount, l.quantity, l.recurring_amount,
         l.forever_factor,
         i.created AS invoiced,
         -- the price per unit in the line's currency: the default's only in its own currency, else (a
         -- multi-currency price's option) what the item bills per unit at that price, never the default's
         CASE WHEN l.currency = p.currency THEN p.unit_amount
              WHEN si.price_id = l.price_id AND si.quantity > 0 THEN 1.0 * si.amount / si.quantity END AS unit_amount,
         p.recurring_interval AS billing_interval,
         CASE p.recurring_interval WHEN 'month' THEN 1.0 * p.recurring_interval_count
              WHEN 'year' THEN 12.0 * p.recurring_interval_count
              WHEN 'week' THEN p.recurring_interval_count * 12.0 / 52
              ELSE p.recurring_interval_count * 12.0 / 365 END AS months
  FROM invoice_line_items l
  JOIN invoices i ON i.id = l.invoice_id
  JOIN prices p ON p.id = l.price_id
  LEFT JOIN subscription_items si ON si.id = l.subscription_item_id
  WHERE l.subscription_id IS NOT NULL AND p.recurring_interval IS NOT NULL
    AND i.status <> 'void' AND l.period_end > l.period_start
),
rated AS (
  SELECT subscription_id, item_key, customer_id, currency, period_start, period_end, invoiced, billing_interval,
         CASE WHEN proration AND amount < 0 THEN 0
              WHEN proration THEN FLOOR(unit_amount * quantity * COALESCE(forever_factor, 1.0) / months + 0.5)
              ELSE FLOOR(COALESCE(recurring_amount, amount) / months + 0.5) END AS rate,
         CASE WHEN proration AND amount < 0 THEN 0 ELSE 1 END AS sets_rate
  FROM lines
),
seg AS (
  SELECT r.customer_id, r.currency, r.billing_interval, r.rate, r.period_start AS seg_start,
         LEAST(COALESCE(LEAD(r.period_start) OVER (PARTITION BY r.item_key
                        ORDER BY r.period_start, r.sets_rate, r.invoiced), r.period_end),
               r.period_end, COALESCE(s.ended_at, r.period_end)) AS seg_end
  FROM rated r JOIN subscriptions s ON s.id = r.subscription_id
),
cm AS (
  SELECT seg.customer_id, seg.currency, c.month_idx, SUM(seg.rate) AS mrr,
         SUM(CASE WHEN seg.billing_interval = 'year' THEN seg.rate ELSE 0 END) AS annual,
         SUM(CASE WHEN seg.billing_interval = 'month' THEN seg.rate ELSE 0 END) AS monthly
  FROM seg JOIN calendar_months c ON seg.seg_start <= c.eval_at AND seg.seg_end > c.eval_at
  WHERE seg.rate > 0
  GROUP BY seg.customer_id, seg.currency, c.month_idx
),
pairs AS (
  SELECT customer_id, currency, month_idx, SUM(cur) AS cur, SUM(prev) AS prev, SUM(cur_a) AS cur_a,
         SUM(prev_a) AS prev_a, SUM(cur_m) AS cur_m, SUM(prev_m) AS prev_m
  FROM (SELECT customer_id, currency, month_idx, mrr AS cur, 0 AS prev, annual AS cur_a, 0 AS prev_a,
               monthly AS cur_m, 0 AS prev_m FROM cm
        UNION ALL
        SELECT customer_id, currency, month_idx + 1, 0, mrr, 0, annual, 0, monthly FROM cm) x
  WHERE month_idx <= (SELECT MAX(month_idx) FROM calendar_months)
  GROUP BY customer_id, currency, month_idx
),
firsts AS (SELECT customer_id, currency, MIN(month_idx) AS first_idx FROM cm GROUP BY customer_id, currency),
grid AS (
  SELECT c.month_idx, c.month, cur.currency FROM calendar_months c
  CROSS JOIN (SELECT DISTINCT currency FROM cm) cur
)
"""

_MOVEMENTS = BASE + """,
moved AS (
  SELECT p.currency, p.month_idx, p.cur,
         CASE WHEN p.prev = 0 AND p.cur > 0 AND p.month_idx = f.first_idx THEN p.cur ELSE 0 END AS new_mrr,
         CASE WHEN p.prev > 0 AND p.cur > p.prev THEN p.cur - p.prev ELSE 0 END AS expansion,
         CASE WHEN p.prev > 0 AND p.cur > 0 AND p.cur < p.prev THEN p.cur - p.prev ELSE 0 END AS contraction,
         CASE WHEN p.prev > 0 AND p.cur = 0 THEN 0 - p.prev ELSE 0 END AS churn,
         CASE WHEN p.prev = 0 AND p.cur > 0 AND p.month_idx > f.first_idx THEN p.cur ELSE 0 END AS reactivation
  FROM pairs p JOIN firsts f ON f.customer_id = p.customer_id AND f.currency = p.currency
),
totals AS (
  SELECT currency, month_idx, SUM(new_mrr) AS new_mrr, SUM(expansion) AS expansion, SUM(contraction) AS contraction,
         SUM(churn) AS churn, SUM(reactivation) AS reactivation, SUM(cur) AS mrr_end
  FROM moved GROUP BY currency, month_idx
)
SELECT g.month, g.currency, CAST(COALESCE(t.new_mrr, 0) AS BIGINT) AS new,
       CAST(COALESCE(t.expansion, 0) AS BIGINT) AS expansion, CAST(COALESCE(t.contraction, 0) AS BIGINT) AS contraction,
       CAST(COALESCE(t.churn, 0) AS BIGINT) AS churn, CAST(COALESCE(t.reactivation, 0) AS BIGINT) AS reactivation,
       CAST(COALESCE(t.mrr_end, 0) AS BIGINT) AS mrr_end
FROM grid g LEFT JOIN totals t ON t.month_idx = g.month_idx AND t.currency = g.currency
ORDER BY g.currency, g.month
"""

_CONVERSION = BASE + """,
conv AS (
  SELECT currency, month_idx,
         SUM(CASE WHEN prev_m > 0 THEN 1 ELSE 0 END) AS monthly_customers,
         SUM(CASE WHEN prev_m > 0 AND cur_a > prev_a AND cur_m < prev_m THEN 1 ELSE 0 END) AS monthly_to_annual,
         SUM(CASE WHEN prev_a > 0 AND cur_m > prev_m AND cur_a < prev_a THEN 1 ELSE 0 END) AS annual_to_monthly,
         SUM(CASE WHEN prev_m > 0 AND cur_a > prev_a AND cur_m < prev_m THEN cur_a - prev_a ELSE 0 END) AS mrr_to_annual,
         SUM(CASE WHEN prev_a > 0 AND cur_m > prev_m AND cur_a < prev_a THEN cur_m - prev_m ELSE 0 END) AS mrr_to_monthly,
         SUM(cur_a) AS annual_mrr, SUM(cur_m) AS monthly_mrr
  FROM pairs GROUP BY currency, month_idx
)
SELECT g.month, g.currency, CAST(COALESCE(c.monthly_customers, 0) AS BIGINT) AS monthly_customers,
       CAST(COALESCE(c.monthly_to_annual, 0) AS BIGINT) AS monthly_to_annual,
       CAST(COALESCE(c.annual_to_monthly, 0) AS BIGINT) AS annual_to_monthly,
       CAST(COALESCE(c.mrr_to_annual, 0) AS BIGINT) AS mrr_to_annual,
       CAST(COALESCE(c.mrr_to_monthly, 0) AS BIGINT) AS mrr_to_monthly,
       CAST(COALESCE(c.monthly_mrr, 0) AS BIGINT) AS monthly_mrr, CAST(COALESCE(c.annual_mrr, 0) AS BIGINT) AS annual_mrr,
       CASE WHEN c.monthly_customers > 0 THEN ROUND(1.0 * c.monthly_to_annual / c.monthly_customers, 4) END
         AS conversion_rate
FROM grid g LEFT JOIN conv c ON c.month_idx = g.month_idx AND c.currency = g.currency
ORDER BY g.currency, g.month
"""

_CHURN = BASE + """,
ch AS (
  SELECT currency, month_idx, SUM(CASE WHEN prev > 0 THEN 1 ELSE 0 END) AS customers_start,
         SUM(CASE WHEN prev > 0 AND cur = 0 THEN 1 ELSE 0 END) AS churned_customers,
         SUM(prev) AS mrr_start, SUM(CASE WHEN prev > 0 AND cur = 0 THEN prev ELSE 0 END) AS churned_mrr
  FROM pairs GROUP BY currency, month_idx
)
SELECT g.month, g.currency, CAST(COALESCE(ch.customers_start, 0) AS BIGINT) AS customers_start,
       CAST(COALESCE(ch.churned_customers, 0) AS BIGINT) AS churned_customers,
       CAST(COALESCE(ch.mrr_start, 0) AS BIGINT) AS mrr_start, CAST(COALESCE(ch.churned_mrr, 0) AS BIGINT) AS churned_mrr,
       CASE WHEN ch.customers_start > 0 THEN ROUND(1.0 * ch.churned_customers / ch.customers_start, 4) END
         AS customer_churn_rate,
       CASE WHEN ch.mrr_start > 0 THEN ROUND(1.0 * ch.churned_mrr / ch.mrr_start, 4) END AS mrr_churn_rate
FROM grid g LEFT JOIN ch ON ch.month_idx = g.month_idx AND ch.currency = g.currency
ORDER BY g.currency, g.month
"""

_RETENTION = BASE + """,
aged AS (
  SELECT cm.currency, f.first_idx, cm.month_idx - f.first_idx AS age, COUNT(*) AS retained, SUM(cm.mrr) AS mrr
  FROM cm JOIN firsts f ON f.customer_id = cm.customer_id AND f.currency = cm.currency
  GROUP BY cm.currency, f.first_idx, cm.month_idx - f.first_idx
)
SELECT c.month AS cohort, a.currency, CAST(a.age AS BIGINT) AS age, CAST(z.retained AS BIGINT) AS customers,
       CAST(a.retained AS BIGINT) AS retained, ROUND(1.0 * a.retained / z.retained, 4) AS retention,
       CAST(a.mrr AS BIGINT) AS mrr
FROM aged a
JOIN aged z ON z.currency = a.currency AND z.first_idx = a.first_idx AND z.age = 0
JOIN calendar_months c ON c.month_idx = a.first_idx
ORDER BY a.currency, c.month, a.age
"""

_CURRENT = f"""
WITH live AS (
  SELECT s.id AS subscription_id, s.customer_id, si.quantity, p.id AS price_id, p.product_id,
         COALESCE(s.currency, p.currency) AS currency,  -- the subscription's: item_mrr is in it
         p.recurring_interval AS billing_interval, p.recurring_interval_count AS interval_count, m.mrr
  FROM subscriptions s
  JOIN subscription_items si ON si.subscription_id = s.id
  JOIN prices p ON p.id = si.price_id
  JOIN item_mrr m ON m.item_id = si.id
  WHERE s.status IN {LIVE} AND p.recurring_interval IS NOT NULL
)
"""

QUERIES: dict[str, str] = {
    "movements": _MOVEMENTS,
    "conversion": _CONVERSION,
    "churn": _CHURN,
    "retention": _RETENTION,
    "mrr": _CURRENT + """
SELECT currency, CAST(COUNT(DISTINCT subscription_id) AS BIGINT) AS live_subscriptions,
       CAST(COUNT(DISTINCT customer_id) AS BIGINT) AS customers, CAST(SUM(mrr) AS BIGINT) AS mrr,
       CAST(SUM(mrr) * 12 AS BIGINT) AS arr
FROM live GROUP BY currency ORDER BY currency
""",
    "plans": _CURRENT + """
SELECT live.product_id, pr.name AS product, live.price_id, live.currency, live.billing_interval,
       CAST(COUNT(DISTINCT live.subscription_id) AS BIGINT) AS subscriptions,
       CAST(SUM(live.quantity) AS BIGINT) AS seats, CAST(SUM(live.mrr) AS BIGINT) AS mrr
FROM live LEFT JOIN products pr ON pr.id = live.product_id
GROUP BY live.product_id, pr.name, live.price_id, live.currency, live.billing_interval
ORDER BY live.currency, mrr DESC, live.price_id
""",
    "intervals": _CURRENT + """
SELECT currency, billing_interval, CAST(interval_count AS BIGINT) AS interval_count,
       CAST(COUNT(DISTINCT subscription_id) AS BIGINT) AS subscriptions, CAST(SUM(mrr) AS BIGINT) AS mrr,
       ROUND(1.0 * COUNT(DISTINCT subscription_id) / (SELECT COUNT(DISTINCT l2.subscription_id) FROM live l2
                                                     WHERE l2.currency = live.currency), 4) AS share
FROM live GROUP BY currency, billing_interval, interval_count
ORDER BY currency, billing_interval, interval_count
""",
    "seats": _CURRENT + """
SELECT currency, CAST(quantity AS BIGINT) AS seats, CAST(COUNT(*) AS BIGINT) AS items, CAST(SUM(mrr) AS BIGINT) AS mrr
FROM live GROUP BY currency, quantity ORDER BY currency, quantity
""",
    # Grouped by UTC day first (integer arithmetic: a month starts on a day boundary), so the
    # range join against the calendar sees a few thousand day rows, not every invoice.
    "dunning": """
WITH daily AS (
  SELECT i.created - i.created % 86400 AS day_start, i.currency, COUNT(*) AS failed_invoices,
         SUM(CASE WHEN i.status = 'paid' THEN 1 ELSE 0 END) AS recovered,
         SUM(CASE WHEN i.status = 'paid' THEN i.amount_paid ELSE 0 END) AS recovered_amount,
         SUM(CASE WHEN i.status = 'paid' THEN 0 ELSE i.amount_remaining END) AS outstanding_amount
  FROM invoices i
  WHERE i.attempt_count >= 1 AND i.status IN ('paid', 'open', 'uncollectible')
    AND (i.status <> 'paid' OR i.attempt_count > 1)
  GROUP BY i.created - i.created % 86400, i.currency
)
SELECT c.month, d.currency, CAST(SUM(d.failed_invoices) AS BIGINT) AS failed_invoices,
       CAST(SUM(d.recovered) AS BIGINT) AS recovered, CAST(SUM(d.recovered_amount) AS BIGINT) AS recovered_amount,
       CAST(SUM(d.outstanding_amount) AS BIGINT) AS outstanding_amount,
       ROUND(1.0 * SUM(d.recovered) / SUM(d.failed_invoices), 4) AS recovery_rate
FROM daily d JOIN calendar_months c ON d.day_start >= c.month_start AND d.day_start < c.month_end
GROUP BY c.month, d.currency ORDER BY d.currency, c.month
""",
    # refunds, credit notes and disputes as objects, and what they took out of the balance
    # (balance transactions of the refund and dispute reporting categories, fees apart:
    # https://docs.stripe.com/reports/reporting-categories). A refund is booked by its status:
    # succeeded is refunded, pending (or requires_action) is on its way, failed and canceled
    # never reached the customer (https://docs.stripe.com/api/refunds/object)
    "refunds": """
WITH moved AS (
  SELECT created, currency, amount, CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END AS refunds, 0 AS credit_notes,
         0 AS disputes, 0 AS outflow, CASE WHEN status = 'succeeded' THEN 0 ELSE 1 END AS pending FROM refunds
  WHERE status IN ('succeeded', 'pending', 'requires_action')
  UNION ALL
  SELECT created, currency, total, 0, 1, 0, 0, 0 FROM credit_notes WHERE status <> 'void'
  UNION ALL
  SELECT created, currency, amount, 0, 0, 1, 0, 0 FROM disputes
  UNION ALL
  SELECT created, currency, 0 - amount, 0, 0, 0, 1, 0 FROM balance_transactions
  WHERE reporting_category IN ('refund', 'refund_failure', 'dispute', 'dispute_reversal')
),
daily AS (
  SELECT created - created % 86400 AS day_start, currency, SUM(refunds) AS refunds, SUM(refunds * amount) AS refunded,
         SUM(credit_notes) AS credit_notes, SUM(credit_notes * amount) AS credited, SUM(disputes) AS disputes,
         SUM(disputes * amount) AS disputed, SUM(outflow * amount) AS balance_out,
         SUM(pending * amount) AS refund_pending
  FROM moved GROUP BY created - created % 86400, currency
)
SELECT c.month, d.currency,
       CAST(SUM(d.refunds) AS BIGINT) AS refunds, CAST(SUM(d.refunded) AS BIGINT) AS refunded,
       CAST(SUM(d.refund_pending) AS BIGINT) AS refund_pending,
       CAST(SUM(d.credit_notes) AS BIGINT) AS credit_notes, CAST(SUM(d.credited) AS BIGINT) AS credited,
       CAST(SUM(d.disputes) AS BIGINT) AS disputes, CAST(SUM(d.disputed) AS BIGINT) AS disputed,
       CAST(SUM(d.balance_out) AS BIGINT) AS balance_out
FROM daily d JOIN calendar_months c ON d.day_start >= c.month_start AND d.day_start < c.month_end
GROUP BY c.month, d.currency ORDER BY d.currency, c.month
""",
}
