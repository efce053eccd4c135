"""execute() against the real sandbox: idempotency, crash recovery, refusals with nothing written."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from billing_nb.reading.waves import build_snapshot
from billing_nb.actions import catalogue as cat
from billing_nb.actions import executor as actions_exec
from billing_nb.actions import Plan, execute, idempotency_key, plan, revenue_impact
from billing_nb.analysis.classify import Bucket, Decision
from billing_nb.config import Settings
from billing_nb.analysis.contract import contract_shapes, refund_options
from billing_nb.exceptions import (ActionRefusedError, LiveModeRefusedError, RefundTooLargeError, StaleTargetError,
                                   UnknownActionError)
from billing_nb.analysis.identify import identify
from billing_nb.actions.ledger import Ledger
from billing_nb.money import Money
from billing_nb.reading.provider import StripeReader
from billing_nb.sandbox.server import ThreadedSandbox
from billing_nb.reading.snapshot import CaseSnapshot

pytestmark = pytest.mark.sandbox

T0 = 1787552562  # 2026-08-24T06:22:42Z
DAY = 86400
SETTINGS = Settings(api_key="sk_test_123")


@pytest.fixture(scope="module")
def sb() -> Iterator[ThreadedSandbox]:
    with ThreadedSandbox() as server:
        yield server


@pytest.fixture
def client(sb: ThreadedSandbox) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_123", base_addresses={"api": sb.url}, max_network_retries=0)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger.in_dir(tmp_path)


def posts(sb: ThreadedSandbox) -> int:
    return sum(1 for r in sb.store.request_log if r["method"] == "POST")


def advance(c: stripe.StripeClient, clock: str, to: int) -> None:
    state = c.v1.test_helpers.test_clocks.advance(clock, {"frozen_time": to})
    while state.status != "ready":
        time.sleep(0.02)
        state = c.v1.test_helpers.test_clocks.retrieve(clock)


def customer(c: stripe.StripeClient, token: str = "pm_card_visa", *, amount: int = 2000, interval: str = "month",
             quantity: int = 1, days: int = 3) -> tuple[str, str]:
    """A customer on a test clock with one paid subscription, ``days`` into its period."""
    clock = c.v1.test_helpers.test_clocks.create({"frozen_time": T0})
    cus = c.v1.customers.create({"email": "jane@example.com", "test_clock": clock.id})
    pm = c.v1.payment_methods.attach(token, {"customer": cus.id})
    c.v1.customers.update(cus.id, {"invoice_settings": {"default_payment_method": pm.id}})
    prod = c.v1.products.create({"name": "Pro", **({"unit_label": "seat"} if quantity > 1 else {})})
    price = c.v1.prices.create({"product": prod.id, "unit_amount": amount, "currency": "usd",
                                "recurring": {"interval": interval}})  # type: ignore[typeddict-item]
    c.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id, "quantity": quantity}]})
    advance(c, clock.id, T0 + days * DAY + 11825)
    return cus.id, clock.id


def decided(bucket: Bucket | None) -> Decision:
    return Decision(suggested=bucket or Bucket.UNCLEAR, bucket=bucket, confirmed_by="parameter", confidence=1.0,
                    evidence=())


def case(c: stripe.StripeClient, cus: str, bucket: Bucket | None) -> tuple[CaseSnapshot, Plan, Decision]:
    snap = build_snapshot(StripeReader(c), cus)
    shapes = contract_shapes(snap)
    options = [o for s in shapes for o in refund_options(snap, s)]
    d = decided(bucket)
    return snap, plan(snap, identify(snap), d, shapes, options), d


def run(p: Plan, approve: list[str], case_id: str, c: stripe.StripeClient, led: Ledger, snap: CaseSnapshot,
        d: Decision, settings: Settings = SETTINGS, **kw: Any) -> list[Any]:
    return execute(p, approve, case_id=case_id, client=c, ledger=led, settings=settings, snapshot=snap, decision=d,
                   **kw)


def refunds_of(c: stripe.StripeClient, charge: str) -> list[stripe.Refund]:
    return list(c.v1.refunds.list({"charge": charge}).auto_paging_iter())


def refund_action(p: Plan) -> str:
    return next(a.id for a in p.actions if a.kind.value == "refund")


# --- idempotency -----------------------------------------------------------------------------
def test_refund_rerun_and_second_case_leave_one_refund(client: stripe.StripeClient, ledger: Ledger,
                                                       tmp_path: Path) -> None:
    cus, _ = customer(client)
    snap, p, d = case(client, cus, Bucket.PRODUCT_FAILURE)
    rid = refund_action(p)
    charge = rid.split(":")[1]
    first = run(p, [rid], "case-1", client, ledger, snap, d)
    # the key is the effect's: the same whichever case approves it (the case is only metadata)
    key = idempotency_key(p.get(rid), "case-1")
    assert key == idempotency_key(p.get(rid), "case-2")
    assert [(e.status, e.idempotency_key) for e in first] == [("succeeded", key)]
    assert first[0].stripe_object.startswith("re_") and first[0].request_id.startswith("req_")
    refund = client.v1.refunds.retrieve(first[0].stripe_object)
    assert refund.metadata["billing_nb_case"] == "case-1" and refund.metadata["billing_nb_action"] == rid
    again = run(p, [rid], "case-1", client, ledger, snap, d)
    other = run(p, [rid], "case-2", client, ledger, snap, d)
    assert again[0].status == other[0].status == "already_done"
    assert again[0].stripe_object == other[0].stripe_object == refund.id
    # a lost ledger: Stripe's metadata still shows it done
    fresh = run(p, [rid], "case-3", client, Ledger(tmp_path / "other.sqlite3"), snap, d)
    assert fresh[0].status == "already_done" and fresh[0].stripe_object == refund.id
    assert len(refunds_of(client, charge)) == 1
    impact = revenue_impact(p, first, snap)
    assert impact["refunded"] == {"value": 2000, "currency": "usd"}
    assert revenue_impact(p, again, snap)["refunded"]["value"] == 0


class Crash(Exception):
    pass


def test_crash_between_begin_and_finish_then_rerun(client: stripe.StripeClient, ledger: Ledger,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    cus, _ = customer(client)
    snap, p, d = case(client, cus, Bucket.PRODUCT_FAILURE)
    rid = refund_action(p)
    real_write = actions_exec.write

    def write_then_die(*args: Any, **kw: Any) -> Any:
        real_write(*args, **kw)
        raise Crash("killed after the Stripe call, before the ledger's finish")
    monkeypatch.setattr(actions_exec, "write", write_then_die)
    with pytest.raises(Crash):
        run(p, [rid], "case-crash", client, ledger, snap, d)
    assert ledger.dangling(rid) is not None and ledger.completed(rid) is None
    monkeypatch.setattr(actions_exec, "write", real_write)
    again = run(p, [rid], "case-crash", client, ledger, snap, d)
    # the re-run finds the crashed run's refund in Stripe and counts it: the crashed run never did
    assert again[0].status == "recovered"
    assert revenue_impact(p, again, snap)["refunded"]["value"] == 2000
    assert ledger.dangling(rid) is None and ledger.completed(rid) is not None
    assert len(refunds_of(client, rid.split(":")[1])) == 1


def test_crash_replay_reuses_the_original_key(client: stripe.StripeClient, ledger: Ledger,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Even if Stripe's list missed the refund, the replay's idempotency key returns the same one."""
    cus, _ = customer(client)
    snap, p, d = case(client, cus, Bucket.PRODUCT_FAILURE)
    rid = refund_action(p)
    real_write = actions_exec.write

    def write_then_die(*args: Any, **kw: Any) -> Any:
        real_write(*args, **kw)
        raise Crash()
    monkeypatch.setattr(actions_exec, "write", write_then_die)
    with pytest.raises(Crash):
        run(p, [rid], "case-a", client, ledger, snap, d)
    monkeypatch.setattr(actions_exec, "write", real_write)
    monkeypatch.setattr(actions_exec, "find_done", lambda *a, **k: None)
    again = run(p, [rid], "case-b", client, ledger, snap, d)  # another case resolves case-a's crash
    assert again[0].status == "recovered" and again[0].idempotency_key == idempotency_key(p.get(rid))
    assert client.v1.refunds.retrieve(again[0].stripe_object).metadata["billing_nb_case"] == "case-a"
    assert len(refunds_of(client, rid.split(":")[1])) == 1


