"""Renewals the customer did not want, and their money back (pure).

Two cases: a renewal charged after the customer asked to cancel (the
``charged_after_cancel_request`` anomaly, any bucket but unclear, failed payment and team
seats), and "it renewed without a reminder, I want my money back".

A customer who could not cancel before the renewal (the missing self-serve bucket) and asks
for the money back is offered, beside the safe cancel at period end, the renewal itself
back: cancel now with the whole renewal or only its unused time refunded (a credit note on
an annual invoice, a refund of a monthly charge). Only within :data:`RENEWAL_REFUND_DAYS`
of the renewal; beyond it the notes say so and the analyst may still name an amount
(``refund:ch_X:AMOUNT``).
"""

from __future__ import annotations

from typing import Any

from . import catalogue as cat
from .model import Action
from ..analysis.terms import LIVE_STATUSES, ContractShape, RefundOption
from ..analysis.contract import balance_part

from ..money import Money
from ..reading.objects import invoice_charge, invoice_refundable, subscription_invoices
from ..reading.snapshot import CaseSnapshot, from_ts

__all__ = ["RENEWAL_REFUND_DAYS", "renewal_refund", "renewal_after_cancel_request"]

#: Days after a renewal within which its refund is planned on request (a common SaaS policy).
#: Applies to "it renewed, I want it back" (:func:`renewal_refund`); a renewal charged after
#: the customer asked to cancel is offered back whenever it happened.
RENEWAL_REFUND_DAYS = 14

Planned = tuple[Action, str, tuple[str, ...]]  # the action, why it is planned, what it requires


def _paid_at(inv: dict[str, Any]) -> int:
    return int((inv.get("status_transitions") or {}).get("paid_at") or inv.get("created") or 0)


def _ago(days: int) -> str:
    return "today" if days <= 0 else f"{days} day{'' if days == 1 else 's'} ago"


def renewal_refund(snapshot: CaseSnapshot, shape: ContractShape,
                   options: list[RefundOption]) -> tuple[list[Planned], list[str]]:
    """The actions (with their reasons and requirements) and notes for refunding ``shape``'s
    latest paid renewal; none when it has no renewal or the renewal is past the window."""
    sub = shape.subscription_id
    renewals = [i for i in subscription_invoices(snapshot, sub)
                if i.get("billing_reason") == "subscription_cycle" and i.get("status") == "paid"]
    if not renewals:
        return [], [f"The complaint asks for money back, but {sub} has no paid renewal: nothing is refunded "
                    "unless an amount is named (refund:ch_X:AMOUNT)."]
    inv = max(renewals, key=_paid_at)
    paid = from_ts(_paid_at(inv))
    days = (snapshot.now - paid).days if paid else 0
    charge = invoice_charge(snapshot, inv)
    full = invoice_refundable(inv, charge)
    when = f"{paid:%-d %b %Y}" if paid else "an unknown date"
    if days > RENEWAL_REFUND_DAYS or full <= 0:
        why = (f"{_ago(days)}, past the {RENEWAL_REFUND_DAYS}-day renewal refund window" if full > 0
               else "nothing of it remains refundable")
        return [], [f"{sub} renewed on {when} ({why}): no refund is planned; name an amount "
                    "(refund:ch_X:AMOUNT) to make an exception."]
    money, currency = Money(full, str(inv.get("currency"))), str(inv.get("currency"))
    cancel = cat.cancel_now(sub, "the customer did not want the renewal", "unused")
    planned: list[Planned] = [(cancel, "the renewal is refunded only if the subscription ends now", ())]
    why = "renewal the customer did not want"
    chg = str(charge["id"]) if charge else None
    unused_option = next((o for o in options if o.kind == "credit_note_unused" and o.subscription_id == sub), None)
    unused = unused_option.part_on(str(inv.get("id"))) if unused_option else None  # its part on the renewal
    if shape.is_annual or charge is None:
        planned.append((cat.credit_note(str(inv["id"]), money, "order_change", why, chg),
                        "the whole renewal back: the customer asked for the money back days after it", (cancel.id,)))
        if unused is not None and unused.amount not in (0, full):
            planned.append((cat.credit_note(str(inv["id"]), unused, "order_change", why + " (unused time)",
                                            chg, balance_part(unused_option, str(inv["id"]))),
                            "the alternative: only the unused time of the renewal", (cancel.id,)))
    else:
        planned.append((cat.refund(chg or "", money, "requested_by_customer", why),
                        "the whole renewal back: the customer asked for the money back days after it", (cancel.id,)))
    note = (f"{sub} renewed on {when} ({_ago(days)}, within the {RENEWAL_REFUND_DAYS}-day renewal refund "
            f"window, {Money(full, currency)} paid): approve cancel:{sub}:now with one of the refunds below to give "
            "the renewal back; without them what was paid is kept.")
    return planned, [note]


