"""The demo account's stories: catalogue, people, complaints, timelines, expected answers.

Each story is a person, what they wrote, what the toolkit should conclude, and a short
script of what happened to them on their own test clock (fixed UTC times, so every
seed is the same). :mod:`billing_nb.demo.seed` runs the scripts against the Stripe API; the cast itself
(people, complaints, expected answers) is in :mod:`billing_nb.demo.cast`, the types in :mod:`billing_nb.demo.model`.
The complaints are deliberately full of distinctive PII (names, emails, phones, street
addresses): the toolkit must mask every piece of it in saved records.
"""

from __future__ import annotations

import stripe

from .model import DEMO_NOW, DEMO_PRODUCTS, DemoCustomer, DemoPrice, DemoProduct, Person, Script, StorySpec, p, ts
from .run import StoryRun

__all__ = [
    "DemoCustomer", "DemoPrice", "DemoProduct", "Person", "StorySpec", "DEMO_PRODUCTS", "DEMO_NOW", "ts", "p", "monthly",
    # the story scripts, one per story, used by billing_nb.demo.cast
    "dup_personal", "dup_customer", "team", "failed_renewal", "stale_card", "incomplete_checkout",
    "annual_refund", "annual_upgrade", "renewal_regret",
]


# ----- what happened to each customer (times UTC) -------------------------------------------
def dup_personal(r: StoryRun) -> DemoCustomer:
    r.at(ts(2026, 11, 2, 9))
    cus = r.customer("customer")
    r.card(cus, "pm_card_visa", "card")
    first = r.subscribe(cus, "subscription_first", "pro_monthly")
    r.at(ts(2026, 11, 2, 9, 7))  # a second checkout, seven minutes later
    second = r.subscribe(cus, "subscription_second", "pro_monthly")
    r.at(DEMO_NOW)
    return r.result(cus, objects={"subscription": first.id, "duplicate_subscription": second.id})


def dup_customer(r: StoryRun) -> DemoCustomer:
    r.at(ts(2026, 10, 1, 10))
    web = r.customer("customer_web")
    r.card(web, "pm_card_visa", "card_web")
    s1 = r.subscribe(web, "subscription_web", "pro_monthly")
    r.at(ts(2026, 10, 19, 15, 30))  # signed up again from the phone app: same email, new customer
    ios = r.customer("customer_ios", {"signup_source": "ios"})
    r.card(ios, "pm_card_mastercard", "card_ios")
    s2 = r.subscribe(ios, "subscription_ios", "pro_monthly")
    r.at(DEMO_NOW)
    # primary = the most recently active customer object, as the provider orders an email's customers
    return r.result(ios, others=(web.id,), objects={"subscription": s1.id, "duplicate_subscription": s2.id})


def team(r: StoryRun) -> DemoCustomer:
    r.at(ts(2026, 8, 20, 13))
    cus = r.customer("customer")
    r.card(cus, "pm_card_visa", "card")
    sub = r.subscribe(cus, "subscription", "team_seat_monthly", quantity=5, extra_meta={
        "team": "Lanternfish Analytics", "seat_users": "pvellacott,okarimi,lwen,gstrand,tnovak"})
    r.at(DEMO_NOW)
    return r.result(cus, objects={"subscription": sub.id})


def failed_renewal(r: StoryRun) -> DemoCustomer:
    r.at(ts(2026, 6, 17, 9))
    cus = r.customer("customer")
    r.card(cus, "pm_card_visa", "card")
    sub = r.subscribe(cus, "subscription", "pro_monthly")
    r.at(ts(2026, 10, 19, 9))  # paid 06-17 and four renewals (07-17 .. 10-17); then the card goes bad
    bad = r.card(cus, "pm_card_chargeCustomerFail", "card_failing")
    r.pin_card(sub, bad, "pin_failing")
    r.at(DEMO_NOW)  # the 11-17 renewal fails, a retry fails: past_due
    return r.result(cus, objects={"subscription": sub.id, "failing_payment_method": bad})


