"""Helpers for the money-safety tests: a sandbox whose knobs change at run time, real CLI
processes, and the sums that must agree (records vs Stripe)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import stripe

from billing_nb.config import API_VERSION

from scenarios import KEY, World

DAY = 86400
T0 = 1_780_000_000


@dataclass
class Faulty:
    """A world (a seeded sandbox) and its knobs, which the server reads on every request."""

    world: World
    sandbox: Any

    @property
    def knobs(self) -> Any:
        return self.sandbox.app.state.knobs

    def env(self, cases: Path | None = None, url: str | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "BILLING_NB_"))}
        env.update({"STRIPE_API_KEY": KEY, "STRIPE_API_BASE": url or self.world.url, "PYTHONUNBUFFERED": "1"})
        if cases is not None:
            env["BILLING_NB_CASES_DIR"] = str(cases)
        return env


@contextmanager
def faulty_world() -> Iterator[Faulty]:
    from billing_nb.sandbox.server import ThreadedSandbox

    with ThreadedSandbox() as sb:
        client = stripe.StripeClient(KEY, base_addresses={"api": sb.url}, stripe_version=API_VERSION)
        yield Faulty(World(url=sb.url, c=client, store=sb.store), sb)


def monthly_customer(w: World, amount: int = 2000) -> tuple[str, str]:
    """A customer with one paid monthly subscription: (customer id, its charge id)."""
    cus = w.customer(None)
    w.subscribe(cus, w.price(w.product(), amount))
    [charge] = w.charges(cus)
    return cus, charge.id


def annual_customer(w: World, days: int = 250) -> str:
    """A customer ``days`` into a paid annual plan: the unused-time credit note is partial."""
    clock = w.clock(T0)
    cus = w.customer(None, clock=clock)
    w.subscribe(cus, w.price(w.product(), 120000, "year"))
    w.advance(clock, T0 + days * DAY)
    return cus


def cli(args: list[str], env: dict[str, str], **kw: Any) -> subprocess.Popen[str]:
    """The real ``billing-nb`` in its own process group (so a test can kill it and its kernel)."""
    return subprocess.Popen([sys.executable, "-m", "billing_nb.cli", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kw)


def case_args(cus: str, bucket: str, approve: list[str], out: Path) -> list[str]:
    return ["case", cus, "--bucket", bucket, "--approve", *approve, "--out", str(out), "--json"]


def records(cases: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(cases.rglob("case.json")):
        out.append(json.loads(path.read_text()))
    return out


def claimed(recs: list[dict[str, Any]], kind: str) -> int:
    """What the records say they refunded (``refunded``) or credited (``credited``), summed."""
    return sum(int(((r.get("revenue_impact") or {}).get(kind) or {}).get("value", 0)) for r in recs)


def ours(objs: list[Any]) -> list[Any]:
    return [o for o in objs if (o.to_dict().get("metadata") or {}).get("billing_nb_action")]
