"""The casebook audit against Stripe: a real double write and a miscount are flagged; a
correct ``already_done`` (the second analyst found the first one's refund) is not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from billing_nb.actions.ledger import Ledger
from billing_nb.records import casebook as cb

from safety_helpers import Faulty, faulty_world, monthly_customer

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def fw() -> Iterator[Faulty]:
    with faulty_world() as f:
        yield f


def _record(cases: Path, case_id: str, action: str, status: str, obj: str | None, amount: int) -> None:
    folder = cases / "2026-12-01" / case_id
    folder.mkdir(parents=True)
    counted = amount if status in ("succeeded", "recovered") else 0
    rec: dict[str, Any] = {
        "case_id": case_id, "status": "done", "created_at": "2026-12-01T00:00:00+00:00",
        "plan": [{"id": action, "kind": "refund", "amount": {"value": amount, "currency": "usd"}}],
        "executed": [{"action_id": action, "idempotency_key": "bnb-effect", "stripe_object": obj,
                      "request_id": "req_1", "status": status, "error": None}],
        "revenue_impact": {"refunded": {"value": counted, "currency": "usd"},
                           "credited": {"value": 0, "currency": "usd"}}}
    (folder / "case.json").write_text(json.dumps(rec))
    led = Ledger(cases / "ledger.sqlite")
    led.begin(case_id, action, "bnb-effect")
    led.finish(case_id, action, "bnb-effect", status=status, stripe_object=obj, request_id="req_1")


def _refund(fw: Faulty, charge: str, action: str, case_id: str, amount: int = 500) -> str:
    return fw.world.c.v1.refunds.create({"charge": charge, "amount": amount,
                                         "metadata": {"billing_nb_action": action, "billing_nb_case": case_id}}).id


def test_correct_already_done_is_not_flagged(fw: Faulty, tmp_path: Path) -> None:
    _, charge = monthly_customer(fw.world)
    action = f"refund:{charge}:500"
    re = _refund(fw, charge, action, "alice")
    _record(tmp_path, "alice", action, "succeeded", re, 500)
    _record(tmp_path, "bob", action, "already_done", re, 500)
    found = cb.audit(cb.open_casebook(tmp_path), client=fw.world.c)
    assert found.ok, found.checks.to_string()
    assert len(found.checks) == 8  # the Stripe check ran


def test_a_real_double_write_is_flagged(fw: Faulty, tmp_path: Path) -> None:
    _, charge = monthly_customer(fw.world)
    action = f"refund:{charge}:500"
    first = _refund(fw, charge, action, "alice")
    _refund(fw, charge, action, "bob")  # what per-case keys used to do
    _record(tmp_path, "alice", action, "succeeded", first, 500)
    found = cb.audit(cb.open_casebook(tmp_path), client=fw.world.c)
    assert not found.ok
    problems = " | ".join(found.stripe["problem"]) if found.stripe is not None else ""
    assert "2 objects in Stripe for one effect (a double write)" in problems
    assert "Stripe holds 2, records count 1" in problems


def test_a_refund_counted_by_two_records_is_flagged(fw: Faulty, tmp_path: Path) -> None:
    _, charge = monthly_customer(fw.world)
    action = f"refund:{charge}:500"
    re = _refund(fw, charge, action, "alice")
    _record(tmp_path, "alice", action, "succeeded", re, 500)
    _record(tmp_path, "bob", action, "succeeded", re, 500)  # both claim they executed it ($60 for $30)
    found = cb.audit(cb.open_casebook(tmp_path), client=fw.world.c)
    assert list(found.double["cases"]) == ["alice, bob"]
    assert found.stripe is not None and "Stripe holds 1, records count 2" in " ".join(found.stripe["problem"])


def test_a_refund_no_record_counts_is_flagged(fw: Faulty, tmp_path: Path) -> None:
    _, charge = monthly_customer(fw.world)
    action = f"refund:{charge}:500"
    re = _refund(fw, charge, action, "alice")
    _record(tmp_path, "alice", action, "already_done", re, 500)  # but nobody counted the write itself
    found = cb.audit(cb.open_casebook(tmp_path), client=fw.world.c)
    assert found.stripe is not None and "Stripe holds 1, records count 0" in " ".join(found.stripe["problem"])
