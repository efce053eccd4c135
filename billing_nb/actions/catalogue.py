"""The action catalogue: one constructor per kind, with its stable id and preview.

Ids: ``portal:cus_X:FLOW`` (payment_method_update | subscription_cancel |
subscription_update | home),
``cancel:sub_X:at_period_end``, ``cancel:sub_X:now``, ``refund:ch_X:AMOUNT``,
``credit_note:in_X:AMOUNT`` (AMOUNT: the credit note's total, card refund plus any balance credit), ``quantity:sub_X:N``, ``retry:in_X``,
``default_pm:sub_X:pm_Y``, ``void:in_X``, ``document:OBJ``; on a subscription a schedule manages
(:mod:`.schedules`), ``schedule:sub_sched_X:cancel_now``, ``schedule:sub_sched_X:cancel_at_period_end``
and ``schedule:sub_sched_X:seats:N``. Amounts are integer minor units of the charge's currency.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .model import Action, ActionKind
from ..money import Money
from ..reading.prices import PriceTerms

__all__ = ["PORTAL_FLOWS", "portal", "cancel_at_period_end", "cancel_now", "refund", "credit_note", "quantity", "retry",
           "default_pm", "void", "document", "credit_parts", "schedule_cancel_now", "schedule_cancel_at_period_end", "schedule_seats",
           "REFUND_REASONS", "CREDIT_NOTE_REASONS"]

#: Stripe's refund reasons (Refund.reason) and credit note reasons (CreditNote.reason).
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
CREDIT_NOTE_REASONS = ("duplicate", "fraudulent", "order_change", "product_unsatisfactory")


def _tail(reversible: bool, visible: bool) -> str:
    return (f" {'Reversible' if reversible else 'Irreversible'};"
            f" {'the customer sees it' if visible else 'internal only'}.")


def _again(action_id: str, what: str) -> str:
    return (f" Done once per effect: a second, deliberate identical {what} of this amount needs the "
            f"approval {action_id}#2.")


#: What each portal flow opens on: Stripe's ``flow_data.type`` values, and ``home`` for no
#: flow (the portal home page: invoices, receipts, billing details, the subscription).
PORTAL_FLOWS = {"payment_method_update": "straight to updating their payment method (flow_data.type="
                                         "payment_method_update)",
                "subscription_cancel": "straight to cancelling {sub} (flow_data.type=subscription_cancel)",
                "subscription_update": "straight to changing the plan or seats of {sub} (flow_data.type="
                                       "subscription_update)",
                "home": "on the portal home page (no flow: invoices, receipts, billing details and the "
                        "subscription are listed there)"}


def portal(customer: str, flow: str, subscription: str | None = None, configuration: str | None = None,
           because: str = "") -> Action:
    """A portal session opening on ``flow``; ``because`` (why this flow) is said in the preview."""
    what = PORTAL_FLOWS[flow].format(sub=subscription)
    return Action(
        id=f"portal:{customer}:{flow}", kind=ActionKind.PORTAL, target=customer, step=1,
        preview=f"Create a billing portal session for {customer} that opens {what}"
                + (f", because {because}" if because else "") + "; the link is handed to the "
                "customer (a bearer link: it is never saved). Nothing changes until they act." + _tail(True, True),
        reversible=True, customer_visible=True, params={"customer": customer, "flow": flow,
                                                         "subscription": subscription, "configuration": configuration})


def cancel_at_period_end(sub: str, period_end: int | None, feedback: str | None = None) -> Action:
    until = f" on {datetime.fromtimestamp(period_end, UTC):%d %b %Y %H:%M} UTC" if period_end else ""
    return Action(
        id=f"cancel:{sub}:at_period_end", kind=ActionKind.CANCEL, target=sub, step=2,
        preview=f"Set {sub} to cancel at the end of the current period{until}; no refund, access kept until "
                "then; undo by clearing cancel_at_period_end." + _tail(True, True),
        reversible=True, customer_visible=True, params={"mode": "at_period_end", "feedback": feedback},
        exclusive=f"cancel:{sub}")


def cancel_now(sub: str, why: str, feedback: str | None = None) -> Action:
    return Action(
        id=f"cancel:{sub}:now", kind=ActionKind.CANCEL, target=sub, step=2,
        preview=f"Cancel {sub} immediately ({why}), without Stripe's proration credit (prorate=false, "
                "invoice_now=false); its pending proration items, if any, are deleted (the unused-time refund carries "
                "them): any money back is a separate, explicit action." + _tail(False, True),
        reversible=False, customer_visible=True, params={"mode": "now", "feedback": feedback},
        exclusive=f"cancel:{sub}")


def refund(charge: str, amount: Money, reason: str, why: str) -> Action:
    amount = amount.stripe_rounded()  # three-decimal currencies: a multiple of 10, as Stripe requires
    if reason not in REFUND_REASONS:
        raise ValueError(f"refund reason must be one of {REFUND_REASONS}, got {reason!r}")
    return Action(
        id=f"refund:{charge}:{amount.amount}", kind=ActionKind.REFUND, target=charge, step=3,
        preview=f"Refund {amount} of charge {charge} to the original payment method (reason {reason}: {why})."
                + _tail(False, True) + _again(f"refund:{charge}:{amount.amount}", "refund of this charge"),
        amount=amount, reversible=False, customer_visible=True, moves_money=True,
        params={"reason": reason}, exclusive=f"money:{charge}")


def credit_note(invoice: str, amount: Money, reason: str, why: str, charge: str | None,
                to_balance: Money | None = None, *, out_of_band: bool = False) -> Action:
    """A credit note on a paid invoice giving ``amount`` back to the card that paid it
    (``refund_amount``) and ``to_balance`` back to the customer's credit balance
    (``credit_amount``: the part of the invoice the balance paid, which no card refund can return).
    One credit note: its amount is their sum (Stripe: on a paid invoice the refund, credit and
    out-of-band amounts must add up to the credit note's total). The id and ``Action.amount`` name
    that total; ``params["credit_amount"]`` the balance's part, the rest is refunded.

    ``out_of_band``: the invoice was paid outside Stripe (a bank transfer marked paid out of band,
    no charge): ``amount`` goes back outside Stripe, recorded as the note's ``out_of_band_amount``
    ("Outside of Stripe credit: record the amount that is or will be credited outside of Stripe",
    API reference, Create a credit note), and the team returns it by bank transfer or as agreed;
    nothing is refunded (``params["out_of_band_amount"]``)."""
    amount = amount.stripe_rounded()  # three-decimal currencies: a multiple of 10, as Stripe requires
    if reason not in CREDIT_NOTE_REASONS:
        raise ValueError(f"credit note reason must be one of {CREDIT_NOTE_REASONS}, got {reason!r}")
    back = to_balance.amount if to_balance is not None and to_balance.amount > 0 else 0
    total = Money(amount.amount + back, amount.currency).stripe_rounded()
    back = total.amount - amount.amount
    action_id = f"credit_note:{invoice}:{total.amount}"
    outside = amount.amount if out_of_band else 0
    if outside and back:
        what = (f"Issue a credit note of {total} on invoice {invoice}, paid outside Stripe: out_of_band_amount "
                f"{amount} given back outside Stripe (no charge exists to refund: the team returns it by bank "
                f"transfer or as agreed) and credit_amount {Money(back, amount.currency)} credited back to the "
                f"customer's credit balance (reason {reason}: {why}).")
    elif outside:
        what = (f"Issue a credit note on invoice {invoice}, paid outside Stripe, with out_of_band_amount {amount}: "
                "no charge exists to refund, so nothing is refunded by Stripe; the team returns the money "
                f"outside Stripe, by bank transfer or as agreed with the customer (reason {reason}: {why}).")
    elif back and not amount.amount:
        what = (f"Issue a credit note of {total} on paid invoice {invoice} with credit_amount {total} (no refund: the "
                f"customer's credit balance paid the invoice, no card was charged): credited {total} to the "
                f"customer's account balance; it pays the next invoices (reason {reason}: {why}).")
    elif back:
        what = (f"Issue a credit note of {total} on paid invoice {invoice}: refund_amount {amount} refunded to the "
                f"card that paid it and credit_amount {Money(back, amount.currency)} credited back to the customer's "
                f"credit balance, which paid that part of the invoice (reason {reason}: {why}).")
    else:
        what = (f"Issue a credit note on paid invoice {invoice} with refund_amount {amount} refunded to the "
                f"card that paid it (reason {reason}: {why}).")
    return Action(
        id=action_id, kind=ActionKind.CREDIT_NOTE, target=invoice, step=3,
        preview=what + _tail(False, True) + _again(action_id, "credit note on this invoice"),
        amount=total, reversible=False, customer_visible=True, moves_money=True,
        params={"reason": reason, "charge": charge, **({"credit_amount": back} if back else {}),
                **({"out_of_band_amount": outside} if outside else {})},
        exclusive=f"money:{charge or invoice}")


def credit_parts(action: Action) -> tuple[int, int]:
    """(refunded, credited to the balance) of a refund or credit note, minor units: a credit note's
    ``credit_amount`` goes to the customer's balance, the rest of it is money back to the customer (a
    refund to the card, or its ``out_of_band_amount`` returned outside Stripe)."""
    total = action.amount.amount if action.amount is not None else 0
    if action.kind is ActionKind.CREDIT_NOTE:
        back = min(total, int(action.params.get("credit_amount") or 0))
        return total - back, back
    return (total, 0) if action.kind is ActionKind.REFUND else (0, 0)


def quantity(sub: str, item: str, new: int, old: int, unit: Money | PriceTerms, *, copies: bool = False) -> Action:
    """A seat change, with Stripe's prorations; ``copies``: the extra copies of a product not
    sold per seat, bought by mistake, whose money goes back by a refund of their share of the
    charge, so Stripe makes no proration credit for them (it would pay the same time back twice).
    ``unit``: the price's model (a tiered price's seats do not cost the same each) or a per-unit amount."""
    if isinstance(unit, PriceTerms):
        delta = Money(unit.amount(new) - unit.amount(old), unit.currency)
    else:
        delta = unit.times(new - old)
    noun = ("cop" + ("y" if new == 1 else "ies")) if copies else f"seat{'' if new == 1 else 's'}"
    how = ("without prorations (proration_behavior=none: the extra copies' share of the charge is refunded "
           "separately)" if copies else "with Stripe's prorations on the next invoice")
    return Action(
        id=f"quantity:{sub}:{new}", kind=ActionKind.QUANTITY, target=sub, step=2,
        preview=f"Change {sub} item {item} from {old} to {new} {noun} ({delta} per period), "
                f"{how}; undo by setting the quantity back." + _tail(True, True),
        reversible=True, customer_visible=True, moves_money=True,
        params={"item": item, "quantity": new, "old": old, **({"proration": "none"} if copies else {})},
        exclusive=f"seats:{sub}")


def retry(invoice: str, amount: Money) -> Action:
    return Action(
        id=f"retry:{invoice}", kind=ActionKind.RETRY, target=invoice, step=2,
        preview=f"Retry payment of open invoice {invoice} ({amount}) with the subscription's default payment "
                "method." + _tail(False, True),
        amount=amount, reversible=False, customer_visible=True, moves_money=True)


def default_pm(sub: str, pm: str, label: str) -> Action:
    return Action(
        id=f"default_pm:{sub}:{pm}", kind=ActionKind.DEFAULT_PM, target=sub, step=2,
        preview=f"Make {label} ({pm}), the newer card on the customer, the default payment method of {sub}."
                + _tail(True, False),
        reversible=True, customer_visible=False, params={"payment_method": pm})


def void(invoice: str, amount: Money) -> Action:
    return Action(
        id=f"void:{invoice}", kind=ActionKind.VOID, target=invoice, step=2,
        preview=f"Void open invoice {invoice} ({amount} due) so it is never collected." + _tail(False, True),
        amount=amount, reversible=False, customer_visible=True)


def document(obj: str, reason: str) -> Action:
    return Action(
        id=f"document:{obj}", kind=ActionKind.DOCUMENT, target=obj, step=4,
        preview=f"Write metadata billing_nb_case / billing_nb_reason ({reason}) on {obj}." + _tail(True, False),
        reversible=True, customer_visible=False, params={"reason": reason})


def _day(ts: int) -> str:
    return f"{datetime.fromtimestamp(ts, UTC):%d %b %Y %H:%M} UTC"


def schedule_cancel_now(schedule: str, sub: str, seen: list[list[Any]], feedback: str | None = None) -> Action:
    """Cancel a schedule and, with it, the subscription it manages, now (no proration credit, no
    final invoice: money back is a separate action)."""
    return Action(
        id=f"schedule:{schedule}:cancel_now", kind=ActionKind.SCHEDULE, target=schedule, step=2,
        preview=f"Cancel subscription schedule {schedule} and with it {sub}, immediately (prorate=false, "
                "invoice_now=false): no phase of it bills again; any money back is a separate, explicit "
                "action." + _tail(False, True),
        reversible=False, customer_visible=True,
        params={"mode": "cancel_now", "subscription": sub, "seen": seen, "feedback": feedback},
        exclusive=f"cancel:{sub}")


def schedule_cancel_at_period_end(schedule: str, sub: str, period_end: int, phases: list[dict[str, Any]],
                                  seen: list[list[Any]], dropped: int) -> Action:
    """End a schedule, and its subscription, with the current period: phases to then,
    ``end_behavior=cancel``."""
    later = f"; its {dropped} later phase(s) are dropped" if dropped else ""
    return Action(
        id=f"schedule:{schedule}:cancel_at_period_end", kind=ActionKind.SCHEDULE, target=schedule, step=2,
        preview=f"Update subscription schedule {schedule} so that it ends with the current period of {sub} on "
                f"{_day(period_end)} and then cancels it (end_behavior=cancel){later}; no refund, access kept "
                "until then; undo by setting end_behavior back to release." + _tail(True, True),
        reversible=True, customer_visible=True,
        params={"mode": "cancel_at_period_end", "subscription": sub, "ends_at": period_end, "phases": phases,
                "seen": seen},
        exclusive=f"cancel:{sub}")


def schedule_seats(schedule: str, sub: str, item: str, price: str, new: int, old: int, unit: Money,
                   phases: list[dict[str, Any]], seen: list[list[Any]], kept: list[int], *,
                   copies: bool = False) -> Action:
    """A seat change made on the schedule's phases (the current one now, with prorations, and the
    later ones that carry today's count); ``kept``: later phases' starts whose other count stays."""
    delta = unit.times(new - old)
    noun = ("cop" + ("y" if new == 1 else "ies")) if copies else f"seat{'' if new == 1 else 's'}"
    keep = ("; the phase(s) from " + ", ".join(_day(k) for k in kept) + " keep their contracted count"
            if kept else "")
    return Action(
        id=f"schedule:{schedule}:seats:{new}", kind=ActionKind.SCHEDULE, target=schedule, step=2,
        preview=f"Update subscription schedule {schedule} of {sub}: {price} from {old} to {new} {noun} "
                f"({delta} per period) in the current phase, now, "
                + ("without prorations" if copies else "with Stripe's prorations on the next invoice")
                + f", and in the later phases that carry {old}{keep}; undo by setting the count back."
                + _tail(True, True),
        reversible=True, customer_visible=True, moves_money=True,
        params={"mode": "seats", "subscription": sub, "item": item, "price": price, "quantity": new, "old": old,
                "phases": phases, "seen": seen, **({"proration": "none"} if copies else {})},
        exclusive=f"seats:{sub}")
