"""The handoff's "already given back" tells refunds apart by status: a pending refund is on its
way (not returned), a failed one is not money given back at all."""

from __future__ import annotations

from typing import Any

from billing_nb.records.handoff import render_followup, render_handoff

from tests.records.test_handoff import make_record, usd


def _state(refunds: list[tuple[int, str, str | None]]) -> str:
    rec = make_record("product_failure")
    live = [v for v, s, _ in refunds if s in ("succeeded", "pending", "requires_action")]
    listed: list[dict[str, Any]] = [{"id": f"re_{i}", "charge": "ch_A", "amount": usd(v), "status": s, "reason": None,
                                     "created": 1, "failure_reason": why} for i, (v, s, why) in enumerate(refunds)]
    rec["billing_state"]["credits"] = {"balance": usd(0), "credit_held": None,
                                       "refunded": [usd(sum(live))] if live else [], "credited": [],
                                       "refunds": listed, "credit_notes": []}
    rec["followup"] = render_followup(rec)
    state = render_handoff(rec).split("## BILLING STATE", 1)[1].split("## DECISION", 1)[0]
    return " ".join(state.split())


def test_pending_refund_is_not_said_refunded() -> None:
    line = _state([(2000, "pending", None), (500, "succeeded", None)])
    assert "refunded $5.00 USD to the original payment method (1 refund)" in line, line
    assert "$20.00 USD refund pending (1 refund: on its way, not returned yet)" in line, line
    assert "refunded $25.00" not in line


def test_failed_refund_is_said_failed_and_not_given_back() -> None:
    line = _state([(2000, "failed", "expired_or_canceled_card")])
    assert "refunded $" not in line, line
    assert "refund re_0 of $20.00 USD FAILED: expired_or_canceled_card -- money not returned" in line, line
