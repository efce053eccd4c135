"""Every seeded demo customer: the real provider against the sandbox, then identify and
classify, checked against the story's expected bucket and anomalies, within the request
budget of issue 3 (at most 2 waves after the lookup, at most 15 requests in all)."""

from __future__ import annotations

from typing import Any

import pytest

from billing_nb.reading.waves import build_snapshot
from billing_nb.analysis.classify import Bucket, classify
from billing_nb.analysis.identify import identify
from billing_nb.reading.provider import StripeReader
from billing_nb.reading.snapshot import CaseSnapshot

STORIES = ("dup_personal", "dup_customer", "team", "failed_renewal", "stale_card", "incomplete_checkout", "annual_refund",
           "annual_upgrade", "cant_cancel", "product_broken", "disputed", "renewal_regret", "healthy_refund")


@pytest.fixture(scope="module")
def cases(demo: Any) -> dict[str, tuple[Any, CaseSnapshot]]:
    out = {}
    for person in demo.customers:
        snap = build_snapshot(StripeReader(demo.client), person.lookup)
        out[person.story] = (person, snap)
    return out


def test_every_story_is_seeded(cases: dict[str, Any]) -> None:
    assert set(STORIES) <= set(cases)


@pytest.mark.parametrize("story", STORIES)
def test_story_resolves_to_its_customer(cases: dict[str, Any], story: str) -> None:
    person, snap = cases[story]
    assert snap.primary_customer_id == person.customer_id
    assert set(snap.customer_ids[1:]) == set(person.other_customer_ids)


@pytest.mark.parametrize("story", STORIES)
def test_story_anomalies(cases: dict[str, Any], story: str) -> None:
    person, snap = cases[story]
    assert sorted(set(identify(snap).anomaly_kinds())) == sorted(person.expected_anomalies)


@pytest.mark.parametrize("story", STORIES)
def test_story_bucket(cases: dict[str, Any], story: str) -> None:
    person, snap = cases[story]
    result = classify(snap, identify(snap), person.complaint)
    assert result.suggested == Bucket(person.expected_bucket), (result.evidence, result.against)
    assert result.evidence


@pytest.mark.parametrize("story", STORIES)
def test_story_request_budget(cases: dict[str, Any], story: str) -> None:
    _, snap = cases[story]
    assert snap.waves <= 3  # the lookup's wave included (reading/waves.py)
    assert snap.request_count <= 14, snap.extra


@pytest.mark.parametrize(("story", "role"), [
    ("incomplete_checkout", "checkout_session"), ("incomplete_checkout", "payment_intent"),
    ("dup_personal", "duplicate_subscription"), ("annual_upgrade", "proration_invoice"), ("disputed", "charge"),
])
def test_every_id_kind_resolves_to_the_story_customer(demo: Any, story: str, role: str) -> None:
    person = demo.story(story)
    res = StripeReader(demo.client).resolve(person.objects[role])
    assert res.customer_ids[0] == person.customer_id


def test_dup_customer_by_either_customer_id_finds_both(demo: Any) -> None:
    person = demo.story("dup_customer")
    other = person.other_customer_ids[0]
    res = StripeReader(demo.client).resolve(other)
    assert res.kind == "customer" and res.customer_ids == (other, person.customer_id)


def test_case_now_is_the_test_clock_time(cases: dict[str, Any]) -> None:
    from billing_nb.demo.stories import DEMO_NOW

    for _, snap in cases.values():
        assert snap.now_ts == DEMO_NOW
        assert snap.of("test_clocks") and snap.of("customers")[0]["test_clock"] == snap.of("test_clocks")[0]["id"]
