"""Each refund is read by its status: pending, sent (with the days it takes to show), or failed
and not returned. A failed refund is an anomaly with a remedy; "where is my refund" is answered
from the refund, not with a second one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from billing_nb.actions import plan
from billing_nb.analysis.classify import Bucket, Decision, classify
from billing_nb.analysis.contract import contract_shapes, refund_options
from billing_nb.analysis.identify import identify
from billing_nb.analysis.refunds import asks_where_refund, refund_fact
from billing_nb.analysis.state import read_state
from tests.fixtures import builders as b

DAY = 86400


def _case(status: str, *, failure: str | None = None, age_days: int = 2, amount: int = 2000,
          later: dict[str, Any] | None = None) -> Any:
    cust = b.customer()
    sub = b.subscription(cust)
    invoices, charges = b.paid_history(cust, sub)
    ch = charges[-1]
    refund: dict[str, Any] = {"id": "re_1", "object": "refund", "charge": ch["id"], "amount": amount,
                              "currency": "usd", "status": status, "reason": "requested_by_customer",
                              "created": b.NOW - age_days * DAY,
                              "destination_details": {"type": "card", "card": {"reference": "ARN123",
                                                                                "type": "refund"}}}
    if failure:
        refund["failure_reason"] = failure
    ch["amount_refunded"] = 0 if status in ("failed", "canceled") else amount
    refunds = [refund] + ([later] if later else [])
    return b.snapshot([cust], subscriptions=[sub], invoices=invoices, charges=charges, refunds=refunds), ch


def test_failed_refund_is_shown_failed_with_its_reason_and_is_an_anomaly() -> None:
    snap, ch = _case("failed", failure="expired_or_canceled_card")
    summary = identify(snap)
    lines = " | ".join(read_state(snap, summary).lines())
    assert "refund re_1 of $20.00 USD" in lines and "FAILED: expired_or_canceled_card -- money not returned" in lines
    assert "succeeded" not in lines
    [anomaly] = summary.anomalies_of("failed_refund")
    assert anomaly.objects == ("re_1", ch["id"])
    assert "customer balance" in anomaly.detail and "out of band" in anomaly.detail
    # the remedy comes first as the reversible one
    assert anomaly.detail.index("customer balance") < anomaly.detail.index("out of band")


@pytest.mark.parametrize("status", ["canceled", "failed"])
def test_refund_made_good_by_a_later_one_is_no_anomaly(status: str) -> None:
    later = {"id": "re_2", "object": "refund", "charge": None, "amount": 2000, "currency": "usd",
             "status": "succeeded", "created": b.NOW - DAY}
    snap, ch = _case(status, later=later)
    later["charge"] = ch["id"]
    assert identify(snap).anomalies_of("failed_refund") == []


def test_pending_refund_says_pending_since_and_not_returned_yet() -> None:
    snap, _ = _case("pending", age_days=3)
    text = " | ".join(read_state(snap, identify(snap)).lines())
    day = datetime.fromtimestamp(refund_fact(snap.of("refunds")[0]).created, tz=UTC).date().isoformat()
    assert "refund re_1 of $20.00 USD on " in text and f"pending since {day}" in text
    assert "not sent yet" in text and "5-10 business days" in text
    assert identify(snap).anomalies_of("failed_refund") == []


def test_succeeded_card_refund_gives_its_arrival_window() -> None:
    fact = refund_fact({"id": "re_9", "charge": "ch_9", "amount": 1000, "currency": "usd", "status": "succeeded",
                        "created": 1788220800})  # Tuesday 2026-09-01 00:00 UTC
    assert fact.window() is not None
    first, last = fact.window()  # type: ignore[misc]
    assert (first.isoformat(), last.isoformat()) == ("2026-09-08", "2026-09-15")  # weekends skipped
    assert "2026-09-08 to 2026-09-15" in fact.line()
    assert "trace" in fact.where(now=1788220800 + 20 * DAY) and "trace" not in fact.where(now=1788220800 + DAY)


@pytest.mark.parametrize("text", ["Where is my refund?", "I never got my refund", "I still haven't received the refund",
                                  "The refund you promised has not arrived", "still waiting for my refund!!",
                                  "I didn't get my money back yet"])
def test_where_is_my_refund_is_recognised(text: str) -> None:
    assert asks_where_refund(text)


@pytest.mark.parametrize("text", ["Please refund me", "I want a refund for last month", "refund the duplicate charge"])
def test_a_request_for_a_refund_is_not_a_where_is_it(text: str) -> None:
    assert not asks_where_refund(text)


def _plan(snap: Any, complaint: str) -> Any:
    summary = identify(snap)
    shapes = contract_shapes(snap)
    options = [o for s in shapes for o in refund_options(snap, s)]
    d = Decision(suggested=Bucket.PRODUCT_FAILURE, bucket=Bucket.PRODUCT_FAILURE, confirmed_by="parameter",
                 confidence=1.0, evidence=())
    return plan(snap, summary, d, shapes, options, complaint=complaint)


def test_where_is_my_refund_reads_the_refund_and_plans_no_second_refund_of_it() -> None:
    snap, ch = _case("succeeded", age_days=2)
    p = _plan(snap, "Where is my refund? I never got it")
    notes = " ".join(p.notes)
    assert "asks where their refund is" in notes and "do not refund again" in notes
    assert "re_1 of $20.00 USD succeeded" in notes and "business days" in notes
    assert not any(a.kind.value == "refund" and a.target == ch["id"] and a.amount is not None
                   and a.amount.amount >= 2000 for a in p.actions)
    c = classify(snap, identify(snap), "Where is my refund? I never got it")
    assert any("re_1" in e and "business days" in e for e in c.evidence)


def test_failed_refund_plan_notes_name_the_remedies() -> None:
    snap, _ = _case("failed", failure="lost_or_stolen_card")
    notes = " ".join(_plan(snap, "I never got my refund").notes)
    assert "re_1" in notes and "FAILED: lost_or_stolen_card" in notes and "customer balance" in notes
