"""Step 5: render the handoff (six headings), the follow-up message and backlog drafts.

Templates live in ``templates/`` (Jinja2, StrictUndefined); ``BILLING_NB_TEMPLATES``
points at a team's own folder. A team folder may hold only the files it rewords
(say ``followup/failed_payment.md.j2``): anything it lacks comes from the default folder.

Every renderer takes a case.json-shaped dict (docs/CASE_JSON.md). A documented field
that is missing is an error (``jinja2.UndefinedError``); empty lists and nulls render
as "none". Templates see ``record`` (the dict as is) and ``f``, facts derived here so
the templates stay free of logic: the actions done (or proposed), their amounts, the
dates that matter.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from ..analysis.asks import product_not_held
from ..exceptions import ConfigError
from ..money import Money
from .markup import Md, dates_in_words, escape_block, escape_md

__all__ = ["HEADINGS", "bucket_contradictions", "templates_dir", "render_followup", "render_handoff", "render_backlog"]

HEADINGS: tuple[str, ...] = ("CUSTOMER", "BILLING STATE", "DECISION", "ACTION TAKEN", "FOLLOW-UP", "PRODUCT GAP")

ENV_VAR = "BILLING_NB_TEMPLATES"
_DONE = ("succeeded", "recovered", "already_done")
_OPEN_DISPUTE = ("warning_needs_response", "warning_under_review", "needs_response", "under_review")
_DRAFT = ("DRAFT (dry run): the actions in this message are proposed, not done. Send it only once they are "
          "approved and executed.")


# --- where the templates are -----------------------------------------------------------
def _default_dir() -> Path:
    """The repo's templates/ in a checkout; billing_nb/_templates in an installed wheel."""
    package = Path(__file__).resolve().parents[1]
    repo = package.parent / "templates"
    if (repo / "handoff.md.j2").is_file():
        return repo
    return package / "_templates"


def templates_dir(override: Path | None = None) -> Path:
    """The template folder in use: ``override``, else ``$BILLING_NB_TEMPLATES``, else the default."""
    chosen = override if override is not None else os.environ.get(ENV_VAR) or None
    if chosen is None:
        return _default_dir()
    path = Path(chosen).expanduser()
    if not path.is_dir():
        raise ConfigError(f"template folder {path} does not exist (from {'argument' if override else ENV_VAR})")
    return path


# --- filters -------------------------------------------------------------------------------
def _money(value: Any, currency: str | None = None) -> Md:
    """``{"value": 1234, "currency": "usd"}`` (or an int with a currency) -> ``$12.34 USD``."""
    if value is None:
        return Md("—")
    if isinstance(value, Money):
        return Md(value.format())
    if isinstance(value, dict):
        return Md(Money(int(value["value"]), str(value["currency"])).format())
    return Md(Money(int(value), currency or "usd").format())


def _day(value: Any) -> Md:
    """Unix seconds or an ISO string -> ``24 Nov 2026``."""
    if value is None or value == "":
        return Md("—")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        dt = datetime.fromtimestamp(int(value), tz=UTC)
    else:
        dt = datetime.fromisoformat(str(value)).astimezone(UTC)
    return Md(f"{dt.day} {dt:%b %Y}")


def _cell(value: Any) -> Md:
    """A markdown table cell: escaped (pipes too), newlines flattened, None as a dash."""
    if value is None or value == "":
        return Md("—")
    if isinstance(value, bool):
        return Md("yes" if value else "no")
    return Md(escape_md(value))


def _quote(text: str, escape: bool = True) -> Md:
    """A block quote; foreign text (the complaint) is escaped line by line, our own markdown
    (the rendered follow-up: ``quote(false)``) is quoted as it is."""
    body = escape_block(str(text).strip()) if escape else str(text).strip()
    return Md("\n".join(f"> {line}" if line else ">" for line in body.splitlines()))


def _finalize(value: Any) -> Any:
    """Every ``{{ }}`` of a template: foreign text escaped, our filters' markdown kept."""
    if isinstance(value, Md) or isinstance(value, bool) or isinstance(value, int | float):
        return value
    return escape_md(value)


