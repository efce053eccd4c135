"""A seat count far above the one a subscription has is refused before anything is written:
``quantity:sub_X:100000000`` for a 5-seat team would put millions on the next invoice."""

from __future__ import annotations

from pathlib import Path

import pytest
import stripe
from hypothesis import given, strategies as st

from billing_nb.actions.guards import seat_limit
from billing_nb.actions.ledger import Ledger
from billing_nb.analysis.classify import Bucket
from billing_nb.exceptions import ActionRefusedError
from billing_nb.sandbox.server import ThreadedSandbox
from test_actions_exec import case, client, customer, refused, run, sb  # noqa: F401 - fixtures


@given(st.integers(min_value=1, max_value=10_000))
def test_the_limit_allows_doubling_or_five_more_and_nothing_beyond(seats: int) -> None:
    limit = seat_limit(seats)
    assert limit >= 2 * seats and limit >= seats + 5
    assert limit == max(2 * seats, seats + 5)


@pytest.mark.sandbox
def test_a_typo_seat_count_is_refused_and_a_plausible_one_lands(sb: ThreadedSandbox, client: stripe.StripeClient,
                                                                 tmp_path: Path) -> None:
    ledger = Ledger.in_dir(tmp_path)
    cus, _ = customer(client, quantity=5)
    snap, p, d = case(client, cus, Bucket.TEAM_SEATS)
    sub = next(iter(p.seats))
    for typo in (100_000_000, 11):
        refused(sb, ledger, ActionRefusedError, lambda t=typo: run(p, [f"quantity:{sub}:{t}"], "c", client, ledger,
                                                                   snap, d), "far above the 5 it has")
    assert [i.quantity for i in client.v1.subscriptions.retrieve(sub).items.data] == [5]
    done = run(p, [f"quantity:{sub}:10"], "c-ok", client, ledger, snap, d)  # double: allowed
    assert [e.status for e in done] == ["succeeded"]
    assert [i.quantity for i in client.v1.subscriptions.retrieve(sub).items.data] == [10]