def stale_card(r: StoryRun) -> DemoCustomer:
    r.at(ts(2026, 8, 16, 11))
    cus = r.customer("customer")
    visa = r.card(cus, "pm_card_visa", "card")
    sub = r.subscribe(cus, "subscription", "pro_monthly", pin=visa)
    r.at(ts(2026, 10, 18, 11))  # renewals 09-16 and 10-16 paid; the pinned card is replaced by one that fails
    bad = r.card(cus, "pm_card_chargeCustomerFail", "card_failing")
    r.pin_card(sub, bad, "pin_failing")
    r.at(ts(2026, 11, 17, 14))  # the 11-16 renewal failed; the customer adds a new card (customer default only)
    new = r.card(cus, "pm_card_visa", "card_new")
    r.at(DEMO_NOW)  # retries still go to the subscription's pinned failing card
    return r.result(cus, lookup=sub.id, objects={"subscription": sub.id, "stale_payment_method": bad,
                                                 "customer_default_payment_method": new})


def incomplete_checkout(r: StoryRun) -> DemoCustomer:
    r.at(ts(2026, 11, 20, 9, 40))
    cus = r.customer("customer")
    session = r.expired_checkout(cus, "checkout", "pro_monthly")
    r.at(ts(2026, 11, 20, 10, 15))  # < 23 h before DEMO_NOW: still incomplete, not incomplete_expired
    sub = r.subscribe(cus, "subscription", "pro_monthly", incomplete=True)
    pi = r.decline_first_payment(cus, "pm_card_chargeDeclined", "first_payment")
    r.at(DEMO_NOW)
    return r.result(cus, objects={"subscription": sub.id, "checkout_session": session, "payment_intent": pi})


def _annual(r: StoryRun, start: int, lookup_key: str = "pro_annual") -> tuple[stripe.Customer, stripe.Subscription]:
    r.at(start)
    cus = r.customer("customer")
    r.card(cus, "pm_card_visa", "card")
    return cus, r.subscribe(cus, "subscription", lookup_key)


def annual_refund(r: StoryRun) -> DemoCustomer:
    cus, sub = _annual(r, ts(2026, 8, 18, 16))
    r.at(DEMO_NOW)  # three months into the year
    inv = r.invoice(sub, "subscription_create")
    return r.result(cus, lookup=inv, objects={"subscription": sub.id, "invoice": inv})


def annual_upgrade(r: StoryRun) -> DemoCustomer:
    cus, sub = _annual(r, ts(2026, 3, 9, 10))
    r.at(ts(2026, 9, 9, 10))  # mid-year: moved to Pro Plus, proration invoiced and charged at once
    r.change_price(sub, "pro_plus_annual", "upgrade")
    r.at(DEMO_NOW)
    inv = r.invoice(sub, "subscription_update")
    return r.result(cus, lookup=inv, objects={"subscription": sub.id, "proration_invoice": inv})


def renewal_regret(r: StoryRun) -> DemoCustomer:
    cus, sub = _annual(r, ts(2025, 11, 10, 15))
    r.at(ts(2026, 11, 12, 15))  # renewed 2026-11-10; two days later support sets cancel at period end
    r.cancel_at_period_end(sub, "cancel_request", "unused",
                           "Emailed support to cancel: could not find a cancel option before the renewal.")
    r.at(DEMO_NOW)
    return r.result(cus, objects={"subscription": sub.id, "renewal_invoice": r.invoice(sub, "subscription_cycle")})


def monthly(start: int, token: str = "pm_card_visa", charge_lookup: bool = False,
             sub_lookup: bool = False) -> Script:
    """A plain monthly Pro customer from ``start`` to DEMO_NOW (healthy unless the card says otherwise)."""
    def script(r: StoryRun) -> DemoCustomer:
        r.at(start)
        cus = r.customer("customer")
        r.card(cus, token, "card")
        sub = r.subscribe(cus, "subscription", "pro_monthly")
        r.at(DEMO_NOW)
        charge = r.charge(cus) if charge_lookup else None
        lookup = charge or (sub.id if sub_lookup else None)
        return r.result(cus, lookup=lookup, objects={"subscription": sub.id, **({"charge": charge} if charge else {})})
    return script
