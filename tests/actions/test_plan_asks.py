"""Adversarial review, session 7: the plan does what the complaint asks (D6, D5, D9a, D9c).

Each test builds the tester's reproduction as a hand-made snapshot (see test_actions_snapshots).
"""

from __future__ import annotations

from typing import Any

import pytest
from test_actions_plan import decision, make_plan
from test_actions_snapshots import DAY, T0, Builder, annual_case, price

from billing_nb.actions import idempotency_key
from billing_nb.actions.executor import validate
from billing_nb.analysis.classify import Bucket
from billing_nb.exceptions import ActionRefusedError

SELF = Bucket.MISSING_SELF_SERVE


# --- D6: the portal link opens on what the customer could not find -------------------------
@pytest.mark.parametrize(("complaint", "flow"), [
    ("Please don't cancel my account, I just want a receipt for last month", "home"),
    ("Your app works fine. I just can't find where to download my invoices", "home"),
    ("I can't find where to update my credit card before my subscription renews", "payment_method_update"),
    ("No quiero cancelar, solo necesito la factura de marzo", "home"),
    ("Ich möchte nicht kündigen, ich finde nur die Rechnung nicht", "home"),
    ("Je ne veux pas annuler, je ne trouve pas mes factures", "home"),
    ("解約はしないでください。領収書がどこにあるかわかりません", "home"),
    ("¿Dónde puedo cambiar mi tarjeta? Caducó", "payment_method_update"),
    ("Wo kann ich meine Kreditkarte ändern?", "payment_method_update"),
])
def test_the_portal_flow_is_the_task_the_complaint_asks_for(complaint: str, flow: str) -> None:
    """Before: every one got portal:cus_A:subscription_cancel (a link straight to cancelling)."""
    b, _, _ = annual_case(T0)
    b.portal(cancel=True)
    p = make_plan(b.snapshot(T0 + 10 * DAY), SELF, complaint=complaint)
    assert [a.id for a in p.actions if a.kind.value != "document"] == [f"portal:cus_A:{flow}"], p.ids
    link = p.actions[0]
    assert link.params["flow"] == flow
    shown = "no flow" if flow == "home" else f"flow_data.type={flow}"
    assert shown in link.preview and "because the complaint asks to" in link.preview, link.preview
    assert "asks to" in link.why and "straight to cancelling" not in link.preview, link.why
    assert not [a for a in p.actions if a.kind.value == "cancel" or a.moves_money]
    assert any("Nothing is cancelled or refunded" in n for n in p.notes), p.notes


def test_a_cancel_the_customer_asks_for_still_opens_the_cancel_flow() -> None:
    b, _, _ = annual_case(T0)
    b.portal(cancel=True)
    for complaint in ("I can't find how to cancel my subscription", "no puedo cancelar mi suscripción",
                      "Ich finde nicht, wo ich kündigen kann", "解約方法が見つかりません", "it renewed without a reminder"):
        p = make_plan(b.snapshot(T0 + 10 * DAY), SELF, complaint=complaint)
        assert p.ids[0] == "portal:cus_A:subscription_cancel", (complaint, p.ids)
        assert "flow_data.type=subscription_cancel" in p.actions[0].preview


def test_a_plan_change_opens_the_update_flow_when_the_portal_allows_it() -> None:
    b, _, _ = annual_case(T0)
    conf = b.portal(cancel=True)
    complaint = "I want to downgrade to a smaller plan but can't find how"
    p = make_plan(b.snapshot(T0 + 10 * DAY), SELF, complaint=complaint)
    assert p.ids[0] == "portal:cus_A:home" and any("does not let customers change plans" in n for n in p.notes)
    conf["features"]["subscription_update"]["enabled"] = True
    p = make_plan(b.snapshot(T0 + 10 * DAY), SELF, complaint=complaint)
    assert p.ids[0] == "portal:cus_A:subscription_update" and p.actions[0].params["subscription"] == "sub_annual"


def test_each_flow_is_its_own_effect() -> None:
    """The idempotency key is derived from the effect, and the flow is part of the effect."""
    b, _, _ = annual_case(T0)
    b.portal(cancel=True)
    snap = b.snapshot(T0 + 10 * DAY)
    home = make_plan(snap, SELF, complaint="can't find where to download my invoices").actions[0]
    cancel = make_plan(snap, SELF, complaint="can't find where to cancel").actions[0]
    assert idempotency_key(home, "case-1") != idempotency_key(cancel, "case-1")
    assert idempotency_key(home, "case-1") == idempotency_key(
        make_plan(snap, SELF, complaint="where are my receipts?").actions[0], "case-1")


# --- D5: "do not cancel" is honoured on a product failure ------------------------------------
@pytest.mark.parametrize(("complaint", "share"), [
    ("The exports have been broken for a month, give me some money back but do not cancel my plan", 12),
    ("Sync is broken. Please refund half, I want to keep my plan", 2),
    ("La sincronización no funciona. Quiero la mitad del dinero devuelto, pero no quiero cancelar mi plan", 2),
])
def test_an_annual_product_failure_the_customer_keeps_gives_a_share_back_without_a_cancel(
        complaint: str, share: int) -> None:
    """Before: the only option was cancel:sub_annual:now with the unused time on a credit note."""
    now = T0 + 92 * DAY
    b, _, inv = annual_case(now)
    p = make_plan(b.snapshot(now), Bucket.PRODUCT_FAILURE, complaint=complaint)
    assert not [a for a in p.actions if a.kind.value == "cancel"], p.ids
    money = [a for a in p.actions if a.moves_money]
    assert [a.id for a in money] == [f"credit_note:{inv['id']}:{120000 // share}"], p.ids
    assert money[0].requires == () and money[0].params["reason"] == "product_unsatisfactory"
    assert "not to cancel" in money[0].why
    assert any("says not to cancel" in n and "cancel:sub_annual:now, which they refused" in n for n in p.notes)
    # the analyst may still name another amount on that invoice
    from billing_nb.actions.amounts import named_amount
    other = named_amount(p, f"credit_note:{inv['id']}:30000")
    assert other is not None and other.requires == ()