# --- refusals: nothing written -----------------------------------------------------------------
def refused(sb: ThreadedSandbox, led: Ledger, exc: type[Exception], fn: Any, match: str) -> None:
    before = posts(sb)
    with pytest.raises(exc, match=match):
        fn()
    assert posts(sb) == before, "a refused execution wrote to Stripe"
    assert led.entries() == [], "a refused execution wrote to the ledger"


def test_refusals_write_nothing(sb: ThreadedSandbox, client: stripe.StripeClient, ledger: Ledger) -> None:
    cus, _ = customer(client)
    snap, p, d = case(client, cus, Bucket.PRODUCT_FAILURE)
    rid = refund_action(p)
    charge = rid.split(":")[1]
    refused(sb, ledger, UnknownActionError, lambda: run(p, ["document:cus_A", "refund:ch_nope:1"], "c", client,
                                                        ledger, snap, d), "refund:ch_nope:1")
    refused(sb, ledger, UnknownActionError, lambda: run(p, [p.actions[-1].id, "bogus"], "c", client, ledger, snap, d),
            "bogus")
    too_big = Plan([cat.refund(charge, Money(2001, "usd"), "requested_by_customer", "test")])
    refused(sb, ledger, RefundTooLargeError, lambda: run(too_big, [too_big.actions[0].id], "c", client, ledger,
                                                         snap, d), "above what remains refundable")
    refused(sb, ledger, ActionRefusedError, lambda: run(p, [rid], "c", client, ledger, snap, decided(Bucket.UNCLEAR)),
            "unclear")
    refused(sb, ledger, ActionRefusedError, lambda: run(p, [rid], "c", client, ledger, snap, decided(None)), "pending")
    live = Settings(api_key="sk_live_" + "x" * 24)
    refused(sb, ledger, LiveModeRefusedError, lambda: run(p, [rid], "c", client, ledger, snap, d, settings=live),
            "live")
    assert refunds_of(client, charge) == []
    assert run(p, [rid], "c", client, ledger, snap, d, settings=Settings(api_key=live.api_key, live=True))[0].status \
        == "succeeded"


