"""Step 4: the operator-side product gap behind the customer's pain.

A gap is a backlog item for the product team, separate from the remediation. Each gap
carries evidence lines that cite Stripe object ids, dates and amounts only (never PII),
and a portal feature is reported missing only when it matters to this case: cancellation
for a cancel complaint, payment-method update for a failed payment, plan switching for a
seat or plan complaint, invoice history for an invoice complaint (all of them when the
bucket is ``missing_self_serve`` and the complaint names none).
"""

from __future__ import annotations

from typing import Any

from .classify import Bucket, Decision
from .gapfacts import ACTIVE, GAP_KINDS, GapFacts, ProductGap, day, mentions, portal_in_use, ref_id
from .identify import IdentitySummary
from .lexicon import failure_report
from ..money import Money
from ..reading.prices import price_terms, subscription_currency, unit_minor
from ..reading.snapshot import CaseSnapshot

__all__ = ["GAP_KINDS", "ProductGap", "find_gaps", "portal_in_use"]

_PM_UPDATE_EVENTS = ("payment_method.attached", "setup_intent.succeeded")


def _portal_gaps(case: GapFacts) -> list[ProductGap]:
    if case.portal is None:
        inactive = [c.get("id") for c in case.snapshot.of("portal_configurations")]
        line = f"only inactive portal configurations: {', '.join(map(str, inactive))}" if inactive \
            else "the account has no billing_portal.configuration"
        return [ProductGap("no_portal_configuration", "Set up the Stripe customer portal", (line,),
                           "Create a billing portal configuration with cancellation, payment-method update, "
                           "invoice history and plan switching, and link it from the account settings page.", "high")]
    pid, gaps = case.portal.get("id"), []
    checks = (
        ("cancel", "subscription_cancel", "portal_missing_cancellation", "Let customers cancel in the portal",
         "Enable features.subscription_cancel (at period end, with a cancellation reason)."),
        ("payment", "payment_method_update", "portal_missing_payment_method_update",
         "Let customers update their payment method in the portal",
         "Enable features.payment_method_update so a failed renewal can be fixed by the customer."),
        ("invoices", "invoice_history", "portal_missing_invoice_history", "Show invoice history in the portal",
         "Enable features.invoice_history so customers can download invoices and receipts."),
    )
    for topic, feature, kind, title, suggestion in checks:
        if topic in case.topics and not case.feature(feature).get("enabled"):
            gaps.append(ProductGap(kind, title, (f"{pid}: features.{feature}.enabled is false",
                                                 f"relevant because {case.topics[topic]}"), suggestion))
    if "plan" in case.topics:
        lines = _plan_switch_lines(case, str(pid))
        if lines:
            gaps.append(ProductGap("portal_missing_plan_switching", "Let customers change plan and seats in the portal",
                                   (*lines, f"relevant because {case.topics['plan']}"),
                                   "Enable features.subscription_update with quantity and price changes for the "
                                   "customer's products, prorated."))
    return gaps


def _plan_switch_lines(case: GapFacts, pid: str) -> list[str]:
    update = case.feature("subscription_update")
    if not update.get("enabled"):
        return [f"{pid}: features.subscription_update.enabled is false"]
    lines = []
    allowed = update.get("default_allowed_updates") or []
    if "quantity" not in allowed and "price" not in allowed:
        lines.append(f"{pid}: subscription_update allows neither quantity nor price changes")
    listed = {p.get("product") for p in update.get("products") or [] if isinstance(p, dict)}
    products = {r.product for r in case.summary.active_subscriptions}
    if products - listed:
        lines.append(f"{pid}: subscription_update lists no prices for {', '.join(sorted(products - listed))}")
    return lines


