"""An approval that names nothing says why when its shape shows it: a decimal or negative
amount, a target the plan does not refund, a kind the plan does not propose."""

from __future__ import annotations

import pytest

from billing_nb.actions import Plan
from billing_nb.actions import catalogue as cat
from billing_nb.actions.approvals import resolve_approvals
from billing_nb.exceptions import UnknownActionError
from billing_nb.money import Money


def plan() -> Plan:
    return Plan([cat.refund("ch_A", Money(3000, "usd"), "requested_by_customer", "test")])


@pytest.mark.parametrize(("approval", "why"), [
    ("refund:ch_A:30.00", "a whole positive number"),
    ("refund:ch_A:-100", "a whole positive number"),
    ("quantity:sub_A:2.5", "must be a seat count"),
    ("refund:ch_B:1000", "no refund on ch_B (only on ch_A)"),
    ("cancel:sub_A:now", "proposes no cancel at all"),
])
def test_the_refusal_names_the_reason(approval: str, why: str) -> None:
    with pytest.raises(UnknownActionError) as err:
        resolve_approvals(plan(), [approval])
    message = str(err.value)
    assert why in message and "\n" not in message
    assert "not in the plan" in message


def test_a_well_formed_named_amount_still_joins_the_plan() -> None:
    p = plan()
    [action] = resolve_approvals(p, ["refund:ch_A:1000"])
    assert action.amount == Money(1000, "usd")
