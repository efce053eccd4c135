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
