"""The demo account's cast: each story's person, complaint, expected answers and script.

Data only; the types and the scripts are in :mod:`billing_nb.demo.stories`. The
complaints are deliberately full of distinctive PII (names, emails, phones, street
addresses): the toolkit must mask every piece of it in saved records.
"""

from __future__ import annotations

from dataclasses import replace

from .model import StorySpec, p, ts
from .stories import (
    annual_refund, annual_upgrade, dup_customer, dup_personal, failed_renewal, incomplete_checkout,
    monthly, renewal_regret, stale_card, team,
)

__all__ = ["STORIES", "STORY_ORDER", "known_pii"]

# The demo portal configuration (seed.ensure_portal: its own, the default is left alone) has cancellation
# and plan switching off; cant_cancel / renewal_regret / annual_upgrade rely on it.
_SELF_SERVE_GAPS = ("portal_missing_cancellation", "no_cancellation_path")

_SPECS: tuple[StorySpec, ...] = (
    StorySpec(
        "dup_personal", p("Josefina Ardmore-Quill", "josefina.ardmore@example.com", "+1 415 555 0142",
                           "1742 Quillfeather Lane", "Portland", "OR", "97214", github="jardmorequill"), "email",
        "Hi, I was charged twice! Two $20.00 charges for Pro on November 2, minutes apart, and I only signed up "
        "once. Josefina Ardmore-Quill, josefina.ardmore@example.com, +1 415 555 0142, 1742 Quillfeather Lane, Portland",
        "duplicate_subscription", ("duplicate_active_subscription",), ("no_duplicate_subscription_guard",),
        "two active Pro monthly subscriptions created 7 minutes apart, both charged",
        ts(2026, 11, 2, 9), dup_personal),
    StorySpec(
        "dup_customer", p("Bartholomew Kettleby", "bart.kettleby@example.org", "+44 20 7946 0321",
                           "88 Wrenfield Mews", "London", "", "SE1 4QT", "GB", signup_source="web"), "email",
        "I think I'm paying for Pro twice. I signed up again on my phone when I couldn't log in, and now there are two "
        "charges every month. Bartholomew Kettleby, bart.kettleby@example.org, +44 20 7946 0321, 88 Wrenfield Mews, London",
        "duplicate_subscription", ("duplicate_customer", "duplicate_active_subscription"),
        ("no_duplicate_subscription_guard",),
        "one email on two customer objects, each with an active Pro subscription",
        ts(2026, 10, 1, 10), dup_customer),
    StorySpec(
        "team", p("Priyanka Vellacott-Moss", "priyanka.vellacott@example.net", "+1 312 555 0187",
                   "400 Marrowstone Ave, Suite 12", "Chicago", "IL", "60607", github="pvellacott",
                   company="Lanternfish Analytics"), "metadata",
        "Why am I paying for 5 seats? I thought Team was one price for the whole company, but the invoice says "
        "5 x $15.00. Priyanka Vellacott-Moss, Lanternfish Analytics, 400 Marrowstone Ave, Suite 12, Chicago, "
        "priyanka.vellacott@example.net, +1 312 555 0187",
        "team_seats", (), ("no_seat_explanation",),
        "deliberate 5-seat Team subscription for a named company; seats never explained",
        ts(2026, 8, 20, 13), team),
    StorySpec(
        "failed_renewal", p("Desmond Oyelaran-Fitch", "desmond.oyelaran@example.com", "+1 646 555 0119",
                             "27 Larkspur Terrace", "Brooklyn", "NY", "11215", github="doyelaran"), "customer",
        "My Pro plan suddenly says my payment failed and the app locked me out. Nobody told me anything, my card "
        "worked for months! Desmond Oyelaran-Fitch, desmond.oyelaran@example.com, 646-555-0119, 27 Larkspur Terrace",
        "failed_payment", ("failed_renewal", "past_due"), ("dunning_never_reached_customer",),
        "renewal failed after 4 successful renewals; past_due, retries failing on the same card",
        ts(2026, 6, 17, 9), failed_renewal),
    StorySpec(
        "stale_card", p("Marisol Thackeray-Vance", "marisol.thackeray@example.com", "+1 206 555 0173",
                         "5100 Heronsgate Road", "Seattle", "WA", "98103"), "subscription",
        "I added a new card after the payment failed, but you still say my payment is failing?? The new card ends "
        "in 4242. Marisol Thackeray-Vance, marisol.thackeray@example.com, +1 206 555 0173, 5100 Heronsgate Road",
        "failed_payment", ("subscription_payment_method_stale", "failed_renewal", "past_due"),
        ("dunning_never_reached_customer",),
        "new card set on the customer, but the subscription still pins the failing card",
        ts(2026, 8, 16, 11), stale_card),
    StorySpec(
        "incomplete_checkout", p("Anselm Birchwood-Nakamura", "anselm.birchwood@example.com", "+1 510 555 0164",
                                  "9 Tamarack Court", "Oakland", "CA", "94611"), "email",
        "I tried to subscribe to Pro twice today. The checkout page timed out, then my card was declined. Do I have "
        "an account or not? Anselm Birchwood-Nakamura, anselm.birchwood@example.com, 510-555-0164, 9 Tamarack Court",
        "failed_payment", ("incomplete_checkout",), ("checkout_no_way_to_finish",),
        "expired checkout session, then an incomplete subscription after a declined first payment",
        ts(2026, 11, 20, 9, 40), incomplete_checkout),
    # product_failure: per issue 4 a refund of unused annual time (credit note) is the product_failure
    # remedy; missing_self_serve only offers the portal and never refunds. So the complaint names the
    # failure that makes the refund legitimate. Never a duplicate: one subscription, one charge.
    StorySpec(
        "annual_refund", p("Cordelia Fairweather-Osei", "cordelia.fairweather@example.com", "+1 617 555 0138",
                            "63 Juniper Hollow", "Cambridge", "MA", "02139", company="Fairweather & Osei Design"),
        "invoice",
        "We bought the annual Pro plan in August for the Figma import and it has never worked with our files: every "
        "import fails. Please cancel and refund the unused months. Cordelia Fairweather-Osei, "
        "cordelia.fairweather@example.com, 617-555-0138, 63 Juniper Hollow, Cambridge MA",
        "product_failure", (), (),
        "annual Pro paid 3 months ago; the feature never worked; wants the unused part back",
        ts(2026, 8, 18, 16), annual_refund, annual=True),
    # missing_self_serve: the proration invoice is correct billing (always_invoice on a mid-year upgrade),
    # nothing is broken, duplicated or owed. What failed is self-serve: the portal has no plan switching
    # (which previews the prorated amount before confirming), so the upgrade was done by hand and the
    # customer never saw the price. Remedy: portal link to the invoice plus an explanation.
    StorySpec(
        "annual_upgrade", p("Leopold Szczepanik-Grey", "leopold.szczepanik@example.com", "+1 303 555 0191",
                             "1208 Aspenglow Drive", "Boulder", "CO", "80302", github="lszgrey"), "invoice",
        "I got an extra charge in September that I don't understand, I already paid for the year in March! Your "
        "sales rep moved me to Pro Plus but nobody said it would cost anything right away and there was no way to "
        "see the price first. Leopold Szczepanik-Grey, leopold.szczepanik@example.com, +1 303 555 0191, "
        "1208 Aspenglow Drive, Boulder",
        "missing_self_serve", ("proration_invoice",), ("portal_missing_plan_switching",),
        "mid-year upgrade to Pro Plus billed a proration invoice the customer never previewed",
        ts(2026, 3, 9, 10), annual_upgrade, annual=True),
    StorySpec(
        "cant_cancel", p("Ingrid Halvorsen-Pike", "ingrid.halvorsen@example.com", "+1 612 555 0126",
                          "311 Cobblestone Row", "Minneapolis", "MN", "55408"), "email",
        "I can't find how to cancel my subscription anywhere. The billing page only lets me change my card. I want "
        "to cancel before next month's charge. Ingrid Halvorsen-Pike, ingrid.halvorsen@example.com, 612-555-0126, "
        "311 Cobblestone Row, Minneapolis",
        "missing_self_serve", (), _SELF_SERVE_GAPS,
        "healthy monthly subscription; the portal has cancellation switched off",
        ts(2026, 7, 22, 8, 30), monthly(ts(2026, 7, 22, 8, 30))),
    StorySpec(
        "product_broken", p("Thaddeus Moreau-Lindqvist", "thaddeus.moreau@example.com", "+1 737 555 0158",
                             "4477 Bluebonnet Crossing", "Austin", "TX", "78745", github="tmoreau-lq"), "metadata",
        "The sync has been broken for two weeks: every run since November 6 fails with an upstream error. I paid $20 "
        "on Nov 6 for a month I can't use, please refund that charge. Thaddeus Moreau-Lindqvist, "
        "thaddeus.moreau@example.com, 737-555-0158, 4477 Bluebonnet Crossing, Austin",
        "product_failure", (), (),
        "product broken for two weeks; asks for the last monthly charge back",
        ts(2026, 9, 6, 18), monthly(ts(2026, 9, 6, 18))),
    # product_failure: that is what the customer says happened. The open dispute overrides the remedy:
    # a disputed charge is never refunded (Stripe refuses it; it would pay twice); the plan answers it.
    StorySpec(
        "disputed", p("Rosalind Achterberg-Wu", "rosalind.achterberg@example.com", "+1 718 555 0147",
                       "19 Sparrowhawk Lane", "Queens", "NY", "11375"), "charge",
        "Your product did none of what the site promised, so I asked my bank to reverse the $20 charge from "
        "October 28. Rosalind Achterberg-Wu, rosalind.achterberg@example.com, +1 718 555 0147, 19 Sparrowhawk Lane",
        "product_failure", ("open_dispute",), (),
        "first charge disputed by the bank (needs_response); must not be refunded",
        ts(2026, 10, 28, 12), monthly(ts(2026, 10, 28, 12), "pm_card_createDispute", charge_lookup=True)),
    # missing_self_serve: the customer meant to leave before the renewal (charged_after_cancel_request)
    # but the portal offers no cancellation, so support set cancel_at_period_end by hand two days after
    # the charge. The root cause is the missing cancellation path; the renewal's credit note is the
    # analyst's call on that evidence.
    StorySpec(
        "renewal_regret", p("Evander Quistgaard", "evander.quistgaard@example.com", "+1 919 555 0182",
                             "702 Loblolly Bend", "Durham", "NC", "27701"), "customer",
        "I meant to cancel before my plan renewed, but there's no cancel button anywhere, so I emailed you two days "
        "after it charged me $200 for another year. I haven't used it since, can I please have that renewal back? "
        "Evander Quistgaard, evander.quistgaard@example.com, 919-555-0182, 702 Loblolly Bend, Durham",
        "missing_self_serve", ("charged_after_cancel_request",), _SELF_SERVE_GAPS,
        "annual plan renewed; cancel at period end requested 2 days after the renewal charge",
        ts(2025, 11, 10, 15), renewal_regret, annual=True),
    # unclear: healthy subscription, one charge per period, no reason given. Nothing supports a refund,
    # and it must never read as a duplicate.
    StorySpec(
        "healthy_refund", p("Winifred Castellanos-Bly", "winifred.castellanos@example.com", "+1 213 555 0175",
                             "2650 Sycamore Vista", "Los Angeles", "CA", "90039"), "subscription",
        "Please refund my last payment. Thanks, Winifred Castellanos-Bly (winifred.castellanos@example.com, "
        "213-555-0175, 2650 Sycamore Vista, Los Angeles)",
        "unclear", (), (),
        "healthy monthly subscription; refund asked with no reason or evidence",
        ts(2026, 8, 25, 7, 45), monthly(ts(2026, 8, 25, 7, 45), sub_lookup=True)),
)

