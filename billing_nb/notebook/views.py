"""Each step of a case as HTML a person can read, and its display.

``*_html(case)`` returns one step as an HTML string (escaped: :mod:`.format`); the
``show_*`` functions display it. Unattended runs display them straight into their cells;
the JupyterLab handlers put the same HTML into each step's cell through a display id,
so a saved, closed and reopened notebook still shows steps 3-5 (widget views are not
saved; these static outputs are).
"""

from __future__ import annotations

from typing import Any

from IPython.display import HTML, Markdown, display

from ..actions import Action
from ..analysis.anomalies import pause_of, pause_words
from ..analysis.terms import ContractShape
from ..records.case import Case
from ..records.handoff import bucket_contradictions
from ..records.masked import masked_case
from ..records.markup import escape_html, math_inert_html, math_inert_md
from .format import DASH, day, days, esc, link, money, money_of, table_html, words
from .page import customer_page_html, payment_method_words, plan_name

_F = Any


def _shown_as_written(render: _F) -> _F:
    """A rendered step of the case as its record holds it (:func:`masked_case`: the live case
    keeps the snapshot in clear) in which MathJax typesets nothing: JupyterLab typesets a ``$...$``
    pair in HTML output as LaTeX, so two amounts in one table would turn into math (records.markup)."""
    def wrapped(case: Case, *args: Any, **kwargs: Any) -> str:
        return math_inert_html(render(masked_case(case), *args, **kwargs))
    wrapped.__doc__, wrapped.__name__ = render.__doc__, render.__name__
    return wrapped

__all__ = ["identity_html", "classification_html", "decision_html", "act_html", "gaps_html", "handoff_markdown",
           "followup_html", "describe_actions", "show_identity", "show_classification", "show_decision", "show_act",
           "show_gaps", "show_handoff"]


def _test_mode(case: Case) -> bool:
    return not case.settings.is_live_key


@_shown_as_written
def identity_html(case: Case) -> str:
    """Step 1: the customer page, with what the read left out and the credit already held."""
    s = case.summary
    notes = []
    if s.truncated:
        notes.append("<p><b>Incomplete read:</b> " + "; ".join(
            f"{esc(str(t['list']))} stopped after {int(t['read'])} objects" for t in s.truncated)
            + ". Stripe had more; older objects are not in this case.</p>")
    held = s.credits.credit_held
    if held is not None:
        notes.append(f"<p><b>Balance credit:</b> the customer already holds {money_of(held)} "
                     "(refund options are net of it).</p>")
    return customer_page_html(case.snapshot, s, test_mode=_test_mode(case)) + "".join(notes)


@_shown_as_written
def classification_html(case: Case) -> str:
    c = case.classification
    parts = [f"<p><b>Suggested bucket:</b> <code>{esc(c.suggested.value)}</code> (confidence {c.confidence:.0%})</p>"]
    parts.append("<p><b>Evidence</b></p><ul>" + "".join(f"<li>{words(e)}</li>" for e in c.evidence) + "</ul>"
                 if c.evidence else "<p>No evidence recorded.</p>")
    if c.against:
        parts.append("<p><b>Against</b></p><ul>" + "".join(f"<li>{words(e)}</li>" for e in c.against) + "</ul>")
    return "\n".join(parts)


@_shown_as_written
def decision_html(case: Case) -> str:
    d = case.decision
    if d.pending or d.bucket is None:
        return ("<p><b>Decision pending</b>: no bucket confirmed. Nothing will be planned to move money; "
                "the case is recorded as <code>pending</code>.</p>")
    out = f"<p><b>Decision:</b> <code>{esc(d.bucket.value)}</code>, confirmed by {esc(d.confirmed_by)}.</p>"
    contradicts = bucket_contradictions(d.bucket.value, case.summary.billing_state())
    if contradicts:  # the handoff's DECISION says the same, from the same facts
        out += ("<p><b>The confirmed bucket contradicts the evidence:</b> " + words("; ".join(contradicts))
                + ". The follow-up states none of the bucket's usual facts; check the bucket before sending it.</p>")
    return out


