from typing import Any

from billing_nb.reports.portfolio import (
    churn_risk, duplicate_subscriptions, interval_mix, monthly_amount, plan_mix, portal_validation,
    seat_distribution,
)


def _sub(sid: str, cust: str, amount: int, interval: str = "month", qty: int = 1, status: str = "active",
         product: str = "prod_pro", price: str = "price_m", **extra: Any) -> dict[str, Any]:
    return {"id": sid, "customer": cust, "status": status, "currency": "usd", "cancel_at_period_end": False,
            "items": {"data": [{"quantity": qty, "price": {"id": price, "product": product, "currency": "usd",
                                                           "unit_amount": amount, "metadata": {},
                                                           "recurring": {"interval": interval, "interval_count": 1}}}]},
            **extra}


def _customers(subs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The subscriptions' customers as read, none with a discount of its own."""
    return [{"id": s["customer"], "object": "customer", "discount": None} for s in subs]


def test_monthly_amount_normalises_annual_and_seats() -> None:
    assert monthly_amount(_sub("s1", "c1", 20000, "year"), None).amount == 1667  # 200.00/12 rounded half up
    assert monthly_amount(_sub("s2", "c1", 1500, qty=5), None).amount == 7500


def test_plan_mix_counts_only_live() -> None:
    subs = [_sub("s1", "c1", 2000), _sub("s2", "c2", 2000), _sub("s3", "c3", 2000, status="canceled")]
    frame = plan_mix(subs, _customers(subs))
    assert frame.loc[0, "subscriptions"] == 2 and frame.loc[0, "mrr_minor"] == 4000


def test_interval_and_seats() -> None:
    subs = [_sub("s1", "c1", 2000), _sub("s2", "c2", 20000, "year"), _sub("s3", "c3", 1500, qty=5)]
    assert set(interval_mix(subs)["interval"]) == {"1 month", "1 year"}
    seats = seat_distribution(subs)
    assert list(seats["seats"]) == [5]


def test_churn_risk_orders_by_score() -> None:
    subs = [_sub("s1", "c1", 2000, status="past_due"), _sub("s2", "c2", 2000, cancel_at_period_end=True),
            _sub("s3", "c3", 2000)]
    frame = churn_risk(subs, _customers(subs))
    assert list(frame["subscription"]) == ["s1", "s2"]


def test_duplicates_across_customer_objects_are_masked() -> None:
    customers = [{"id": "c1", "email": "pat@example.com"}, {"id": "c2", "email": "Pat@example.com"}]
    frame = duplicate_subscriptions([_sub("s1", "c1", 2000), _sub("s2", "c2", 2000)], customers)
    assert frame.loc[0, "count"] == 2
    assert "pat@" not in frame.loc[0, "person"]


def test_portal_validation_flags_missing_cancellation() -> None:
    cfg = {"id": "bpc_1", "is_default": True, "active": True,
           "features": {"subscription_cancel": {"enabled": False}, "payment_method_update": {"enabled": True},
                        "invoice_history": {"enabled": True}, "customer_update": {"enabled": True},
                        "subscription_update": {"enabled": False, "products": []}}}
    row = portal_validation([cfg]).iloc[0]
    assert not row["subscription_cancel"] and "subscription_cancel off" in row["problems"]