def test_an_annual_product_failure_without_a_refusal_still_offers_the_unused_time() -> None:
    now = T0 + 92 * DAY
    b, _, inv = annual_case(now)
    p = make_plan(b.snapshot(now), Bucket.PRODUCT_FAILURE, complaint="It is broken, I want my money back")
    assert "cancel:sub_annual:now" in p.ids


# --- D9a: the seat count the customer states is proposed --------------------------------------
def _team(quantity: int = 5) -> Builder:
    b = Builder()
    seat = price("price_seat", 1500, product="prod_team", metadata={"per_seat": "true"})  # the price says per seat
    sub = b.subscription("sub_team", seat, start=T0, quantity=quantity)
    b.invoice(sub, 1500 * quantity, start=T0, end=T0 + 30 * DAY)
    return b


@pytest.mark.parametrize("complaint", ["Why am I paying for 5 seats? We only have 3 people",
                                       "¿Por qué pago 5 asientos? Solo somos 3",
                                       "Warum zahle ich für 5 Plätze? Wir sind nur drei",
                                       "5席分請求されていますが、3人しか使っていません"])
def test_a_stated_seat_count_is_proposed(complaint: str) -> None:
    """Before: only the note "ask the customer how many they need", though they said 3."""
    p = make_plan(_team().snapshot(T0 + 10 * DAY), Bucket.TEAM_SEATS, complaint=complaint)
    assert p.ids == ["quantity:sub_team:3", "document:cus_A"], (complaint, p.ids, p.notes)
    assert "uses 3" in p.get("quantity:sub_team:3").why and p.get("quantity:sub_team:3").params["old"] == 5


@pytest.mark.parametrize("complaint", ["Why am I paying for 5 seats? We are 5 people, but 3 use it... we only have 2 people",
                                       "Why am I paying for 5 seats? There are only 8 of us",
                                       "Why am I paying for 5 seats?"])
def test_an_ambiguous_or_higher_count_is_asked_not_proposed(complaint: str) -> None:
    p = make_plan(_team().snapshot(T0 + 10 * DAY), Bucket.TEAM_SEATS, complaint=complaint)
    assert not [a for a in p.actions if a.kind.value == "quantity"], (complaint, p.ids)
    assert any("ask the customer" in n for n in p.notes), p.notes


# --- D9c: copies of a product not sold per seat ------------------------------------------------
def _copies(per_seat: str | None) -> tuple[Builder, dict[str, Any]]:
    """Personal Pro ($15/mo, not sold per seat) bought in quantity 2: $30 charged."""
    b = Builder()
    b.add("products", {"id": "prod_pro", "object": "product", "name": "Personal Pro",
                       "metadata": {} if per_seat is None else {"per_seat": per_seat}})
    sub = b.subscription("sub_p", price("price_pro", 1500), start=T0, quantity=2)
    return b, b.invoice(sub, 3000, start=T0, end=T0 + 30 * DAY)


@pytest.mark.parametrize(("bucket", "per_seat"), [(Bucket.DUPLICATE_SUBSCRIPTION, None),
                                                  (Bucket.DUPLICATE_SUBSCRIPTION, "false"),
                                                  (Bucket.TEAM_SEATS, "false")])
def test_extra_copies_go_back_to_one_with_their_share_refunded(bucket: Bucket, per_seat: str | None) -> None:
    """Before: "No duplicate pair of live subscriptions found; nothing to cancel." (duplicate), or
    the 2 copies treated as seats to ask about (team seats)."""
    b, inv = _copies(per_seat)
    snap = b.snapshot(T0 + 5 * DAY)
    p = make_plan(snap, bucket, complaint="I was charged double, $30 instead of $15, I only need one")
    refund = f"refund:{b.charge_of(inv)['id']}:1500"
    assert [a.id for a in p.actions if a.kind.value != "document"] == ["quantity:sub_p:1", refund], (p.ids, p.notes)
    change = p.get("quantity:sub_p:1")
    assert change.params["proration"] == "none" and "from 2 to 1 copy" in change.preview  # no double credit
    assert p.get(refund).requires == ("quantity:sub_p:1",) and p.get(refund).params["reason"] == "duplicate"
    assert not [a for a in p.actions if a.kind.value == "cancel"]
    assert "sub_p" in p.seats  # the analyst may name another count (quantity:sub_p:N)
    with pytest.raises(ActionRefusedError, match="requires quantity:sub_p:1"):
        validate(p, [refund], decision(bucket), snap)
    assert validate(p, [refund, "quantity:sub_p:1"], decision(bucket), snap)


def test_a_product_sold_per_seat_keeps_its_seats_in_a_team_case() -> None:
    b, _ = _copies("true")
    p = make_plan(b.snapshot(T0 + 5 * DAY), Bucket.TEAM_SEATS, complaint="why am I paying for 2 seats?")
    assert not [a for a in p.actions if a.moves_money], p.ids
