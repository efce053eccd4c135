"""One story being played against the Stripe API: its test clock, look-ups before creates,
and idempotency keys derived from the story, its clock and the step (so a re-run writes nothing).
"""

from __future__ import annotations

import time
from typing import Any

import stripe

from ..exceptions import BillingNbError
from .model import DemoCustomer, StorySpec

__all__ = ["SeedError", "StoryRun", "meta", "MARK", "STEP", "KEY_PREFIX", "CLOCK_NAME", "MONTHLY_STEP", "ANNUAL_STEP"]

MARK = "billing_nb_demo"  # metadata: which story an object belongs to
STEP = "billing_nb_demo_step"  # metadata: which step of the story created it
KEY_PREFIX = "billing-nb-demo-v1"  # idempotency keys; bump to reseed a real account within 24 h
CLOCK_NAME = "billing-nb demo: {story}"
MONTHLY_STEP = 40 * 86400  # Stripe: at most two intervals of the shortest subscription per advance
ANNUAL_STEP = 300 * 86400


class SeedError(BillingNbError):
    """The account is in a state the seeder can't continue from (or a clock failed)."""


def _id(value: Any) -> str | None:
    """The id of an expandable field (a string or an expanded object)."""
    if value is None or isinstance(value, str):
        return value
    return str(value.id)


def meta(obj: Any, key: str = STEP) -> str | None:
    """A metadata value of any Stripe object (metadata may be absent or empty)."""
    md = getattr(obj, "metadata", None)  # a StripeObject, not a dict: no .get()
    return str(md[key]) if md is not None and key in md else None