def _cancellation_path(case: GapFacts) -> list[ProductGap]:
    why_cancel = case.topics.get("cancel")
    if not why_cancel or why_cancel.startswith("bucket"):  # a cancel complaint (or request), not the fallback
        return []
    if case.portal is None:
        why = "no billing portal configuration, so no self-serve cancellation"
    elif not case.feature("subscription_cancel").get("enabled"):
        why = f"{case.portal.get('id')} cannot cancel (features.subscription_cancel.enabled is false)"
    else:
        return []
    subs = ", ".join(s["id"] for s in case.active_subscriptions()) or "none active"
    return [ProductGap("no_cancellation_path", "Give customers a way to cancel without contacting support",
                       (why, f"relevant because {case.topics['cancel']}", f"subscriptions concerned: {subs}"),
                       "Add a Cancel subscription entry in the app that opens a portal session with "
                       "flow_data.type=subscription_cancel for the subscription.", "high")]


def _duplicate_guard(case: GapFacts) -> list[ProductGap]:
    lines: list[str] = []
    by_product: dict[str, list[str]] = {}
    for row in case.summary.active_subscriptions:
        by_product.setdefault(row.product, []).append(row.id)
    dup_subs = {s for ids in by_product.values() if len(ids) > 1 for s in ids}
    for product, ids in sorted(by_product.items()):
        if len(ids) > 1:
            lines.append(f"{len(ids)} active subscriptions for {product}: {', '.join(ids)}")
    for kind in ("duplicate_active_subscription", "duplicate_customer"):
        anomaly = case.anomalies.get(kind)
        if anomaly:
            dup_subs.update(o for o in anomaly.objects if o.startswith("sub_"))
            lines.append(f"anomaly {kind}: {', '.join(anomaly.objects)}")
    if case.summary.other_customer_ids and "duplicate_customer" not in case.anomalies:
        lines.append(f"customers sharing one email: {', '.join(sorted(case.customers))}")
    if not lines:
        return []
    sessions = [cs for cs in case.snapshot.of("checkout_sessions")
                if cs.get("mode") == "subscription" and ref_id(cs.get("subscription")) in dup_subs]
    if sessions:
        lines.append("subscription-mode Checkout sessions created the duplicates: "
                     + ", ".join(f"{cs['id']} -> {ref_id(cs.get('subscription'))}" for cs in sessions))
    lines.append("nothing enforced one subscription per customer (Checkout's one-subscription limit not in use)")
    return [ProductGap("no_duplicate_subscription_guard", "Prevent a second subscription to the same plan",
                       tuple(lines), "Turn on Checkout's 'limit customers to one subscription', reuse the existing "
                       "customer (pass customer= instead of customer_email), and send returning subscribers to "
                       "the portal instead of Checkout.", "high" if dup_subs else "medium")]


def _seat_explanation(case: GapFacts) -> list[ProductGap]:
    if "seats" not in case.topics:
        return []
    lines = []
    for sub in case.active_subscriptions():
        for item in (sub.get("items") or {}).get("data") or []:
            price = item.get("price") if isinstance(item.get("price"), dict) else {}
            qty = int(item.get("quantity") or 1)
            # in the subscription's currency: a multi-currency price bills at its option there
            terms = price_terms(price, subscription_currency(sub))
            if qty > 1 and not terms.tiered and not terms.metered and terms.known:
                unit = Money(unit_minor(terms, qty), terms.currency)
                interval = (price.get("recurring") or {}).get("interval", "period")
                per = f" in packages of {terms.divide_by}" if terms.divide_by and terms.divide_by > 1 else ""
                lines.append(f"{sub['id']} item {item.get('id')}: {qty} seats x {unit}{per} per {interval} "
                             f"= {Money(terms.amount(qty), terms.currency)} on {price.get('id')}")
    if not lines:
        return []
    return [ProductGap("no_seat_explanation", "Explain seat billing where customers see the charge",
                       (*lines, f"relevant because {case.topics['seats']}"),
                       "Show seats in use vs. seats billed, the per-seat price and the next invoice preview in the "
                       "app's billing page and on the invoice line description.")]