def _shape_rows(case: Case, shapes: list[ContractShape]) -> list[dict[str, str]]:
    tm = _test_mode(case)
    rows = []
    for s in shapes:
        items = "; ".join(
            f"{plan_name(case.snapshot, i.price, i.product)} × {i.quantity}"
            f"{' seats' if i.per_seat or i.quantity > 1 else ''} at "
            + (money_of(i.unit_amount) if i.terms is None or not (i.terms.tiered or i.terms.divide_by or i.terms.metered)
               else i.describe()) for i in s.items)
        every = ", ".join(sorted({f"{i.interval_count} {i.interval}s" if i.interval_count > 1 else i.interval
                                  for i in s.items}))
        kinds = [w for w, on in (("annual", s.is_annual), ("team", s.is_team), ("prorated", s.is_prorated)) if on]
        ends = (f"ends {day(s.cancel_at or s.period_end)}" if s.cancel_at_period_end or s.cancel_at
                else f"renews {day(s.period_end)}")
        if s.schedule is not None and s.schedule.managing:  # what the schedule changes, and its end
            ends += f"; schedule {s.schedule.schedule_id}: " + "; ".join(s.schedule.lines())
        pause = pause_of(case.snapshot.by_id(s.subscription_id) or {}) if s.status in ("active", "trialing",
                                                                                       "past_due") else None
        if pause:  # it renews, but nothing is charged: the refund options' "paid" is not a live charge
            ends += f"; {pause_words(pause)}"
        rows.append({
            "subscription": link(s.subscription_id, test_mode=tm), "status": esc(s.status.replace("_", " ")),
            "items": esc(items) or DASH, "every": esc(every) or DASH,
            "period": f"{day(s.period_start)} – {day(s.period_end)}", "next": words(ends),
            "per period": money_of(s.recurring_total), "MRR": money_of(s.mrr),
            "last invoice": link(s.latest_invoice, test_mode=tm),
            "last paid": money_of(s.latest_invoice_paid) if s.latest_invoice_paid else DASH,
            "balance": money_of(s.customer_balance), "kind": esc(", ".join(kinds)) or DASH,
            "trial ends": day(s.trial_end), "discounts": esc(", ".join(s.discounts)) or DASH,
        })
    return rows


_OPTION_NAMES = {"cancel_at_period_end": "cancel at period end", "cancel_now_refund": "cancel now and refund",
                 "refund_one_off_charge": "refund one-off charge",
                 "credit_note_unused": "credit note for unused time", "downgrade_prorations": "downgrade",
                 "out_of_band_unused": "give the unused time back outside Stripe"}


def _option_explanation(o: Any) -> str:
    """The option in words; the unused time in days (the amount is still computed to the second)."""
    details = o.details or {}
    if "unused_seconds" in details and details.get("period_seconds"):
        left = (f"{days(int(details['unused_seconds']))} of {days(int(details['period_seconds']))} "
                f"of the period remain")
        paid = money(int(details.get("paid_for_period") or 0), o.amount.currency)
        inv = o.invoice or "the last invoice"
        if o.kind == "cancel_now_refund":
            return f"Cancel now and refund the unused time: {left}; {paid} paid on {inv}."
        if o.kind == "credit_note_unused":
            return f"Credit note on paid invoice {inv} refunding the unused time ({left})."
        if o.kind == "out_of_band_unused":
            return (f"Credit note with out_of_band_amount on {inv}, paid outside Stripe: the unused time ({left}) "
                    "goes back outside Stripe (bank transfer or as agreed), no card is refunded.")
    if "access_until" in details:
        return f"Cancel at period end ({day(details['access_until'])}): no refund, access kept until then."
    return str(o.explanation)


