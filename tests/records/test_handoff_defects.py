"""Issue 14's small handoff defects, each pinned by the record that showed it."""

from __future__ import annotations

import re

from billing_nb.records.handoff import render_followup, render_handoff

from tests.records.test_handoff import full, make_record, usd


def test_revenue_impact_and_proposed_impact_are_separate_lines() -> None:
    record = make_record("duplicate_subscription")
    record["revenue_impact"] = {k: usd(0) for k in ("refunded", "credited", "mrr_change", "arr_change")}
    record["proposed_impact"] = {k: usd(0) for k in ("refunded", "credited", "mrr_change", "arr_change")}
    record["followup"] = render_followup(record)
    text = render_handoff(record)
    assert "USDIf the plan" not in text
    assert re.search(r"ARR change \$0\.00 USD\n+If the plan is approved", text)


def test_no_action_no_why_this_action() -> None:
    record = make_record("product_failure")
    record["plan"] = []
    record["followup"] = render_followup(record)
    text = render_handoff(record)
    assert "Why this action is correct" not in text
    assert "Evidence for the bucket (no action is planned)" in text
    _, with_plan = full("duplicate_subscription")
    assert "Why this action is correct" in with_plan


def test_pending_case_has_no_why_this_action() -> None:
    _, text = full(None)
    assert "Why this action is correct" not in text


def test_dry_run_is_not_shown_as_plain_done() -> None:
    _, text = full("duplicate_subscription")
    status = text.splitlines()[2]
    assert status.startswith("Status: **done** (dry run: the plan is proposed, nothing executed)")
    _, executed = full("duplicate_subscription", executed=True)
    assert "dry run" not in executed.splitlines()[2]


def _with_credits(refunds: list[int], notes: list[tuple[int, int]]) -> str:
    rec = make_record("product_failure")
    rec["billing_state"]["credits"] = {
        "balance": usd(0), "credit_held": None,
        "refunded": [usd(sum(refunds))] if refunds else [],
        "credited": [usd(sum(n for n, _ in notes))] if notes else [],
        "refunds": [{"id": f"re_{i}", "charge": "ch_A", "amount": usd(v), "status": "succeeded", "reason": None,
                     "created": 1} for i, v in enumerate(refunds)],
        "credit_notes": [{"id": f"cn_{i}", "invoice": "in_A", "amount": usd(n), "refunded": r, "out_of_band": 0,
                          "to_balance": r < n, "status": "issued", "reason": None, "created": 1}
                         for i, (n, r) in enumerate(notes)],
    }
    rec["followup"] = render_followup(rec)
    state = render_handoff(rec).split("## BILLING STATE", 1)[1].split("## DECISION", 1)[0]
    return " ".join(state.split())


def test_a_refund_made_by_a_credit_note_is_counted_once() -> None:
    """T4: "refunded $870.51 (1 refunds); credit notes for $870.51 (1 credit notes)" read as $1,741.02."""
    line = _with_credits([87051], [(87051, 87051)])
    assert "refunded $870.51 USD to the original payment method (1 refund)" in line, line
    assert ("credit notes for $870.51 USD (1 credit note), all of it refunded to the original payment method "
            "(counted in the refunds above)") in line, line
    assert "1 refunds" not in line and "1 credit notes" not in line
    # a note credited to the balance: nothing of it is in the refunds
    line = _with_credits([2000], [(5000, 0)])
    assert "credit notes for $50.00 USD (1 credit note)" in line and "of it refunded" not in line, line
    line = _with_credits([3000, 1000], [(5000, 3000)])
    assert "$30.00 USD of it refunded to the original payment method (counted in the refunds above)" in line, line
