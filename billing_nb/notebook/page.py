"""Step 1 as a customer page: who, what they pay for, their cards and balance, and one
timeline of their billing history, newest first.

Reads the snapshot and the identity summary only (pure, no Stripe calls) and returns
HTML; every Stripe value is escaped through :mod:`.format`. Names come from the catalogue
in the snapshot (product name, else the price's nickname), never a raw price id where a
name exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..analysis.anomalies import pause_of, pause_words
from ..analysis.identify import IdentitySummary
from ..records.markup import dates_in_words
from ..reading.objects import plan_name
from ..reading.rows import SubscriptionRow, obj_id
from ..reading.snapshot import CaseSnapshot
from .format import DASH, day, esc, link, money, table_html, words

__all__ = ["plan_name", "plan_words", "card_words", "payment_method_words", "balance_words", "TimelineEntry",
           "timeline", "customer_page_html"]

_INTERVALS = {"day": "day", "week": "week", "month": "month", "year": "year"}


def _every(sub: SubscriptionRow) -> str:
    unit = _INTERVALS.get(sub.interval, sub.interval or "period")
    return f"{sub.interval_count} {unit}s" if sub.interval_count > 1 else unit


def plan_words(snapshot: CaseSnapshot, sub: SubscriptionRow) -> str:
    """``Pro · $200.00 / year · renews 18 Aug 2027`` (seats, cancellation, status and a paused
    collection in words)."""
    name = plan_name(snapshot, sub.price, sub.product)
    total = money(sub.recurring_total.amount, sub.currency)
    plain = sub.terms is None or (not sub.terms.tiered and not sub.terms.divide_by and not sub.terms.metered)
    if sub.quantity > 1 and plain:
        price = f"{sub.quantity} seats × {money(sub.unit_amount, sub.currency)} = {total}"
    else:  # tiers, packages, metered: how the price reaches its amount (never "5 seats × $0.00")
        price = sub.price_text if not plain else total
    if sub.status in ("canceled", "incomplete_expired"):
        when = f"canceled {day(sub.canceled_at)}" if sub.canceled_at else sub.status.replace("_", " ")
    elif sub.cancel_at_period_end or sub.cancel_at:
        when = f"ends {day(sub.cancel_at or sub.current_period_end)} (cancellation requested)"
    elif sub.status == "trialing":
        when = f"trial, first charge {day(sub.current_period_end)}"
    else:
        when = f"renews {day(sub.current_period_end)}"
    status = "" if sub.status in ("active", "trialing", "canceled") else f" · {sub.status.replace('_', ' ')}"
    pause = pause_of(snapshot.by_id(sub.id) or {}) if sub.status not in ("canceled", "incomplete_expired") else None
    paused = f" · {dates_in_words(pause_words(pause))}" if pause else ""  # renews, but nothing is charged
    return f"{name} · {price} / {_every(sub)} · {when}{status}{paused}"


def card_words(brand: str | None, last4: str | None) -> str:
    """``visa ••4242``."""
    if not last4:
        return brand or "card"
    return f"{brand or 'card'} ••{last4}"


def payment_method_words(snapshot: CaseSnapshot, pm_id: str | None) -> str:
    """A payment method as brand and last4 when the snapshot has it, else its id."""
    if not pm_id:
        return DASH
    pm = snapshot.by_id(pm_id)
    card = (pm or {}).get("card") or {}
    if card.get("last4"):
        return card_words(card.get("brand"), card.get("last4"))
    return pm_id


def balance_words(balance: int, currency: str) -> str:
    """A customer balance: negative is credit the customer holds, positive is owed."""
    if balance < 0:
        return f"{money(-balance, currency)} credit (applied to the next invoices)"
    if balance > 0:
        return f"{money(balance, currency)} owed (added to the next invoice)"
    return "no balance"


@dataclass(frozen=True)
class TimelineEntry:
    """One dated thing that happened to the customer's billing."""

    at: int
    what: str
    amount: str
    obj: str | None
    detail: str = ""


def _sub_names(snapshot: CaseSnapshot, summary: IdentitySummary) -> dict[str, str]:
    return {s.id: plan_name(snapshot, s.price, s.product) for s in summary.subscriptions}