def _usage_visibility(case: GapFacts) -> list[ProductGap]:
    word = mentions("usage", case.complaint)
    if not word:
        return []
    subs = ", ".join(s["id"] for s in case.active_subscriptions()) or "none active"
    return [ProductGap("no_usage_visibility", "Show usage and rate limits to customers",
                       (f"the complaint mentions '{word}'", f"subscriptions concerned: {subs}"),
                       "Show the plan's limits, current usage and when limits reset in the app, and warn before "
                       "a limit is reached.")]


def _dunning(case: GapFacts) -> list[ProductGap]:
    snap, lines = case.snapshot, []
    stale = case.anomalies.get("subscription_payment_method_stale")
    failed_ids = set(case.anomalies["failed_renewal"].objects) if "failed_renewal" in case.anomalies else set()
    for inv in case.summary.invoices:
        failed = inv.id in failed_ids or (inv.billing_reason == "subscription_cycle" and inv.attempt_count >= 1
                                          and not inv.is_invoiced)  # a sent invoice is paid by the customer, never charged
        if not failed or inv.status not in ("open", "uncollectible") or not inv.subscription:
            continue
        rows = sorted((c for c in case.summary.charges if c.invoice == inv.id and c.status == "failed"), key=lambda c: c.created)
        charges = [snap.by_id(c.id) or {} for c in rows]
        failed_at = charges[-1].get("created") if charges else inv.created
        failing_pm = ref_id(charges[-1].get("payment_method")) if charges else None
        sub = snap.by_id(inv.subscription) or {}
        customer = snap.by_id(inv.customer) or {}
        effective = ref_id(sub.get("default_payment_method")) or ref_id(
            (customer.get("invoice_settings") or {}).get("default_payment_method")) or ref_id(customer.get("default_source"))
        # the renewal is dated by its invoice everywhere (table, anomaly, follow-up); the attempt is named as such
        head = f"{inv.id}: renewal of {inv.subscription} (invoice of {day(inv.created)}) failed, " \
               f"last attempt {day(failed_at)} ({inv.attempt_count} attempts), still {inv.status}"
        if failing_pm and effective:
            if effective != failing_pm:
                continue
            lines += [head, f"{inv.subscription} still charges {effective}, the payment method that failed"]
        elif (stale and inv.subscription in stale.objects) or not _updated_after(case, inv.subscription, failed_at or 0):
            lines += [head, f"no payment-method update for {inv.subscription} or its customer after the failure "
                            f"({len(snap.of('events'))} events checked)"]
    if stale:
        lines.append(f"anomaly subscription_payment_method_stale: {', '.join(stale.objects)}")
    if not any(line.startswith("in_") for line in lines):
        return []
    return [ProductGap("dunning_never_reached_customer", "Make failed-payment emails reach the customer",
                       tuple(dict.fromkeys(lines)),
                       "Turn on Stripe's failed-payment emails with a link to update the payment method, show an "
                       "in-app banner while a subscription is past_due, and retry after the card is updated.", "high")]


#: Stripe expires a subscription whose first invoice stays unpaid 23 hours after it was created.
_INCOMPLETE_TTL = 23 * 3600


