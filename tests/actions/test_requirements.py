"""Plans with dependencies: an action that needs another is refused alone, before any write."""

from __future__ import annotations

import pytest
from test_actions_plan import decision, failed_case, make_plan
from test_actions_snapshots import DAY, T0, annual_case

from billing_nb.actions.executor import validate
from billing_nb.analysis.classify import Bucket
from billing_nb.exceptions import ActionRefusedError


def test_unused_time_credit_note_requires_the_cancel_it_pays_for() -> None:
    now = T0 + 92 * DAY
    b, sub, inv = annual_case(now)
    snap = b.snapshot(now)
    p = make_plan(snap, Bucket.PRODUCT_FAILURE)
    note = next(a for a in p.actions if a.kind.value == "credit_note")
    assert note.requires == ("cancel:sub_annual:now",)
    with pytest.raises(ActionRefusedError, match="requires cancel:sub_annual:now"):
        validate(p, [note.id], decision(Bucket.PRODUCT_FAILURE), snap)
    assert [a.id for a in validate(p, [note.id, "cancel:sub_annual:now"], decision(Bucket.PRODUCT_FAILURE), snap)] \
        == ["cancel:sub_annual:now", note.id]
    # done in an earlier run counts as approved
    assert validate(p, [note.id], decision(Bucket.PRODUCT_FAILURE), snap, done={"cancel:sub_annual:now"})


def test_retry_requires_a_changed_card_or_a_portal_session() -> None:
    b, inv = failed_case(newer_card=True)
    snap = b.snapshot(T0 + 5 * DAY)
    p = make_plan(snap, Bucket.FAILED_PAYMENT, ("failed_renewal", ("sub_m", inv["id"])))
    retry = p.get(f"retry:{inv['id']}")
    assert set(retry.requires) == {"default_pm:sub_m:pm_new", "portal:cus_A:payment_method_update"}
    with pytest.raises(ActionRefusedError, match=f"retry:{inv['id']} requires default_pm:sub_m:pm_new"):
        validate(p, [retry.id], decision(Bucket.FAILED_PAYMENT), snap)
    assert validate(p, [retry.id, "default_pm:sub_m:pm_new"], decision(Bucket.FAILED_PAYMENT), snap)
    b2, inv2 = failed_case(newer_card=False)
    snap2 = b2.snapshot(T0 + 5 * DAY)
    p2 = make_plan(snap2, Bucket.FAILED_PAYMENT)
    assert p2.get(f"retry:{inv2['id']}").requires == ("portal:cus_A:payment_method_update",)
    with pytest.raises(ActionRefusedError, match="requires portal:cus_A:payment_method_update"):
        validate(p2, [f"retry:{inv2['id']}"], decision(Bucket.FAILED_PAYMENT), snap2)


@pytest.mark.parametrize("bucket", [Bucket.PRODUCT_FAILURE, Bucket.MISSING_SELF_SERVE, Bucket.UNCLEAR,
                                    Bucket.DUPLICATE_SUBSCRIPTION])
def test_every_plan_step_says_why_it_is_there(bucket: Bucket) -> None:
    now = T0 + 92 * DAY
    b, _, _ = annual_case(now)
    b.portal(cancel=True)
    p = make_plan(b.snapshot(now), bucket)
    assert p.actions and all(a.why for a in p.actions), [(a.id, a.why) for a in p.actions]
    assert all(a.as_case_json()["why"] == a.why for a in p.actions)