@lru_cache(maxsize=16)
def _environment(folder: Path, default: Path) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(folder))]
    if folder != default:
        loaders.append(jinja2.FileSystemLoader(str(default)))
    # compiled templates are kept in jinja's per-user cache folder (checked against each template's
    # source): a case kernel compiles the handoff's templates once, not once per case process
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), undefined=jinja2.StrictUndefined,
                             autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             finalize=_finalize, bytecode_cache=jinja2.FileSystemBytecodeCache())
    env.filters.update(money=_money, day=_day, cell=_cell, quote=_quote, dates=dates_in_words)
    return env


def _render(name: str, override: Path | None, **context: Any) -> str:
    env = _environment(templates_dir(override).resolve(), _default_dir().resolve())
    text = env.get_template(name).render(**context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# --- facts the templates use -----------------------------------------------------------------
def _field(record: dict[str, Any], *path: str) -> Any:
    node: Any = record
    for i, key in enumerate(path):
        if not isinstance(node, dict) or key not in node:
            raise jinja2.UndefinedError(f"case record has no field {'.'.join(path[: i + 1])!r}")
        node = node[key]
    return node


def _bucket(record: dict[str, Any]) -> str:
    bucket = _field(record, "classification", "bucket")
    return "pending" if bucket is None or _field(record, "status") == "pending" else str(bucket)


def _sum(amounts: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not amounts:
        return None
    total = Money(0, str(amounts[0]["currency"]))
    for amount in amounts:
        total = total + Money(int(amount["value"]), str(amount["currency"]))
    return total.as_dict() if total.amount else None


_PAYMENT_FAILED = ("failed_renewal", "past_due", "incomplete_checkout", "subscription_payment_method_stale")


def _seats(live: list[dict[str, Any]], contract: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    """What the record shows about seats: the live per-seat subscriptions (seat counts after a quantity
    change the case made), and the live subscriptions bought in quantity on a product not sold per seat.

    Why here: a follow-up may say "billed per seat" or "N seats" only when the record says so, and it
    must count every per-seat subscription, not the first one. Records older than the ``per_seat`` and
    ``unit_amount`` fields fall back to the contract's view.
    """
    by_sub = {c.get("subscription_id"): c for c in contract}
    changed = {a["target"]: int(a["id"].split(":")[2]) for a in actions
               if a["kind"] == "quantity" and a["id"].count(":") >= 2 and a["id"].split(":")[2].isdigit()}
    seated: list[dict[str, Any]] = []
    extra: list[dict[str, Any]] = []
    for s in live:
        c = by_sub.get(s["id"]) or {}
        per_seat = bool(s["per_seat"]) if "per_seat" in s else bool(c.get("per_seat") or c.get("is_team"))
        unit = s.get("unit_amount")
        if unit is None and c.get("recurring_total") and int(c.get("quantity") or 0) > 0 \
                and int(c["recurring_total"]["value"]) % int(c["quantity"]) == 0:
            unit = {"value": int(c["recurring_total"]["value"]) // int(c["quantity"]),
                    "currency": c["recurring_total"]["currency"]}
        before = int(s.get("quantity") or 1)
        row = {"id": s["id"], "before": before, "quantity": changed.get(s["id"], before), "unit": unit,
               "interval": s.get("interval"), "period_end": s.get("current_period_end")}
        if per_seat:
            seated.append(row)
        elif before > 1:
            extra.append(row)
    out: dict[str, Any] = {"seats": None, "extra_quantity": extra[0] if extra else None,
                           "quantity_changes": [{"from": r["before"], "to": r["quantity"]} for r in seated + extra
                                                if r["quantity"] != r["before"]]}
    units = {(r["unit"] or {}).get("currency") for r in seated}
    if seated and None not in units and len(units) == 1 and len({r["interval"] for r in seated}) == 1:
        total = sum(int(r["unit"]["value"]) * r["quantity"] for r in seated)
        prices = {int(r["unit"]["value"]) for r in seated}
        out["seats"] = {"count": sum(r["quantity"] for r in seated), "counts": [r["quantity"] for r in seated],
                        "subscriptions": len(seated), "total": {"value": total, "currency": units.pop()},
                        "seat_price": {"value": prices.pop(), "currency": seated[0]["unit"]["currency"]}
                        if len(prices) == 1 else None,
                        "interval": seated[0]["interval"], "period_end": min(r["period_end"] or 0 for r in seated) or None}
    elif seated:
        out["seats"] = {"count": sum(r["quantity"] for r in seated), "counts": [r["quantity"] for r in seated],
                        "subscriptions": len(seated), "total": None, "seat_price": None, "interval": None,
                        "period_end": None}
    return out


_EVERY = {"day": "daily", "week": "weekly", "month": "monthly", "year": "yearly"}


def _terms(s: dict[str, Any]) -> tuple[Any, ...]:
    unit = s.get("unit_amount") or {}
    return (s.get("price"), s.get("interval"), int(s.get("interval_count") or 1), unit.get("value"), unit.get("currency"))


def _billed(s: dict[str, Any]) -> str:
    """``monthly`` / ``every 3 months`` / ``$15.00 USD per month``: how a subscription bills, in words."""
    count, interval = int(s.get("interval_count") or 1), str(s.get("interval") or "")
    return f"every {count} {interval}s" if count > 1 else _EVERY.get(interval, f"per {interval}")


def _switch(live: list[dict[str, Any]], canceled: list[str]) -> dict[str, Any] | None:
    """One product on two prices or intervals among the live subscriptions (monthly + annual): a plan
    switch whose old subscription was never ended. What the follow-up may say about it: each plan's
    billing terms in words, which one the case ends and which carries on.

    Why: "two subscriptions to the same plan" is false of a monthly and an annual plan; the customer
    reads the two plans, and which of them stays.
    """
    by_product: dict[str, list[dict[str, Any]]] = {}
    for s in live:
        by_product.setdefault(str(s["product"]), []).append(s)
    for group in by_product.values():
        if len(group) < 2 or len({_terms(s) for s in group}) < 2:
            continue
        group = sorted(group, key=lambda s: str(s["id"]))

        def words(s: dict[str, Any]) -> str:
            unit = s.get("unit_amount")
            if not unit:
                return f"one billed {_billed(s)}"
            total = Money(int(unit["value"]) * int(s.get("quantity") or 1), str(unit["currency"])).format()
            return f"one billed {_billed(s)} at {total}"
        intervals = {(s.get("interval"), int(s.get("interval_count") or 1)) for s in group}

        def name(s: dict[str, Any]) -> str:  # the plan as the customer tells them apart
            if len(intervals) == len(group):
                return f"{_billed(s)} subscription"
            unit = s.get("unit_amount")
            return (f"{Money(int(unit['value']) * int(s.get('quantity') or 1), str(unit['currency'])).format()} "
                    "subscription") if unit else "other subscription"
        ended = [s for s in group if s["id"] in canceled]
        kept = [s for s in group if s["id"] not in canceled]
        return {"count": len(group), "count_word": _number(len(group)), "plan": group[0].get("plan") or None,
                "terms": " and ".join(words(s) for s in group),
                "ended": " and ".join(name(s) for s in ended) or None,
                "kept": " and ".join(name(s) for s in kept) if ended and kept else None}
    return None


_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _number(n: int) -> str:
    """``3`` -> ``three`` (a figure past ten)."""
    return _WORDS[n] if 0 <= n < len(_WORDS) else str(n)


def _times(n: int) -> str:
    """``2`` -> ``twice``, ``3`` -> ``three times``."""
    return {1: "once", 2: "twice"}.get(n, f"{_number(n)} times")


def _duplicates(live: list[dict[str, Any]], canceled: list[str]) -> dict[str, Any] | None:
    """The largest group of live subscriptions to one product, as the follow-up may count it: how many
    there are, how many the case ends, and how many stay live after it (more than one: duplicates remain).

    Why: a three-way duplicate is not "billed twice", and after a partial approval (one of two extras
    ended) the message must say what remains, never "nothing else is needed".
    """
    by_product: dict[str, list[dict[str, Any]]] = {}
    for s in live:
        by_product.setdefault(str(s["product"]), []).append(s)
    groups = [g for g in by_product.values() if len(g) > 1]
    if not groups:
        return None
    group = max(groups, key=len)
    ended = sum(1 for s in group if s["id"] in canceled)
    left = len(group) - ended
    return {"count": len(group), "count_word": _number(len(group)), "times": _times(len(group)),
            "canceled": ended, "canceled_word": _number(ended), "remaining": left, "remaining_word": _number(left),
            "extra_left": max(0, left - 1), "extra_left_word": _number(max(0, left - 1)),
            "groups": len(groups)}


def _contradictions(bucket: str, facts: dict[str, Any]) -> list[str]:
    """Why the confirmed bucket's story is not what the record shows (empty when it fits)."""
    out: list[str] = []
    if bucket == "duplicate_subscription" and not facts["duplicate_pair"] and not facts["extra_quantity"]:
        out.append("no two live subscriptions share a product and none is bought in quantity")
    if bucket == "failed_payment" and not facts["payment_failed"]:
        out.append("no payment failed" + (f" (payment collection is paused, behavior {facts['paused']['behavior']})"
                                          if facts["paused"] else ""))
    if bucket == "team_seats" and not facts["seats"]:
        out.append("no live subscription is sold per seat" + (
            f" (quantity {facts['extra_quantity']['before']} is on a product not sold per seat)"
            if facts["extra_quantity"] else ""))
    return out


def _state_truth(state: dict[str, Any], contract: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    """The facts of a ``billing_state`` a bucket's story rests on (a duplicate pair, a failed payment, a
    paused collection, seats)."""
    subs = state.get("subscriptions") or []
    live = [s for s in subs if s["status"] in ("active", "trialing", "past_due", "unpaid")]
    invoices = state.get("invoices") or []
    failed = [i for i in invoices if i["status"] == "open" and (i.get("attempt_count") or 0) > 0]
    anomaly_kinds = {a["kind"] for a in state.get("anomalies") or []}
    products: dict[str, int] = {}
    for s in live:
        products[s["product"]] = products.get(s["product"], 0) + 1
    return {
        "duplicate_pair": any(n > 1 for n in products.values()) or "duplicate_active_subscription" in anomaly_kinds,
        "payment_failed": bool(failed) or bool(anomaly_kinds & set(_PAYMENT_FAILED)),
        "paused": next((s["pause_collection"] for s in live if s.get("pause_collection")), None),
        **_seats(live, contract, actions),
    }


def bucket_contradictions(bucket: str, billing_state: dict[str, Any]) -> list[str]:
    """Why ``bucket``'s story is not what ``billing_state`` (case.json's) shows; empty when it fits.

    Why public: the notebook's decision step says it as the handoff's DECISION does, from the same facts.
    """
    return _contradictions(bucket, _state_truth(billing_state, [], []))


def _facts(record: dict[str, Any]) -> dict[str, Any]:
    plan = {a["id"]: a for a in _field(record, "plan") or []}
    executed = _field(record, "executed") or []
    if executed:
        actions = [plan.get(e["action_id"], {"id": e["action_id"], "kind": e["action_id"].split(":")[0],
                                             "target": None, "amount": None})
                   for e in executed if e["status"] in _DONE]
    else:  # a dry run speaks of the plan as it would run: the first of each group of alternatives
        seen: set[str] = set()
        actions = []
        for a in plan.values():
            group = a.get("exclusive")
            if group and group in seen:
                continue
            if group:
                seen.add(group)
            actions.append(a)
    kinds = {a["kind"] for a in actions}
    subs = _field(record, "billing_state", "subscriptions") or []
    live = [s for s in subs if s["status"] in ("active", "trialing", "past_due", "unpaid")]
    canceled = [a["target"] for a in actions if a["kind"] == "cancel"]
    kept = [s for s in live if s["id"] not in canceled]
    money_back = [a["amount"] for a in actions if a["kind"] in ("refund", "credit_note") and a["amount"]]
    refund = _sum(money_back)
    # a credit note's credit_amount goes back to the customer's balance (the part the balance paid), not the card
    to_balance = _sum([a["to_balance"] for a in actions if a["kind"] == "credit_note" and a.get("to_balance")])
    # and its out_of_band_amount goes back outside Stripe (an invoice paid outside Stripe: no card to refund)
    outside = _sum([a["out_of_band"] for a in actions if a["kind"] == "credit_note" and a.get("out_of_band")])
    to_card = _sum([a["amount"] for a in actions if a["kind"] in ("refund", "credit_note") and a["amount"]]
                   + [{**b, "value": -int(b["value"])} for b in [to_balance, outside] if b])
    impact = _field(record, "revenue_impact")
    if refund is None and executed and impact:
        refund = _sum([m for m in (impact.get("refunded"), impact.get("credited")) if m])
    target_end = next((s["current_period_end"] for s in subs if s["id"] in canceled), None)
    invoices = _field(record, "billing_state", "invoices") or []
    failed = sorted((i for i in invoices if i["status"] == "open" and (i.get("attempt_count") or 0) > 0),
                    key=lambda i: i["created"], reverse=True)
    teams = [c for c in _field(record, "contract") or [] if c.get("is_team") or (c.get("quantity") or 1) > 1]
    team = teams[0] if teams else None
    seat_price = None
    if team and team.get("recurring_total") and (team.get("quantity") or 0) > 0:
        total, qty = int(team["recurring_total"]["value"]), int(team["quantity"])
        seat_price = {"value": total // qty, "currency": team["recurring_total"]["currency"]} if total % qty == 0 else None
    prorated = {o for a in _field(record, "billing_state", "anomalies") or [] if a["kind"] == "proration_invoice"
                for o in a["objects"]}
    proration = next((i for i in sorted(invoices, key=lambda i: i["created"], reverse=True) if i["id"] in prorated), None)
    flows = [a["id"].split(":")[2] for a in actions if a["kind"] == "portal" and a["id"].count(":") >= 2]
    # what is true, not what a template hopes: links that reached someone, the state as it is
    sent = record.get("links_sent")  # absent in records older than issue 12: the link was shown then
    portal_sent = [a for a in actions if a["kind"] == "portal" and (not executed or sent is None or a["id"] in sent)]
    failed_runs = {e["action_id"] for e in executed if e["status"] not in _DONE}
    ending = [s for s in live if s.get("cancel_at_period_end") and s["id"] not in canceled]
    disputes = (record.get("billing_state") or {}).get("disputes") or []
    open_disputes = [d for d in disputes if d.get("status") in _OPEN_DISPUTE]
    lost = [d for d in disputes if d.get("status") == "lost"]
    new_card = next((a for a in actions if a["kind"] == "default_pm"), None)
    visible = [a for a in actions if a.get("customer_visible") and a["kind"] != "document"]
    _field(record, "billing_state", "anomalies")
    truth = {**_state_truth(record["billing_state"], _field(record, "contract") or [], actions),
             "switch": _switch(live, canceled), "duplicates": _duplicates(live, canceled)}
    return {
        **truth,
        "contradicts": _contradictions(_bucket(record), truth),
        "draft": not executed and bool(visible) and _bucket(record) not in ("pending", "unclear"),
        "portal_sent": bool(portal_sent),
        "portal_lost": any(a["kind"] == "portal" for a in actions) and not portal_sent,
        "retry_failed": any(i.startswith("retry:") for i in failed_runs),
        "new_card": new_card,
        "already_ending": ending[0]["current_period_end"] if ending else None,
        "open_dispute": open_disputes[0] if open_disputes else None,
        "lost_dispute": lost[0] if lost else None,
        "renews": bool(kept) and not ending and not open_disputes and not lost,
        "bucket": _bucket(record),
        "unheld_product": _unheld(record, subs),
        "done": bool(executed) and bool(actions),
        "dry_run": not executed,
        "actions": actions,
        "kinds": kinds,
        "refund": refund,
        "to_balance": to_balance,
        "to_card": to_card if to_card is None or int(to_card["value"]) > 0 else None,
        "outside": outside,
        # all the money back goes outside Stripe: the follow-up says so and names no card
        "outside_only": bool(outside) and not to_balance and not (to_card and int(to_card["value"]) > 0),
        "canceled": bool(canceled),
        "kept_live": bool(kept),
        "credit_held": ((record["billing_state"].get("credits") or {}).get("credit_held") or None),
        "access_until": target_end if canceled and not refund else None,
        "next_renewal": kept[0]["current_period_end"] if kept and not open_disputes and not lost else None,
        "failed_invoice": failed[0] if failed else None,
        "team": team,
        "seat_price": seat_price,
        "proration": proration,
        "portal": bool(portal_sent),
        "portal_flow": flows[0] if flows else None,
        "retry": "retry" in kinds,
        "quantity": "quantity" in kinds,
    }


#: lookups that name the object the case is about (a charge, an invoice...): the analyst chose it
_OBJECT_LOOKUPS = ("subscription", "invoice", "charge", "payment_intent")


def _unheld(record: dict[str, Any], subs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The product the complaint names that is on none of the customer's subscriptions, with the plans
    they do have (the follow-up asks which they mean; the plan offers no other plan's money).

    Why from the record: the sentence rests on the complaint and the subscriptions the record holds.
    """
    if record.get("lookup_kind") in _OBJECT_LOOKUPS:
        return None
    held = [str(s.get("plan") or s.get("product") or "") for s in subs]
    named = product_not_held(str(record.get("complaint") or ""), held)
    if named is None:
        return None
    return {"named": named, "plans": sorted({h for h in held if h})}


def _handoff_view(record: dict[str, Any]) -> dict[str, Any]:
    plan = {a["id"]: a for a in _field(record, "plan") or []}
    rows = [{**e, "kind": plan.get(e["action_id"], {}).get("kind", "—")} for e in _field(record, "executed") or []]
    invoices = sorted(_field(record, "billing_state", "invoices") or [], key=lambda i: i["created"], reverse=True)
    paid: dict[str, int] = {}
    for inv in invoices:
        paid[inv["currency"]] = paid.get(inv["currency"], 0) + int(inv["amount_paid"] or 0)
    return {
        "executed": rows,
        # what landed in Stripe (this run's writes, or found done) and what did not: said plainly
        "landed": [f"{e['action_id']} ({e['status'].replace('_', ' ')})" for e in rows if e["status"] in _DONE],
        "not_landed": [f"{e['action_id']} ({e['status']})" for e in rows if e["status"] not in _DONE],
        "plan": sorted(plan.values(), key=lambda a: a["step"]),
        "invoices": invoices[:10],
        "invoices_more": max(0, len(invoices) - 10),
        "invoices_open": sum(1 for i in invoices if i["status"] in ("open", "uncollectible")),
        "paid": [Money(v, c).format() for c, v in sorted(paid.items())],
        "given_back": _given_back(record["billing_state"].get("credits") or {}),
        "truncated": list(record["billing_state"].get("truncated") or []),
        # charges that paid no invoice (absent from records older than session 8)
        "one_off": list(record["billing_state"].get("one_off_charges") or []),
        # invoices the credit balance paid part of: the card paid amount_paid, the balance the rest
        "from_balance": [f"{i['id']} {Money(int(i.get('total') or 0), i['currency']).format()}: "
                         f"{Money(int(i['paid_from_balance']), i['currency']).format()} from the balance, "
                         f"{Money(int(i['amount_paid'] or 0), i['currency']).format()} by card"
                         for i in invoices if int(i.get("paid_from_balance") or 0) > 0],
    }


_LIVE_REFUNDS = ("succeeded", "pending", "requires_action")


def _count(n: int, one: str) -> str:
    return f"{n} {one}" if n == 1 else f"{n} {one}s"


def _given_back(credits: dict[str, Any]) -> list[str]:
    """What the customer already got back, in words, each amount once: balance credit, refunds, and
    credit notes with the part of them that a refund (listed above) paid back.

    Why: a credit note that refunds the card creates a refund; the refunds' total already holds it
    (analysis.credits: a note's refunded part is in ``refunded`` too). "refunded $870.51; credit notes
    for $870.51" read as $1,741.02 given back.
    """
    out: list[str] = []
    if credits.get("credit_held"):
        out.append(f"a credit of {_money(credits['credit_held'])} on the customer's balance "
                   "(taken off the refund options)")
    refunds = [r for r in credits.get("refunds") or [] if r.get("status", "succeeded") in _LIVE_REFUNDS]
    notes = [c for c in credits.get("credit_notes") or [] if c.get("status") != "void"]
    refunded = {str(m["currency"]): int(m["value"]) for m in credits.get("refunded") or []}
    for amount in credits.get("refunded") or []:
        mine = [r for r in refunds if r["amount"]["currency"] == amount["currency"]]
        # a pending refund is on its way, not back yet: said apart (refunds booked by their status)
        waiting = [r for r in mine if r.get("status", "succeeded") != "succeeded"]
        sent = int(amount["value"]) - sum(int(r["amount"]["value"]) for r in waiting)
        if sent > 0 or not waiting:
            out.append(f"refunded {_money(Money(sent, str(amount['currency'])))} to the original payment method "
                       f"({_count(len(mine) - len(waiting), 'refund')})")
        if waiting:
            out.append(f"{_money(Money(sum(int(r['amount']['value']) for r in waiting), str(amount['currency'])))} "
                       f"refund pending ({_count(len(waiting), 'refund')}: on its way, not returned yet)")
    for r in credits.get("refunds") or []:
        if r.get("status") in ("failed", "canceled"):
            why = f": {r['failure_reason']}" if r.get("failure_reason") else ""
            out.append(f"refund {r.get('id')} of {_money(r['amount'])} {str(r['status']).upper()}{why} -- "
                       "money not returned (the customer still needs it)")
    for amount in credits.get("credited") or []:
        cur = str(amount["currency"])
        mine = [c for c in notes if c["amount"]["currency"] == cur]
        by_refund = min(sum(int(c.get("refunded") or 0) for c in mine), int(amount["value"]))
        line = f"credit notes for {_money(amount)} ({_count(len(mine), 'credit note')})"
        if by_refund:
            part = "all of it" if by_refund == int(amount["value"]) else f"{_money(Money(by_refund, cur))} of it"
            # counted above only when the listed refunds hold it (a capped read may miss some)
            above = " (counted in the refunds above)" if refunded.get(cur, 0) >= by_refund else ""
            line += f", {part} refunded to the original payment method{above}"
        out.append(line)
    return out


# --- renderers ---------------------------------------------------------------------------------
def render_followup(record: dict[str, Any], override: Path | None = None) -> str:
    """The customer message for the record's bucket (templates/followup/<bucket>.md.j2)."""
    facts = _facts(record)
    text = _render(f"followup/{facts['bucket']}.md.j2", override, record=record, f=facts)
    return f"{_DRAFT}\n\n{text}" if facts["draft"] else text


def render_handoff(record: dict[str, Any], override: Path | None = None) -> str:
    """The handoff markdown from a case.json-shaped record (with followup already set)."""
    return _render("handoff.md.j2", override, record=record, f=_facts(record), v=_handoff_view(record))


def render_backlog(record: dict[str, Any], override: Path | None = None) -> str:
    """Issue drafts for the record's product gaps."""
    return _render("backlog.md.j2", override, record=record)