def renewal_after_cancel_request(snapshot: CaseSnapshot, shapes: list[ContractShape], options: list[RefundOption],
                                 subscriptions: list[str], invoices: list[str]) -> tuple[list[Planned], list[str]]:
    """The whole renewal back (or only its unused time) for each annual subscription charged
    after its cancel request, needing the cancel while it is live; a note for the others."""
    planned: list[Planned] = []
    notes: list[str] = []
    for sub_id in dict.fromkeys(subscriptions):
        shape = next((s for s in shapes if s.subscription_id == sub_id), None)
        mine = [i for i in subscription_invoices(snapshot, sub_id) if i.get("status") == "paid"]
        inv = next((i for i in mine if i["id"] in invoices), mine[-1] if mine else None)
        charge = invoice_charge(snapshot, inv) if inv else None
        if shape is not None and inv is not None and not shape.is_annual and charge is not None \
                and invoice_refundable(inv, charge) > 0:
            # a monthly renewal charged after the cancel request: its charge back, on approval
            live = shape.status in LIVE_STATUSES
            cancel = cat.cancel_now(sub_id, "the customer asked to cancel before the renewal", "other")
            if live:
                planned.append((cancel, "the customer asked to cancel; the money back pays for ending it now", ()))
            planned.append((cat.refund(str(charge["id"]), Money(invoice_refundable(inv, charge), str(inv["currency"])),
                                       "requested_by_customer", "renewal charged after the customer asked to cancel"),
                            "the renewal back: the customer asked to leave before it", (cancel.id,) if live else ()))
            continue
        if shape is None or inv is None or not shape.is_annual:
            notes.append(f"{sub_id} was charged after a cancel request, and nothing of that charge is refundable "
                         "here; name an amount (refund:ch_X:AMOUNT) on a charge the plan refunds to make an "
                         "exception.")
            continue
        full = invoice_refundable(inv, charge)
        why = "renewal charged after the customer asked to cancel"
        chg = str(charge["id"]) if charge else None
        live = shape.status in LIVE_STATUSES
        needs = (f"cancel:{sub_id}:now",) if live else ()
        planned.append((cat.credit_note(str(inv["id"]), Money(full, str(inv["currency"])), "order_change", why, chg),
                        "the whole renewal back: the customer asked to leave before it", needs))
        unused_option = next((o for o in options if o.kind == "credit_note_unused" and o.subscription_id == sub_id),
                             None)
        unused = unused_option.part_on(str(inv["id"])) if unused_option else None  # its part on this invoice
        if unused is not None and unused.amount != full:
            planned.append((cat.credit_note(str(inv["id"]), unused, "order_change", why + " (unused time)",
                                            chg, balance_part(unused_option, str(inv["id"]))),
                            "the alternative: only the unused time of the renewal", needs))
            notes.append(f"Approve one credit note on {inv['id']}: the full renewal "
                         f"{Money(full, str(inv['currency']))} or the unused time {unused} "
                         "(see the contract shape).")
        if live:
            planned.append((cat.cancel_now(sub_id, "the customer asked to cancel before the renewal", "other"),
                            "the customer asked to cancel; the money back pays for ending it now", ()))
    return planned, notes
