"""find_done on a subscription cancelled now: found by its cancellation comment while its
metadata tag (written in the background after the cancel) has not landed yet, with the case the
comment names; a comment naming another action is not this effect."""

from __future__ import annotations

from billing_nb.actions.model import Action, ActionKind
from billing_nb.actions.writer import find_done


def _cancel(sub: str = "sub_1") -> Action:
    return Action(id=f"cancel:{sub}:now", kind=ActionKind.CANCEL, target=sub, step=2, preview="",
                  params={"mode": "now"})


def test_cancelled_subscription_found_by_its_comment_before_its_metadata() -> None:
    action = _cancel()
    fresh = {"id": "sub_1", "status": "canceled", "metadata": {},
             "cancellation_details": {"comment": f"billing-nb case 20261202-cus_1-ab12 action {action.id}"}}
    found = find_done(None, action, fresh)  # type: ignore[arg-type] - no Stripe call for a cancel
    assert found is not None and found.object_id == "sub_1" and found.case_id == "20261202-cus_1-ab12"
    tagged = {**fresh, "metadata": {"billing_nb_case": "other-case", "billing_nb_action": action.id}}
    assert find_done(None, action, tagged).case_id == "other-case"  # type: ignore[arg-type, union-attr]


def test_a_comment_of_another_action_or_an_active_subscription_is_not_the_effect() -> None:
    action = _cancel()
    other = {"id": "sub_1", "status": "canceled", "metadata": {},
             "cancellation_details": {"comment": "billing-nb case c1 action cancel:sub_1:period_end"}}
    assert find_done(None, action, other) is None  # type: ignore[arg-type]
    active = {"id": "sub_1", "status": "active", "metadata": {},
              "cancellation_details": {"comment": f"billing-nb case c1 action {action.id}"}}
    assert find_done(None, action, active) is None  # type: ignore[arg-type]
