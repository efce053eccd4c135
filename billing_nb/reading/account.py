"""The whole account at once, for the portfolio and portal notebooks.

A case reads one customer; plan analysis and portal validation need every customer,
subscription, invoice and portal configuration. :class:`AccountSnapshot` holds them as
raw Stripe dicts (read by :func:`read_account` through the
:class:`~billing_nb.reading.provider.StripeReader`, the only code that calls Stripe), with when they were fetched.
Like a case snapshot it can be saved (PII masked) and re-loaded, so the same notebooks
run offline on a saved account.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from .concurrency import Rows, run_wave
from .prices import (coupon_ids_needing_options, price_reads, subscription_currency, subscription_discounts,
                     with_coupon_options,
                     with_price_details)
from .provider import StripeReader, make_client
from .rows import obj_id
from .snapshot import portal_in_use

__all__ = ["AccountSnapshot", "ACCOUNT_KINDS", "open_account", "read_account", "complete_details",
           "discounts_in_currency"]

#: The kinds an account snapshot holds, in display order.
ACCOUNT_KINDS: tuple[str, ...] = ("customers", "subscriptions", "invoices", "portal_configurations")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


@dataclass(frozen=True)
class AccountSnapshot:
    """Every customer, subscription (items carry whole price objects), invoice and portal
    configuration of the account, fetched at ``fetched_at`` (aware UTC).

    ``truncated`` names the kinds whose listing stopped at ``max_pages`` (more may exist):
    the frames built on them are then a sample, and the notebooks say so.
    The object lists are left out of ``repr`` so a stray display never shows PII.
    """

    customers: list[dict[str, Any]] = field(repr=False)
    subscriptions: list[dict[str, Any]] = field(repr=False)
    invoices: list[dict[str, Any]] = field(repr=False)
    portal_configurations: list[dict[str, Any]] = field(repr=False)
    fetched_at: datetime
    request_count: int = 0
    truncated: tuple[str, ...] = ()
    portal_configuration_id: str | None = None  # BILLING_NB_PORTAL_CONFIGURATION, when set

    def __post_init__(self) -> None:
        if self.fetched_at.tzinfo is None:
            raise ValueError("fetched_at must be aware UTC")

    def of(self, kind: str) -> list[dict[str, Any]]:
        """The objects of one kind in :data:`ACCOUNT_KINDS`."""
        if kind not in ACCOUNT_KINDS:
            raise KeyError(kind)
        return list(getattr(self, kind))

    def portal_configuration(self) -> dict[str, Any] | None:
        """The portal configuration customers meet (same rule as a case's snapshot)."""
        return portal_in_use(self.portal_configurations, self.portal_configuration_id)

    def summary(self) -> pd.DataFrame:
        """How much was read: objects per kind, and whether the listing was cut short."""
        rows = [{"kind": k, "objects": len(self.of(k)), "complete": k not in self.truncated} for k in ACCOUNT_KINDS]
        return pd.DataFrame(rows, columns=["kind", "objects", "complete"])

    # --- persistence ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"fetched_at": self.fetched_at.isoformat(), "request_count": self.request_count,
                "truncated": list(self.truncated), "portal_configuration_id": self.portal_configuration_id,
                **{k: self.of(k) for k in ACCOUNT_KINDS}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AccountSnapshot:
        return cls(**{k: list(data.get(k) or []) for k in ACCOUNT_KINDS},
                   fetched_at=datetime.fromisoformat(data["fetched_at"]),
                   request_count=int(data.get("request_count", 0)), truncated=tuple(data.get("truncated") or ()),
                   portal_configuration_id=data.get("portal_configuration_id"))

    def save(self, path: Path, *, mask_pii: bool = True) -> Path:
        """Write as JSON, PII masked unless ``mask_pii`` is False.

        A masked account loses email identity (two people may mask alike), so duplicate
        detection across customer objects is only exact on a live read.
        """
        data = self.to_dict()
        if mask_pii:
            from .masking import mask_object

            data = {**data, **{k: mask_object(data[k]) for k in ACCOUNT_KINDS}}
        Path(path).write_text(json.dumps(data, indent=1, sort_keys=True, default=_json_default))
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> AccountSnapshot:
        return cls.from_dict(json.loads(Path(path).read_text()))


def open_account(*, max_pages: int = 20, snapshot_path: str | None = None) -> AccountSnapshot:
    """The account from Stripe (key from STRIPE_API_KEY), or from a saved snapshot file."""
    if snapshot_path:
        snap = AccountSnapshot.load(Path(snapshot_path))
    else:
        from ..config import load_settings

        snap = read_account(StripeReader(make_client(load_settings())), max_pages=max_pages)
    named = os.environ.get("BILLING_NB_PORTAL_CONFIGURATION")
    if named:
        snap = AccountSnapshot(**{k: snap.of(k) for k in ACCOUNT_KINDS}, fetched_at=snap.fetched_at,
                               request_count=snap.request_count, truncated=snap.truncated,
                               portal_configuration_id=named)
    return snap


_SUB_EXPAND = ["data.discounts.source.coupon"]
#: A customer's own discount, which its subscriptions without one inherit (four levels).
_CUSTOMER_EXPAND = ["data.discount.source.coupon"]


def discounts_in_currency(subscriptions: list[dict[str, Any]],
                          customers: list[dict[str, Any]]) -> list[tuple[Any, str | None]]:
    """Each discount a subscription bills with -- its own, else its customer's -- with the
    subscription's currency, the one an ``amount_off`` is taken in."""
    by_id = {str(c.get("id")): c for c in customers}
    out: list[tuple[Any, str | None]] = []
    for sub in subscriptions:
        for disc in subscription_discounts(sub, by_id.get(str(obj_id(sub.get("customer"))))):
            out.append((disc, subscription_currency(sub)))
    return out


def complete_details(reader: StripeReader, subscriptions: list[dict[str, Any]],
                     customers: list[dict[str, Any]]) -> int:
    """Fill in, in place and in one concurrent wave, what a list's expansion cannot reach (five
    levels): tiered prices' tiers, the ``currency_options`` of prices and ``amount_off`` coupons
    billed in another currency than their default. Returns the requests made (0 in an ordinary
    account: one currency, per-unit prices)."""
    reads = price_reads(subscriptions)
    pairs = discounts_in_currency(subscriptions, customers)
    coupons = coupon_ids_needing_options(pairs)
    jobs: dict[tuple[str, str], Callable[[], Rows]] = {
        ("prices", pid): (lambda p=pid, e=exp: ([reader.price_expanded(p, e)], 1)) for pid, exp in reads.items()}
    jobs.update({("coupons", cid): (lambda c=cid: ([reader.coupon_with_options(c)], 1)) for cid in coupons})
    if not jobs:
        return 0
    got = run_wave(jobs, reader.concurrency)
    with_price_details(subscriptions, [r for (k, _), (rows, _) in got.items() if k == "prices" for r in rows])
    with_coupon_options([d for d, _ in pairs], [r for (k, _), (rows, _) in got.items() if k == "coupons" for r in rows])
    return len(jobs)


def read_account(reader: StripeReader, *, max_pages: int = 20) -> AccountSnapshot:
    """Every customer, subscription, invoice and portal configuration, each listing stopped
    at ``max_pages`` pages. Stripe's customer and subscription lists leave out objects on a
    test clock unless asked per clock (https://docs.stripe.com/api/customers/list#list_customers-test_clock,
    https://docs.stripe.com/api/subscriptions/list#list_subscriptions-test_clock), so a first
    wave lists the clocks beside the clock-less objects, a second each clock's. A subscription
    item's ``price`` is always a whole object (not expandable); a subscription's discounts and a
    customer's (``data.discount.source.coupon``: inherited by its subscriptions without their own)
    are expanded to their coupons (four levels) for MRR net of forever coupons; what five levels
    would need is read in one more wave only where needed (:func:`complete_details`)."""
    from datetime import UTC

    v1 = reader.client.v1
    start = reader.request_count
    jobs: dict[tuple[str, str], Callable[[], Rows]] = {
        ("customers", ""): lambda: reader.list_all(v1.customers.list, {"limit": 100, "expand": _CUSTOMER_EXPAND},
                                                   max_pages=max_pages, what="customers"),
        ("subscriptions", ""): lambda: reader.list_all(v1.subscriptions.list, {"status": "all", "limit": 100,
                                                                                "expand": _SUB_EXPAND},
                                                       max_pages=max_pages, what="subscriptions"),
        ("invoices", ""): lambda: reader.list_all(v1.invoices.list, {"limit": 100}, max_pages=max_pages,
                                                  what="invoices"),
        ("portal_configurations", ""): lambda: reader.list_all(v1.billing_portal.configurations.list, {"limit": 100},
                                                               max_pages=max_pages, what="portal_configurations"),
        ("test_clocks", ""): lambda: reader.list_all(v1.test_helpers.test_clocks.list, {"limit": 100},
                                                     max_pages=max_pages, what="customers"),
    }
    noted = len(reader.truncated)
    got = run_wave(jobs, reader.concurrency)
    per_clock: dict[tuple[str, str], Callable[[], Rows]] = {}
    for clk in got.pop(("test_clocks", ""))[0]:
        cid = str(clk["id"])
        per_clock[("customers", cid)] = lambda c=cid: reader.list_all(
            v1.customers.list, {"test_clock": c, "limit": 100, "expand": _CUSTOMER_EXPAND}, max_pages=max_pages,
            what="customers")
        per_clock[("subscriptions", cid)] = lambda c=cid: reader.list_all(
            v1.subscriptions.list, {"test_clock": c, "status": "all", "limit": 100, "expand": _SUB_EXPAND},
            max_pages=max_pages,
            what="subscriptions")
    got.update(run_wave(per_clock, reader.concurrency) if per_clock else {})
    cut = {str(n["list"]) for n in reader.truncated[noted:]}  # cut at the cap while Stripe had more
    merged: dict[str, list[dict[str, Any]]] = {}
    for (kind, _), (rows, _pages) in got.items():
        merged.setdefault(kind, []).extend(rows)
    for kind in ("customers", "subscriptions"):  # newest first across the clocks, as one list would be
        merged[kind].sort(key=lambda o: int(o.get("created") or 0), reverse=True)
    # tiers, currency options: only when expanded, five levels via a list; none in an ordinary account
    complete_details(reader, merged["subscriptions"], merged["customers"])
    return AccountSnapshot(
        customers=[c for c in merged["customers"] if not c.get("deleted")],
        subscriptions=merged["subscriptions"], invoices=merged["invoices"],
        portal_configurations=merged["portal_configurations"], fetched_at=datetime.now(UTC),
        request_count=reader.request_count - start,
        truncated=tuple(k for k in ACCOUNT_KINDS if k in cut),
    )
