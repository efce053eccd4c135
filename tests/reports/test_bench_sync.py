"""The sync benchmark's bulk loader (benchmarks/sync.py): cloned customers are whole
accounts of their own (fresh ids, references to the clones), the saved state serves from a
sandbox process of the benchmark's, and a sync reads every clone."""

from __future__ import annotations

import sys
from pathlib import Path

import stripe

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from sync import KEY, _client, _Served, build_base, clone  # noqa: E402

from billing_nb.config import API_VERSION  # noqa: E402
from billing_nb.reading.provider import StripeReader  # noqa: E402
from billing_nb.reports.store import open_store  # noqa: E402
from billing_nb.reports.sync import sync_account  # noqa: E402
from billing_nb.sandbox.server import ThreadedSandbox  # noqa: E402


def test_cloned_account_serves_from_its_state_file_and_syncs_whole(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with ThreadedSandbox() as sb:
        build_base(_client(sb.url), 3)
        clone(sb.store, 10)
        subs = sb.store.objects["subscription"]
        customers = sb.store.objects["customer"]
        assert len(subs) == 10 and len(customers) == 10
        assert all(s["customer"] in customers for s in subs.values())  # a clone names its own customer
        invoices = sb.store.objects["invoice"].values()
        assert len({i["id"] for i in invoices}) == 10 and all(i["customer"] in customers for i in invoices)
        sb.store.save(state)
    served = _Served(state, 0.0, tmp_path / "sandbox.log")
    try:
        client = stripe.StripeClient(KEY, base_addresses={"api": served.url}, stripe_version=API_VERSION)
        with open_store(tmp_path / "a.duckdb") as store:
            result = sync_account(StripeReader(client), store, rate_limit=0, page_size=4)
            counts = store.counts()
    finally:
        served.stop()
    assert served.proc.poll() is not None  # stopped by its pid
    assert counts["subscriptions"] == counts["customers"] == counts["invoices"] == 10
    assert counts["subscription_items"] == 10 and result.saved["subscriptions"] == 10