def timeline(snapshot: CaseSnapshot, summary: IdentitySummary) -> list[TimelineEntry]:
    """Charges, invoices, failures, refunds, credit notes, disputes, plan and seat changes and
    cancellations, newest first."""
    names = _sub_names(snapshot, summary)
    out: list[TimelineEntry] = []
    for s in summary.subscriptions:
        out.append(TimelineEntry(s.created, f"Subscribed to {names[s.id]}", DASH, s.id,
                                 f"{s.quantity} seats" if s.quantity > 1 else ""))
        if s.canceled_at and s.status in ("canceled", "incomplete_expired"):
            out.append(TimelineEntry(int(s.canceled_at), f"Canceled {names[s.id]}", DASH, s.id, ""))
        elif s.canceled_at and (s.cancel_at_period_end or s.cancel_at):
            out.append(TimelineEntry(int(s.canceled_at), f"Asked to cancel {names[s.id]}", DASH, s.id,
                                     f"ends {day(s.cancel_at or s.current_period_end)}"))
    for i in summary.invoices:
        reason = (i.billing_reason or "").replace("_", " ")
        if i.status == "open" and i.attempt_count > 0:
            what = f"Renewal payment failed ({i.attempt_count} attempt{'s' if i.attempt_count != 1 else ''})"
        elif i.billing_reason == "subscription_update":
            what = "Plan or seat change invoiced"
        else:
            what = f"Invoice {i.status}"
        sub = names.get(i.subscription or "", "")
        out.append(TimelineEntry(i.created, what, money(i.amount_due, i.currency), i.id,
                                 ", ".join(x for x in (reason, sub, i.tax_clause().strip()) if x)))
    for c in summary.charges:
        card = card_words(c.card_brand, c.card_last4) if c.card_last4 else ""
        if c.status == "failed":
            out.append(TimelineEntry(c.created, "Payment failed", money(c.amount, c.currency), c.id,
                                     ", ".join(x for x in (card, c.failure_code or "") if x)))
        else:
            out.append(TimelineEntry(c.created, "Payment" if c.status == "succeeded" else f"Payment {c.status}",
                                     money(c.amount, c.currency), c.id, card))
    for r in summary.refunds:
        out.append(TimelineEntry(int(r.get("created") or 0), "Refund", money(r.get("amount"), r.get("currency")),
                                 r.get("id"), ", ".join(x for x in (str(r.get("reason") or "").replace("_", " "),
                                                                     f"of {r.get('charge')}" if r.get("charge") else "")
                                                         if x)))
    for n in snapshot.of("credit_notes"):
        out.append(TimelineEntry(int(n.get("created") or 0), "Credit note", money(n.get("total"), n.get("currency")),
                                 n.get("id"), f"on {obj_id(n.get('invoice'))}" if n.get("invoice") else ""))
    for d in summary.disputes:
        out.append(TimelineEntry(int(d.get("created") or 0), "Dispute opened", money(d.get("amount"), d.get("currency")),
                                 d.get("id"), ", ".join(str(x).replace("_", " ") for x in (d.get("reason"), d.get("status"))
                                                        if x)))
    for e in snapshot.of("events"):
        if e.get("type") != "customer.subscription.updated":
            continue
        prev = ((e.get("data") or {}).get("previous_attributes")) or {}
        obj = ((e.get("data") or {}).get("object")) or {}
        if "items" in prev or "quantity" in prev or "plan" in prev:
            out.append(TimelineEntry(int(e.get("created") or 0), "Plan or seats changed", DASH, obj.get("id"),
                                     names.get(str(obj.get("id")), "")))
    out.sort(key=lambda t: t.at, reverse=True)
    return out


def _cards(snapshot: CaseSnapshot, customer: dict[str, Any]) -> list[str]:
    default = obj_id((customer.get("invoice_settings") or {}).get("default_payment_method"))
    cards = []
    for pm in snapshot.of("payment_methods"):
        if obj_id(pm.get("customer")) not in (None, customer.get("id")):
            continue
        card = pm.get("card") or {}
        words = card_words(card.get("brand"), card.get("last4"))
        if card.get("exp_month") and card.get("exp_year"):
            words += f", expires {int(card['exp_month']):02d}/{card['exp_year']}"
        if pm.get("id") == default:
            words += " (default)"
        cards.append(esc(words))
    return cards


def customer_page_html(snapshot: CaseSnapshot, summary: IdentitySummary, *, test_mode: bool = True) -> str:
    """The summary card and the timeline as HTML."""
    customer = next((c for c in snapshot.of("customers") if c.get("id") == summary.customer_id), {})
    cur = next((s.currency for s in summary.subscriptions), str(customer.get("currency") or "usd"))
    live = [s for s in summary.subscriptions if s.status not in ("canceled", "incomplete_expired")]
    ended = [s for s in summary.subscriptions if s not in live]
    pays = [f"<li>{esc(plan_words(snapshot, s))} {link(s.id, test_mode=test_mode)}</li>" for s in live] or [
        "<li>nothing at the moment</li>"]
    past = [f"<li>{esc(plan_words(snapshot, s))} {link(s.id, test_mode=test_mode)}</li>" for s in ended]
    others = ", ".join(link(c, test_mode=test_mode) for c in summary.other_customer_ids) or "none"
    cards = _cards(snapshot, customer) or ["no card on file"]
    parts = [
        '<div class="bnb-customer" style="border:1px solid #ccd; border-radius:6px; padding:8px 14px; '
        'margin:4px 0 10px; max-width:62em;">',
        f"<p><b>Customer</b> {link(summary.customer_id, test_mode=test_mode)} · {esc(summary.email_masked or 'no email')}"
        f"{' · since ' + day(customer.get('created')) if customer.get('created') else ''}"
        f" · case time {esc(f'{snapshot.now:%d %b %Y %H:%M} UTC')}</p>",
        f"<p><b>Pays for</b></p><ul>{''.join(pays)}</ul>",
        f"<p><b>Ended</b></p><ul>{''.join(past)}</ul>" if past else "",
        f"<p><b>Cards</b>: {'; '.join(cards)}</p>",
        f"<p><b>Balance</b>: {esc(balance_words(int(customer.get('balance') or 0), cur))}</p>",
        f"<p><b>Other customer objects with this email</b>: {others}</p>",
        "</div>",
    ]
    if summary.anomalies:
        items = "".join(
            f"<li><b>{esc(a.kind.replace('_', ' '))}</b>: {words(a.detail)} "
            f"({', '.join(link(o, test_mode=test_mode) for o in a.objects)})</li>" for a in summary.anomalies)
        parts.append(f"<h4>What looks wrong</h4><ul>{items}</ul>")
    else:
        parts.append("<p>No anomalies found.</p>")
    rows = [{"date": day(t.at), "what": esc(t.what), "amount": t.amount, "object": link(t.obj, test_mode=test_mode),
             "detail": words(t.detail) if t.detail else DASH} for t in timeline(snapshot, summary)]
    parts.append("<h4>Billing history (newest first)</h4>")
    parts.append(table_html(rows, ["date", "what", "amount", "object", "detail"], numeric=["amount"],
                            nowrap=["date", "object"])
                 if rows else "<p>No billing history.</p>")
    return "\n".join(parts)
