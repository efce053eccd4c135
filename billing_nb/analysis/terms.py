"""The contract's terms as data: what each subscription item and subscription is, and each
way out of it with its refund, so that the shape (:mod:`.contract`), the unused-time
arithmetic (:mod:`.periods`) and Stripe's figures (:mod:`.figures`) share one vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..money import Money, round_half_up
from ..reading.prices import PriceTerms, coupon_amount_off

if TYPE_CHECKING:
    from .schedules import ScheduleShape

__all__ = ["ItemShape", "ContractShape", "RecurringDiscount", "RefundOption", "net_annual", "recurring_discounts", "OPTION_KINDS", "LIVE_STATUSES"]

OPTION_KINDS = ("cancel_at_period_end", "cancel_now_refund", "credit_note_unused", "downgrade_prorations",
                "refund_one_off_charge", "credit_balance_unused", "out_of_band_unused")
LIVE_STATUSES = ("active", "trialing", "past_due")
_PER_YEAR = {"day": Fraction(365), "week": Fraction(52), "month": Fraction(12), "year": Fraction(1)}


@dataclass(frozen=True)
class ItemShape:
    item_id: str
    price: str
    product: str
    unit_amount: Money
    interval: str
    interval_count: int
    quantity: int
    per_seat: bool
    period_start: int
    period_end: int
    #: the price's pricing model (:mod:`billing_nb.reading.prices`); None: ``unit_amount`` per unit
    terms: PriceTerms | None = None
    inclusive_tax: Fraction = Fraction(0)  # percent of inclusive tax in the price (20: 120 holds 20 of tax)

    @property
    def metered(self) -> bool:
        """Billed in arrears on usage: no recurring amount, no unused time (Stripe's MRR excludes it)."""
        return self.terms is not None and self.terms.metered

    def amount_at(self, quantity: int) -> int:
        """What one period recurs at for ``quantity`` under the price's own model (0: metered)."""
        if self.terms is None:
            return self.unit_amount.amount * quantity
        return 0 if self.terms.metered else self.terms.amount(quantity)

    @property
    def amount(self) -> Money:
        """What one period of this item recurs at."""
        return Money(self.amount_at(self.quantity), self.unit_amount.currency)

    @property
    def priced(self) -> bool:
        """False for a tiered price read without its tiers: its amount is unknown, not 0."""
        return self.terms is None or self.terms.known

    def annual_at(self, quantity: int) -> Fraction:
        """This item's recurring amount at ``quantity`` over a year, exactly."""
        per_year = _PER_YEAR.get(self.interval, Fraction(12)) / max(1, self.interval_count)
        return self.amount_at(quantity) * per_year

    @property
    def annual_amount(self) -> Fraction:
        """This item's recurring amount over a year, exactly."""
        return self.annual_at(self.quantity)

    def describe(self) -> str:
        """``5, volume tiers: $12.00 each at this count = $60.00`` (how the price reaches its amount)."""
        fmt = lambda v: Money(v, self.unit_amount.currency).format()  # noqa: E731
        if self.terms is None:
            return f"{self.quantity} x {self.unit_amount.format()} = {self.amount.format()}"
        return self.terms.describe(self.quantity, fmt)

    @property
    def annual_revenue(self) -> Fraction:
        """:attr:`annual_amount` without the inclusive tax in the price: Stripe's MRR counts no tax
        ("We don't consider taxes ... to be revenue", support.stripe.com/questions/billing-analytics);
        an exclusive rate is on top of the price and was never in it."""
        return self.annual_amount * 100 / (100 + self.inclusive_tax)


@dataclass(frozen=True)
class RecurringDiscount:
    """A discount that lowers every period for good: a coupon with ``duration=forever``.

    Stripe counts it in MRR ("If you apply a coupon with a forever duration, the discount will
    apply to your MRR"; once/repeating coupons leave MRR unaffected --
    support.stripe.com/questions/billing-analytics). ``products``: the coupon's
    ``applies_to.products`` (None: every item)."""

    discount_id: str
    percent_off: Fraction | None = None
    amount_off: int = 0  # per period, in the subscription's currency
    products: tuple[str, ...] | None = None

    def applies(self, item: ItemShape) -> bool:
        return self.products is None or item.product in self.products


def recurring_discounts(discounts: list[dict[str, Any]], currency: str, now: int) -> tuple[RecurringDiscount, ...]:
    """Of Stripe discount objects (their coupon expanded at ``source.coupon``, or the older
    ``discount.coupon``), those that last forever and have not ended. An ``amount_off`` counts in
    ``currency`` (the subscription's): the coupon's own amount in its own currency, else its
    ``currency_options[currency].amount_off``; with neither it does not apply (Stripe refuses such
    a coupon on the subscription)."""
    out: list[RecurringDiscount] = []
    for disc in discounts:
        coupon = (disc.get("source") or {}).get("coupon") or disc.get("coupon")
        if not isinstance(coupon, dict) or coupon.get("duration") != "forever":
            continue
        if disc.get("end") and int(disc["end"]) <= now:
            continue
        products = (coupon.get("applies_to") or {}).get("products")
        scope = tuple(str(p) for p in products) if products else None
        if coupon.get("percent_off") is not None:
            out.append(RecurringDiscount(str(disc.get("id")), percent_off=Fraction(str(coupon["percent_off"])),
                                         products=scope))
        elif coupon_amount_off(coupon, currency):
            out.append(RecurringDiscount(str(disc.get("id")), amount_off=int(coupon_amount_off(coupon, currency) or 0),
                                         products=scope))
    return tuple(out)


def net_annual(items: tuple[ItemShape, ...], discounts: tuple[RecurringDiscount, ...], *,
               excluding_tax: bool = False) -> Fraction:
    """The items' annual amount after the forever discounts, exactly: percentages on the items
    they apply to, then amounts off the period (at most what the eligible items cost).
    ``excluding_tax``: without the inclusive tax in the prices (revenue: MRR, ARR)."""
    per_item = {i.item_id: i.annual_revenue if excluding_tax else i.annual_amount for i in items}
    for d in discounts:
        if d.percent_off is not None:
            for i in items:
                if d.applies(i):
                    per_item[i.item_id] *= 1 - d.percent_off / 100
    total = sum(per_item.values(), Fraction(0))
    for d in discounts:
        eligible = [i for i in items if d.applies(i)]
        if d.amount_off and eligible:
            first = eligible[0]
            per_year = _PER_YEAR.get(first.interval, Fraction(12)) / max(1, first.interval_count)
            total -= min(Fraction(d.amount_off) * per_year, sum((per_item[i.item_id] for i in eligible), Fraction(0)))
    return max(Fraction(0), total)


@dataclass(frozen=True)
class ContractShape:
    subscription_id: str
    customer: str
    status: str
    items: tuple[ItemShape, ...]
    trial_end: int | None
    discounts: tuple[str, ...]
    cancel_at_period_end: bool
    cancel_at: int | None
    pending_proration_items: tuple[str, ...]
    latest_invoice: str | None
    latest_invoice_paid: Money | None
    latest_charge: str | None
    customer_balance: Money
    is_annual: bool
    is_team: bool
    is_prorated: bool
    currency: str = "usd"
    recurring_discounts: tuple[RecurringDiscount, ...] = ()
    #: the subscription schedule managing it (its coming phases and end), None without one;
    #: ``items``, ``mrr`` and the refund options are today's phase
    schedule: ScheduleShape | None = None

    @property
    def recurring_total(self) -> Money:
        """What one full period recurs at: each item's amount under its price's model (metered
        usage, billed in arrears, is not recurring)."""
        return Money(sum(i.amount_at(i.quantity) for i in self.items), self.currency)

    def percent_factor(self, item: ItemShape) -> Fraction:
        """What share of ``item``'s price the forever percentage discounts leave (1: none): a seat
        more or less changes MRR by this share of its price."""
        factor = Fraction(1)
        for d in self.recurring_discounts:
            if d.percent_off is not None and d.applies(item):
                factor *= 1 - d.percent_off / 100
        return factor

    @property
    def recurring_net(self) -> Money:
        """What one full period costs after the forever discounts (what the customer pays on)."""
        if not self.recurring_discounts or not self.items:
            return self.recurring_total
        first = self.items[0]
        per_year = _PER_YEAR.get(first.interval, Fraction(12)) / max(1, first.interval_count)
        return Money(round_half_up(net_annual(self.items, self.recurring_discounts) / per_year), self.currency)

    @property
    def mrr(self) -> Money:
        """Monthly recurring revenue: the exact annualised total after forever discounts / 12,
        rounded once (half up)."""
        return Money(round_half_up(net_annual(self.items, self.recurring_discounts, excluding_tax=True) / 12),
                     self.currency)

    @property
    def arr(self) -> Money:
        """Annual recurring revenue: the exact annualised net total, rounded once (not mrr x 12)."""
        return Money(round_half_up(net_annual(self.items, self.recurring_discounts, excluding_tax=True)), self.currency)

    @property
    def period_start(self) -> int | None:
        return min((i.period_start for i in self.items), default=None)

    @property
    def period_end(self) -> int | None:
        return max((i.period_end for i in self.items), default=None)

    def as_case_json(self) -> dict[str, Any]:
        first = self.items[0] if self.items else None
        return {
            "subscription_id": self.subscription_id, "status": self.status,
            "interval": first.interval if first else None, "interval_count": first.interval_count if first else None,
            "quantity": sum(i.quantity for i in self.items), "per_seat": any(i.per_seat for i in self.items),
            "period_start": self.period_start, "period_end": self.period_end,
            "recurring_total": self.recurring_total.as_dict(), "recurring_net": self.recurring_net.as_dict(),
            "forever_discounts": [d.discount_id for d in self.recurring_discounts],
            "latest_invoice": self.latest_invoice,
            "latest_invoice_paid": self.latest_invoice_paid.as_dict() if self.latest_invoice_paid else None,
            "is_annual": self.is_annual, "is_team": self.is_team, "is_prorated": self.is_prorated,
            "cancel_at_period_end": self.cancel_at_period_end,
            "schedule": self.schedule.as_case_json() if self.schedule else None,
        }


@dataclass(frozen=True)
class RefundOption:
    """One way out for the customer, with its exact amount."""

    kind: str  # one of OPTION_KINDS
    subscription_id: str  # "" for a one-off charge (``charge`` names it)
    amount: Money  # what goes back to the customer (0 for cancel at period end)
    # details["parts"] (unused-time kinds): [{"invoice", "charge", "amount", "paid"}], newest
    # first, summing to ``amount``: one credit note / refund per invoice that paid the period
    invoice: str | None
    charge: str | None
    explanation: str
    stripe_amount: int | None = None  # Stripe's own figure when it can compute it
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def parts(self) -> tuple[tuple[str, str | None, Money], ...]:
        """Where the money goes back: (invoice, charge, amount) per paid invoice of the period
        (``details["parts"]``, newest first: after a mid-period upgrade the unused time spans the
        first invoice and the upgrade's), else the option's own invoice and amount."""
        split = self.details.get("parts") or []
        if split:
            return tuple((str(p["invoice"]), str(p["charge"]) if p.get("charge") else None,
                          Money(int(p["amount"]), self.amount.currency)) for p in split)
        return ((str(self.invoice), self.charge, self.amount),) if self.invoice else ()

    def part_on(self, invoice: str) -> Money | None:
        """What this option gives back on ``invoice`` (None: nothing there)."""
        return next((m for inv, _, m in self.parts if inv == invoice), None)

    @property
    def key(self) -> str:
        """``kind:subscription_id``: how Stripe's figures are matched to options."""
        return f"{self.kind}:{self.subscription_id}"

    @property
    def before_credit(self) -> Money:
        """The amount before the customer's balance credit and what already went back against the
        period were netted from it: what Stripe's preview computes (its proration credit knows
        nothing of the balance or the earlier refunds we set against it)."""
        gross = self.details.get("unused_value", self.details.get("before_credit_held"))
        return self.amount if gross is None else Money(int(gross), self.amount.currency).stripe_rounded()

    @property
    def mismatch(self) -> bool:
        """Our figure before the balance credit is not Stripe's, nor Stripe's brought to an
        amount Stripe accepts back (a three-decimal currency refunds in multiples of 10: 20.993
        KWD goes back as 20.990). Like for like: the credit we net is not in Stripe's preview."""
        ours = self.before_credit
        if self.kind == "credit_balance_unused":  # Stripe's figure: its preview of these credit notes
            ours = self.amount
        elif self.details.get("paid_from_balance") and self.details.get("capped"):
            # the balance paid part of the period: Stripe's figure counts that part, our refund to the
            # card cannot, so the two are not like for like and the analyst must see why they differ
            ours = Money(int(self.details.get("before_credit_held", self.amount.amount)), self.amount.currency)
        if self.stripe_amount is None or self.stripe_amount == ours.amount:
            return False
        # Taxed lines: ours is the exact share of what was paid (tax in), rounded once; Stripe
        # rounds each proration line before taxing it and rounds each tax: up to 2 minor units a line.
        slack = 2 * int(self.details.get("taxed_lines") or 0)
        if abs(self.stripe_amount - ours.amount) <= slack:
            return False
        return Money(self.stripe_amount, self.amount.currency).stripe_rounded() != ours

    def as_case_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "subscription_id": self.subscription_id, "amount": self.amount.as_dict(),
            "invoice": self.invoice, "charge": self.charge, "explanation": self.explanation,
            "stripe_amount": self.stripe_amount, "mismatch": self.mismatch,
        }


# --- shapes -------------------------------------------------------------------------------
