"""The planner: per-bucket rules, ordered reversible-first (pure).

Order: 1 restore self-serve (portal deep link), 2 fix the duplicate or broken state,
3 refund only the affected charge, 4 document the reason; inside a step reversible
actions come first. Every candidate passes the guards on the snapshot's objects; a
refused one is not planned and the plan's notes say why. A pending decision plans
nothing; ``unclear`` plans nothing that moves money; a disputed charge is never
refunded (the notes say to answer the dispute).
"""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction
from typing import Any

from . import catalogue as cat
from .guards import refusal
from .model import Action, ActionKind, Plan
from .renewals import renewal_after_cancel_request, renewal_refund
from .schedules import managing_schedule, through_schedules
from ..reading.taxes import line_tax
from ..reading.objects import charge_dispute, invoice_charge, line_is_proration, line_subscription_item, obj_id, \
    plan_name, refundable, subscription_invoices
from ..reading.rows import price_seat_hint
from ..analysis.classify import Bucket, Decision
from ..analysis.gaps import portal_in_use
from ..analysis.asks import PortalAsk, asked_share, asks_to_cancel, keeps_subscription, portal_ask, product_not_held, seats_used, \
    switched_to
from ..analysis.lexicon import normalise, read_text
from ..analysis.state import read_state
from ..analysis.contract import LIVE_STATUSES, ContractShape, RefundOption, balance_part, billed_from, refund_since, \
    unused_option
from ..analysis.terms import ItemShape
from ..analysis.charges import OneOffCharge, named_charges, one_off_charges
from ..analysis.credits import credits_of
from ..analysis.refunds import refund_notes
from ..analysis.identify import IdentitySummary
from ..money import Money
from ..reading.snapshot import CaseSnapshot, from_ts

__all__ = ["build_plan"]


