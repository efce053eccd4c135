"""Issue 12's slips against a fresh sandbox, with customers built for the test through the SDK
(tests/scenarios.py): the approval runs and the first dry run through the real case notebook
(papermill, ``run_case`` / ``run_batch``), the other dry runs through the same ``Case`` facade the
notebook's cells call (in process, to keep the suite fast on 2 cores). Each test names its slip.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from billing_nb.records.batch import run_batch
from billing_nb.records.runner import CaseRequest, CaseResult, run_case

from scenarios import KEY, World, world
from scenarios import run as scenarios_run

pytestmark = [pytest.mark.notebook, pytest.mark.sandbox]

DAY = 86400
T0 = 1_780_000_000  # 2026-05-28


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


class Slips:
    """The customers, built once, and the records of their dry runs."""

    def __init__(self, w: World, cases: Path) -> None:
        self.w, self.cases = w, cases
        self.ids: dict[str, str] = {}
        self.objs: dict[str, Any] = {}
        self.dry: dict[str, CaseResult] = {}

    def build(self) -> None:
        w = self.w
        pro = w.product("Pro")
        monthly, annual = w.price(pro, 2000), w.price(pro, 24000, "year")
        seat = w.price(w.product("Team", per_seat="true"), 1500, per_seat="true")

        self.ids["sync"] = cus = w.customer("sync@example.com")
        w.subscribe(cus, monthly)
        self.ids["team_could_not"] = cus = w.customer("tickets@example.com")
        w.subscribe(cus, monthly)
        self.ids["outage"] = cus = w.customer("outage@example.com", company="Lanternfish")
        w.subscribe(cus, (seat, 5))
        # seats bought one by one, a named person in each subscription's metadata (an uncommon key)
        self.ids["named_seats"] = cus = w.customer("seats.one.by.one@example.com")
        for person in ("ana@acme.test", "ben@acme.test"):
            w.c.v1.subscriptions.create({"customer": cus, "items": [{"price": monthly}],
                                         "metadata": {"assigned_to": person}})
        # a charge whose dispute the customer won at the bank (the dispute is lost for us)
        self.ids["lost_dispute"] = cus = w.customer("lost.dispute@example.com", card="pm_card_createDispute")
        w.subscribe(cus, monthly)
        dispute = w.c.v1.disputes.list({"limit": 10}).data
        for d in dispute:
            charge = w.c.v1.charges.retrieve(str(d.charge))
            if charge.customer == cus:
                w.c.v1.disputes.close(d.id)
        # an open dispute, the customer says the product failed
        self.ids["open_dispute"] = cus = w.customer("fraud.dispute@example.com", card="pm_card_createDispute")
        w.subscribe(cus, monthly)
        # a customer holding a credit balance
        self.ids["credit"] = cus = w.customer("credit.balance@example.com")
        w.subscribe(cus, monthly)  # (a balance set before would pay the first invoice)
        w.c.v1.customers.update(cus, {"balance": -1500})
        # a team that went from 5 to 8 seats on purpose
        self.ids["grew"] = cus = w.customer("grew@example.com", company="Growing Co")
        sub = w.subscribe(cus, (seat, 5))
        item = sub["items"]["data"][0]["id"]
        w.c.v1.subscriptions.update(sub.id, {"items": [{"id": item, "quantity": 8}],
                                             "proration_behavior": "always_invoice"})
        # a failed renewal on the same card
        clock = w.clock(T0)
        self.ids["failed"] = cus = w.customer("failed.renewal@example.com", clock=clock)
        w.subscribe(cus, monthly)
        w.card(cus, "pm_card_chargeCustomerFail")
        w.advance(clock, T0 + 32 * DAY)
        self.objs["failed_invoice"] = next(i.id for i in w.c.v1.invoices.list({"customer": cus}).data
                                           if i.status == "open")
        # an annual plan whose product failed, three months in
        clock2 = w.clock(T0)
        self.ids["annual"] = cus = w.customer("annual.broken@example.com", clock=clock2)
        self.objs["annual_sub"] = w.subscribe(cus, annual).id
        w.advance(clock2, T0 + 90 * DAY)
        # a subscription already set to end at period end
        self.ids["ending"] = cus = w.customer("already.ending@example.com")
        ending = w.subscribe(cus, monthly)
        w.c.v1.subscriptions.update(ending.id, {"cancel_at_period_end": True})

    def dry_runs(self) -> None:
        complaints = {
            "sync": ("The sync feature has not worked since your last update", "product_failure"),
            "team_could_not": ("I opened three tickets and your team could not fix it. I want my money back.",
                               "product_failure"),
            "outage": ("None of our users can log in since this morning's outage", "product_failure"),
            "named_seats": ("Why are there two subscriptions on my account?", "team_seats"),
            "lost_dispute": ("The app never worked for me", "product_failure"),
            "open_dispute": ("The app never worked, so I asked my bank to reverse the charge", "product_failure"),
            "credit": ("Please refund my last payment", "unclear"),
            "grew": ("We added three seats for new hires, can you explain the charge?", "team_seats"),
            "failed": ("My card was declined", "failed_payment"),
            "annual": ("The reporting module has been broken since we bought the annual plan", "product_failure"),
            "ending": ("I can't find how to cancel my subscription", "missing_self_serve"),
        }
        # through papermill: the slips whose record the tests below then act on; the rest through the
        # same Case facade the notebook's cells call, in this process (the machine has 2 cores)
        names = ["sync"]
        results = run_batch([CaseRequest(lookup=self.ids[n], complaint=complaints[n][0], bucket=complaints[n][1])
                             for n in names], cases_dir=self.cases)
        self.dry = dict(zip(names, results, strict=True))
        for name, (complaint, bucket) in complaints.items():
            if name not in self.dry:
                _, record = scenarios_run(self.ids[name], self.cases / "facade", bucket=bucket, complaint=complaint)
                self.dry[name] = CaseResult(record["case_id"], record["status"], None, 0, None, record)


@pytest.fixture(scope="module")
def slips(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slips]:
    cases = tmp_path_factory.mktemp("cases")
    with world() as w, pytest.MonkeyPatch.context() as mp:
        mp.setenv("STRIPE_API_KEY", KEY)
        mp.setenv("STRIPE_API_BASE", w.url)
        mp.setenv("BILLING_NB_CASES_DIR", str(cases))
        mp.delenv("BILLING_NB_LEDGER", raising=False)
        s = Slips(w, cases)
        s.build()
        s.dry_runs()
        yield s


def rec(slips: Slips, name: str) -> dict[str, Any]:
    result = slips.dry[name]
    assert result.status == "done", (name, result.error)
    return result.record


# --- paraphrases -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sync", "team_could_not", "outage"])
def test_paraphrased_product_failures_are_suggested_as_such(slips: Slips, name: str) -> None:
    r = rec(slips, name)
    assert r["classification"]["suggested"] == "product_failure", r["classification"]


# --- the billing state, read widely ------------------------------------------------------------
def test_seats_bought_one_by_one_with_named_users_are_team_seats(slips: Slips) -> None:
    r = rec(slips, "named_seats")
    assert "duplicate_active_subscription" in [a["kind"] for a in r["billing_state"]["anomalies"]]
    assert r["classification"]["suggested"] == "team_seats"
    assert any("assigned_to" in e for e in r["classification"]["evidence"])
    assert not [a for a in r["plan"] if a["kind"] in ("cancel", "refund")]


def test_a_lost_dispute_is_never_no_disputed_payments(slips: Slips) -> None:
    r = rec(slips, "lost_dispute")
    evidence = " ".join(r["classification"]["evidence"])
    assert "no failed, duplicate or disputed payments" not in evidence and "is lost" in evidence
    assert [d["status"] for d in r["billing_state"]["disputes"]] == ["lost"]
    assert not [a for a in r["plan"] if a["moves_money"]]
    assert "stays active" not in r["followup"] and "already returned $20.00 USD" in r["followup"]


def test_a_credit_balance_is_weighed(slips: Slips) -> None:
    r = rec(slips, "credit")
    assert any("credit balance of $15.00 USD" in e for e in r["classification"]["evidence"])


# --- plans ---------------------------------------------------------------------------------------
def test_a_deliberate_seat_increase_is_not_offered_a_reduction(slips: Slips) -> None:
    r = rec(slips, "grew")
    assert not [a for a in r["plan"] if a["kind"] == "quantity"], r["plan"]
    assert any("deliberate increase" in n for n in r["plan_notes"])
    assert all(a["why"] for a in r["plan"])


def test_a_retry_alone_is_refused_before_any_write(slips: Slips) -> None:
    r = rec(slips, "failed")
    retry = next(a for a in r["plan"] if a["kind"] == "retry")
    assert retry["requires"] and all(x.startswith(("portal:", "default_pm:")) for x in retry["requires"])
    charges = len(slips.w.charges(slips.ids["failed"]))
    result = run_case(CaseRequest(lookup=slips.ids["failed"], bucket="failed_payment", approve=(retry["id"],)),
                      cases_dir=slips.cases)
    assert result.status == "failed" and "requires portal:" in (result.error or ""), result.error
    assert len(slips.w.charges(slips.ids["failed"])) == charges


def test_the_unused_time_refund_alone_is_refused(slips: Slips) -> None:
    r = rec(slips, "annual")
    note = next(a for a in r["plan"] if a["kind"] == "credit_note")
    assert note["requires"] == [f"cancel:{slips.objs['annual_sub']}:now"]
    result = run_case(CaseRequest(lookup=slips.ids["annual"], bucket="product_failure", approve=(note["id"],)),
                      cases_dir=slips.cases)
    assert result.status == "failed" and f"requires cancel:{slips.objs['annual_sub']}:now" in (result.error or "")
    assert slips.w.c.v1.credit_notes.list({"customer": slips.ids["annual"]}).data == []
    assert slips.w.c.v1.subscriptions.retrieve(slips.objs["annual_sub"]).status == "active"


# --- follow-ups ----------------------------------------------------------------------------------
def test_an_already_ending_subscription_is_said_to_end(slips: Slips) -> None:
    r = rec(slips, "ending")
    assert "already set to end on" in r["followup"]
    assert "taking care of the change" not in r["followup"]


def test_an_unattended_run_does_not_speak_of_a_link_it_threw_away(slips: Slips) -> None:
    result = run_case(CaseRequest(lookup=slips.ids["failed"], bucket="failed_payment",
                                  approve=(f"portal:{slips.ids['failed']}:payment_method_update",)),
                      cases_dir=slips.cases)
    assert result.status == "done", result.error
    r = result.record
    assert [e["status"] for e in r["executed"]] == ["succeeded"] and r["links_sent"] == []
    assert "secure link" not in r["followup"] and "billing settings" in r["followup"]


def test_a_dispute_follow_up_never_says_the_subscription_stays_active(slips: Slips) -> None:
    r = rec(slips, "open_dispute")
    assert r["classification"]["suggested"] == "product_failure"
    assert "stays active" not in r["followup"] and "bank has opened a dispute" in r["followup"]
    assert not [a for a in r["plan"] if a["moves_money"]]


def test_every_dry_run_follow_up_is_marked_a_draft_when_it_proposes_something(slips: Slips) -> None:
    for name, result in slips.dry.items():
        r = result.record
        visible = [a for a in r["plan"] if a["customer_visible"] and a["kind"] != "document"]
        if visible and r["classification"]["bucket"] != "unclear":
            assert r["followup"].startswith("DRAFT (dry run)"), name


# --- product issue -------------------------------------------------------------------------------
def test_a_product_failure_logs_a_product_issue(slips: Slips) -> None:
    r = rec(slips, "sync")
    bug = next(g for g in r["product_gaps"] if g["kind"] == "product_bug")
    assert bug["title"] == "Product bug: the sync feature" and bug["area"] == "product engineering"
    assert "since: since your last update" in bug["evidence"]
    assert any(re.match(r"\d+ product-failure case\(s\) this month", e) for e in bug["evidence"])
    gap = r["handoff"].split("## PRODUCT GAP")[1]
    assert "none identified" not in gap.lower() and "Product bug: the sync feature" in gap
