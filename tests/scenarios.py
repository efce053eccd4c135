"""Builders for scenario tests: realistic customers made through the official SDK.

Unlike the demo stories these are built the way an outside tester would build them: plain
``stripe.StripeClient`` calls against a fresh :class:`ThreadedSandbox`, no seeder helpers.
:func:`run` then takes a lookup through the same path as the CLI (resolve, then
``open_case`` + ``confirm``) and returns the case and its case.json.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import stripe

from billing_nb.config import API_VERSION

KEY = "sk_test_scenarios"
_n = itertools.count(1)


@dataclass
class World:
    """A fresh sandbox and an SDK client on it, with small builders."""

    url: str
    c: stripe.StripeClient
    store: Any
    pii: list[str] = field(default_factory=list)

    # --- catalogue --------------------------------------------------------------------
    def product(self, name: str = "Pro", **metadata: str) -> str:
        return self.c.v1.products.create({"name": f"{name} {next(_n)}", "metadata": metadata}).id

    def price(self, product: str, amount: int, interval: str = "month", *, currency: str = "usd",
              interval_count: int = 1, nickname: str | None = None, **metadata: str) -> str:
        params: dict[str, Any] = {"product": product, "unit_amount": amount, "currency": currency,
                                  "recurring": {"interval": interval, "interval_count": interval_count},
                                  "metadata": metadata}
        if nickname:
            params["nickname"] = nickname
        return self.c.v1.prices.create(params).id  # type: ignore[arg-type]

    # --- people ------------------------------------------------------------------------
    def clock(self, start: int) -> str:
        return self.c.v1.test_helpers.test_clocks.create({"frozen_time": start}).id

    def advance(self, clock: str, to: int) -> None:
        self.c.v1.test_helpers.test_clocks.advance(clock, {"frozen_time": to})
        for _ in range(200):
            if self.c.v1.test_helpers.test_clocks.retrieve(clock).status == "ready":
                return
            time.sleep(0.05)
        raise AssertionError("test clock did not become ready")

    def customer(self, email: str | None = None, *, name: str | None = None, phone: str | None = None,
                 card: str | None = "pm_card_visa", clock: str | None = None, **metadata: str) -> str:
        params: dict[str, Any] = {"metadata": metadata}
        for key, value in (("email", email), ("name", name), ("phone", phone)):
            if value:
                params[key] = value
                self.pii.append(value)
        if clock:
            params["test_clock"] = clock
        cus = self.c.v1.customers.create(params)  # type: ignore[arg-type]
        if card:
            self.card(cus.id, card)
        return cus.id

    def card(self, customer: str, token: str = "pm_card_visa", *, default: bool = True) -> str:
        pm = self.c.v1.payment_methods.attach(token, {"customer": customer})
        if default:
            self.c.v1.customers.update(customer, {"invoice_settings": {"default_payment_method": pm.id}})
        return pm.id

    def subscribe(self, customer: str, *prices: str | tuple[str, int], **params: Any) -> stripe.Subscription:
        items = [{"price": p, "quantity": 1} if isinstance(p, str) else {"price": p[0], "quantity": p[1]}
                 for p in prices]
        return self.c.v1.subscriptions.create({"customer": customer, "items": items, **params})  # type: ignore[arg-type]

    def charges(self, customer: str) -> list[stripe.Charge]:
        return list(self.c.v1.charges.list({"customer": customer, "limit": 100}).auto_paging_iter())


@contextmanager
def world() -> Iterator[World]:
    from billing_nb.sandbox.server import ThreadedSandbox

    with ThreadedSandbox() as sb:
        client = stripe.StripeClient(KEY, base_addresses={"api": sb.url}, stripe_version=API_VERSION)
        yield World(url=sb.url, c=client, store=sb.store)


@contextmanager
def pointed_world(monkeypatch: Any, cases: Path) -> Iterator[World]:
    """A fresh world with the toolkit pointed at it: its key and URL, ``cases`` as the cases folder
    (and its ledger there, not an inherited ``BILLING_NB_LEDGER``)."""
    with world() as wd:
        monkeypatch.setenv("STRIPE_API_KEY", KEY)
        monkeypatch.setenv("STRIPE_API_BASE", wd.url)
        monkeypatch.setenv("BILLING_NB_CASES_DIR", str(cases))
        monkeypatch.delenv("BILLING_NB_LEDGER", raising=False)
        yield wd


def resolve(lookup: str) -> str:
    """The customer id a lookup resolves to, as the CLI resolves it (settings from the env)."""
    from billing_nb.config import load_settings
    from billing_nb.reading.provider import StripeReader, make_client

    return StripeReader(make_client(load_settings())).resolve(lookup).customer_ids[0]


def run(lookup: str, out: Path, *, bucket: str | None = None, complaint: str = "",
        case_id: str | None = None) -> tuple[Any, dict[str, Any]]:
    """open_case + confirm on a lookup; the case and its case.json (as written)."""
    import json

    from billing_nb.records.case import open_case
    from billing_nb.reading.provider import lookup_kind

    customer = resolve(lookup)
    case_id = case_id or f"scn-{next(_n)}"
    case = open_case(case_id=case_id, customer=customer, complaint=complaint, output_dir=out / case_id,
                     lookup_kind=lookup_kind(lookup))
    case.confirm(bucket, "parameter")
    return case, json.loads((out / case_id / "case.json").read_text())


def kinds(record: dict[str, Any]) -> list[str]:
    return [a["kind"] for a in record["billing_state"]["anomalies"]]


def plan_kinds(record: dict[str, Any]) -> list[str]:
    return [a["kind"] for a in record["plan"]]


def money_actions(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in record["plan"] if a["moves_money"]]
