"""Follow-ups say only what is true: one test per bucket x state, no sentence promising an action
the case does not contain (issue 12: "I'm taking care of the change" with nothing planned, "the secure
link we're sending" after an unattended run threw it away, "your subscription stays active" to a
customer whose bank is handling a fraud dispute)."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from billing_nb.records.handoff import render_followup, render_handoff

END = 1795000000
CREATED = 1792800000
BUCKETS = ("duplicate_subscription", "team_seats", "failed_payment", "missing_self_serve", "product_failure", "unclear")
STATES = ("dry_run", "executed", "unattended", "nothing_planned", "already_ending", "open_dispute", "lost_dispute",
          "retry_declined")


def _a(aid: str, amount: int | None = None, visible: bool = True) -> dict[str, Any]:
    kind, target = aid.split(":")[:2]
    return {"id": aid, "kind": kind, "target": target, "step": 2, "preview": aid, "reversible": amount is None,
            "customer_visible": visible, "moves_money": amount is not None, "exclusive": None, "requires": [], "why": "x",
            "amount": {"value": amount, "currency": "usd"} if amount else None}


PLANS = {
    "duplicate_subscription": [_a("cancel:sub_B:now"), _a("refund:ch_B:2000", 2000)],
    "team_seats": [_a("portal:cus_A:subscription_update"), _a("quantity:sub_A:3")],
    "failed_payment": [_a("portal:cus_A:payment_method_update"), _a("default_pm:sub_A:pm_new", visible=False),
                       _a("retry:in_F")],
    "missing_self_serve": [_a("portal:cus_A:subscription_cancel")],
    "product_failure": [_a("cancel:sub_A:now"), _a("credit_note:in_A:9000", 9000)],
    "unclear": [_a("portal:cus_A:home")],
}


def record(bucket: str, state: str) -> dict[str, Any]:
    plan = copy.deepcopy(PLANS[bucket]) + [_a("document:cus_A", visible=False)]
    if state in ("nothing_planned", "already_ending", "open_dispute", "lost_dispute"):
        plan = [_a("document:cus_A", visible=False)]
    executed = [] if state == "dry_run" else [
        {"action_id": a["id"], "idempotency_key": "k", "stripe_object": "obj", "request_id": "req",
         "status": "failed" if state == "retry_declined" and a["kind"] == "retry" else "succeeded", "error": None}
        for a in plan]
    links = [] if state == "unattended" else [a["id"] for a in plan if a["kind"] == "portal"]
    disputes = []
    if state in ("open_dispute", "lost_dispute"):
        disputes = [{"id": "du_1", "charge": "ch_A", "status": "needs_response" if state == "open_dispute" else "lost",
                     "reason": "fraudulent", "amount": {"value": 2000, "currency": "usd"}}]
    sub = {"id": "sub_A", "status": "past_due" if bucket == "failed_payment" else "active", "price": "price_pro",
           "product": "prod_pro", "interval": "month", "quantity": 5 if bucket == "team_seats" else 1,
           "current_period_end": END, "cancel_at_period_end": state == "already_ending"}
    subs = [sub] + ([{**sub, "id": "sub_B", "quantity": 1}] if bucket == "duplicate_subscription" else [])
    return {
        "case_id": "c1", "status": "done", "complaint": "x", "customer": {"id": "cus_A", "email": None, "other_customer_ids": []},
        "billing_state": {"subscriptions": subs, "anomalies": [], "disputes": disputes, "invoices": [
            {"id": "in_F", "status": "open", "billing_reason": "subscription_cycle", "subscription": "sub_A",
             "amount_due": 2000, "amount_paid": 0, "currency": "usd", "created": CREATED, "attempt_count": 2}]
            if bucket == "failed_payment" else []},
        "classification": {"suggested": bucket, "bucket": bucket, "confirmed_by": "parameter", "confidence": 0.9,
                           "evidence": [], "against": []},
        "contract": [], "refund_options": [], "plan": plan, "plan_notes": [], "approved": [], "executed": executed,
        "links_sent": links, "revenue_impact": None, "proposed_impact": None, "product_gaps": [], "followup": "",
        "error": None, "lookup_kind": "email", "created_at": "2026-11-24T06:22:42+00:00", "now": "2026-11-24T06:22:42+00:00",
    }


def _acted(rec: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(kinds done or proposed, kinds that failed): straight from the record, not from the renderer."""
    if rec["executed"]:
        ok = {e["action_id"].split(":")[0] for e in rec["executed"] if e["status"] == "succeeded"}
        return ok, {e["action_id"].split(":")[0] for e in rec["executed"] if e["status"] != "succeeded"}
    return {a["kind"] for a in rec["plan"]}, set()


