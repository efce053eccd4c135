"""Writes under injected faults: retried with the same key, or reported failed; never both ways.

Reads go to a healthy sandbox and writes (POSTs) to a second sandbox server on the *same
store* with a fault knob, through an injected HTTP client (no patching): the write path
meets real 429s, 500s and dropped connections while the case's reads stay clean.
Stripe: the SDK retries 409/5xx/connection errors with the same Idempotency-Key and
honours Stripe-Should-Retry (https://docs.stripe.com/error-low-level#server-errors);
429s are retried here with exponential backoff and jitter
(https://docs.stripe.com/rate-limits#handling-limiting-gracefully).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from billing_nb.actions import execute, revenue_impact
from billing_nb.actions.ledger import Ledger
from billing_nb.analysis.classify import Bucket
from billing_nb.records.storage import final_status
from billing_nb.sandbox.app import Knobs
from billing_nb.sandbox.server import ThreadedSandbox

from test_actions_exec import SETTINGS, case, customer, decided, refund_action, refunds_of

pytestmark = pytest.mark.sandbox


class SplitHttp(stripe.RequestsClient):
    """POSTs to ``write_base``, everything else where the SDK sent it."""

    def __init__(self, read_base: str, write_base: str) -> None:
        super().__init__()
        self.read_base, self.write_base = read_base, write_base

    def request(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
        if method.lower() == "post":
            url = url.replace(self.read_base, self.write_base, 1)
        return super().request(method, url, headers, post_data)


@pytest.fixture(scope="module")
def healthy() -> Iterator[ThreadedSandbox]:
    with ThreadedSandbox() as sb:
        yield sb


def split_client(read: ThreadedSandbox, write: ThreadedSandbox, retries: int = 2) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_123", base_addresses={"api": read.url}, max_network_retries=retries,
                               http_client=SplitHttp(read.url, write.url))


def _posts(sb: ThreadedSandbox, path: str) -> list[int]:
    return [r["status"] for r in sb.store.request_log if r["method"] == "POST" and r["path"] == path]


def test_a_write_that_keeps_failing_is_failed_with_stripes_error_and_nothing_lands(
        healthy: ThreadedSandbox, tmp_path: Path) -> None:
    plain = stripe.StripeClient("sk_test_123", base_addresses={"api": healthy.url})
    cus, _ = customer(plain)
    snap, p, d = case(plain, cus, Bucket.PRODUCT_FAILURE)
    rid = refund_action(p)
    document = next(a.id for a in p.actions if a.kind.value == "document")
    ledger = Ledger.in_dir(tmp_path)
    with ThreadedSandbox(Knobs(fail_rate=1.0, seed=1), store=healthy.store) as broken:
        out = execute(p, [rid, document], case_id="c-fail", client=split_client(healthy, broken), ledger=ledger,
                      settings=SETTINGS, snapshot=snap, decision=d)
        attempts = _posts(broken, "/v1/refunds")
    [refund, doc] = out
    assert refund.status == "failed" and refund.stripe_object is None
    # the last try met either a 500 (Stripe's "unavailable") or a connection dropped mid-reply
    assert any(w in (refund.error or "").lower() for w in ("unavailable", "connection"))
    assert len(attempts) >= 1  # dropped connections never reach the log; 500s do (and were retried)
    assert refunds_of(plain, rid.split(":")[1]) == []  # failed ⇒ nothing in Stripe
    assert doc.status == "failed"  # documenting is still tried after a failure, and fails here too
    assert final_status(out) == "failed"
    assert revenue_impact(p, out, snap)["refunded"]["value"] == 0
    finishes = [(e.action_id, e.status) for e in ledger.entries() if e.phase == "finish"]
    assert (rid, "failed") in finishes


def test_rate_limited_write_is_retried_with_the_same_key_and_lands_once(
        healthy: ThreadedSandbox, tmp_path: Path) -> None:
    plain = stripe.StripeClient("sk_test_123", base_addresses={"api": healthy.url})
    cus, _ = customer(plain)
    snap, p, d = case(plain, cus, Bucket.PRODUCT_FAILURE)
    rid = refund_action(p)
    with ThreadedSandbox(Knobs(rate_limit=1), store=healthy.store) as limited:
        burn = stripe.StripeClient("sk_test_123", base_addresses={"api": limited.url}, max_network_retries=0)
        with pytest.raises(stripe.RateLimitError):
            for _ in range(3):  # use up this second's budget: the refund's first POST meets a 429
                burn.v1.customers.update(cus, {"metadata": {"burn": "1"}})
        [done] = execute(p, [rid], case_id="c-429", client=split_client(healthy, limited), ledger=Ledger.in_dir(tmp_path),
                         settings=SETTINGS, snapshot=snap, decision=d)
        statuses = _posts(limited, "/v1/refunds")
    assert 429 in statuses and statuses[-1] == 200, statuses
    assert done.status == "succeeded" and done.stripe_object is not None
    assert [r.id for r in refunds_of(plain, rid.split(":")[1])] == [done.stripe_object]  # landed ⇒ recorded, once


def test_flaky_writes_either_land_and_are_recorded_or_fail_and_are_not(healthy: ThreadedSandbox,
                                                                        tmp_path: Path) -> None:
    """Both directions over many writes at a 60% fault rate (500s and dropped connections)."""
    plain = stripe.StripeClient("sk_test_123", base_addresses={"api": healthy.url})
    seen: set[str] = set()
    with ThreadedSandbox(Knobs(fail_rate=0.6, seed=7), store=healthy.store) as flaky:
        for i in range(6):
            cus, _ = customer(plain)
            snap, p, d = case(plain, cus, Bucket.PRODUCT_FAILURE)
            rid = refund_action(p)
            [r] = execute(p, [rid], case_id=f"c-flaky-{i}", client=split_client(healthy, flaky, retries=1),
                          ledger=Ledger.in_dir(tmp_path), settings=SETTINGS, snapshot=snap, decision=d)
            in_stripe = refunds_of(plain, rid.split(":")[1])
            seen.add(r.status)
            if r.status == "succeeded":  # recorded ⇒ landed, with the object named
                assert [x.id for x in in_stripe] == [r.stripe_object]
            else:  # failed ⇒ not in Stripe, and the error says why
                assert r.status == "failed" and in_stripe == [] and r.error
    assert seen == {"succeeded", "failed"}  # the seeded faults exercise both directions


def test_a_deliberate_second_identical_refund_needs_the_suffix(healthy: ThreadedSandbox, tmp_path: Path) -> None:
    """Same charge, same amount: the second approval is already_done; ``ID#2`` is a new effect."""
    from billing_nb.actions import Plan
    from billing_nb.actions import catalogue as cat
    from billing_nb.actions.executor import resolve_approvals
    from billing_nb.money import Money

    plain = stripe.StripeClient("sk_test_123", base_addresses={"api": healthy.url})
    cus, _ = customer(plain)
    snap, _, d = case(plain, cus, Bucket.PRODUCT_FAILURE)
    charge = snap.of("charges")[0]["id"]
    p = Plan([cat.refund(charge, Money(500, "usd"), "requested_by_customer", "partial")])
    rid = p.ids[0]
    ledger = Ledger.in_dir(tmp_path)

    def go(ids: list[str], case_id: str, seen: Any = snap) -> Any:
        return execute(p, ids, case_id=case_id, client=plain, ledger=ledger, settings=SETTINGS, snapshot=seen,
                       decision=d)
    [first] = go([rid], "alice")
    [again] = go([rid], "bob")
    assert (first.status, again.status) == ("succeeded", "already_done")
    snap = case(plain, cus, Bucket.PRODUCT_FAILURE)[0]  # bob's case sees the first refund
    [second] = go([f"{rid}#2"], "bob", snap)
    assert second.status == "succeeded" and second.stripe_object != first.stripe_object
    assert second.idempotency_key != first.idempotency_key
    assert "#2 identical write" in resolve_approvals(p, [f"{rid}#2"])[0].preview
    [third] = go([f"{rid}#2"], "carol", snap)  # the second one is itself done once
    assert third.status == "already_done"
    assert len(refunds_of(plain, charge)) == 2
    assert revenue_impact(p, [second], snap)["refunded"]["value"] == 500
    with pytest.raises(Exception, match="#N with N >= 2"):
        go([f"{rid}#1"], "dave", snap)
