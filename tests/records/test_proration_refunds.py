"""Refunds after a mid-period change, built through the SDK the way an outside tester built
them (session 8): a seat decrease invoiced at once (N1) or left pending (N2), an upgrade
whose unused time is refunded in one part per paid invoice (N3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scenarios import World, run

DAY = 86400
T0 = 1_780_000_000
CANCEL_ASK = "We no longer need this. Please cancel my subscription and refund the rest of the year"


def _upgraded(w: World) -> tuple[str, Any]:
    """An annual plan upgraded 40 days in with an invoice of its own, 100 days in now."""
    clock = w.clock(T0)
    cus = w.customer("split.parts@example.com", clock=clock)
    product = w.product("Suite")
    small, big = w.price(product, 30000, "year"), w.price(product, 90000, "year")
    sub = w.subscribe(cus, small)
    w.advance(clock, T0 + 40 * DAY)
    w.c.v1.subscriptions.update(sub.id, {"items": [{"id": sub["items"]["data"][0]["id"], "price": big}],
                                         "proration_behavior": "always_invoice"})
    w.advance(clock, T0 + 100 * DAY)
    return cus, sub


def test_one_part_of_a_split_refund_alone_is_refused_and_nothing_is_written(w: World, tmp_path: Path) -> None:
    """N3: approving the cancel with one credit note of a refund split over two paid invoices
    used to run, and the next case (the plan cancelled) never proposed the other part."""
    from billing_nb.exceptions import ActionRefusedError

    cus, sub = _upgraded(w)
    case, rec = run(cus, tmp_path, bucket="product_failure", complaint="It has been broken for weeks, refund the rest")
    notes = [a for a in rec["plan"] if a["kind"] == "credit_note"]
    assert len(notes) == 2, rec["plan"]
    cancel = notes[0]["requires"][0]
    for one, other in (notes, notes[::-1]):
        with pytest.raises(ActionRefusedError) as err:
            case.execute([cancel, one["id"]], "parameter")
        message = str(err.value)
        assert "\n" not in message and other["id"] in message and one["id"] in message
        assert one.get("together") == [other["id"]]  # the record says which parts go together
    assert w.c.v1.credit_notes.list({"customer": cus}).data == []
    assert w.c.v1.subscriptions.retrieve(sub.id).status == "active"
    results = case.execute([cancel, *(n["id"] for n in notes)], "parameter")
    assert [r.status for r in results] == ["succeeded"] * 3
    given = sorted(cn.amount for cn in w.c.v1.credit_notes.list({"customer": cus}).data)
    assert given == sorted(n["amount"]["value"] for n in notes)
