"""The demo's data types: catalogue, people, story specs and the seeded customers.

Plain frozen dataclasses shared by the cast (:mod:`billing_nb.demo.cast`), the story
scripts (:mod:`billing_nb.demo.stories`) and the seeder (:mod:`billing_nb.demo.seed`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = ["DemoCustomer", "DemoPrice", "DemoProduct", "Person", "Script", "StorySpec", "DEMO_PRODUCTS", "DEMO_NOW",
           "ts", "p"]


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
    metadata: dict[str, str] = field(default_factory=dict)  # github, company, vat_id, ...
    ship_to: str = ""  # a business's receiving contact: shipping.name (shipping.address is the address)


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


#: A story script (:mod:`billing_nb.demo.stories`): given its run, it plays the story and
#: returns the seeded customer. Typed by argument count only, so the types need no runner.
Script = Callable[..., DemoCustomer]


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


def p(name: str, email: str, phone: str, line1: str, city: str, state: str, postal: str,
       country: str = "US", **meta: str) -> Person:
    return Person(name, email, phone, line1, city, state, postal, country, dict(meta))