def _checkout_recovery(case: GapFacts) -> list[ProductGap]:
    """A first payment that failed (or a checkout left open or expired) with no way to finish
    it: the customer is left asking whether they have an account at all."""
    anomaly = case.anomalies.get("incomplete_checkout")
    if anomaly is None or "payment" not in case.topics:
        return []
    lines: list[str] = []
    for sub in case.summary.subscriptions:
        if sub.id not in anomaly.objects:
            continue
        invoices = [i for i in case.summary.invoices if i.subscription == sub.id]
        codes = sorted({c.failure_code for c in case.summary.charges
                        if c.status == "failed" and c.failure_code and c.invoice in {i.id for i in invoices}})
        head = f"{sub.id}: first payment failed" + (f" ({', '.join(codes)})" if codes else "") + \
               f", subscription {sub.status} since {day(sub.created)}"
        unpaid = next((i for i in invoices if i.status == "open"), None)
        if sub.status == "incomplete" and unpaid is not None:
            owed = Money(unpaid.amount_due - unpaid.amount_paid, unpaid.currency)
            head += (f"; Stripe expires it on {day(sub.created + _INCOMPLETE_TTL)} unless open invoice "
                     f"{unpaid.id} ({owed}) is paid")
        lines.append(head)
    for cs in case.snapshot.of("checkout_sessions"):
        if cs.get("id") in anomaly.objects:
            lines.append(f"{cs['id']}: checkout session {cs.get('status')} ({day(cs.get('created'))}), never completed")
    if not lines:
        return []
    live = [s.id for s in case.summary.active_subscriptions]
    lines.append(f"live subscriptions now: {', '.join(live) if live else 'none'}")
    return [ProductGap("checkout_no_way_to_finish", "Let a declined checkout finish paying the same subscription",
                       tuple(lines), "When a first payment fails, show the decline reason and a link that pays the "
                       "same subscription's open invoice (Stripe's hosted invoice page, with 3-D Secure when asked) "
                       "instead of starting a new checkout; email the customer before Stripe expires it after 23 "
                       "hours, and tell them plainly whether they have an account.")]


def _updated_after(case: GapFacts, subscription: str, since: int) -> bool:
    for event in case.snapshot.of("events"):
        if (event.get("created") or 0) <= since:
            continue
        obj = (event.get("data") or {}).get("object") or {}
        previous = (event.get("data") or {}).get("previous_attributes") or {}
        kind = event.get("type")
        if kind in _PM_UPDATE_EVENTS and ref_id(obj.get("customer")) in case.customers:
            return True
        if kind == "customer.subscription.updated" and obj.get("id") == subscription and "default_payment_method" in previous:
            return True
        if kind == "customer.updated" and obj.get("id") in case.customers and "invoice_settings" in previous:
            return True
    return False


def _product_bug(case: GapFacts, recurrence: int | None) -> list[ProductGap]:
    """The skill's "refund, apologize, log product issue": a bug item for the product team."""
    if case.bucket is not Bucket.PRODUCT_FAILURE:
        return []
    subject, words, since = failure_report(case.complaint)
    subs = ", ".join(s["id"] for s in case.active_subscriptions()) or "none active"
    lines = [f"what failed: {subject}" + (f" (the complaint says '{words}')" if words else ""),
             f"since: {since or 'not stated in the complaint'}",
             f"{recurrence} product-failure case(s) this month in the casebook, this one included"
             if recurrence is not None else "cases this month: casebook not consulted",
             f"case customer {case.summary.customer_id}; subscriptions: {subs}"]
    title = f"Product bug: {subject}" if subject != "not named in the complaint" else "Product bug reported by a customer"
    return [ProductGap("product_bug", title[:120], tuple(lines),
                       "Reproduce and fix it; link every case that reports it, and tell those customers when it is "
                       "fixed.", "high" if (recurrence or 0) >= 3 else "medium", "product engineering")]


def find_gaps(snapshot: CaseSnapshot, summary: IdentitySummary, decision: Decision, complaint: str = "",
              recurrence: int | None = None) -> list[ProductGap]:
    """The product gaps behind this case, one per kind, in :data:`GAP_KINDS` order.

    ``recurrence``: how many product-failure cases the casebook holds this month (this one
    included), for the product-bug item; None when the casebook was not read.
    """
    case = GapFacts(snapshot, summary, decision, complaint)
    found = [*_portal_gaps(case), *_duplicate_guard(case), *_seat_explanation(case), *_usage_visibility(case),
             *_dunning(case), *_checkout_recovery(case), *_cancellation_path(case), *_product_bug(case, recurrence)]
    unique = {g.kind: g for g in reversed(found)}
    return sorted(unique.values(), key=lambda g: GAP_KINDS.index(g.kind))
