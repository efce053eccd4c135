"""One customer, several subscriptions to one product: a deliberate team purchase or an accident?

Why apart from the classifier: the answer rests on billing facts only (who each
subscription names, per-seat prices, a business customer, how far apart they were
bought), and the same facts serve the evidence lists.
"""

from __future__ import annotations

from typing import Any

from .anomalies import apart
from .identify import SubscriptionRow
from .state import StateEvidence
from ..money import Money
from ..reading.snapshot import CaseSnapshot

__all__ = ["business_hint", "per_seat", "plan_switch", "team_or_duplicate"]

_BUSINESS_KEYS = ("company", "company_name", "business", "business_name", "organization", "org", "vat", "tax_id")
_DAY = 86400


def per_seat(s: SubscriptionRow, products: dict[str, dict[str, Any]]) -> bool:
    meta = {**(products.get(s.product, {}).get("metadata") or {}), **s.price_metadata}
    return s.seat_hint or str(meta.get("per_seat", "")).lower() in ("true", "1", "yes")


def business_hint(snapshot: CaseSnapshot, customer_id: str) -> str | None:
    cust = next((c for c in snapshot.of("customers") if c.get("id") == customer_id), {})
    meta = {k.lower(): v for k, v in (cust.get("metadata") or {}).items()}
    key = next((k for k in _BUSINESS_KEYS if meta.get(k)), None)
    if key:
        return f"customer metadata names a business ({key})"
    if cust.get("tax_ids") and ((cust.get("tax_ids") or {}).get("data")):
        return "customer has tax ids"
    return None


def team_or_duplicate(snapshot: CaseSnapshot, group: list[SubscriptionRow], products: dict[str, dict[str, Any]],
                       state: StateEvidence) -> tuple[bool, list[str], list[str]]:
    """(deliberate?, facts for a deliberate team purchase, facts for an accidental duplicate)."""
    team, dup = [], []
    named = {s.id: state.holders[s.id] for s in group if s.id in state.holders}
    people = set(named.values())
    if len(people) > 1:
        team.append(f"subscription metadata names {len(people)} different users/seats: "
                    + ", ".join(f"{sid} {who.split('=')[0]}" for sid, who in sorted(named.items())))
    gap = max(s.created for s in group) - min(s.created for s in group)
    seat_priced = [s.id for s in group if per_seat(s, products)]
    multi = [s.id for s in group if s.quantity > 1]
    business = next((b for b in (business_hint(snapshot, s.customer) for s in group) if b), None)
    if seat_priced:
        team.append(f"per-seat price on {', '.join(seat_priced)}")
    if multi:
        team.append(f"quantity > 1 on {', '.join(multi)}")
    if business:
        team.append(business)
    if gap < 3600:
        dup.append(f"created {apart(gap)} (an accidental second purchase looks like this)")
    elif gap > _DAY:
        team.append(f"created {gap // _DAY} days apart")
    if not multi:
        dup.append("quantity 1 on each subscription")
    if len({s.customer for s in group}) > 1:
        dup.append("the subscriptions sit on separate customer objects for one email (a second sign-up)")
    if len({s.price for s in group}) == 1:
        dup.append("same price on each")
    deliberate = len(people) > 1 or (bool(seat_priced or business or multi) and gap > _DAY)
    return deliberate, team, dup


def _billed(s: SubscriptionRow) -> str:
    every = f"every {s.interval_count} {s.interval}s" if s.interval_count > 1 else f"per {s.interval}"
    return f"{s.recurring_total.format()} {every}"


def plan_switch(group: list[SubscriptionRow]) -> tuple[list[str], list[str]]:
    """(facts for a plan switch, facts against an accidental duplicate) of one product's live subscriptions.

    Why: an accidental second purchase repeats the first one's price; one product on two prices or
    intervals (monthly + annual) is a move to another plan whose old subscription was never ended,
    and the plan treats it so (keep one, refund what the other charged since the switch). Empty when
    every subscription is on one price.
    """
    terms = {(s.price, s.interval, s.interval_count, s.unit_amount, s.currency) for s in group}
    if len(terms) < 2:
        return [], []
    ordered = sorted(group, key=lambda s: (s.created, s.id))
    each = "; ".join(f"{s.id} {_billed(s)}" for s in ordered)
    intervals = list(dict.fromkeys(f"{s.interval_count} {s.interval}s" if s.interval_count > 1 else s.interval
                                   for s in ordered))
    prices = list(dict.fromkeys(Money(s.unit_amount, s.currency).format() for s in ordered))
    differ = (f"intervals ({' and '.join(intervals)})" if len(intervals) > 1
              else f"prices ({' and '.join(prices)})" if len(prices) > 1 else "prices (different price ids)")
    return ([f"one product on different {differ}: {each} (a plan switch whose old subscription was never "
             "ended looks like this: keep one, refund what the other charged since the switch)"],
            [f"different {differ}: not an accidental second purchase of the same plan, which repeats its price"])