def promises_kept(rec: dict[str, Any], text: str) -> list[str]:
    acted, failed = _acted(rec)
    sent = bool(set(rec["links_sent"]) & {a["id"] for a in rec["plan"] if a["kind"] == "portal"}) \
        if rec["executed"] else "portal" in acted
    subs = rec["billing_state"]["subscriptions"]
    disputes = rec["billing_state"]["disputes"]
    ending = any(s["cancel_at_period_end"] for s in subs)
    renewing = any(s["id"] not in {a["target"] for a in rec["plan"] if a["kind"] == "cancel" and a["kind"] in acted}
                   for s in subs) and not ending and not disputes
    rules = [
        (r"\b(?:i've|i'm) cancel\w*|canceled the extra|canceling the extra", "cancel" in acted),
        (r"\brefund(?:ed|ing)\b|\bcredit(?:ed|ing)\b", bool({"refund", "credit_note"} & acted)),
        (r"secure link", sent),
        (r"retried the payment", "retry" in acted),
        (r"declined again", "retry" in failed),
        (r"retry(?:ing)? the (?:open )?payment", "retry" in acted or "retry" in failed),
        (r"switch\w* your subscription to the newer card", "default_pm" in acted),
        (r"updat\w* your seat count", "quantity" in acted),
        (r"stays active|next renew|renews on", renewing),
        (r"already set to end", ending),
        (r"bank has opened a dispute", any(d["status"] == "needs_response" for d in disputes)),
        (r"already returned", any(d["status"] == "lost" for d in disputes)),
        (r"taking care of|sorting out", False),
    ]
    broken = []
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
        for pattern, true in rules:
            if re.search(pattern, sentence, re.I) and not true:
                broken.append(f"{pattern!r}: {sentence.strip()}")
    return broken


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("bucket", BUCKETS)
def test_no_sentence_promises_what_the_case_does_not_contain(bucket: str, state: str) -> None:
    rec = record(bucket, state)
    text = render_followup(rec)
    assert promises_kept(rec, text) == [], text
    visible = [a for a in rec["plan"] if a["customer_visible"]]
    assert text.startswith("DRAFT (dry run)") == (state == "dry_run" and bucket != "unclear" and bool(visible))
    rec["followup"] = text
    assert "## FOLLOW-UP" in render_handoff(rec)


def test_the_checker_catches_a_broken_promise() -> None:
    rec = record("missing_self_serve", "nothing_planned")
    assert promises_kept(rec, "Hi. I'm taking care of the change for you now.")
    assert promises_kept(record("failed_payment", "unattended"), "Use the secure link we're sending.")
    assert promises_kept(record("product_failure", "open_dispute"), "Your subscription stays active.")


def test_specific_truths() -> None:
    ending = render_followup(record("missing_self_serve", "already_ending"))
    assert "already set to end on" in ending and "taking care" not in ending
    unattended = record("failed_payment", "unattended")
    unattended["plan"] = [a for a in unattended["plan"] if a["kind"] == "portal"]
    unattended["executed"] = [e for e in unattended["executed"] if e["action_id"].startswith("portal:")]
    lost = render_followup(unattended)
    assert "secure link" not in lost and "billing settings" in lost
    switched = render_followup(record("failed_payment", "executed"))
    assert "switched your subscription to the newer card" in switched and "update your card" not in switched
    fraud = render_followup(record("product_failure", "open_dispute"))
    assert "stays active" not in fraud and "bank has opened a dispute" in fraud
    returned = render_followup(record("product_failure", "lost_dispute"))
    assert "already returned $20.00 USD" in returned and "stays active" not in returned


def test_handoff_plan_lines_say_why_and_what_each_step_needs() -> None:
    rec = record("product_failure", "dry_run")
    rec["plan"][1]["requires"] = ["cancel:sub_A:now"]
    rec["plan"][1]["why"] = "the unused part of the year"
    rec["followup"] = render_followup(rec)
    text = render_handoff(rec)
    assert "Why: the unused part of the year." in text and "Only with `cancel:sub_A:now`." in text