def _option_rows(case: Case) -> list[dict[str, str]]:
    tm = _test_mode(case)
    return [{
        "option": esc(_OPTION_NAMES.get(o.kind, o.kind)), "subscription": link(o.subscription_id, test_mode=tm),
        "amount": money_of(o.amount),
        "Stripe's figure": money(o.stripe_amount, o.amount.currency) if o.stripe_amount is not None else DASH,
        "check": ("<b>MISMATCH</b>" if o.mismatch else "matches Stripe") if o.stripe_amount is not None else "not previewed",
        "charge": link(o.charge, test_mode=tm), "explanation": words(_option_explanation(o)),
    } for o in case.options]


def _plan_rows(case: Case, actions: list[Action]) -> list[dict[str, str]]:
    return [{
        "step": str(a.step), "action": f"<code>{esc(a.id)}</code>", "what": words(a.preview),
        "amount": money_of(a.amount) if a.amount else DASH,
        "reversible": "yes" if a.reversible else "<b>NO</b>", "moves money": "yes" if a.moves_money else "no",
        "customer sees it": "yes" if a.customer_visible else "no",
    } for a in actions]


@_shown_as_written
def act_html(case: Case) -> str:
    """Step 3: the contract, the refund options, the plan and what was executed."""
    parts = ["<h4>Contract shape</h4>"]
    shapes = _shape_rows(case, case.shapes)
    parts.append(table_html(shapes, numeric=["per period", "MRR", "last paid", "balance"],
                            nowrap=["subscription", "period", "next", "last invoice"]) if shapes
                 else "<p>No subscriptions.</p>")
    if case.options:
        parts.append("<h4>Refund options (ours beside Stripe's)</h4>")
        parts.append(table_html(_option_rows(case), numeric=["amount", "Stripe's figure"],
                                nowrap=["option", "subscription", "charge"]))
        if any(o.mismatch for o in case.options):
            parts.append("<p><b>Mismatch:</b> our figure and Stripe's differ; do not refund until explained.</p>")
    plan = case.plan
    actions = list(plan.actions) if plan else []
    # the heading says what the order is; it never claims "reversible first" over an irreversible row
    safest_first = all(a.reversible for a in actions[:1])
    parts.append("<h4>Plan (safest first)</h4>" if actions and safest_first else "<h4>Plan (in step order)</h4>")
    if not actions:
        parts.append("<p>No actions planned.</p>" if not case.decision.pending
                     else "<p>No actions planned: the bucket is not confirmed yet.</p>")
    else:
        parts.append(table_html(_plan_rows(case, actions), numeric=["amount"], nowrap=["action"]))
    for note in (plan.notes if plan else []):
        parts.append(f"<blockquote>{words(note)}</blockquote>")
    if case.executed:
        parts.append("<h4>Executed</h4>")
        parts.append(table_html([{
            "action": f"<code>{esc(e.action_id)}</code>", "status": esc(e.status),
            "Stripe object": link(e.stripe_object, test_mode=_test_mode(case)), "request id": esc(e.request_id),
            "error": words(e.error) if e.error else DASH,
        } for e in case.executed]))
    elif actions:
        parts.append("<p>Dry run: nothing executed (no approval).</p>")
    return "\n".join(parts)


