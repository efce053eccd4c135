"""The demo account's stories: catalogue, people, complaints, timelines, expected answers.

Each story is a person, what they wrote, what the toolkit should conclude, and a short
script of what happened to them on their own test clock (fixed UTC times, so every
seed is the same). ``billing_nb.sandbox.seed`` runs the scripts against the Stripe API.
The complaints are deliberately full of distinctive PII (names, emails, phones, street
addresses): the toolkit must mask every piece of it in saved records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import stripe

    from .sandbox.seed import StoryRun

__all__ = ["DemoCustomer", "DemoPrice", "DemoProduct", "Person", "StorySpec", "DEMO_PRODUCTS", "STORIES",
           "STORY_ORDER", "DEMO_NOW", "ts", "known_pii"]


def ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """A fixed UTC instant as a Unix timestamp: clock times never depend on today."""
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp())


#: Every story's test clock ends here, so all demo cases share one "now" (before 2026-11-24).
DEMO_NOW = ts(2026, 11, 20, 12)


@dataclass(frozen=True)
class DemoPrice:
    lookup_key: str
    unit_amount: int  # minor units, usd
    interval: str  # month | year
    per_seat: bool = False


@dataclass(frozen=True)
class DemoProduct:
    id: str  # custom product ids keep the catalogue idempotent on a real account too
    name: str
    prices: tuple[DemoPrice, ...]
    per_seat: bool = False


DEMO_PRODUCTS: tuple[DemoProduct, ...] = (
    DemoProduct("billing_nb_demo_pro", "Pro", (DemoPrice("pro_monthly", 2000, "month"),
                                               DemoPrice("pro_annual", 20000, "year"))),
    DemoProduct("billing_nb_demo_team", "Team", (DemoPrice("team_seat_monthly", 1500, "month", per_seat=True),),
                per_seat=True),
    DemoProduct("billing_nb_demo_pro_plus", "Pro Plus", (DemoPrice("pro_plus_annual", 36000, "year"),)),
)


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    phone: str
    line1: str
    city: str
    state: str
    postal_code: str
    country: str = "US"
    metadata: dict[str, str] = field(default_factory=dict)  # github, company, ...


@dataclass(frozen=True)
class DemoCustomer:
    """A seeded demo case, as the demo table, the CLI and the tests use it."""

    story: str
    customer_id: str
    other_customer_ids: tuple[str, ...]
    email: str
    lookup: str  # an email, a cus_/sub_/in_/ch_ id, or metadata:github=<user>
    complaint: str
    expected_bucket: str
    expected_anomalies: tuple[str, ...]
    expected_gaps: tuple[str, ...]
    summary: str
    objects: dict[str, str] = field(default_factory=dict, compare=False)  # role -> Stripe id


Script = Callable[["StoryRun"], DemoCustomer]


@dataclass(frozen=True)
class StorySpec:
    """One demo case: who, what they wrote, what the toolkit should conclude, what happened."""

    story: str
    person: Person
    lookup_kind: str  # email | customer | subscription | invoice | charge | metadata
    complaint: str
    expected_bucket: str
    expected_anomalies: tuple[str, ...]
    expected_gaps: tuple[str, ...]
    summary: str  # one line, no PII
    start: int  # the test clock's first frozen time
    script: Script
    annual: bool = False  # only annual subscriptions on the clock: it may advance in bigger steps


def _p(name: str, email: str, phone: str, line1: str, city: str, state: str, postal: str,
       country: str = "US", **meta: str) -> Person:
    return Person(name, email, phone, line1, city, state, postal, country, dict(meta))


# ----- what happened to each customer (times UTC) -------------------------------------------
def _dup_personal(r: StoryRun) -> DemoCustomer:
    r.at(ts(2026, 11, 2, 9))
    cus = r.customer("customer")
    r.card(cus, "pm_card_visa", "card")
    first = r.subscribe(cus, "subscription_first", "pro_monthly")
    r.at(ts(2026, 11, 2, 9, 7))  # a second checkout, seven minutes later
    second = r.subscribe(cus, "subscription_second", "pro_monthly")
    r.at(DEMO_NOW)
    return r.result(cus, objects={"subscription": first.id, "duplicate_subscription": second.id})


def _dup_customer(r: StoryRun) -> DemoCustomer:
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


def _team(r: StoryRun) -> DemoCustomer:
    r.at(ts(2026, 8, 20, 13))
    cus = r.customer("customer")
    r.card(cus, "pm_card_visa", "card")
    sub = r.subscribe(cus, "subscription", "team_seat_monthly", quantity=5, extra_meta={
        "team": "Lanternfish Analytics", "seat_users": "pvellacott,okarimi,lwen,gstrand,tnovak"})
    r.at(DEMO_NOW)
    return r.result(cus, objects={"subscription": sub.id})


def _failed_renewal(r: StoryRun) -> DemoCustomer:
    r.at(ts(2026, 6, 17, 9))
    cus = r.customer("customer")
    r.card(cus, "pm_card_visa", "card")
    sub = r.subscribe(cus, "subscription", "pro_monthly")
    r.at(ts(2026, 10, 19, 9))  # paid 06-17 and four renewals (07-17 .. 10-17); then the card goes bad
    bad = r.card(cus, "pm_card_chargeCustomerFail", "card_failing")
    r.pin_card(sub, bad, "pin_failing")
    r.at(DEMO_NOW)  # the 11-17 renewal fails, a retry fails: past_due
    return r.result(cus, objects={"subscription": sub.id, "failing_payment_method": bad})


def _stale_card(r: StoryRun) -> DemoCustomer:
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


def _incomplete_checkout(r: StoryRun) -> DemoCustomer:
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


def _annual_refund(r: StoryRun) -> DemoCustomer:
    cus, sub = _annual(r, ts(2026, 8, 18, 16))
    r.at(DEMO_NOW)  # three months into the year
    inv = r.invoice(sub, "subscription_create")
    return r.result(cus, lookup=inv, objects={"subscription": sub.id, "invoice": inv})


def _annual_upgrade(r: StoryRun) -> DemoCustomer:
    cus, sub = _annual(r, ts(2026, 3, 9, 10))
    r.at(ts(2026, 9, 9, 10))  # mid-year: moved to Pro Plus, proration invoiced and charged at once
    r.change_price(sub, "pro_plus_annual", "upgrade")
    r.at(DEMO_NOW)
    inv = r.invoice(sub, "subscription_update")
    return r.result(cus, lookup=inv, objects={"subscription": sub.id, "proration_invoice": inv})


def _renewal_regret(r: StoryRun) -> DemoCustomer:
    cus, sub = _annual(r, ts(2025, 11, 10, 15))
    r.at(ts(2026, 11, 12, 15))  # renewed 2026-11-10; two days later support sets cancel at period end
    r.cancel_at_period_end(sub, "cancel_request", "unused",
                           "Emailed support to cancel: could not find a cancel option before the renewal.")
    r.at(DEMO_NOW)
    return r.result(cus, objects={"subscription": sub.id, "renewal_invoice": r.invoice(sub, "subscription_cycle")})


def _monthly(start: int, token: str = "pm_card_visa", charge_lookup: bool = False,
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


# ----- the cast ---------------------------------------------------------------------------
_SELF_SERVE_GAPS = ("portal_missing_cancellation", "no_cancellation_path")

_SPECS: tuple[StorySpec, ...] = (
    StorySpec(
        "dup_personal", _p("Josefina Ardmore-Quill", "josefina.ardmore@example.com", "+1 415 555 0142",
                           "1742 Quillfeather Lane", "Portland", "OR", "97214", github="jardmorequill"), "email",
        "Hi, I was charged twice! Two $20.00 charges for Pro on November 2, minutes apart, and I only signed up "
        "once. Josefina Ardmore-Quill, josefina.ardmore@example.com, +1 415 555 0142, 1742 Quillfeather Lane, Portland",
        "duplicate_subscription", ("duplicate_active_subscription",), ("no_duplicate_subscription_guard",),
        "two active Pro monthly subscriptions created 7 minutes apart, both charged",
        ts(2026, 11, 2, 9), _dup_personal),
    StorySpec(
        "dup_customer", _p("Bartholomew Kettleby", "bart.kettleby@example.org", "+44 20 7946 0321",
                           "88 Wrenfield Mews", "London", "", "SE1 4QT", "GB", signup_source="web"), "email",
        "I think I'm paying for Pro twice. I signed up again on my phone when I couldn't log in, and now there are two "
        "charges every month. Bartholomew Kettleby, bart.kettleby@example.org, +44 20 7946 0321, 88 Wrenfield Mews, London",
        "duplicate_subscription", ("duplicate_customer", "duplicate_active_subscription"),
        ("no_duplicate_subscription_guard",),
        "one email on two customer objects, each with an active Pro subscription",
        ts(2026, 10, 1, 10), _dup_customer),
    StorySpec(
        "team", _p("Priyanka Vellacott-Moss", "priyanka.vellacott@example.net", "+1 312 555 0187",
                   "400 Marrowstone Ave, Suite 12", "Chicago", "IL", "60607", github="pvellacott",
                   company="Lanternfish Analytics"), "metadata",
        "Why am I paying for 5 seats? I thought Team was one price for the whole company, but the invoice says "
        "5 x $15.00. Priyanka Vellacott-Moss, Lanternfish Analytics, 400 Marrowstone Ave, Suite 12, Chicago, "
        "priyanka.vellacott@example.net, +1 312 555 0187",
        "team_seats", (), ("no_seat_explanation",),
        "deliberate 5-seat Team subscription for a named company; seats never explained",
        ts(2026, 8, 20, 13), _team),
    StorySpec(
        "failed_renewal", _p("Desmond Oyelaran-Fitch", "desmond.oyelaran@example.com", "+1 646 555 0119",
                             "27 Larkspur Terrace", "Brooklyn", "NY", "11215", github="doyelaran"), "customer",
        "My Pro plan suddenly says my payment failed and the app locked me out. Nobody told me anything, my card "
        "worked for months! Desmond Oyelaran-Fitch, desmond.oyelaran@example.com, 646-555-0119, 27 Larkspur Terrace",
        "failed_payment", ("failed_renewal", "past_due"), ("dunning_never_reached_customer",),
        "renewal failed after 4 successful renewals; past_due, retries failing on the same card",
        ts(2026, 6, 17, 9), _failed_renewal),
    StorySpec(
        "stale_card", _p("Marisol Thackeray-Vance", "marisol.thackeray@example.com", "+1 206 555 0173",
                         "5100 Heronsgate Road", "Seattle", "WA", "98103"), "subscription",
        "I added a new card after the payment failed, but you still say my payment is failing?? The new card ends "
        "in 4242. Marisol Thackeray-Vance, marisol.thackeray@example.com, +1 206 555 0173, 5100 Heronsgate Road",
        "failed_payment", ("subscription_payment_method_stale", "failed_renewal", "past_due"),
        ("dunning_never_reached_customer",),
        "new card set on the customer, but the subscription still pins the failing card",
        ts(2026, 8, 16, 11), _stale_card),
    StorySpec(
        "incomplete_checkout", _p("Anselm Birchwood-Nakamura", "anselm.birchwood@example.com", "+1 510 555 0164",
                                  "9 Tamarack Court", "Oakland", "CA", "94611"), "email",
        "I tried to subscribe to Pro twice today. The checkout page timed out, then my card was declined. Do I have "
        "an account or not? Anselm Birchwood-Nakamura, anselm.birchwood@example.com, 510-555-0164, 9 Tamarack Court",
        "failed_payment", ("incomplete_checkout",), (),
        "expired checkout session, then an incomplete subscription after a declined first payment",
        ts(2026, 11, 20, 9, 40), _incomplete_checkout),
    # product_failure: per issue 4 a refund of unused annual time (credit note) is the product_failure
    # remedy; missing_self_serve only offers the portal and never refunds. So the complaint names the
    # failure that makes the refund legitimate. Never a duplicate: one subscription, one charge.
    StorySpec(
        "annual_refund", _p("Cordelia Fairweather-Osei", "cordelia.fairweather@example.com", "+1 617 555 0138",
                            "63 Juniper Hollow", "Cambridge", "MA", "02139", company="Fairweather & Osei Design"),
        "invoice",
        "We bought the annual Pro plan in August for the Figma import and it has never worked with our files: every "
        "import fails. Please cancel and refund the unused months. Cordelia Fairweather-Osei, "
        "cordelia.fairweather@example.com, 617-555-0138, 63 Juniper Hollow, Cambridge MA",
        "product_failure", (), (),
        "annual Pro paid 3 months ago; the feature never worked; wants the unused part back",
        ts(2026, 8, 18, 16), _annual_refund, annual=True),
    # missing_self_serve: the proration invoice is correct billing (always_invoice on a mid-year upgrade),
    # nothing is broken, duplicated or owed. What failed is self-serve: the portal has no plan switching
    # (which previews the prorated amount before confirming), so the upgrade was done by hand and the
    # customer never saw the price. Remedy: portal link to the invoice plus an explanation.
    StorySpec(
        "annual_upgrade", _p("Leopold Szczepanik-Grey", "leopold.szczepanik@example.com", "+1 303 555 0191",
                             "1208 Aspenglow Drive", "Boulder", "CO", "80302", github="lszgrey"), "invoice",
        "I got an extra charge in September that I don't understand, I already paid for the year in March! Your "
        "sales rep moved me to Pro Plus but nobody said it would cost anything right away and there was no way to "
        "see the price first. Leopold Szczepanik-Grey, leopold.szczepanik@example.com, +1 303 555 0191, "
        "1208 Aspenglow Drive, Boulder",
        "missing_self_serve", ("proration_invoice",), ("portal_missing_plan_switching",),
        "mid-year upgrade to Pro Plus billed a proration invoice the customer never previewed",
        ts(2026, 3, 9, 10), _annual_upgrade, annual=True),
    StorySpec(
        "cant_cancel", _p("Ingrid Halvorsen-Pike", "ingrid.halvorsen@example.com", "+1 612 555 0126",
                          "311 Cobblestone Row", "Minneapolis", "MN", "55408"), "email",
        "I can't find how to cancel my subscription anywhere. The billing page only lets me change my card. I want "
        "to cancel before next month's charge. Ingrid Halvorsen-Pike, ingrid.halvorsen@example.com, 612-555-0126, "
        "311 Cobblestone Row, Minneapolis",
        "missing_self_serve", (), _SELF_SERVE_GAPS,
        "healthy monthly subscription; the portal has cancellation switched off",
        ts(2026, 7, 22, 8, 30), _monthly(ts(2026, 7, 22, 8, 30))),
    StorySpec(
        "product_broken", _p("Thaddeus Moreau-Lindqvist", "thaddeus.moreau@example.com", "+1 737 555 0158",
                             "4477 Bluebonnet Crossing", "Austin", "TX", "78745", github="tmoreau-lq"), "metadata",
        "The sync has been broken for two weeks: every run since November 6 fails with an upstream error. I paid $20 "
        "on Nov 6 for a month I can't use, please refund that charge. Thaddeus Moreau-Lindqvist, "
        "thaddeus.moreau@example.com, 737-555-0158, 4477 Bluebonnet Crossing, Austin",
        "product_failure", (), (),
        "product broken for two weeks; asks for the last monthly charge back",
        ts(2026, 9, 6, 18), _monthly(ts(2026, 9, 6, 18))),
    # product_failure: that is what the customer says happened. The open dispute overrides the remedy:
    # a disputed charge is never refunded (Stripe refuses it; it would pay twice); the plan answers it.
    StorySpec(
        "disputed", _p("Rosalind Achterberg-Wu", "rosalind.achterberg@example.com", "+1 718 555 0147",
                       "19 Sparrowhawk Lane", "Queens", "NY", "11375"), "charge",
        "Your product did none of what the site promised, so I asked my bank to reverse the $20 charge from "
        "October 28. Rosalind Achterberg-Wu, rosalind.achterberg@example.com, +1 718 555 0147, 19 Sparrowhawk Lane",
        "product_failure", ("open_dispute",), (),
        "first charge disputed by the bank (needs_response); must not be refunded",
        ts(2026, 10, 28, 12), _monthly(ts(2026, 10, 28, 12), "pm_card_createDispute", charge_lookup=True)),
    # missing_self_serve: the customer meant to leave before the renewal (charged_after_cancel_request)
    # but the portal offers no cancellation, so support set cancel_at_period_end by hand two days after
    # the charge. The root cause is the missing cancellation path; the renewal's credit note is the
    # analyst's call on that evidence.
    StorySpec(
        "renewal_regret", _p("Evander Quistgaard", "evander.quistgaard@example.com", "+1 919 555 0182",
                             "702 Loblolly Bend", "Durham", "NC", "27701"), "customer",
        "I meant to cancel before my plan renewed, but there's no cancel button anywhere, so I emailed you two days "
        "after it charged me $200 for another year. I haven't used it since, can I please have that renewal back? "
        "Evander Quistgaard, evander.quistgaard@example.com, 919-555-0182, 702 Loblolly Bend, Durham",
        "missing_self_serve", ("charged_after_cancel_request",), _SELF_SERVE_GAPS,
        "annual plan renewed; cancel at period end requested 2 days after the renewal charge",
        ts(2025, 11, 10, 15), _renewal_regret, annual=True),
    # unclear: healthy subscription, one charge per period, no reason given. Nothing supports a refund,
    # and it must never read as a duplicate.
    StorySpec(
        "healthy_refund", _p("Winifred Castellanos-Bly", "winifred.castellanos@example.com", "+1 213 555 0175",
                             "2650 Sycamore Vista", "Los Angeles", "CA", "90039"), "subscription",
        "Please refund my last payment. Thanks, Winifred Castellanos-Bly (winifred.castellanos@example.com, "
        "213-555-0175, 2650 Sycamore Vista, Los Angeles)",
        "unclear", (), (),
        "healthy monthly subscription; refund asked with no reason or evidence",
        ts(2026, 8, 25, 7, 45), _monthly(ts(2026, 8, 25, 7, 45), sub_lookup=True)),
)

STORIES: dict[str, StorySpec] = {s.story: s for s in _SPECS}
STORY_ORDER: tuple[str, ...] = tuple(s.story for s in _SPECS)


def known_pii() -> list[str]:
    """Every name, email, phone and street line the demo seeds: input for ``redact.scan(known=...)``."""
    return [v for s in _SPECS for v in (s.person.name, s.person.email, s.person.phone, s.person.line1)]
