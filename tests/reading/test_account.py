"""The whole-account read (StripeReader.account), AccountSnapshot, and portal checks per product."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import stripe

from billing_nb.reading.account import read_account
from billing_nb.reports import portfolio
from billing_nb.config import API_VERSION
from billing_nb.demo.cast import known_pii
from billing_nb.reading.account import ACCOUNT_KINDS, AccountSnapshot, open_account
from billing_nb.reports.portal import findings_markdown, portal_choice, portal_in_use, product_abilities
from billing_nb.reading.provider import StripeReader
from billing_nb.reading.masking import mask_email
from billing_nb.records.scan import scan
from billing_nb.demo.seed import seed_demo
from billing_nb.sandbox.server import ThreadedSandbox


@pytest.fixture(scope="module")
def own() -> Iterator[tuple[AccountSnapshot, dict[str, Any]]]:
    """The stories these checks read, seeded into a private sandbox: the session's demo is
    written to by other tests (a CLI test cancels dup_personal's duplicate)."""
    with ThreadedSandbox() as sb:
        client = stripe.StripeClient("sk_test_account", base_addresses={"api": sb.url}, stripe_version=API_VERSION)
        stories = {c.story: c for c in seed_demo(client, ("dup_personal", "dup_customer", "team", "cant_cancel"))}
        yield read_account(StripeReader(client)), stories


@pytest.fixture(scope="module")
def account(own: tuple[AccountSnapshot, dict[str, Any]]) -> AccountSnapshot:
    return own[0]


def test_account_reads_every_kind_in_two_waves(demo: Any) -> None:
    account = read_account(StripeReader(demo.client))
    # Stripe's customer and subscription lists leave out test-clock objects unless asked per
    # clock (docs.stripe.com/api/customers/list#list_customers-test_clock): one request per
    # listing (the clocks, each kind without a clock, each clock's customers and subscriptions),
    # plus one per further page of 100 (the demo has a customer with 113 invoices)
    clocks = [c.id for c in demo.client.v1.test_helpers.test_clocks.list({"limit": 100}).auto_paging_iter()]
    assert clocks and all(c["test_clock"] for c in account.customers if c["id"] in {x.customer_id for x in demo.customers})
    pages = 1 + 2 * len(clocks) + sum(max(1, -(-len([o for o in account.of(k) if not o.get("test_clock")]) // 100))
                                      if k in ("customers", "subscriptions") else max(1, -(-len(account.of(k)) // 100))
                                      for k in ACCOUNT_KINDS)
    assert account.request_count == pages and account.truncated == ()
    assert len(account.invoices) > 100 and pages > 4
    assert account.fetched_at.tzinfo is not None
    ids = {c["id"] for c in account.customers}
    assert {c.customer_id for c in demo.customers} <= ids
    assert all(isinstance(it["price"], dict) for s in account.subscriptions for it in s["items"]["data"])
    assert {s["status"] for s in account.subscriptions} >= {"active", "past_due"}
    assert account.invoices and len(account.portal_configurations) >= 1
    assert list(account.summary()["kind"]) == list(ACCOUNT_KINDS)
    assert "@" not in repr(account)  # object lists stay out of repr


def test_max_pages_marks_the_listing_as_cut_short(demo: Any) -> None:
    # A listing is marked cut only when Stripe said there was more (has_more) at the cap: no
    # false alarm for a kind that fit in its pages (tests/reading/test_pagination.py: the true case).
    small = read_account(StripeReader(demo.client), max_pages=1)
    whole = read_account(StripeReader(demo.client))
    for kind in ACCOUNT_KINDS:
        assert (kind in small.truncated) == (len(whole.of(kind)) > 100), kind
    assert list(small.summary()["complete"]) == [k not in small.truncated for k in ACCOUNT_KINDS]


def test_portfolio_on_the_demo_account(own: tuple[AccountSnapshot, dict[str, Any]]) -> None:
    account, stories = own
    dups = portfolio.duplicate_subscriptions(account.subscriptions, account.customers)
    personal = stories["dup_personal"]
    row = dups[dups["person"] == mask_email(personal.email)].iloc[0]
    assert row["count"] == 2
    assert {personal.objects["subscription"], personal.objects["duplicate_subscription"]} == set(row["subscriptions"].split(", "))
    across = stories["dup_customer"]  # one email on two customer objects
    assert mask_email(across.email) in set(dups["person"])
    seats = portfolio.seat_distribution(account.subscriptions)
    team = seats[seats["subscription"] == stories["team"].objects["subscription"]]
    assert list(team["seats"]) == [5]
    totals = portfolio.mrr_totals(account)
    assert list(totals["currency"]) == ["usd"] and int(totals.loc[0, "mrr_minor"]) > 0
    assert (portfolio.unpaid_invoices(account.invoices)["remaining_minor"] > 0).all()


def test_demo_portal_cannot_cancel_or_switch(account: AccountSnapshot) -> None:
    frame = product_abilities(account.subscriptions, account.portal_configurations)
    assert set(frame["product"]) >= {"billing_nb_demo_pro", "billing_nb_demo_team"}
    assert not frame["can_cancel"].any() and not frame["can_switch_plan"].any()
    assert frame["can_update_card"].all() and frame["can_see_invoices"].all()
    team = frame.set_index("product").loc["billing_nb_demo_team"]
    assert team["per_seat"] and "cannot change seats" in team["problems"]
    pro = frame.set_index("product").loc["billing_nb_demo_pro"]
    assert "seats" not in pro["problems"] and "cannot cancel" in pro["problems"]
    lines = findings_markdown(frame).splitlines()
    assert any(line.startswith("- **billing_nb_demo_team** (1 live subscription): cannot cancel") for line in lines)
    conf = account.portal_configuration()
    assert conf is not None and f"`{conf['id']}`" in portal_choice(account.portal_configurations)


def _conf(cid: str, *, default: bool = False, created: int = 0, active: bool = True, **features: Any) -> dict[str, Any]:
    return {"id": cid, "is_default": default, "created": created, "active": active, "features": features}


def test_portal_in_use_follows_the_case_rule() -> None:
    default = _conf("bpc_default", default=True, created=1)
    old, new = _conf("bpc_old", created=2), _conf("bpc_new", created=3)
    off = _conf("bpc_off", created=9, active=False)
    assert portal_in_use([default, old, new, off]) is new
    assert portal_in_use([default, old, new], named="bpc_old") is old
    assert portal_in_use([default, off]) is default
    assert portal_in_use([off]) is None
    assert "No active billing portal configuration" in portal_choice([off])
    assert "BILLING_NB_PORTAL_CONFIGURATION" in portal_choice([default, old], named="bpc_old")


def _sub(sid: str, product: str, price: str, qty: int = 1, status: str = "active") -> dict[str, Any]:
    return {"id": sid, "customer": f"cus_{sid}", "status": status,
            "items": {"data": [{"quantity": qty, "price": {"id": price, "product": product, "metadata": {}}}]}}


def test_switching_needs_the_product_listed_with_another_price() -> None:
    conf = _conf("bpc_1", subscription_cancel={"enabled": True}, payment_method_update={"enabled": True},
                 invoice_history={"enabled": True},
                 subscription_update={"enabled": True, "default_allowed_updates": ["price", "quantity"],
                                      "products": [{"product": "prod_a", "prices": ["price_a1", "price_a2"]},
                                                   {"product": "prod_b", "prices": ["price_b1"]}]})
    subs = [_sub("s1", "prod_a", "price_a1"), _sub("s2", "prod_b", "price_b1", qty=3), _sub("s3", "prod_c", "price_c1"),
            _sub("s4", "prod_d", "price_d1", status="canceled")]
    frame = product_abilities(subs, [conf]).set_index("product")
    assert list(frame.index) == ["prod_a", "prod_b", "prod_c"]  # live subscriptions only
    assert frame.loc["prod_a", "can_switch_plan"] and frame.loc["prod_a", "problems"] == "none"
    assert not frame.loc["prod_b", "can_switch_plan"] and frame.loc["prod_b", "can_change_seats"]  # only one price
    assert frame.loc["prod_b", "problems"] == "cannot switch plan"
    assert not frame.loc["prod_c", "can_switch_plan"] and frame["can_cancel"].all()
    assert findings_markdown(frame.reset_index().iloc[:1]) == "Every product's customers can do everything on their own."


def test_no_portal_means_nothing_self_serve() -> None:
    frame = product_abilities([_sub("s1", "prod_a", "price_a1")], [])
    assert frame.loc[0, "configuration"] is None
    assert frame.loc[0, "problems"] == "cannot cancel, cannot switch plan, cannot update card, cannot see invoices"


def test_saved_account_is_masked_and_reloads(account: AccountSnapshot, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = account.save(tmp_path / "account.json")
    assert scan(path, known=known_pii()) == []
    monkeypatch.setenv("BILLING_NB_PORTAL_CONFIGURATION", "bpc_named")
    again = open_account(snapshot_path=str(path))
    assert again.portal_configuration_id == "bpc_named"
    assert [s["id"] for s in again.subscriptions] == [s["id"] for s in account.subscriptions]
    assert again.fetched_at == account.fetched_at
    with pytest.raises(ValueError):
        AccountSnapshot([], [], [], [], fetched_at=datetime(2026, 1, 1))
    assert AccountSnapshot([], [], [], [], fetched_at=datetime(2026, 1, 1, tzinfo=UTC)).portal_configuration() is None


def test_open_account_reads_through_the_environment(demo_env: Any) -> None:
    snap = open_account(max_pages=2)
    assert {c.customer_id for c in demo_env.customers} <= {c["id"] for c in snap.customers}
