"""Records against Stripe: every landed money write counted exactly once.

The casebook audit's two checks that need more than one record at a time: an effect
(idempotency key) that two records both count, and Stripe's own refunds and credit notes
(found by our ``billing_nb_action`` metadata) against what the records count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

import pandas as pd

from ..actions.ledger import LedgerEntry
from ..actions.model import COUNTED, split_again

__all__ = ["double_counts", "stripe_mismatches"]


class _Record(Protocol):
    @property
    def case_id(self) -> str: ...

    @property
    def record(self) -> dict[str, Any]: ...


def double_counts(records: Sequence[_Record]) -> pd.DataFrame:
    """Effects (idempotency keys) that more than one record counts as its own write."""
    by_key: dict[str, list[str]] = defaultdict(list)
    action: dict[str, str] = {}
    for rec in records:
        for e in rec.record.get("executed") or []:
            if e.get("status") in COUNTED and e.get("idempotency_key"):
                by_key[str(e["idempotency_key"])].append(rec.case_id)
                action[str(e["idempotency_key"])] = str(e.get("action_id"))
    rows = [{"idempotency_key": k, "action_id": action[k], "cases": ", ".join(v)}
            for k, v in sorted(by_key.items()) if len(v) > 1]
    return pd.DataFrame(rows, columns=["idempotency_key", "action_id", "cases"])


_MONEY_KINDS = ("refund", "credit_note")


def _money_targets(records: Sequence[_Record], entries: list[LedgerEntry]) -> set[tuple[str, str]]:
    ids = [str(e.get("action_id")) for r in records for e in r.record.get("executed") or []]
    ids += [e.action_id for e in entries]
    out: set[tuple[str, str]] = set()
    for action_id in ids:
        parts = split_again(action_id)[0].split(":") if action_id.count("#") <= 1 else []
        if len(parts) >= 2 and parts[0] in _MONEY_KINDS:
            out.add((parts[0], parts[1]))
    return out


def stripe_mismatches(records: Sequence[_Record], entries: list[LedgerEntry], client: Any) -> pd.DataFrame:
    """Stripe's refunds (per charge) and credit notes (per invoice) carrying our metadata,
    against what the records count: two objects for one action id is a double write; a
    number of objects other than the number of records counting the action is a miscount.
    A correct ``already_done`` counts nothing and is consistent with one object."""
    counted: dict[str, list[str]] = defaultdict(list)
    for rec in records:
        for e in rec.record.get("executed") or []:
            if e.get("status") in COUNTED:
                counted[str(e.get("action_id"))].append(rec.case_id)
    rows: list[dict[str, Any]] = []
    for kind, target in sorted(_money_targets(records, entries)):
        service = client.v1.refunds if kind == "refund" else client.v1.credit_notes
        params = {"charge": target} if kind == "refund" else {"invoice": target}
        in_stripe: dict[str, list[str]] = defaultdict(list)
        for obj in service.list({**params, "limit": 100}).auto_paging_iter():
            data = obj.to_dict()
            action = (data.get("metadata") or {}).get("billing_nb_action")
            if action and data.get("status") not in ("failed", "canceled", "void"):
                in_stripe[str(action)].append(str(data["id"]))
        wanted = {a for a in counted if split_again(a)[0].split(":")[1:2] == [target]}
        for action in sorted(set(in_stripe) | wanted):
            objs, cases = in_stripe.get(action, []), counted.get(action, [])
            if len(objs) > 1:
                rows.append({"target": target, "action_id": action, "problem":
                             f"{len(objs)} objects in Stripe for one effect (a double write): {', '.join(objs)}"})
            if len(objs) != len(cases):
                rows.append({"target": target, "action_id": action, "problem":
                             f"Stripe holds {len(objs)}, records count {len(cases)} ({', '.join(cases) or 'none'})"})
    return pd.DataFrame(rows, columns=["target", "action_id", "problem"])