class _Planner:
    def __init__(self, snapshot: CaseSnapshot, summary: IdentitySummary, shapes: list[ContractShape],
                 options: list[RefundOption], complaint: str = "") -> None:
        self.snap, self.summary, self.shapes, self.options = snapshot, summary, shapes, options
        self.complaint = complaint
        self.said = read_text(complaint).flags  # e.g. unused_seats, seat_increase, deliberate
        self.state = read_state(snapshot, summary)
        self.customer = snapshot.primary_customer_id
        self.live = [s for s in shapes if s.status in LIVE_STATUSES]
        self.actions: list[Action] = []
        self.notes: list[str] = []

    # --- lookups ----------------------------------------------------------------------
    def anomaly_objects(self, kind: str, prefix: str) -> list[str]:
        return [o for a in self.summary.anomalies if a.kind == kind for o in a.objects if o.startswith(prefix)]

    def portal_id(self) -> str | None:
        config = portal_in_use(self.snap)
        return str(config["id"]) if config and config.get("id") else None

    def portal_allows(self, feature: str) -> bool | None:
        config = portal_in_use(self.snap)
        if config is None:
            return None
        return bool(((config.get("features") or {}).get(feature) or {}).get("enabled"))

    def option(self, kind: str, sub: str) -> RefundOption | None:
        return next((o for o in self.options if o.kind == kind and o.subscription_id == sub), None)

    def add(self, action: Action, why: str, requires: tuple[str, ...] = ()) -> None:
        """Plan ``action`` with the reason it is in this case's plan and what it needs approved with it."""
        if all(a.id != action.id for a in self.actions):
            self.actions.append(replace(action, why=why, requires=requires))

    def together(self, ids: list[str]) -> None:
        """The planned actions ``ids`` (the parts of one split refund) need each other approved:
        a part left behind is lost once the cancel they require has run."""
        if len(ids) < 2:
            return
        self.actions = [replace(a, together=tuple(i for i in ids if i != a.id)) if a.id in ids else a
                        for a in self.actions]

    # --- building blocks --------------------------------------------------------------------
    def refund_charge(self, charge: dict[str, Any], reason: str, why: str, requires: tuple[str, ...] = ()) -> None:
        remaining = refundable(charge)
        if remaining > 0:
            self.add(cat.refund(str(charge["id"]), Money(remaining, str(charge.get("currency"))), reason, why),
                     f"money back for the {why}: only this charge, what remains refundable", requires)

    def previous_quantity(self, shape: ContractShape, item_id: str) -> int | None:
        for inv in reversed(subscription_invoices(self.snap, shape.subscription_id)):
            for line in ((inv.get("lines") or {}).get("data") or []):
                if line_is_proration(line) and line_subscription_item(line) == item_id and int(line.get("amount") or 0) < 0:
                    return int(line.get("quantity") or 0) or None
        return None

    def newer_card(self, shape: ContractShape) -> dict[str, Any] | None:
        sub = self.snap.by_id(shape.subscription_id) or {}
        customer = self.snap.by_id(shape.customer) or {}
        current = obj_id(sub.get("default_payment_method")) or obj_id(
            (customer.get("invoice_settings") or {}).get("default_payment_method"))
        failed = {obj_id(c.get("payment_method")) for c in self.snap.of("charges") if c.get("status") == "failed"}
        current_obj = self.snap.by_id(current) if current else None
        since = int((current_obj or {}).get("created") or 0)
        now = self.snap.now
        cards = [pm for pm in self.snap.of("payment_methods")
                 if pm.get("type") == "card" and obj_id(pm.get("customer")) == shape.customer
                 and pm.get("id") != current and pm.get("id") not in failed and int(pm.get("created") or 0) > since
                 and ((pm.get("card") or {}).get("exp_year", 9999), (pm.get("card") or {}).get("exp_month", 12))
                 >= (now.year, now.month)]
        return max(cards, key=lambda pm: int(pm.get("created") or 0)) if cards else None

    # --- per bucket ----------------------------------------------------------------------------
    def duplicate_groups(self, subs: list[ContractShape]) -> list[list[ContractShape]]:
        """The live subscriptions that duplicate each other: connected by a shared product
        (Stripe's price belongs to one product, so one price is one product too). Two
        subscriptions to different products are two purchases, never a duplicate."""
        groups: list[list[ContractShape]] = []
        for shape in subs:
            products = {i.product for i in shape.items}
            joined = [g for g in groups if any(products & {i.product for i in s.items} for s in g)]
            merged = [shape, *(s for g in joined for s in g)]
            groups = [g for g in groups if g not in joined] + [merged]
        return [sorted(g, key=lambda s: s.subscription_id) for g in groups if len(g) > 1]

    def sold_per_seat(self, item: ItemShape) -> bool | None:
        """Whether the catalogue sells ``item`` per seat: True or False when its price or
        product says so (metadata ``per_seat``, a "seat" nickname or lookup key), None when
        nothing says (the contract counts any quantity > 1 as seats)."""
        price = next((i.get("price") or {} for s in self.snap.of("subscriptions") for i in
                      ((s.get("items") or {}).get("data") or []) if i.get("id") == item.item_id), {})
        if price_seat_hint(price):
            return True
        product = self.snap.by_id(item.product) or {}
        flags = [str((o.get("metadata") or {}).get("per_seat", "")).lower() for o in (price, product)]
        if any(f in ("1", "true", "yes") for f in flags):
            return True
        return False if any(f in ("0", "false", "no") for f in flags) else None

    def copies(self, *, explicit: bool) -> list[tuple[ContractShape, ItemShape]]:
        """Live items bought in quantity > 1 of a product not sold per seat (``explicit``: only
        those the catalogue marks so; else also those nothing marks per seat)."""
        return [(s, i) for s in self.live for i in s.items if i.quantity > 1
                and (self.sold_per_seat(i) is False if explicit else not self.sold_per_seat(i))]

    def extra_copies(self, shape: ContractShape, item: ItemShape) -> None:
        """One product bought N times on one subscription ("charged $30 instead of $15, I only
        need one"): back to one copy, and the extra copies' share of the last paid charge back,
        the refund needing the quantity change (else the next renewal charges them again)."""
        change = cat.quantity(shape.subscription_id, item.item_id, 1, item.quantity, item.terms or item.unit_amount,
                              copies=True)
        self.add(change, f"{item.product} is not sold per seat, yet {shape.subscription_id} bills it {item.quantity} "
                         "times: back to the one copy the customer uses")
        paid = [inv for inv in subscription_invoices(self.snap, shape.subscription_id) if inv.get("status") == "paid"]
        inv = paid[-1] if paid else None
        charge = invoice_charge(self.snap, inv) if inv is not None else None
        if inv is None or charge is None:
            self.notes.append(f"{shape.subscription_id} has no paid charge: the quantity change alone stops the extra "
                              "copies being billed.")
            return
        lines = [ln for ln in ((inv.get("lines") or {}).get("data") or [])
                 if line_subscription_item(ln) == item.item_id and not line_is_proration(ln)]
        # with its exclusive tax: the customer paid that too (inclusive tax is in the amount)
        billed = (sum(int(ln.get("amount") or 0) + line_tax(ln)[1] for ln in lines) if lines
                  else item.amount.amount)
        count = int(lines[0].get("quantity") or item.quantity) if lines else item.quantity
        extra = min(billed * (count - 1) // max(1, count), refundable(charge))
        if extra > 0:
            self.add(cat.refund(str(charge["id"]), Money(extra, str(charge.get("currency"))), "duplicate",
                                f"{count - 1} extra cop{'y' if count == 2 else 'ies'} of {item.product} "
                                f"({shape.subscription_id})"),
                     f"the extra copies' share of the last paid charge ({count - 1} of {count}), not the copy the "
                     "customer keeps", (change.id,))
        self.notes.append(f"{shape.subscription_id} bills {item.product} {item.quantity} times though it is not sold "
                          f"per seat: approve {change.id} (no proration credit) with the refund of the extra copies' "
                          "share of the last charge; the refund needs the quantity change.")

    def duplicate(self) -> None:
        ids = list(dict.fromkeys(self.anomaly_objects("duplicate_active_subscription", "sub_")))
        subs = [s for s in self.live if s.subscription_id in ids] or self.live
        if len(subs) < 2:
            copies = self.copies(explicit=False)
            for shape, item in copies:
                self.extra_copies(shape, item)
            if not copies:
                self.notes.append("No duplicate pair of live subscriptions found; nothing to cancel.")
            return
        groups = self.duplicate_groups(subs)
        if not groups:
            bought = ", ".join(f"{s.subscription_id} ({'/'.join(sorted({i.product for i in s.items}))})" for s in subs)
            self.notes.append(f"The confirmed bucket (duplicate subscription) contradicts the evidence: the live "
                              f"subscriptions are of different products ({bought}), so none duplicates another; "
                              "nothing is cancelled or refunded. Re-classify (two charges for two products are "
                              "two purchases).")
            return
        for group in groups:
            if len({tuple(sorted((i.price, i.interval, i.interval_count) for i in s.items)) for s in group}) > 1:
                self.plan_switch(group)
            else:
                self.accidental_duplicate(group)

    def accidental_duplicate(self, subs: list[ContractShape]) -> None:
        """The same price bought twice: keep the one the customer uses, end the others, all
        their money back."""
        # Stripe lists newest first, so of two created in the same second (a double-clicked
        # checkout) the one listed later is the older, the one the customer bought first
        listed = {str(sub.get("id")): i for i, sub in enumerate(self.snap.of("subscriptions"))}

        def usage(s: ContractShape) -> tuple[int, int, int]:
            paid = sum(1 for inv in subscription_invoices(self.snap, s.subscription_id) if inv.get("status") == "paid")
            return (-paid, self.created(s), -listed.get(s.subscription_id, 0))
        keep, *extra = sorted(subs, key=usage)
        self.notes.append(f"Keep {keep.subscription_id} (the one the customer uses: longest paid history, oldest); "
                          f"cancel the newer duplicate(s) {', '.join(s.subscription_id for s in extra)}.")
        for shape in extra:
            self.end_extra(shape, keep, f"duplicate of {keep.subscription_id}",
                           f"{shape.subscription_id} duplicates {keep.subscription_id}, which the customer keeps", 0, "duplicate")

    def plan_switch(self, subs: list[ContractShape]) -> None:
        """One product on two prices or intervals: a plan switch whose old subscription was
        never ended, not an accidental second purchase. Keep the plan the customer says they
        moved to (else the newer), end the other and refund what it charged after the switch."""
        def interval(s: ContractShape) -> str:
            return "/".join(sorted({f"every {i.interval_count} {i.interval}s" if i.interval_count > 1
                                    else f"{i.interval}ly".replace("dayly", "daily") for i in s.items}))
        wanted = switched_to(self.complaint)
        named = [s for s in subs if wanted and any(i.interval == wanted for i in s.items)]
        keep = max(named or subs, key=lambda s: (self.created(s), s.subscription_id))
        extra = [s for s in subs if s is not keep]
        said = (f"the complaint says they moved to the {wanted}ly plan" if named else
                "the newer: the complaint names neither plan")
        self.notes.append(
            f"Not an accidental duplicate: {', '.join(f'{s.subscription_id} ({interval(s)}, {s.recurring_total})' for s in subs)}"
            " are one product on different prices or intervals, a plan switch whose old subscription was never "
            f"ended. Keep {keep.subscription_id} ({said}); cancel {', '.join(s.subscription_id for s in extra)} and "
            f"refund only what it charged since the switch.")
        for shape in extra:
            unused = self.option("cancel_now_refund", shape.subscription_id)
            credited = self.option("credit_balance_unused", shape.subscription_id)  # the balance paid it all
            option = unused if unused is not None and unused.charge and unused.amount.amount > 0 else credited
            # the old plan's paid time from the switch on: the period running at the switch from then, and
            # every renewal since (their charges whole); charges refunded whole only without such a period
            since = self.created(keep) if option is None else None
            self.end_extra(shape, keep, f"replaced by {keep.subscription_id}",
                           f"{shape.subscription_id} is the plan the customer switched away from (to "
                           f"{keep.subscription_id})", since, "requested_by_customer")
            if option is not None:
                self.switch_refund(shape, keep, option)

    def switch_refund(self, shape: ContractShape, keep: ContractShape, unused: RefundOption) -> None:
        """Nothing charged on the old plan since the switch: its period still running was paid before
        it, and is paid twice from the switch on wherever the kept plan billed the same days. Its unused
        time goes back from the moment the kept plan billed from (the switch, or the end of a trial the
        new plan began with: :func:`~billing_nb.analysis.contract.billed_from`), not from today: a
        customer who switched 20 days ago has paid those 20 days on both plans. One refund per paid
        invoice of the period; the share the credit balance paid goes back to it on a credit note."""
        since = billed_from(self.snap, keep, self.created(keep))
        parts, extra = refund_since(self.snap, shape, unused, since)
        cur = unused.amount.currency
        day = f"{from_ts(since):%Y-%m-%d %H:%M} UTC"
        if extra:
            self.notes.append(f"{shape.subscription_id}'s unused time is counted from {day}, when "
                              f"{keep.subscription_id} began billing the same days: {Money(extra, cur)} more than "
                              "from today (those days were paid on both plans).")
        cancel = f"cancel:{shape.subscription_id}:now"
        why = (f"{keep.subscription_id} pays for this time already: the unused rest of {shape.subscription_id}'s "
               f"period back, from {day} (the days since were billed by both plans)")
        what = f"unused time of {shape.subscription_id} from {day}, replaced by {keep.subscription_id}"
        ids = []
        for part in parts:  # one refund per paid invoice of the period
            amount, back = Money(int(part["amount"]), cur), Money(int(part.get("to_balance") or 0), cur)
            if back.amount > 0:  # the balance paid part of it: a credit note returns that part there
                action = cat.credit_note(str(part["invoice"]), amount, "order_change", what,
                                         part.get("charge"), back)
            elif part.get("charge") and amount.amount > 0:
                action = cat.refund(str(part["charge"]), amount, "requested_by_customer", what)
            else:
                continue
            self.add(action, why, (cancel,))
            ids.append(action.id)
        self.together(ids)

    def created(self, shape: ContractShape) -> int:
        return int((self.snap.by_id(shape.subscription_id) or {}).get("created") or 0)

    def end_extra(self, shape: ContractShape, keep: ContractShape, reason: str, why: str, since: int | None,
                  refund_reason: str) -> None:
        """Cancel ``shape`` now; void its open invoices; refund its charges paid from ``since``
        on (None: none, the money back is planned apart), each refund requiring the cancel (money
        back for a subscription left running would be charged again at its next renewal)."""
        cancel = cat.cancel_now(shape.subscription_id, reason, "other")
        self.add(cancel, why)
        for inv in subscription_invoices(self.snap, shape.subscription_id):
            if inv.get("status") == "open":
                self.add(cat.void(str(inv["id"]), Money(int(inv.get("amount_remaining") or 0), str(inv["currency"]))),
                         f"open invoice of {shape.subscription_id}, which ends: never collect it")
            charge = invoice_charge(self.snap, inv) if inv.get("status") == "paid" else None
            if charge is not None and since is not None and int(charge.get("created") or 0) >= since:
                self.refund_charge(charge, refund_reason, f"{reason} ({shape.subscription_id})", (cancel.id,))

    def stated_seats(self) -> tuple[int, str] | None:
        """The seat count the complaint says the team uses, when exactly one live subscription
        is billed per seat (with two, which one they mean is the customer's to say)."""
        per_seat = [s for s in self.live if any(i.per_seat for i in s.items)]
        return seats_used(self.complaint) if len(per_seat) == 1 else None

    def team_cancel(self, seats: int | None) -> ContractShape | None:
        """The team plan the complaint asks to end ("cancel the whole team plan"), with its cancel
        planned: at period end (no refund, access kept: reversible), or, when it asks for money back,
        now with the unused time back (credit notes on the period's paid invoices, the credit balance's
        share to the balance, each requiring the cancel), as a product failure's. None when the
        complaint asks no cancel, the analyst named a seat count, or which plan is meant is unclear."""
        words = None if seats else asks_to_cancel(self.complaint)
        if words is None:
            return None
        teams = [s for s in self.live if any(i.per_seat for i in s.items)] or self.live
        if len(teams) != 1:
            if teams:
                self.notes.append(f'The complaint asks to cancel ("{words}"), but {len(teams)} plans are billed per '
                                  f"seat ({', '.join(s.subscription_id for s in teams)}): ask which one, then approve "
                                  "cancel:sub_X:at_period_end (or cancel:sub_X:now).")
            return None
        shape = teams[0]
        sub = shape.subscription_id
        if shape.cancel_at_period_end:
            self.notes.append(f"{sub} is already set to cancel at period end, as the complaint asks (\"{words}\").")
            return shape
        asked = f'the complaint asks to cancel the team plan ("{words}")'
        unused = unused_option(self.options, sub)
        money = "refund" in self.said and unused is not None and unused.amount.amount + int(
            unused.details.get("to_balance") or 0) > 0
        if not money:
            self.add(cat.cancel_at_period_end(sub, shape.period_end, "unused"),
                     f"{asked}: at period end, no refund, access kept until then (reversible)")
        if money and unused is not None:
            cancel = cat.cancel_now(sub, "the customer asked to cancel the team plan and for the unused time back",
                                    "unused")
            self.add(cancel, f"{asked} and for money back: ended now, the unused time back")
            ids = []
            for invoice, part_charge, amount in unused.parts:
                back = balance_part(unused, invoice)
                if amount.amount <= 0 and back is None:
                    continue
                note = cat.credit_note(invoice, amount, "order_change", "unused time of the cancelled team plan",
                                       part_charge, back)
                self.add(note, "the unused rest of the period back, only if the plan ends now", (cancel.id,))
                ids.append(note.id)
            self.together(ids)
        self.notes.append(
            f"{sub}: {asked}. "
            + (f"Approve cancel:{sub}:now with the unused-time credit note ({unused.amount if unused else ''} back); "
               f"without money back, cancel:{sub}:at_period_end keeps access until the period ends"
               if money else f"Approve cancel:{sub}:at_period_end (no refund, access kept until the period ends)")
            + f". No seat change is planned; to keep the plan with fewer seats instead, approve quantity:{sub}:N.")
        return shape

    def team(self, seats: int | None) -> None:
        ending = self.team_cancel(seats)
        unused = "unused_seats" in self.said
        stated = None if seats or ending else self.stated_seats()
        copies = [] if seats else self.copies(explicit=True)
        for shape, item in copies:
            self.extra_copies(shape, item)
        for shape in self.live:
            item = next((i for i in shape.items if i.per_seat), None)
            if item is None or any(item is i for _, i in copies) or shape is ending:
                continue
            raised = [q for q in self.state.seats_raised if q.subscription == shape.subscription_id]
            if stated and not 1 <= stated[0] < item.quantity:
                self.notes.append(f'The complaint says {stated[0]} ("{stated[1]}"), but {shape.subscription_id} has '
                                  f"{item.quantity} seats: no reduction follows from it; ask the customer.")
                stated = None
            target = seats or (stated[0] if stated else None) or (
                self.previous_quantity(shape, item.item_id) if unused else None)
            if target and target != item.quantity:
                why = (f"the analyst asked for {seats} seats" if seats else
                       f'the complaint says the team uses {target} ("{stated[1]}"); {item.quantity} seats are '
                       "billed" if stated else
                       f"the complaint says seats are unused; back to the {target} seats before the last change")
                self.add(cat.quantity(shape.subscription_id, item.item_id, target, item.quantity,
                                          item.terms or item.unit_amount), why)
                continue
            if raised and not seats:
                self.notes.append(f"{shape.subscription_id}: {raised[-1].line()}; a deliberate increase, so no "
                                  f"reduction is planned (approve quantity:{shape.subscription_id}:N, N the seats "
                                  "they ask for).")
            if self.portal_allows("subscription_update"):
                self.add(cat.portal(self.customer, "subscription_update", shape.subscription_id, self.portal_id()),
                         "the customer can change the seat count themselves, prorated")
                self.notes.append(f"{shape.subscription_id} keeps its {item.quantity} seats; the portal link lets the "
                                  "customer change the count themselves (or approve "
                                  f"quantity:{shape.subscription_id}:N, N the seats they need).")
            else:
                self.notes.append(f"{shape.subscription_id} has {item.quantity} seats; ask the customer how many they "
                                  f"need, then approve quantity:{shape.subscription_id}:N. Seats are kept; no "
                                  "cancel or refund by default.")

    def failed_payment(self) -> None:
        if self.portal_allows("payment_method_update") is False:
            self.notes.append("The portal configuration does not allow payment method updates; enable it.")
        else:
            self.add(cat.portal(self.customer, "payment_method_update", None, self.portal_id()),
                     "the card that failed must be replaced by the customer; this link opens straight to it")
        portal_id = f"portal:{self.customer}:payment_method_update"
        for shape in self.live:
            open_invoices = [i for i in subscription_invoices(self.snap, shape.subscription_id) if i.get("status") == "open"]
            card = self.newer_card(shape)
            if card is not None and (open_invoices or shape.status == "past_due"):
                label = f"{(card.get('card') or {}).get('brand', 'card')} …{(card.get('card') or {}).get('last4', '')}"
                self.add(cat.default_pm(shape.subscription_id, str(card["id"]), label),
                         f"the customer added {label} after the failure; the subscription still charges the old card")
            changed = f"default_pm:{shape.subscription_id}:{card['id']}" if card is not None else None
            for inv in open_invoices:
                needs = tuple(x for x in (changed, portal_id if any(a.id == portal_id for a in self.actions) else None) if x)
                why = ("collect the open invoice once the payment method has changed: never again on the card "
                       "that just declined")
                self.add(cat.retry(str(inv["id"]), Money(int(inv.get("amount_remaining") or inv.get("amount_due") or 0),
                                                         str(inv["currency"]))), why, needs)
                if not needs:
                    self.notes.append(f"retry:{inv['id']} has no changed card behind it; approve it only after the "
                                      "customer has updated their payment method.")
        for shape in self.shapes:
            if shape.status == "incomplete":
                self.notes.append(f"{shape.subscription_id} is incomplete (its first payment failed): once the "
                                  "customer has a working card they pay its open invoice, or it expires by itself.")
        self.notes.append("Failed payment: nothing is refunded.")

    def missing_self_serve(self) -> None:
        prorations = self.anomaly_objects("proration_invoice", "in_")
        ask = portal_ask(self.complaint)
        cancel_asked = ask is not None and ask.flow == "subscription_cancel"
        if prorations:
            credited = [i for i in prorations if int((self.snap.by_id(i) or {}).get("total") or 0) < 0]
            owed = ("; " + ", ".join(f"{i} credited {Money(-int((self.snap.by_id(i) or {}).get('total') or 0), str((self.snap.by_id(i) or {}).get('currency') or 'usd'))}"
                                     for i in credited) + " to the customer's balance (off their next invoices)"
                    if credited else "; nothing is owed back")
            self.notes.append(f"Explain proration invoice(s) {', '.join(prorations)}: unused time at the old price "
                              f"credited, the rest of the period at the new price charged{owed}.")
        if prorations and not cancel_asked and not self.anomaly_objects("charged_after_cancel_request", "sub_"):
            # a plan change the customer never previewed: show them the invoice, explain it. A
            # cancel the complaint asks for still goes ahead below: a proration invoice of the
            # period does not answer it
            if self.portal_allows("invoice_history"):
                self.add(cat.portal(self.customer, "home", None, self.portal_id()),
                         "the customer sees the proration invoice and manages the plan themselves")
            return
        if ask is not None and ask.flow != "subscription_cancel":
            self.self_serve_task(ask)
            return
        target = next((s for s in self.live if not s.cancel_at_period_end), None)
        if target is None:
            ending = [s for s in self.live if s.cancel_at_period_end]
            for s in ending:
                self.notes.append(f"{s.subscription_id} is already set to cancel at period end; nothing to change.")
            return
        because = (f'the complaint asks to cancel ("{ask.words}")' if ask else
                   "the complaint names no other task, and a self-serve complaint is most often a cancel the "
                   "customer could not find")
        if self.portal_allows("subscription_cancel"):
            self.add(cat.portal(self.customer, "subscription_cancel", target.subscription_id, self.portal_id(),
                                because),
                     f"the customer could not find how to cancel; the link opens straight to it ({because})")
        else:
            self.notes.append("The portal configuration does not let customers cancel (features.subscription_cancel"
                              " disabled or no configuration): a product gap; cancel at period end for them.")
            self.add(cat.cancel_at_period_end(target.subscription_id, target.period_end, "other"),
                     "the portal cannot cancel, so support cancels for them, at period end with access kept")
        if "refund" in self.said and not self.names_unheld_product() and target.subscription_id not in self.anomaly_objects(
                "charged_after_cancel_request", "sub_"):  # "it renewed before I could cancel; I want it back"
            planned, notes = renewal_refund(self.snap, target, self.options)
            for action, why, requires in planned:
                self.add(action, why, requires)
            self.notes.extend(notes)

    def self_serve_task(self, ask: PortalAsk) -> None:
        """A self-serve complaint about something other than cancelling ("where do I download
        my invoices", "how do I update my card", "please don't cancel, I need a receipt"): the
        portal opens on that task, and nothing is cancelled or refunded."""
        said = f'"{ask.words}"' if ask.words else "no task by name"
        refused = f' and says not to cancel ("{ask.keep}")' if ask.keep else ""
        target = next((s for s in self.live if not s.cancel_at_period_end), None) or next(iter(self.live), None)
        flow = ask.flow
        if flow == "subscription_update" and (target is None or not self.portal_allows("subscription_update")):
            self.notes.append("The customer asks to change their plan, but the portal configuration does not let "
                              "customers change plans (features.subscription_update disabled, no configuration, or "
                              "no live subscription): a product gap; change it for them on approval (e.g. "
                              "quantity:sub_X:N). The portal home is offered instead.")
            flow = "home"
        if flow == "payment_method_update" and self.portal_allows("payment_method_update") is False:
            self.notes.append("The customer asks to update their payment method, but the portal configuration does "
                              "not allow payment method updates (features.payment_method_update): enable it. The "
                              "portal home is offered instead.")
            flow = "home"
        if flow == "home" and ask.flow == "home" and self.portal_allows("invoice_history") is False:
            self.notes.append("The portal configuration hides the invoice history (features.invoice_history "
                              "disabled): send the customer the invoices' hosted links or PDFs, and enable it.")
        task = {"subscription_update": "change their plan or seats",
                "payment_method_update": "update their payment method",
                "home": "see their invoices, receipts and billing details"}[flow]
        because = f"the complaint asks to {task} ({said}){refused}"
        if portal_in_use(self.snap) is None:
            self.notes.append(f"No billing portal configuration: the customer cannot {task} themselves (a product "
                              "gap); answer them directly.")
        else:
            self.add(cat.portal(self.customer, flow, target.subscription_id if target and flow == "subscription_update"
                                else None, self.portal_id(), because),
                     f"the portal opens on what the customer could not find: {because}")
        self.notes.append(f"Self-serve: the customer asks to {task} ({said}){refused}; the portal link opens on it"
                          f"{' (the home page, no flow)' if flow == 'home' else f' (flow_data.type={flow})'}. "
                          "Nothing is cancelled or refunded.")

    def failure_candidates(self) -> tuple[list[tuple[ContractShape, dict[str, Any]]], str]:
        """The (subscription, charge) pairs a product failure's money back may be for, and how
        they were chosen: the object the case looked up (a ch_/in_/pi_/sub_ id), else the plans
        the complaint names, else every live subscription's latest paid charge, newest first."""
        pairs: list[tuple[ContractShape, dict[str, Any]]] = []
        for shape in self.live:
            charge = self.snap.by_id(str(shape.latest_charge)) if shape.latest_charge else None
            if charge is not None:
                pairs.append((shape, charge))
        pairs.sort(key=lambda p: -int(p[1].get("created") or 0))
        looked = str(self.snap.extra.get("lookup_object") or "")
        if looked:
            obj = self.snap.by_id(looked) or {}
            for shape in self.shapes:
                for inv in subscription_invoices(self.snap, shape.subscription_id):
                    charge = invoice_charge(self.snap, inv) if inv.get("status") == "paid" else None
                    if charge is not None and looked in (inv.get("id"), charge.get("id"),
                                                         obj_id(charge.get("payment_intent"))):
                        return [(shape, charge)], f"the case looked up {looked}"
            named = [p for p in pairs if p[0].subscription_id == looked or obj_id(obj.get("subscription")) ==
                     p[0].subscription_id]
            if named:
                return named, f"the case looked up {looked}"
        words = normalise(self.complaint)
        named = [p for p in pairs if any(len(n) > 2 and re.search(rf"\b{re.escape(normalise(n))}\b", words)
                                         for i in p[0].items for n in (plan_name(self.snap, i.price, i.product),))]
        if named:
            return named, "the complaint names the plan"
        return pairs, "the most recent paid charge first"

    def held_names(self) -> list[str]:
        """The names the customer's plans go by: product names and price nicknames of every subscription."""
        names: list[str] = []
        for sub in self.snap.of("subscriptions"):
            for item in ((sub.get("items") or {}).get("data") or []):
                price = item.get("price") or {}
                product = obj_id(price.get("product")) or ""
                names += [plan_name(self.snap, str(price.get("id") or ""), product), str(price.get("nickname") or "")]
        return [n for n in dict.fromkeys(names) if n]

    def names_unheld_product(self) -> bool:
        """Whether the complaint asks about a product the customer does not have ("refund my Analytics
        add-on" on a Pro-only account): then no other plan's money is offered, and a note says to ask.
        A case looked up by a charge, invoice or subscription id names what it is about already."""
        if "lookup_object" in self.snap.extra:
            return False
        named = product_not_held(self.complaint, self.held_names())
        if named is None:
            return False
        self.notes.append(f'The complaint names "{named}", which is not on the account (its plans: '
                          f'{", ".join(self.held_names()) or "none"}): no refund is proposed for another plan. Ask '
                          "the customer which product and charge they mean (or approve refund:ch_X:AMOUNT once known).")
        return True

    def product_failure(self) -> None:
        if self.names_unheld_product():
            return
        candidates, how = self.failure_candidates()
        if not candidates:
            if not self.balance_paid_failure() and not self.off_stripe_failure():
                self.notes.append("No paid charge on a live subscription: nothing to refund.")
            return
        several = len(candidates) > 1
        if several:
            which = ", ".join(f"{c.get('id')} on {s.subscription_id}" for s, c in candidates)
            self.notes.append(
                f"Product failure: {len(candidates)} charges could be the one the customer means "
                f"({which}; {how}): one money-back "
                "option is planned for each; approve the one for the plan that failed (they are alternatives).")
        group = f"money:product_failure:{self.customer}" if several else None
        keep = keeps_subscription(self.complaint)
        for shape, charge in candidates:
            unused = self.option("credit_note_unused", shape.subscription_id)
            ours = unused is not None and charge.get("id") in {c for _, c, _ in unused.parts}
            if shape.is_annual and unused is not None and ours and keep:
                self.failure_share(shape, charge, str(unused.invoice), unused.amount, keep, group)
            elif shape.is_annual and unused is not None and ours:
                cancel = cat.cancel_now(shape.subscription_id, "refund of unused time for a product failure",
                                        "low_quality")
                self.add(cancel, "the unused time is refunded only if the annual plan ends now")
                parts = unused.parts
                ids = []
                for invoice, part_charge, amount in parts:  # one credit note per paid invoice of the period
                    # the share the credit balance paid goes back to it on the same credit note
                    note = cat.credit_note(invoice, amount, "product_unsatisfactory",
                                           "unused time after a product failure", part_charge,
                                           balance_part(unused, invoice))
                    split = (f" ({amount} of {unused.amount}, on {invoice}: the unused time spans "
                             f"{len(parts)} paid invoices; approve all parts together)") if len(parts) > 1 else ""
                    self.add(replace(note, exclusive=(group if len(parts) == 1 else None) or note.exclusive),
                             "refund, apologise: the unused part of the year after the product failed" + split,
                             (cancel.id,))
                    ids.append(note.id)
                self.together(ids)
            elif not shape.is_annual or several or "lookup_object" in self.snap.extra:
                remaining = refundable(charge)
                if remaining > 0:
                    action = cat.refund(str(charge["id"]), Money(remaining, str(charge.get("currency"))),
                                        "requested_by_customer", f"product failure ({shape.subscription_id})")
                    self.add(replace(action, exclusive=group or action.exclusive),
                             f"money back for the product failure: only this charge ({how}), what remains "
                             "refundable")

    def balance_paid_failure(self) -> bool:
        """Money back for a product failure on plans the customer's credit balance paid in full (no
        card charged, so no refund can return it): a credit note's ``credit_amount`` puts it back on the
        balance, where it pays the next invoices. An annual plan: cancelled now with its unused time
        credited (the ``credit_balance_unused`` option), or, when the customer says not to cancel, a
        share of what the balance paid (the share asked, else a month); a monthly plan: what the balance
        paid of its current period, the plan kept (as a card-paid monthly's charge is refunded whole).
        Returns whether any was planned."""
        paid = [(s, o) for s in self.live for o in [self.option("credit_balance_unused", s.subscription_id)] if o]
        group = f"money:product_failure:{self.customer}" if len(paid) > 1 else None
        keep = keeps_subscription(self.complaint)
        for shape, option in paid:
            cur = option.amount.currency
            newest = (option.details.get("invoices") or [{}])[0]
            invoice, left = str(newest.get("invoice")), int(newest.get("from_balance") or 0)
            why = "the customer's credit balance paid the plan, so the money goes back to the balance"
            if shape.is_annual and not keep:
                cancel = cat.cancel_now(shape.subscription_id, "unused time credited for a product failure",
                                        "low_quality")
                self.add(cancel, "the unused time is credited back only if the annual plan ends now")
                ids = []
                for part in option.details.get("parts") or []:
                    note = cat.credit_note(str(part["invoice"]), Money(0, cur), "product_unsatisfactory",
                                           "unused time after a product failure, credited to the balance", None,
                                           Money(int(part.get("to_balance") or 0), cur))
                    self.add(replace(note, exclusive=group or note.exclusive),
                             f"apologise with the unused part of the year after the product failed: {why}",
                             (cancel.id,))
                    ids.append(note.id)
                self.together(ids)
                continue
            share = self.kept_share(shape) if shape.is_annual else Fraction(1)
            money = Money(int(left * share), cur)
            if money.amount <= 0:
                continue
            label = "what the balance paid of the current period" if share == 1 else \
                f"{share.numerator}/{share.denominator} of what the balance paid"
            note = cat.credit_note(invoice, Money(0, cur), "product_unsatisfactory",
                                   f"product failure, plan kept ({label}), credited to the balance", None, money)
            self.add(replace(note, exclusive=group or note.exclusive), f"money back for the product failure: {why}; "
                     f"{label}, the plan keeps running")
        if paid:
            self.notes.append(
                "Paid from the customer's credit balance (no card was charged): the money goes back to the balance "
                "on a credit note with credit_amount, where it pays the next invoices; nothing is refunded.")
        return bool(paid)

    def off_stripe_failure(self) -> bool:
        """Money back for a product failure on plans paid outside Stripe (an invoiced customer's bank
        transfer, the invoice marked paid out of band): no charge exists, so no refund can return it; a
        credit note's ``out_of_band_amount`` records the money going back and the team returns it by bank
        transfer or as agreed. An annual plan: cancelled now with its unused time given back (the
        ``out_of_band_unused`` option), or, when the customer says not to cancel, a share of what was paid
        (the share asked, else a month); a monthly plan: what its current period was paid, the plan kept
        (as a card-paid monthly's charge is refunded whole). Returns whether any was planned."""
        paid = [(s, o) for s in self.live for o in [self.option("out_of_band_unused", s.subscription_id)] if o]
        group = f"money:product_failure:{self.customer}" if len(paid) > 1 else None
        keep = keeps_subscription(self.complaint)
        why = "the invoice was paid outside Stripe (no charge to refund), so the money goes back outside Stripe"
        for shape, option in paid:
            cur = option.amount.currency
            if shape.is_annual and not keep:
                cancel = cat.cancel_now(shape.subscription_id, "unused time given back for a product failure",
                                        "low_quality")
                self.add(cancel, "the unused time goes back only if the annual plan ends now")
                ids = []
                for part in option.details.get("parts") or []:
                    note = cat.credit_note(str(part["invoice"]), Money(int(part["amount"]), cur),
                                           "product_unsatisfactory", "unused time after a product failure", None,
                                           out_of_band=True)
                    self.add(replace(note, exclusive=group or note.exclusive),
                             f"apologise with the unused part of the year after the product failed: {why}",
                             (cancel.id,))
                    ids.append(note.id)
                self.together(ids)
                continue
            newest = (option.details.get("invoices") or [{}])[0]
            invoice, left = str(newest.get("invoice")), int(newest.get("refundable") or 0)
            share = self.kept_share(shape) if shape.is_annual else Fraction(1)
            money = Money(int(left * share), cur).stripe_rounded()
            if money.amount <= 0:
                continue
            label = "what the current period was paid" if share == 1 else \
                f"{share.numerator}/{share.denominator} of what was paid"
            note = cat.credit_note(invoice, money, "product_unsatisfactory", f"product failure, plan kept ({label})",
                                   None, out_of_band=True)
            self.add(replace(note, exclusive=group or note.exclusive),
                     f"money back for the product failure: {why}; {label}, the plan keeps running")
        if paid:
            self.notes.append(
                "Paid outside Stripe (no charge): Stripe cannot refund it. The credit note records the money going "
                "back with out_of_band_amount; the team must return it to the customer by bank transfer or as "
                "agreed, outside Stripe.")
        return bool(paid)

    def kept_share(self, shape: ContractShape) -> Fraction:
        """What goes back of a plan kept after a product failure: the share the complaint names
        ("refund half"), else one month of the year."""
        return asked_share(self.complaint) or Fraction(1, 12 * max(1, min(i.interval_count for i in shape.items)))

    def failure_share(self, shape: ContractShape, charge: dict[str, Any], invoice: str, unused: Money, keep: str,
                      group: str | None) -> None:
        """Money back for a product failure on an annual plan the customer says not to cancel:
        the unused-time refund needs the plan ended, so a share of the charge goes back on a
        credit note instead, the plan kept: the share the complaint names ("refund half"),
        else one month of the year."""
        asked = asked_share(self.complaint)
        share = self.kept_share(shape)
        label = (f"{share.numerator}/{share.denominator}" if asked else "one month of the year")
        money = Money(int(refundable(charge) * share), str(charge.get("currency")))
        if money.amount <= 0:
            return
        note = cat.credit_note(invoice, money, "product_unsatisfactory",
                               f"product failure, plan kept ({label} of the charge)", str(charge["id"]))
        self.add(replace(note, exclusive=group or note.exclusive),
                 f'money back without a cancel: the customer says not to cancel ("{keep}"), so {label} of the '
                 f"charge goes back ({'the share they ask for' if asked else 'a month of the annual plan'}) and "
                 "the plan keeps running")
        self.notes.append(
            f"{shape.subscription_id}: the customer asks for money back but says not to cancel (\"{keep}\"): "
            f"{note.id} gives {label} of the charge back and keeps the plan. The unused-time refund ({unused}) "
            f"needs cancel:{shape.subscription_id}:now, which they refused, so it is not planned; approve "
            f"credit_note:{invoice}:AMOUNT to give another amount.")

    def charged_after_cancel(self) -> None:
        planned, notes = renewal_after_cancel_request(
            self.snap, self.shapes, self.options, self.anomaly_objects("charged_after_cancel_request", "sub_"),
            self.anomaly_objects("charged_after_cancel_request", "in_"))
        for action, why, requires in planned:
            self.add(action, why, requires)
        self.notes.extend(notes)

    def one_off(self, bucket: Bucket) -> bool:
        """Money back for one-off charges (no invoice: a setup fee, a manual charge) the case is
        about (:func:`~billing_nb.analysis.charges.named_charges`: the one looked up, else those the
        complaint names by amount or by what they were for); in a duplicate case the later copies
        of one charge (same amount and description); with no subscription at all, a complaint
        asking for money back means one of the customer's one-off charges (alternatives when
        several). Each refund is what remains (captured less refunded); a smaller part is approved
        as ``refund:ch_X:AMOUNT``. Returns whether the case is about a one-off charge."""
        paid = one_off_charges(self.snap, succeeded_only=True)
        if not paid:
            return False
        charges, how = named_charges(self.snap, self.complaint)
        reason = "requested_by_customer"
        if not charges and bucket is Bucket.DUPLICATE_SUBSCRIPTION:
            same: dict[tuple[Money, str | None], list[OneOffCharge]] = {}
            for ch in paid:
                same.setdefault((ch.amount, ch.description), []).append(ch)
            charges = [c for g in same.values() if len(g) > 1 for c in sorted(g, key=lambda c: (c.created, c.id))[1:]]
            how, reason = "the same one-off charge taken again (same amount and description): the later copies", "duplicate"
        if not charges and not self.snap.of("subscriptions") and ("refund" in self.said or bucket is not Bucket.DUPLICATE_SUBSCRIPTION):
            charges, how = paid, "the customer has no subscription: their only payments are these one-off charges"
        if not charges:
            listed = ", ".join(f"{c.id} ({Money(c.captured, c.amount.currency)}"
                               + (f", {c.description!r}" if c.description else "") + ")" for c in paid)
            self.notes.append(f"One-off charge(s) that paid no invoice: {listed}. The complaint names none of them "
                              "(by amount or what it was for), so none is refunded; look the case up by the charge's "
                              "ch_/pi_ id to plan its refund.")
            return False
        group = f"money:one_off:{self.customer}" if len(charges) > 1 and reason != "duplicate" else None
        if group:
            self.notes.append(f"{len(charges)} one-off charges could be the one the customer means "
                              f"({', '.join(c.id for c in charges)}; {how}): one refund is planned for each; approve "
                              "the one they mean (they are alternatives).")
        for ch in charges:
            cur = ch.amount.currency
            if ch.refundable <= 0:
                self.notes.append(f"One-off charge {ch.id}: nothing left to refund ({Money(ch.captured, cur)} captured, "
                                  f"{Money(ch.refunded, cur)} refunded" + (", disputed: answer the dispute" if ch.disputed
                                                                          else "") + ").")
                continue
            what = f" ({ch.description})" if ch.description else ""
            action = cat.refund(ch.id, Money(ch.refundable, cur), reason, f"one-off charge{what}")
            self.add(replace(action, exclusive=group or action.exclusive),
                     f"money back for the one-off charge {ch.id}{what}, which paid no invoice ({how}): what remains "
                     f"refundable ({Money(ch.captured, cur)} paid less {Money(ch.refunded, cur)} refunded); a part "
                     f"of it: approve refund:{ch.id}:AMOUNT")
        return True

    # --- finishing ---------------------------------------------------------------------------
    def disputed_aware(self, charge_id: str) -> dict[str, Any] | None:
        """The snapshot's charge, marked disputed when the snapshot holds a dispute on it."""
        charge = self.snap.by_id(charge_id)
        if charge is not None and charge_dispute(self.snap, charge_id) is not None:
            return {**charge, "disputed": True}
        return charge

    def screened(self) -> list[Action]:
        kept: list[Action] = []
        for action in self.actions:
            charge_id = action.params.get("charge") if action.kind is ActionKind.CREDIT_NOTE else None
            charge = self.disputed_aware(str(charge_id)) if charge_id else None
            target = self.disputed_aware(action.target) if action.kind is ActionKind.REFUND else \
                self.snap.by_id(action.target)
            why = refusal(action, target, charge=charge)
            if why is None:
                kept.append(action)
            else:
                self.notes.append(f"Not planned: {why}")
        return sorted(kept, key=lambda a: (a.step, not a.reversible))


def build_plan(snapshot: CaseSnapshot, summary: IdentitySummary, decision: Decision, shapes: list[ContractShape],
               options: list[RefundOption], *, seats: int | None = None, complaint: str = "") -> Plan:
    """The plan for the confirmed bucket; ``complaint`` tells seat reductions apart from deliberate increases."""
    if decision.bucket is None:
        return Plan([], ["Pending: no bucket is confirmed, so no action is planned."])
    p = _Planner(snapshot, summary, shapes, options, complaint)
    for dispute in snapshot.of("disputes"):
        if dispute.get("status") not in ("won", "lost", "warning_closed"):
            p.notes.append(f"Answer dispute {dispute.get('id')} on {obj_id(dispute.get('charge'))} with evidence; "
                           "a disputed charge is never refunded.")
    p.notes.extend(refund_notes(snapshot, complaint))  # failed refunds' remedies; "where is my refund"
    bucket = decision.bucket
    if bucket is Bucket.UNCLEAR:
        if p.portal_allows("payment_method_update") is not None:
            p.add(cat.portal(p.customer, "home", None, p.portal_id()),
                  "nothing is decided yet; the customer can see their invoices and subscription themselves")
        p.notes.append("Unclear: nothing that moves money is planned; gather more evidence and re-classify.")
    elif bucket is Bucket.DUPLICATE_SUBSCRIPTION:
        p.duplicate()
        p.one_off(bucket)
    elif bucket is Bucket.TEAM_SEATS:
        p.team(seats)
    elif bucket is Bucket.FAILED_PAYMENT:
        p.failed_payment()
    elif bucket is Bucket.MISSING_SELF_SERVE:
        # a charge the customer does not recognise may be a one-off (a setup fee): its refund, and the
        # portal only when the complaint also asks for a self-serve task
        if not p.one_off(bucket) or portal_ask(complaint) is not None:
            p.missing_self_serve()
    elif bucket is Bucket.PRODUCT_FAILURE:
        if not p.one_off(bucket):  # the case is about a one-off charge: not a subscription's money
            p.product_failure()
    if bucket not in (Bucket.UNCLEAR, Bucket.FAILED_PAYMENT, Bucket.TEAM_SEATS):
        p.charged_after_cancel()
    for opt in options:
        if opt.mismatch:
            p.notes.append(f"{opt.kind} on {opt.subscription_id}: our {opt.amount} differs from Stripe's "
                           f"{Money(int(opt.stripe_amount or 0), opt.amount.currency)}; check before approving.")
    held = credits_of(snapshot).credit_held
    if held is not None and any(a.moves_money for a in p.actions):
        netted = list(dict.fromkeys(o.subscription_id for o in options if o.details.get("credit_held")))
        counted = list(dict.fromkeys(o.subscription_id for o in options if o.details.get("credit_held_from_returned")))
        where = (f"netted once, on the unused-time amounts of {', '.join(netted)}" if netted else
                 f"already counted in the unused time of {', '.join(counted)}: the credit of its proration or credit "
                 "notes, which stays the customer's" if counted else "netted from no amount above")
        p.notes.append(f"The customer already holds a {held} credit on their balance ({where}); a full-charge "
                       "refund is not net of it, so weigh it before approving.")
    p.add(cat.document(p.customer, bucket.value), f"record the bucket ({bucket.value}) on the customer for the next case")
    # a change on a schedule-managed subscription goes through its schedule (.schedules), and a seat
    # count named in an approval (quantity:SUB:N) would go to the subscription: not offered for those
    p.actions, routed = through_schedules(snapshot, p.actions)
    p.notes.extend(routed)
    per_seat = {shape.subscription_id: (item.item_id, item.quantity, item.terms or item.unit_amount)  # and copies
                for shape in p.live for item in [next((i for i in shape.items if not i.metered
                                                       and (i.per_seat or i.quantity > 1)), None)]
                if item and managing_schedule(snapshot, shape.subscription_id) is None}
    return Plan(p.screened(), list(dict.fromkeys(p.notes)), per_seat)