def describe_actions(case: Case, action_ids: list[str]) -> str:
    """What Execute will do, in one line: ``refund $148.58 to visa ••4242 and cancel Pro now; access ends today``."""
    if case.plan is None:
        return "nothing"
    raw, case = case.plan, masked_case(case)
    assert case.plan is not None
    # the ids are the live plan's (what Execute sends); the words are the masked copy's
    shown = dict(zip(raw.ids, case.plan.actions, strict=True))
    snap = case.snapshot
    subs = {s.id: s for s in case.summary.subscriptions}
    charges = {c.id: c for c in case.summary.charges}
    said: list[str] = []
    after: list[str] = []
    order = {"refund": 0, "credit_note": 0, "cancel": 1, "quantity": 1, "void": 1, "retry": 2, "default_pm": 2}
    chosen = sorted((shown[raw.get(aid).id] for aid in action_ids), key=lambda a: order.get(a.kind.value, 3))
    for a in chosen:
        amount = money_of(a.amount) if a.amount else ""
        sub = subs.get(a.target)
        name = plan_name(snap, sub.price, sub.product) if sub else a.target
        kind = a.kind.value
        if kind == "refund":
            ch = charges.get(a.target)
            to = f" to {payment_method_words(snap, ch.payment_method)}" if ch and ch.payment_method else ""
            if ch and ch.card_last4:
                to = f" to {ch.card_brand or 'card'} ••{ch.card_last4}"
            said.append(f"refund {amount}{to}")
        elif kind == "credit_note":
            ch = charges.get(str(a.params.get("charge") or ""))
            to = f" to {ch.card_brand or 'card'} ••{ch.card_last4}" if ch and ch.card_last4 else ""
            said.append(f"refund {amount}{to} by a credit note on invoice {a.target}")
        elif kind == "cancel" and a.params.get("mode") == "now":
            said.append(f"cancel {name} now")
            after.append("access ends today")
        elif kind == "cancel":
            said.append(f"cancel {name} at period end")
            if sub:
                after.append(f"access until {day(sub.current_period_end)}")
        elif kind == "quantity":
            said.append(f"change {name} from {a.params.get('old')} to {a.params.get('quantity')} seats")
        elif kind == "retry":
            said.append(f"retry the payment of invoice {a.target}" + (f" ({amount})" if amount else ""))
        elif kind == "default_pm":
            said.append(f"make {payment_method_words(snap, str(a.params.get('payment_method')))} the default card of {name}")
        elif kind == "void":
            said.append(f"void invoice {a.target}")
        elif kind == "portal":
            said.append("create a billing portal link for the customer")
        elif kind == "document":
            said.append(f"note the case on {a.target}")
        else:
            said.append(a.preview)
    if not said:
        return "nothing"
    text = said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]
    return text + ("; " + ", ".join(after) if after else "")


@_shown_as_written
def gaps_html(case: Case) -> str:
    if not case.gaps:
        return "<p>No operator-side product gap identified.</p>"
    items = []
    for g in case.gaps:
        ev = "".join(f"<li>{words(e)}</li>" for e in g.evidence)
        items.append(f"<li><b>{esc(g.title)}</b> (<code>{esc(g.kind)}</code>, {esc(g.severity)})"
                     f"<ul>{ev}<li>Suggestion: {words(g.suggestion)}</li></ul></li>")
    return f"<ul>{''.join(items)}</ul>"


def followup_html(text: str) -> str:
    """The follow-up draft as a block to copy (a <pre>, so nothing reflows or renders)."""
    return ('<p><b>Follow-up to send</b> (select the block and copy):</p>'
            '<pre class="bnb-followup" style="white-space:pre-wrap; border:1px solid #ccd; padding:8px; '
            f'max-width:62em; user-select:all;">{escape_html(text.strip())}</pre>')


def handoff_markdown(case: Case) -> str:
    """The handoff as the notebook shows it (its ``$`` as written: records.markup)."""
    return math_inert_md(str(case.record()["handoff"]))


def show_identity(case: Case) -> None:
    display(HTML(identity_html(case)))


def show_classification(case: Case) -> None:
    display(HTML(classification_html(case)))


def show_decision(case: Case) -> None:
    display(HTML(decision_html(case)))


def show_act(case: Case) -> None:
    display(HTML(act_html(case)))


def show_gaps(case: Case) -> None:
    display(HTML(gaps_html(case)))


def show_handoff(case: Case) -> None:
    rec = case.record()
    display(Markdown(math_inert_md(rec["handoff"])))
    if rec.get("followup"):
        display(HTML(followup_html(rec["followup"])))
