"""An ended subscription's plan is named by its product, as a live one's (T5, session 7b).

The third wave read products only when a live subscription existed, so a customer whose only
subscription is canceled or incomplete showed the price's nickname (``pro-month``) or the product
id as the plan's name in the record, the evidence and the page.
"""

from __future__ import annotations

from billing_nb.analysis.identify import identify
from billing_nb.reading.objects import plan_name
from billing_nb.reading.provider import StripeReader
from billing_nb.reading.waves import build_snapshot

from scenarios import world


def test_a_canceled_subscription_is_named_by_its_product() -> None:
    with world() as w:
        cus = w.customer("ended.names@example.com")
        prod = w.product("Personal Pro")
        sub = w.subscribe(cus, w.price(prod, 1500, nickname="pro-month"))
        w.c.v1.subscriptions.cancel(sub.id)
        snap = build_snapshot(StripeReader(w.c), cus)
    [row] = identify(snap).subscriptions
    assert row.status == "canceled"
    name = plan_name(snap, row.price, row.product)
    assert name.startswith("Personal Pro"), name