class StoryRun:
    """One story being seeded: its clock, lookups before creates, and idempotency keys."""

    def __init__(self, client: stripe.StripeClient, spec: StorySpec, start: int, prices: dict[str, str],
                 *, max_step: int = MONTHLY_STEP, poll_timeout: float = 300.0, portal: str | None = None) -> None:
        self.c = client
        self.portal = portal  # the demo's portal configuration (ensure_portal), named in each result
        self.spec = spec
        self.story = spec.story
        self.prices = prices
        self.max_step = max_step
        self.poll_timeout = poll_timeout
        self.clock = self._ensure_clock(start)
        self.live = self.clock.frozen_time == start

    # ----- time ---------------------------------------------------------------------
    def _ensure_clock(self, start: int) -> stripe.test_helpers.TestClock:
        name = CLOCK_NAME.format(story=self.story)
        for clock in self.c.v1.test_helpers.test_clocks.list({"limit": 100}).auto_paging_iter():
            if clock.name == name:
                return self._wait_ready(clock)
        return self.c.v1.test_helpers.test_clocks.create(
            {"frozen_time": start, "name": name}, {"idempotency_key": f"{KEY_PREFIX}:{self.story}:clock:{start}"})

    def _wait_ready(self, clock: stripe.test_helpers.TestClock) -> stripe.test_helpers.TestClock:
        """Poll until an advancing clock is ready: Stripe advances asynchronously."""
        deadline, delay = time.monotonic() + self.poll_timeout, 0.05
        while clock.status != "ready":
            if clock.status == "internal_failure":
                raise SeedError(f"test clock {clock.id} ({self.story}) failed to advance")
            if time.monotonic() > deadline:
                raise SeedError(f"test clock {clock.id} ({self.story}) still {clock.status} after {self.poll_timeout}s")
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
            clock = self.c.v1.test_helpers.test_clocks.retrieve(clock.id)
        return clock

    def at(self, when: int) -> None:
        """Move the story's clock to ``when`` (in steps Stripe accepts); past it, replay only."""
        while self.clock.frozen_time < when:
            target = min(when, self.clock.frozen_time + self.max_step)
            clock = self.c.v1.test_helpers.test_clocks.advance(
                self.clock.id, {"frozen_time": target}, {"idempotency_key": self.key(f"advance:{target}")})
            self.clock = self._wait_ready(clock)
        self.live = self.clock.frozen_time == when

    # ----- helpers ------------------------------------------------------------------
    def key(self, step: str) -> str:
        return f"{KEY_PREFIX}:{self.story}:{self.clock.id}:{step}"

    def meta(self, step: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**(extra or {}), MARK: self.story, STEP: step}

    def _must_create(self, what: str) -> None:
        if not self.live:
            raise SeedError(f"demo story {self.story!r}: {what} is missing but its clock {self.clock.id} is past "
                            "that step; delete the test clock and seed again")

    # ----- objects ------------------------------------------------------------------
    def customer(self, step: str, extra_meta: dict[str, str] | None = None) -> stripe.Customer:
        for cus in self.c.v1.customers.list({"test_clock": self.clock.id, "limit": 100}).auto_paging_iter():
            if meta(cus) == step:
                return cus
        self._must_create(f"customer {step}")
        p = self.spec.person
        address: stripe.params.CustomerCreateParamsAddress = {
            "line1": p.line1, "city": p.city, "postal_code": p.postal_code, "country": p.country}
        if p.state:
            address["state"] = p.state
        params: stripe.params.CustomerCreateParams = {
            "name": p.name, "email": p.email, "phone": p.phone, "address": address,
            "metadata": self.meta(step, {**p.metadata, **(extra_meta or {})}), "test_clock": self.clock.id}
        if p.ship_to:
            params["shipping"] = {"name": p.ship_to, "phone": p.phone, "address": address}
        return self.c.v1.customers.create(params, {"idempotency_key": self.key(step)})

    def card(self, customer: stripe.Customer, token: str, step: str, *, default: bool = True) -> str:
        """Attach a test card (``pm_card_*``); newly attached ones become the customer's default."""
        for pm in self.c.v1.payment_methods.list({"customer": customer.id, "type": "card", "limit": 100}).auto_paging_iter():
            if meta(pm) == step:
                return pm.id
        self._must_create(f"payment method {step}")
        pm = self.c.v1.payment_methods.attach(token, {"customer": customer.id}, {"idempotency_key": self.key(step)})
        self.c.v1.payment_methods.update(pm.id, {"metadata": self.meta(step)}, {"idempotency_key": self.key(f"{step}:meta")})
        if default:
            self.c.v1.customers.update(customer.id, {"invoice_settings": {"default_payment_method": pm.id}},
                                       {"idempotency_key": self.key(f"{step}:default")})
        return pm.id

    def subscribe(self, customer: stripe.Customer, step: str, lookup_key: str, *, quantity: int = 1,
                  pin: str | None = None, incomplete: bool = False,
                  extra_meta: dict[str, str] | None = None) -> stripe.Subscription:
        params: stripe.params.SubscriptionCreateParams = {
            "customer": customer.id, "items": [{"price": self.prices[lookup_key], "quantity": quantity}],
            "metadata": self.meta(step, extra_meta)}
        for sub in self.c.v1.subscriptions.list({"customer": customer.id, "status": "all", "limit": 100}).auto_paging_iter():
            if meta(sub) == step:
                return sub
        self._must_create(f"subscription {step}")
        if pin:
            params["default_payment_method"] = pin
        if incomplete:
            params["payment_behavior"] = "default_incomplete"
        return self.c.v1.subscriptions.create(params, {"idempotency_key": self.key(step)})

    def pin_card(self, sub: stripe.Subscription, pm: str, step: str) -> None:
        """Set the subscription's own default payment method (it wins over the customer's)."""
        if _id(sub.default_payment_method) == pm:
            return
        self._must_create(f"subscription payment method {step}")
        self.c.v1.subscriptions.update(sub.id, {"default_payment_method": pm}, {"idempotency_key": self.key(step)})

    def change_price(self, sub: stripe.Subscription, lookup_key: str, step: str) -> None:
        """Switch the single item's price, invoicing the proration at once."""
        item = sub["items"].data[0]
        if item.price.id == self.prices[lookup_key]:
            return
        self._must_create(f"price change {step}")
        self.c.v1.subscriptions.update(
            sub.id, {"items": [{"id": item.id, "price": self.prices[lookup_key]}], "proration_behavior": "always_invoice"},
            {"idempotency_key": self.key(step)})

    def cancel_at_period_end(self, sub: stripe.Subscription, step: str, feedback: str, comment: str) -> None:
        if sub.cancel_at_period_end:
            return
        self._must_create(f"cancellation request {step}")
        self.c.v1.subscriptions.update(
            sub.id, {"cancel_at_period_end": True,
                     "cancellation_details": {"feedback": feedback, "comment": comment}},
            {"idempotency_key": self.key(step)})

    def expired_checkout(self, customer: stripe.Customer, step: str, lookup_key: str) -> str:
        """A subscription-mode Checkout Session the customer abandoned, expired."""
        found = [s for s in self.c.v1.checkout.sessions.list({"customer": customer.id, "limit": 100}).auto_paging_iter()
                 if meta(s) == step]
        if found:
            session = found[0]
        else:
            self._must_create(f"checkout session {step}")
            session = self.c.v1.checkout.sessions.create(
                {"mode": "subscription", "customer": customer.id,
                 "line_items": [{"price": self.prices[lookup_key], "quantity": 1}],
                 "success_url": "https://quillstack.example.com/billing/done?session_id={CHECKOUT_SESSION_ID}",
                 "cancel_url": "https://quillstack.example.com/pricing", "metadata": self.meta(step)},
                {"idempotency_key": self.key(step)})
        if session.status == "open":
            self._must_create(f"checkout expiry {step}")
            session = self.c.v1.checkout.sessions.expire(session.id, options={"idempotency_key": self.key(f"{step}:expire")})
        return session.id

    def decline_first_payment(self, customer: stripe.Customer, token: str, step: str) -> str:
        """Confirm the incomplete subscription's first payment intent with a card that declines."""
        intents = list(self.c.v1.payment_intents.list({"customer": customer.id, "limit": 100}).auto_paging_iter())
        if not intents:
            raise SeedError(f"demo story {self.story!r}: no payment intent for the incomplete subscription")
        pi = intents[-1]  # the oldest: the first invoice's
        if pi.last_payment_error is None and pi.status in ("requires_payment_method", "requires_confirmation"):
            self._must_create(f"declined payment {step}")
            try:
                self.c.v1.payment_intents.confirm(pi.id, {"payment_method": token}, {"idempotency_key": self.key(step)})
            except stripe.CardError:
                pass  # the point of the story: the first payment is declined
        return pi.id

    def invoice(self, sub: stripe.Subscription, billing_reason: str) -> str:
        for inv in self.c.v1.invoices.list({"subscription": sub.id, "limit": 100}).auto_paging_iter():
            if inv.billing_reason == billing_reason and inv.id:
                return inv.id
        raise SeedError(f"demo story {self.story!r}: no {billing_reason} invoice on {sub.id}")

    def charge(self, customer: stripe.Customer) -> str:
        charges = list(self.c.v1.charges.list({"customer": customer.id, "limit": 100}).auto_paging_iter())
        if not charges:
            raise SeedError(f"demo story {self.story!r}: no charge for {customer.id}")
        return charges[-1].id  # the oldest

    def result(self, customer: stripe.Customer, *, others: tuple[str, ...] = (), lookup: str | None = None,
               objects: dict[str, str] | None = None) -> DemoCustomer:
        spec, p = self.spec, self.spec.person
        if spec.lookup_kind == "email":
            lookup = p.email
        elif spec.lookup_kind == "metadata":
            lookup = f"metadata:github={p.metadata['github']}"
        elif spec.lookup_kind == "customer":
            lookup = customer.id
        if not lookup:
            raise SeedError(f"demo story {self.story!r}: no {spec.lookup_kind} lookup")
        return DemoCustomer(
            story=spec.story, customer_id=customer.id, other_customer_ids=others, email=p.email, lookup=lookup,
            complaint=spec.complaint, expected_bucket=spec.expected_bucket, expected_anomalies=spec.expected_anomalies,
            expected_gaps=spec.expected_gaps, summary=spec.summary,
            objects={"test_clock": self.clock.id, **({"portal_configuration": self.portal} if self.portal else {}),
                     **(objects or {})})


# ----- account-wide objects -------------------------------------------------------------
