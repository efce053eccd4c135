"""The demo seeder: every story in the right state, idempotent, deterministic.

Pure checks on the story data run without a server; the rest seeds a fresh sandbox
(its own, so counts are exact) through the public API only, seeds it again, and seeds
a second sandbox to compare everything but the random ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stripe

from billing_nb.reading.waves import build_snapshot
from billing_nb.actions import execute, plan
from billing_nb.analysis.classify import Bucket, Decision
from billing_nb.config import Settings
from billing_nb.analysis.contract import contract_shapes
from billing_nb.demo.cast import STORIES, STORY_ORDER, known_pii
from billing_nb.demo.stories import DEMO_NOW, DEMO_PRODUCTS, DemoCustomer, ts
from billing_nb.analysis.gaps import GAP_KINDS
from billing_nb.analysis.identify import ANOMALY_KINDS, identify
from billing_nb.actions.ledger import Ledger
from billing_nb.reports.portal import portal_in_use
from billing_nb.reading.provider import StripeReader
from billing_nb.demo.seed import MARK, PORTAL_NAME, demo_table, ensure_portal, seed_demo
from billing_nb.sandbox.server import ThreadedSandbox

BUCKETS = {"duplicate_subscription", "team_seats", "failed_payment", "missing_self_serve", "product_failure", "unclear"}
KEY = "sk_test_seed"


# ----- the story data ---------------------------------------------------------------------
def test_stories_use_known_names_only() -> None:
    assert len(STORY_ORDER) >= 13
    for spec in STORIES.values():
        assert spec.expected_bucket in BUCKETS
        assert set(spec.expected_anomalies) <= set(ANOMALY_KINDS), spec.story
        assert set(spec.expected_gaps) <= set(GAP_KINDS), spec.story
    assert {s.expected_bucket for s in STORIES.values()} == BUCKETS  # every bucket is demonstrated


def test_complaints_carry_distinctive_pii_and_summaries_none() -> None:
    pii = known_pii()
    for spec in STORIES.values():
        p = spec.person
        assert p.name in spec.complaint and p.email in spec.complaint and p.line1 in spec.complaint, spec.story
        assert re.search(r"\d{3}[- ]\d{4}", spec.complaint), spec.story  # a phone number
        assert not any(v in spec.summary for v in pii), spec.story
        assert "@" not in spec.summary
    assert len(set(pii)) == len(pii)  # one person per story, none shared


def test_clock_times_are_fixed_and_before_today() -> None:
    assert DEMO_NOW < ts(2026, 11, 24)
    assert all(ts(2025, 1, 1) < s.start < DEMO_NOW for s in STORIES.values() if s.story != "long_customer")
    # issue 10: one customer with more than 100 monthly invoices, so its clock starts 2017
    long = STORIES["long_customer"]
    assert ts(2017, 1, 1) < long.start and (DEMO_NOW - long.start) // (31 * 86400) > 100


def test_catalogue() -> None:
    prices = {p.lookup_key: p for prod in DEMO_PRODUCTS for p in prod.prices}
    assert prices["pro_monthly"].unit_amount == 2000 and prices["pro_annual"].unit_amount == 20000
    assert prices["team_seat_monthly"].per_seat and prices["team_seat_monthly"].unit_amount == 1500
    assert prices["pro_plus_annual"].unit_amount == 36000


# ----- seeded sandbox ----------------------------------------------------------------------
@dataclass
class Seeded:
    sandbox: ThreadedSandbox
    client: stripe.StripeClient
    customers: list[DemoCustomer]

    def story(self, name: str) -> DemoCustomer:
        return next(c for c in self.customers if c.story == name)


def _client(sb: ThreadedSandbox) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": sb.url}, max_network_retries=0)


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    with ThreadedSandbox() as sb:
        client = _client(sb)
        yield Seeded(sb, client, seed_demo(client))


def _all(lister: Any, params: dict[str, Any] | None = None) -> list[Any]:
    return list(lister({"limit": 100, **(params or {})}).auto_paging_iter())


def _subs(c: stripe.StripeClient, customer: str) -> list[stripe.Subscription]:
    return _all(c.v1.subscriptions.list, {"customer": customer, "status": "all"})


def _invoices(c: stripe.StripeClient, customer: str) -> list[stripe.Invoice]:
    return sorted(_all(c.v1.invoices.list, {"customer": customer}), key=lambda i: i.created)


def test_every_story_seeded_in_order_with_every_lookup_kind(seeded: Seeded) -> None:
    assert [c.story for c in seeded.customers] == list(STORY_ORDER)
    lookups = [c.lookup for c in seeded.customers]
    assert any("@" in x for x in lookups)
    assert any(x.startswith("metadata:github=") for x in lookups)
    for prefix in ("cus_", "sub_", "in_", "ch_"):
        assert any(x.startswith(prefix) for x in lookups), prefix
    for c in seeded.customers:
        cus = seeded.client.v1.customers.retrieve(c.customer_id)
        assert cus.email == c.email and cus.metadata[MARK] == c.story
        clock = seeded.client.v1.test_helpers.test_clocks.retrieve(c.objects["test_clock"])
        assert clock.status == "ready" and clock.frozen_time == DEMO_NOW
        assert demo_table([c])[0]["email"] != c.email and c.email not in str(demo_table([c]))


def test_duplicates(seeded: Seeded) -> None:
    c = seeded.client
    dup = seeded.story("dup_personal")
    subs = [s for s in _subs(c, dup.customer_id) if s.status == "active"]
    assert len(subs) == 2 and subs[0]["items"].data[0].price.id == subs[1]["items"].data[0].price.id
    assert abs(subs[0].created - subs[1].created) == 7 * 60
    assert [i.status for i in _invoices(c, dup.customer_id)] == ["paid", "paid"]
    two = seeded.story("dup_customer")
    # Stripe's list-all leaves out test-clock customers (docs.stripe.com/api/customers/list
    # #list_customers-test_clock): ask each clock
    clocks = [k.id for k in c.v1.test_helpers.test_clocks.list({"limit": 100}).auto_paging_iter()]
    same_email = [x for k in clocks for x in _all(c.v1.customers.list, {"email": two.email, "test_clock": k})]
    assert {x.id for x in same_email} == {two.customer_id, *two.other_customer_ids} and len(same_email) == 2
    for cid in (two.customer_id, *two.other_customer_ids):
        assert [s.status for s in _subs(c, cid)] == ["active"]


def test_team(seeded: Seeded) -> None:
    team = seeded.story("team")
    (sub,) = _subs(seeded.client, team.customer_id)
    item = sub["items"].data[0]
    assert sub.status == "active" and item.quantity == 5 and item.price.lookup_key == "team_seat_monthly"
    assert sub.metadata["team"] == "Lanternfish Analytics"
    assert all(i.status == "paid" and i.amount_paid == 7500 for i in _invoices(seeded.client, team.customer_id))


def test_failed_renewal_after_four_good_ones(seeded: Seeded) -> None:
    fr = seeded.story("failed_renewal")
    (sub,) = _subs(seeded.client, fr.customer_id)
    assert sub.status == "past_due"
    invs = _invoices(seeded.client, fr.customer_id)
    assert [i.status for i in invs] == ["paid"] * 5 + ["open"]
    assert invs[-1].attempt_count >= 2  # the renewal and at least one retry


def test_stale_card(seeded: Seeded) -> None:
    c = seeded.client
    st = seeded.story("stale_card")
    sub = c.v1.subscriptions.retrieve(st.lookup)
    cus = c.v1.customers.retrieve(st.customer_id)
    assert sub.status == "past_due"
    assert sub.default_payment_method == st.objects["stale_payment_method"]
    assert cus.invoice_settings.default_payment_method == st.objects["customer_default_payment_method"]
    assert sub.default_payment_method != cus.invoice_settings.default_payment_method
    assert _invoices(c, st.customer_id)[-1].status == "open"


def test_incomplete_checkout(seeded: Seeded) -> None:
    c = seeded.client
    ic = seeded.story("incomplete_checkout")
    (sub,) = _subs(c, ic.customer_id)
    assert sub.status == "incomplete"
    session = c.v1.checkout.sessions.retrieve(ic.objects["checkout_session"])
    assert session.status == "expired" and session.mode == "subscription"
    pi = c.v1.payment_intents.retrieve(ic.objects["payment_intent"])
    assert pi.status == "requires_payment_method" and pi.last_payment_error is not None
    assert pi.last_payment_error.code == "card_declined"


def test_annual_stories(seeded: Seeded) -> None:
    c = seeded.client
    ar = seeded.story("annual_refund")
    inv = c.v1.invoices.retrieve(ar.lookup)
    assert inv.status == "paid" and inv.amount_paid == 20000 and inv.created == ts(2026, 8, 18, 16)
    (sub,) = _subs(c, ar.customer_id)
    assert sub.status == "active" and sub["items"].data[0].price.recurring.interval == "year"

    up = seeded.story("annual_upgrade")
    pro = c.v1.invoices.retrieve(up.lookup)
    assert pro.billing_reason == "subscription_update" and pro.status == "paid"
    assert 0 < pro.amount_paid < 36000 - 20000 and pro.created == ts(2026, 9, 9, 10)
    (sub,) = _subs(c, up.customer_id)
    assert sub["items"].data[0].price.lookup_key == "pro_plus_annual"

    rr = seeded.story("renewal_regret")
    (sub,) = _subs(c, rr.customer_id)
    assert sub.status == "active" and sub.cancel_at_period_end
    assert sub.cancellation_details is not None and sub.cancellation_details.feedback == "unused"
    invs = _invoices(c, rr.customer_id)
    assert [(i.billing_reason, i.status, i.amount_paid) for i in invs] == [
        ("subscription_create", "paid", 20000), ("subscription_cycle", "paid", 20000)]
    assert ts(2026, 11, 10, 15) <= invs[-1].created < ts(2026, 11, 12, 15)


def _meta_of(obj: Any) -> str | None:
    return (obj.to_dict().get("metadata") or {}).get(MARK)


def test_healthy_monthlies_and_portal(seeded: Seeded) -> None:
    c = seeded.client
    for story in ("cant_cancel", "product_broken", "healthy_refund"):
        dc = seeded.story(story)
        (sub,) = _subs(c, dc.customer_id)
        assert sub.status == "active" and not sub.cancel_at_period_end
        invs = _invoices(c, dc.customer_id)
        assert len(invs) >= 3 and all(i.status == "paid" and i.amount_paid == 2000 for i in invs)
    assert seeded.story("healthy_refund").lookup.startswith("sub_")
    configs = _all(c.v1.billing_portal.configurations.list)
    (default,) = [x for x in configs if x.is_default]
    assert MARK not in default.metadata and default.features.subscription_cancel.enabled  # the Dashboard's, untouched
    (portal,) = [x for x in configs if _meta_of(x) == "portal"]
    f = portal.features
    assert portal.active and not portal.is_default and portal.name == PORTAL_NAME
    assert not f.subscription_cancel.enabled and not f.subscription_update.enabled
    assert f.payment_method_update.enabled and f.invoice_history.enabled
    assert f.customer_update.enabled and {"email", "address"} <= set(f.customer_update.allowed_updates)
    # the toolkit's rule (newest active non-default) meets the demo's configuration, named on every story
    assert portal_in_use([x.to_dict() for x in configs])["id"] == portal.id  # type: ignore[index]
    assert {dc.objects["portal_configuration"] for dc in seeded.customers} == {portal.id}


def test_portal_sessions_for_demo_customers_use_the_demo_configuration(seeded: Seeded, tmp_path: Path) -> None:
    """A case on a demo customer plans portal links on the demo's configuration, and the
    sessions the executor creates name it (not the account's default)."""
    portal_id = seeded.story("cant_cancel").objects["portal_configuration"]
    reader = StripeReader(seeded.client)
    store = seeded.sandbox.store
    for story in ("failed_renewal", "annual_upgrade", "healthy_refund"):
        dc = seeded.story(story)
        snap = build_snapshot(reader, dc.lookup)
        assert (snap.portal_configuration() or {}).get("id") == portal_id, story
        bucket = Bucket(dc.expected_bucket)
        decision = Decision(bucket, bucket, "parameter", 1.0, ())
        the_plan = plan(snap, identify(snap), decision, contract_shapes(snap), [])
        links = [a for a in the_plan.actions if a.kind.value == "portal"]
        assert links and all(a.params["configuration"] == portal_id for a in links), story
        before = {x["id"] for x in store.all("billing_portal.session")}
        done = execute(the_plan, [a.id for a in links], case_id=f"seed-portal-{story}", client=seeded.client,
                       ledger=Ledger.in_dir(tmp_path / story), settings=Settings(api_key=KEY), snapshot=snap,
                       decision=decision)
        assert [e.status for e in done] == ["succeeded"] * len(links), done
        made = [x for x in store.all("billing_portal.session") if x["id"] not in before]
        assert len(made) == len(links) and all(x["configuration"] == portal_id for x in made), story


def test_dispute(seeded: Seeded) -> None:
    c = seeded.client
    d = seeded.story("disputed")
    charge = c.v1.charges.retrieve(d.lookup)
    assert charge.disputed
    disputes = [x for x in _all(c.v1.disputes.list) if x.charge == charge.id]
    assert len(disputes) == 1 and disputes[0].status == "needs_response"


COUNTED = ("customers", "subscriptions", "invoices", "charges", "payment_intents", "disputes", "products", "prices",
           "checkout_sessions", "portal_configurations", "test_clocks", "events")


def _counts(c: stripe.StripeClient) -> dict[str, int]:
    v1 = c.v1
    listers = (v1.customers.list, lambda p: v1.subscriptions.list({**p, "status": "all"}), v1.invoices.list,
               v1.charges.list, v1.payment_intents.list, v1.disputes.list, v1.products.list, v1.prices.list,
               v1.checkout.sessions.list, v1.billing_portal.configurations.list, v1.test_helpers.test_clocks.list,
               v1.events.list)
    counts = {name: len(_all(lister)) for name, lister in zip(COUNTED, listers, strict=True)}
    # Stripe's customer and subscription list-all leave out test-clock objects
    # (docs.stripe.com/api/customers/list#list_customers-test_clock): count each clock's too
    for clock in _all(v1.test_helpers.test_clocks.list):
        counts["customers"] += len(_all(v1.customers.list, {"test_clock": clock.id}))
        counts["subscriptions"] += len(_all(v1.subscriptions.list, {"test_clock": clock.id, "status": "all"}))
    assert counts["customers"] > 0 and counts["subscriptions"] > 0
    return counts


def test_reseeding_changes_nothing(seeded: Seeded) -> None:
    before = _counts(seeded.client)
    log = seeded.sandbox.store.request_log
    start = len(log)
    again = seed_demo(seeded.client)
    assert again == seeded.customers
    assert [a.objects for a in again] == [b.objects for b in seeded.customers]
    assert _counts(seeded.client) == before
    assert [r["path"] for r in log[start:] if r["method"] == "POST"] == []  # not a single write


def _fingerprint(c: stripe.StripeClient, customers: list[DemoCustomer]) -> list[Any]:
    """Everything about the seeded account except its random ids."""
    out: list[Any] = []
    for dc in customers:
        for cid in (dc.customer_id, *dc.other_customer_ids):
            cus = c.v1.customers.retrieve(cid)
            subs = [(s.status, s.created, s["items"].data[0].price.lookup_key, s["items"].data[0].quantity,
                     s.cancel_at_period_end) for s in _subs(c, cid)]
            invs = [(i.status, i.created, i.amount_due, i.amount_paid, i.billing_reason) for i in _invoices(c, cid)]
            out.append((dc.story, cus.name, cus.email, cus.phone, cus.created, sorted(subs), invs))
        lookup = re.sub(r"^(cus|sub|in|ch)_\w+$", r"\1_", dc.lookup)  # ids differ, their kind doesn't
        out.append((lookup, dc.complaint, dc.expected_bucket, dc.expected_anomalies, dc.expected_gaps))
    return out


def test_deterministic_across_accounts(seeded: Seeded) -> None:
    with ThreadedSandbox() as other:
        client = _client(other)
        fresh = seed_demo(client)
        assert _fingerprint(client, fresh) == _fingerprint(seeded.client, seeded.customers)


def test_resumes_a_story_interrupted_between_steps() -> None:
    """A crash mid-story (clock advanced, later steps not done) is finished by the next run."""
    from billing_nb.demo.seed import MONTHLY_STEP, StoryRun, ensure_catalog

    spec = STORIES["failed_renewal"]
    with ThreadedSandbox() as sb:
        client = _client(sb)
        run = StoryRun(client, spec, spec.start, ensure_catalog(client), max_step=MONTHLY_STEP)
        run.at(spec.start)
        cus = run.customer("customer")
        run.card(cus, "pm_card_visa", "card")
        run.subscribe(cus, "subscription", "pro_monthly")
        run.at(ts(2026, 10, 19, 9))  # ... and the process died before the card went bad
        (done,) = seed_demo(client, ("failed_renewal",))
        assert done.customer_id == cus.id
        (sub,) = _subs(client, cus.id)
        assert sub.status == "past_due" and sub.default_payment_method == done.objects["failing_payment_method"]


def test_missing_object_behind_the_clock_is_an_error() -> None:
    """An object deleted after its step ran can't be recreated at the right time: say so."""
    from billing_nb.demo.seed import SeedError

    with ThreadedSandbox() as sb:
        client = _client(sb)
        (hr,) = seed_demo(client, ("healthy_refund",))
        client.v1.customers.delete(hr.customer_id)
        with pytest.raises(SeedError, match="delete the test clock"):
            seed_demo(client, ("healthy_refund",))


def _configs(c: stripe.StripeClient) -> dict[str, dict[str, Any]]:
    return {x.id: x.to_dict() for x in _all(c.v1.billing_portal.configurations.list)}


@pytest.mark.parametrize("earlier", [False, True], ids=["dashboard_default", "default_changed_by_old_seeder"])
def test_seeding_leaves_the_default_configuration_as_it_was(earlier: bool) -> None:
    """The seeder makes its own configuration; the account's default (the Dashboard's, or one an
    earlier seeder had switched off in place and marked as the demo's) stays exactly as it was,
    and two runs leave exactly one demo configuration."""
    with ThreadedSandbox() as sb:
        client = _client(sb)
        services = client.v1.billing_portal.configurations
        (default,) = services.list({"is_default": True}).data
        if earlier:
            services.update(default.id, {"metadata": {MARK: "portal", "owner": "billing team"},
                                         "features": {"subscription_cancel": {"enabled": False}}})
        before = services.retrieve(default.id).to_dict()
        for _ in range(2):
            (done,) = seed_demo(client, ("incomplete_checkout",))
        assert services.retrieve(default.id).to_dict() == before
        configs = _configs(client)
        demo = [x for x in configs.values() if not x["is_default"] and (x["metadata"] or {}).get(MARK) == "portal"]
        assert len(configs) == 2 and len(demo) == 1
        assert done.objects["portal_configuration"] == demo[0]["id"]
        updated = [e for e in _all(client.v1.events.list, {"type": "billing_portal.configuration.updated"})]
        assert [e.data.object.id for e in updated] == ([default.id] if earlier else [])  # only the test's own
        created = [r for r in sb.store.request_log
                   if r["method"] == "POST" and r["path"] == "/v1/billing_portal/configurations"]
        assert len(created) == 1  # the second run found it by its metadata


def test_a_drifted_demo_configuration_is_set_back() -> None:
    """Someone switched cancellation on and deactivated it: the next seed restores it in
    place (same id, still one), leaving the default alone."""
    with ThreadedSandbox() as sb:
        client = _client(sb)
        services = client.v1.billing_portal.configurations
        first = ensure_portal(client)
        assert ensure_portal(client) == first
        services.update(first, {"active": False, "features": {"subscription_cancel": {"enabled": True}}})
        default_before = services.list({"is_default": True}).data[0].to_dict()
        assert ensure_portal(client) == first
        conf = services.retrieve(first)
        assert conf.active and not conf.features.subscription_cancel.enabled and not conf.is_default
        assert len(_configs(client)) == 2
        assert services.list({"is_default": True}).data[0].to_dict() == default_before
