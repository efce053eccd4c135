"""Subscription updates that move time: the trial's end, a scheduled cancellation, a pause.

Parameter checks and their effects for :func:`.subscriptions.update_subscription`; each
function names the Stripe doc page it follows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..engine import core as en
from ..engine.prorate import cancel_credits
from ..engine.schedule import trial_will_end
from ..errors import ApiError, invalid
from ..params import Params
from ..store import Obj
from .subscription_params import cancel_at_param

__all__ = ["pause_param", "move_trial", "schedule_cancel", "undone_unless_paid"]


def pause_param(p: Params, now: int) -> dict[str, Any] | None:
    """``pause_collection`` (API reference, Update a subscription): ``behavior`` is required, one of
    keep_as_draft, mark_uncollectible or void; ``resumes_at`` optional; ``""`` resumes collection."""
    pause = p.sub("pause_collection")
    if pause is None:
        return None
    pause.allow("behavior", "resumes_at")
    behavior = pause.enum("behavior", ("keep_as_draft", "mark_uncollectible", "void"))
    if behavior is None:
        raise invalid("Missing required param: pause_collection[behavior].", "pause_collection[behavior]",
                      "parameter_missing")
    resumes = pause.int("resumes_at")
    if resumes is not None and resumes <= now:
        raise invalid("Invalid timestamp: must be an integer Unix timestamp in the future.",
                      "pause_collection[resumes_at]")
    return {"behavior": behavior, "resumes_at": resumes}


def move_trial(st: Any, sub: Obj, p: Params, now: int, previous: dict[str, Any]) -> None:
    """``trial_end`` on a trialing subscription: ``now`` ends the trial (the first paid period
    starts and is invoiced); a timestamp moves the trial's end, and with it the billing cycle
    anchor (Billing docs, "Trial periods": "Changing the trial end date"; API reference, Update a
    subscription: trial_end "Can be at most two years from billing_cycle_anchor")."""
    raw = p.str("trial_end")
    if sub["status"] != "trialing":
        raise invalid("The sandbox only implements trial_end on trialing subscriptions.", "trial_end")
    previous.update(trial_end=sub["trial_end"], billing_cycle_anchor=sub["billing_cycle_anchor"])
    if raw == "now":
        for item in sub["items"]["data"]:
            item["current_period_end"] = now
        sub["trial_end"] = now
        trial_will_end(st, sub)
        en.renew(st, sub)
        # ending the trial through the API is an update that needs payment now (Billing docs,
        # "Pending updates": "The subscription requires payment for the first time, such as the
        # end of a trial period"), not a renewal left as a draft for an hour
        inv = st.maybe("invoice", sub.get("latest_invoice"))
        if inv is not None and inv["status"] == "draft" and inv.get("auto_advance"):
            en.collect(st, inv)
        return
    end = p.int("trial_end")
    assert end is not None
    if end <= now:
        raise invalid("Invalid timestamp: must be an integer Unix timestamp in the future.", "trial_end")
    if end > en.add_interval(int(sub["billing_cycle_anchor"]), "year", 2):
        raise invalid("Invalid timestamp: can be no more than two years from billing_cycle_anchor.", "trial_end")
    sub.update(trial_end=end, billing_cycle_anchor=end, _anchor=end)
    for item in sub["items"]["data"]:
        item["current_period_end"] = end


def schedule_cancel(st: Any, sub: Obj, p: Params, now: int, previous: dict[str, Any], behavior: str) -> None:
    """``cancel_at_period_end`` / ``cancel_at`` (API reference, Update a subscription): a
    ``cancel_at`` before the current period's end prorates the unused time when prorations
    are on (``proration_behavior``), invoicing it at once with ``always_invoice``."""
    previous["cancel_at_period_end"] = sub["cancel_at_period_end"]
    previous["cancel_at"] = sub["cancel_at"]
    if p.bool("cancel_at_period_end") and p.str("cancel_at"):
        raise invalid("You may only specify one of these parameters: cancel_at, cancel_at_period_end.", "cancel_at")
    if p.bool("cancel_at_period_end"):
        sub.update(cancel_at_period_end=True, cancel_at=en.period_of(sub)[1], canceled_at=now)
        sub["cancellation_details"]["reason"] = "cancellation_requested"
    elif p.str("cancel_at"):
        at = cancel_at_param(p, sub)
        assert at is not None
        if at < now:
            raise invalid("Invalid timestamp: must be an integer Unix timestamp in the future.", "cancel_at")
        sub.update(cancel_at_period_end=False, cancel_at=at, canceled_at=now)
        sub["cancellation_details"]["reason"] = "cancellation_requested"
        if at < en.period_of(sub)[1] and behavior != "none" and sub["status"] in ("active", "past_due"):
            cancel_credits(st, sub, at)
            if behavior == "always_invoice":
                inv = en.invoice_subscription(st, sub, "subscription_update", period_lines=False)
                en.collect(st, inv)
    else:
        sub.update(cancel_at_period_end=False, cancel_at=None, canceled_at=None)
        sub["cancellation_details"] = {"comment": None, "feedback": None, "reason": None}


def undone_unless_paid(st: Any, sid: str, update: Callable[[], Obj]) -> Obj:
    """``payment_behavior=error_if_incomplete`` (API reference, Update a subscription): when the
    update's invoice can't be paid, Stripe "does not update the subscription and returns an error
    instead" (402): every change the request made is undone. The declined charge goes with it, so
    the error names none (docs/SANDBOX_GAPS.md)."""
    mark = st.mark("invoice")
    st.begin()  # each object copied on first touch: the undo costs what the update touched
    try:
        out = update()
    except BaseException:
        st.rollback()
        raise
    unpaid = [i for i in st.since("invoice", mark) if i["status"] == "open"
              and (en.subscription_of(st, i) or {}).get("id") == sid]
    if not unpaid:
        st.commit()
        return out
    pi = st.maybe("payment_intent", unpaid[0].get("_pi")) or {}
    err = pi.get("last_payment_error") or {}
    st.rollback()
    if not err:
        raise invalid("This customer has no attached payment source or default payment method.",
                      code="resource_missing")
    raise ApiError(402, err["message"], type="card_error", code=err.get("code"), decline_code=err.get("decline_code"))