def test_disputed_charge_is_never_refunded(sb: ThreadedSandbox, client: stripe.StripeClient, ledger: Ledger) -> None:
    cus, _ = customer(client, "pm_card_createDispute")
    snap, p, d = case(client, cus, Bucket.PRODUCT_FAILURE)
    charge = snap.of("charges")[0]
    assert charge["disputed"] and not any(a.kind.value == "refund" for a in p.actions)
    assert any("dispute" in n and "never refunded" in n for n in p.notes)
    forced = Plan([cat.refund(charge["id"], Money(2000, "usd"), "requested_by_customer", "test")])
    refused(sb, ledger, ActionRefusedError, lambda: run(forced, [forced.actions[0].id], "c", client, ledger, snap, d),
            "disputed")
    # the dispute opened after the snapshot: the fresh charge still refuses
    stale = CaseSnapshot.from_dict({**snap.to_dict(), "objects": {**snap.objects, "disputes": []}})
    refused(sb, ledger, ActionRefusedError, lambda: run(forced, [forced.actions[0].id], "c", client, ledger, stale, d),
            "disputed")


def test_target_changed_since_snapshot(sb: ThreadedSandbox, client: stripe.StripeClient, ledger: Ledger) -> None:
    cus, _ = customer(client)
    snap, p, d = case(client, cus, Bucket.PRODUCT_FAILURE)
    rid = refund_action(p)
    client.v1.refunds.create({"charge": rid.split(":")[1], "amount": 500})
    refused(sb, ledger, RefundTooLargeError, lambda: run(p, [rid], "c", client, ledger, snap, d), "remains")
    sub = snap.of("subscriptions")[0]["id"]
    cancel = Plan([cat.cancel_at_period_end(sub, None)])
    client.v1.subscriptions.cancel(sub)
    refused(sb, ledger, StaleTargetError, lambda: run(cancel, [cancel.actions[0].id], "c", client, ledger, snap, d),
            "already canceled")


def test_alternatives_cannot_both_be_approved(sb: ThreadedSandbox, client: stripe.StripeClient,
                                              ledger: Ledger) -> None:
    cus, _ = customer(client)
    snap, _, d = case(client, cus, Bucket.MISSING_SELF_SERVE)
    sub = snap.of("subscriptions")[0]["id"]
    both = Plan([cat.cancel_at_period_end(sub, None), cat.cancel_now(sub, "test")])
    refused(sb, ledger, ActionRefusedError, lambda: run(both, both.ids, "c", client, ledger, snap, d),
            "alternatives")


def test_concurrent_cases_approving_the_same_refund_make_one(tmp_path: Path) -> None:
    """A batch: several processes (here threads) run cases for one customer at once."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from billing_nb.sandbox.app import Knobs

    with ThreadedSandbox(Knobs(latency_ms=40)) as slow:
        c = stripe.StripeClient("sk_test_123", base_addresses={"api": slow.url}, max_network_retries=0)
        cus, _ = customer(c)
        snap, _, d = case(c, cus, Bucket.PRODUCT_FAILURE)
        charge = snap.of("charges")[0]["id"]
        p = Plan([cat.refund(charge, Money(500, "usd"), "requested_by_customer", "partial")])  # room for 4
        rid = p.ids[0]
        path = tmp_path / "shared.sqlite3"
        Ledger(path)
        gate = Barrier(4)

        def one(i: int) -> list[Any]:
            gate.wait()
            return run(p, [rid], f"batch-{i}", c, Ledger(path), snap, d)
        with ThreadPoolExecutor(4) as pool:
            results = [r[0] for r in pool.map(one, range(4))]
        assert sorted(r.status for r in results).count("succeeded") >= 1
        assert {r.stripe_object for r in results if r.status in ("succeeded", "already_done")} == {
            refunds_of(c, rid.split(":")[1])[0].id}
        assert len(refunds_of(c, rid.split(":")[1])) == 1