_SPECS += (
    # A business customer: the company name is the customer's name and its metadata, with a VAT id and a
    # shipping contact (issue 10: B2B records must mask the company wherever it appears, and scan clean).
    StorySpec(
        "business_cancel", replace(p("Brightwater Instruments GmbH", "accounts@brightwater-instruments.example.de",
                                     "+49 30 5557 0142", "Lindenhof 44", "Berlin", "", "10117", "DE",
                                     company="Brightwater Instruments GmbH", vat_id="DE287654321"),
                                   ship_to="Henrike Vossberg"), "email",
        "We can't find how to cancel our subscription anywhere. The billing page only lets us change the card. We "
        "want to cancel before next month's charge. Henrike Vossberg, Brightwater Instruments GmbH, VAT DE287654321, "
        "accounts@brightwater-instruments.example.de, +49 30 5557 0142, Lindenhof 44, Berlin",
        "missing_self_serve", (), _SELF_SERVE_GAPS,
        "a business on a healthy monthly plan; the portal has cancellation switched off",
        ts(2026, 7, 24, 8, 30), monthly(ts(2026, 7, 24, 8, 30))),
    # More than 100 invoices: a monthly customer since 2017 (issue 10: lists read whole, every page).
    StorySpec(
        "long_customer", p("Ottoline Marchbanks-Reyes", "ottoline.marchbanks@example.com", "+1 503 555 0166",
                           "18 Wintergreen Close", "Eugene", "OR", "97401"), "email",
        "The sync has been broken for two weeks: every run since November 4 fails with an upstream error. I've paid "
        "you every month since 2017 and I paid $20 on Nov 4 for a month I can't use, please refund that charge. "
        "Ottoline Marchbanks-Reyes, ottoline.marchbanks@example.com, 503-555-0166, 18 Wintergreen Close, Eugene",
        "product_failure", (), (),
        "monthly Pro since July 2017 (more than 100 invoices); the product is broken; asks for the last charge back",
        ts(2017, 7, 4, 18), monthly(ts(2017, 7, 4, 18))),
)

STORIES: dict[str, StorySpec] = {s.story: s for s in _SPECS}
STORY_ORDER: tuple[str, ...] = tuple(s.story for s in _SPECS)


def known_pii() -> list[str]:
    """Every name, email, phone and street line the demo seeds: input for ``redact.scan(known=...)``."""
    return [v for s in _SPECS for v in (s.person.name, s.person.email, s.person.phone, s.person.line1,
                                        s.person.ship_to, s.person.metadata.get("vat_id", "")) if v]
