"""Credit notes: preview, create, list, retrieve, lines, void.

On a paid invoice a credit note is ``post_payment``: its total is split between
``refund_amount`` (a refund on the invoice's charge), ``credit_amount`` (the customer's
balance) and ``out_of_band_amount``, which must add up to the total. On an open invoice
it is ``pre_payment`` and lowers what is still due. The total of all credit notes can't
exceed the invoice total.
"""

from __future__ import annotations

import copy
from fractions import Fraction
from typing import Any

from ..engine import invoices as ei
from ..engine import taxes as et
from ..engine.invoices import record_balance
from ..engine.objects import fmt_amount
from ..errors import invalid
from ..filters import range_filter
from ..listing import list_object, list_page
from ..params import Params
from ..routing import Ctx, route
from ..store import Obj, Store
from .payments import create_refund, refundable

REASONS = ("duplicate", "fraudulent", "order_change", "product_unsatisfactory")
PARAMS = ("invoice", "lines", "amount", "refund_amount", "credit_amount", "out_of_band_amount", "reason", "memo",
          "metadata", "effective_at")


def _credited(store: Store, inv_id: str) -> int:
    return sum(int(cn["total"]) for cn in store.where("credit_note", invoice=inv_id) if cn["status"] != "void")


def _lines(store: Store, inv: Obj, p: Params, cn_id: str) -> list[Obj]:
    out = []
    by_id = {ln["id"]: ln for ln in inv["_lines"]}
    for n, raw in enumerate(p.list("lines")):
        lp = Params(raw if isinstance(raw, dict) else {}, prefix=f"lines[{n}][")
        lp.allow("type", "invoice_line_item", "amount", "quantity", "description", "unit_amount", "metadata",
                 "tax_rates")
        kind = lp.enum("type", ("invoice_line_item", "custom_line_item"))
        if kind is None:
            raise invalid(f"Missing required param: lines[{n}][type].", f"lines[{n}][type]", "parameter_missing")
        qty = lp.int("quantity")
        line: Obj | None = None
        if kind == "invoice_line_item":
            line = by_id.get(lp.req("invoice_line_item"))
            if line is None:
                raise invalid(f"Invalid invoice line item: {lp.req('invoice_line_item')}",
                              f"lines[{n}][invoice_line_item]", "resource_missing")
            if lp.has("amount"):
                amount = lp.int("amount") or 0
            elif qty is not None:
                amount = round(int(line["amount"]) * qty / max(int(line["quantity"] or 1), 1))
            else:
                amount = int(line["amount"])
            if amount > int(line["amount"]):
                raise invalid(f"The amount on lines[{n}] ({fmt_amount(amount, inv['currency'])}) can't exceed the "
                              f"invoice line item's amount ({fmt_amount(line['amount'], inv['currency'])}).",
                              f"lines[{n}][amount]")
            if lp.has("tax_rates"):
                raise invalid(f"lines[{n}][tax_rates] is only valid when type is custom_line_item.",
                              f"lines[{n}][tax_rates]")
            unit, desc, qty = None, line.get("description"), qty or int(line["quantity"] or 1)
            shares = _discount_shares(line, amount)
            rates = et.rates_of_line(inv, line)
            base = amount - sum(d["amount"] for d in shares)
            # crediting the whole line gives back exactly the tax it charged
            taxes = copy.deepcopy(line.get("taxes") or []) if amount == int(line["amount"]) else \
                et.line_taxes(base, rates)
        else:
            unit, qty = lp.int("unit_amount", required=True) or 0, qty or 1
            amount, desc, shares = unit * qty, lp.req("description"), []
            rates = et.rates_param(store, lp.list("tax_rates"), f"lines[{n}][tax_rates]")
            taxes = et.line_taxes(amount, rates)
        out.append({
            "id": Store.new_id("cnli", 24), "object": "credit_note_line_item", "amount": amount,
            "description": desc, "discount_amount": sum(d["amount"] for d in shares), "discount_amounts": shares,
            "invoice_line_item": line["id"] if line is not None else None, "livemode": False,
            "metadata": lp.metadata(), "pretax_credit_amounts": [], "quantity": qty,
            "tax_rates": copy.deepcopy(rates), "taxes": taxes,
            "type": kind, "unit_amount": unit, "unit_amount_decimal": str(unit) if unit is not None else None,
        })
    return out


def _discount_shares(line: Obj, amount: int) -> list[Obj]:
    """The part of the invoice line's discounts that crediting ``amount`` of it gives back
    (credit note line ``amount`` is gross, ``discount_amount`` what is taken off it)."""
    whole = int(line["amount"])
    out = []
    for d in line.get("discount_amounts") or []:
        share = int(d["amount"]) if amount == whole else (
            int(Fraction(int(d["amount"]) * amount, whole) + Fraction(1, 2)) if whole else 0)
        out.append({"amount": share, "discount": d["discount"]})
    return out


def _by_discount(lines: list[Obj]) -> list[Obj]:
    sums: dict[str, int] = {}
    for ln in lines:
        for d in ln["discount_amounts"]:
            sums[d["discount"]] = sums.get(d["discount"], 0) + int(d["amount"])
    return [{"amount": v, "discount": k} for k, v in sums.items()]


def build(store: Store, p: Params, *, commit: bool) -> Obj:
    """The credit note these parameters describe; with ``commit`` it takes effect."""
    p.allow(*PARAMS)
    inv = store.get("invoice", p.req("invoice"), "invoice")
    if inv["status"] not in ("open", "paid"):
        raise invalid(f"Credit notes can only be issued on open or paid invoices. This invoice is {inv['status']}.",
                      "invoice")
    reason = p.enum("reason", REASONS)
    cid = store.new_id("cn")
    lines = _lines(store, inv, p, cid)
    refund_amt, credit_amt, oob = (p.int("refund_amount", 0) or 0), (p.int("credit_amount", 0) or 0), \
        (p.int("out_of_band_amount", 0) or 0)
    given = any(p.has(k) for k in ("refund_amount", "credit_amount", "out_of_band_amount"))
    gross = discount = inc = exc = 0
    if lines:
        gross = sum(ln["amount"] for ln in lines)
        discount = sum(ln["discount_amount"] for ln in lines)
        inc, exc = et.split([t for ln in lines for t in ln["taxes"]])
        total = gross - discount + exc
    elif p.has("amount"):
        total = p.int("amount") or 0
    else:
        total = refund_amt + credit_amt + oob
    if total <= 0:
        raise invalid("The credit note amount must be greater than zero.", "amount")
    remaining = int(inv["total"]) - _credited(store, inv["id"])
    if total > remaining:
        raise invalid(f"The credit note amount ({fmt_amount(total, inv['currency'])}) can't exceed the invoice's "
                      f"remaining creditable amount ({fmt_amount(max(remaining, 0), inv['currency'])}).", "amount")
    # API reference, Create a credit note: it "will first reduce the invoice's amount_remaining
    # (and amount_due), but not below zero" (pre_payment_amount); the excess is post_payment_amount,
    # and "the sum of refunds, customer balance credits, and outside of Stripe credits must equal
    # the post_payment_amount" (type pre_payment, post_payment or mixed; changelog 2025-05-28.basil).
    pre = min(total, int(inv["amount_remaining"])) if inv["status"] == "open" else 0
    post = total - pre
    cur = inv["currency"]
    if post and refund_amt + credit_amt + oob != post:
        raise invalid(f"The sum of credit amount, refund amount and out of band amount "
                      f"({fmt_amount(refund_amt + credit_amt + oob, cur)}) must equal the credit note's "
                      f"post-payment amount ({fmt_amount(post, cur)}).")
    if not post and given and refund_amt + credit_amt + oob:
        raise invalid("refund_amount, credit_amount and out_of_band_amount can only be used for the post-payment "
                      f"part of a credit note; this one reduces the invoice's amount remaining "
                      f"({fmt_amount(pre, cur)}) only.", "refund_amount")
    charge = ei.invoice_charge(store, inv) if refund_amt else None
    if refund_amt and (charge is None or refund_amt > refundable(charge)):
        left = refundable(charge) if charge else 0
        raise invalid(f"Refund amount ({fmt_amount(refund_amt, inv['currency'])}) is greater than unrefunded amount "
                      f"on charge ({fmt_amount(left, inv['currency'])})", "refund_amount", "amount_too_large")
    now = store.now(inv["customer"])
    seq = len(store.where("credit_note", invoice=inv["id"])) + 1
    cn: Obj = {
        "id": cid, "object": "credit_note", "amount": total, "amount_shipping": 0, "created": now,
        "currency": inv["currency"], "customer": inv["customer"], "customer_account": None,
        "customer_balance_transaction": None, "discount_amount": discount, "discount_amounts": _by_discount(lines),
        "effective_at": p.int("effective_at", now), "invoice": inv["id"],
        "lines": {"object": "list", "data": lines, "has_more": False, "url": f"/v1/credit_notes/{cid}/lines"},
        "livemode": False, "memo": p.str("memo"), "metadata": p.metadata(),
        "number": f"{inv.get('number') or 'DRAFT'}-CN-{seq:02d}", "out_of_band_amount": oob or None,
        "pdf": f"https://pay.stripe.com/credit_notes/acct_sandbox/{cid}/pdf",
        "post_payment_amount": post, "pre_payment_amount": pre,
        "pretax_credit_amounts": [], "reason": reason, "refunds": [], "shipping_cost": None, "status": "issued",
        "subtotal": gross or total, "subtotal_excluding_tax": (gross or total) - inc, "total": total,
        "total_excluding_tax": total - inc - exc,
        "total_taxes": et.totals([ln["taxes"] for ln in lines]), "type": "mixed" if pre and post else "post_payment" if post else "pre_payment", "voided_at": None,
    }
    if not commit:
        cn["id"] = "cn_preview_" + cid[3:]
        return cn
    store.insert(cn)
    if refund_amt and charge is not None:
        refund = create_refund(store, charge, refund_amt, _refund_reason(reason), {"credit_note": cid})
        cn["refunds"].append({"amount_refunded": refund_amt, "payment_record_refund": None,
                              "refund": refund["id"], "type": "refund"})
    if credit_amt:
        cn["customer_balance_transaction"] = _balance_txn(store, inv, cn, -credit_amt)
    inv["post_payment_credit_notes_amount"] += post
    if pre:
        inv["pre_payment_credit_notes_amount"] += pre
        inv["amount_due"] = max(int(inv["amount_due"]) - pre, 0)
        inv["amount_remaining"] = max(int(inv["amount_remaining"]) - pre, 0)
        if inv["amount_remaining"] == 0:
            ei.mark_paid(store, inv, now, int(inv["amount_paid"]))
    store.emit("credit_note.created", cn)
    return cn


def _refund_reason(reason: str | None) -> str | None:
    return reason if reason in ("duplicate", "fraudulent") else "requested_by_customer"


def _balance_txn(store: Store, inv: Obj, cn: Obj, amount: int) -> str:
    cust = store.get("customer", inv["customer"])
    txn = record_balance(store, cust, amount, cn["currency"], "credit_note", created=cn["created"],
                         credit_note=cn["id"])
    return str(txn["id"])


@route("GET", "/v1/credit_notes/preview", accepts=PARAMS)
def preview_credit_note(ctx: Ctx, p: Params) -> Obj:
    return build(ctx.store, p, commit=False)


@route("GET", "/v1/credit_notes/preview/lines", accepts=(*PARAMS, "limit", "starting_after", "ending_before"))
def preview_credit_note_lines(ctx: Ctx, p: Params) -> Obj:
    page = Params({k: v for k, v in p.data.items() if k in ("limit", "starting_after", "ending_before")})
    rest = Params({k: v for k, v in p.data.items() if k not in ("limit", "starting_after", "ending_before")})
    return list_object(page, build(ctx.store, rest, commit=False)["lines"]["data"], "/v1/credit_notes/preview/lines")


@route("POST", "/v1/credit_notes", accepts=PARAMS)
def create_credit_note(ctx: Ctx, p: Params) -> Obj:
    return build(ctx.store, p, commit=True)


@route("GET", "/v1/credit_notes", accepts=("invoice", "customer", "created", "limit", "starting_after", "ending_before"))
def list_credit_notes(ctx: Ctx, p: Params) -> Obj:
    inv, cust, keep = p.str("invoice"), p.str("customer"), range_filter(p)
    return list_page(p, ctx.store, "credit_note", lambda c: (cust is None or c.get("customer") == cust) and keep(c),
                     "/v1/credit_notes", invoice=inv)


@route("GET", "/v1/credit_notes/{cid}", accepts=())
def retrieve_credit_note(ctx: Ctx, p: Params, cid: str) -> Obj:
    return ctx.store.get("credit_note", cid)


@route("POST", "/v1/credit_notes/{cid}", accepts=("memo", "metadata"))
def update_credit_note(ctx: Ctx, p: Params, cid: str) -> Obj:
    cn = ctx.store.get("credit_note", cid)
    if p.has("memo"):
        cn["memo"] = p.str("memo")
    cn["metadata"] = p.metadata(cn["metadata"])
    ctx.store.emit("credit_note.updated", cn)
    return cn


@route("GET", "/v1/credit_notes/{cid}/lines", accepts=("limit", "starting_after", "ending_before"))
def credit_note_lines(ctx: Ctx, p: Params, cid: str) -> Obj:
    return list_object(p, ctx.store.get("credit_note", cid)["lines"]["data"], f"/v1/credit_notes/{cid}/lines")


@route("POST", "/v1/credit_notes/{cid}/void", accepts=())
def void_credit_note(ctx: Ctx, p: Params, cid: str) -> Obj:
    st = ctx.store
    cn = st.get("credit_note", cid)
    if cn["status"] == "void":
        raise invalid("This credit note has already been voided.")
    if cn["refunds"]:
        raise invalid("You can't void a credit note that issued a refund.")
    inv = st.get("invoice", cn["invoice"])
    if cn["customer_balance_transaction"]:
        txn: Any = st.get("customer_balance_transaction", cn["customer_balance_transaction"])
        st.get("customer", cn["customer"])["balance"] -= int(txn["amount"])
    inv["post_payment_credit_notes_amount"] -= int(cn["post_payment_amount"])
    inv["pre_payment_credit_notes_amount"] -= int(cn["pre_payment_amount"])
    if cn["pre_payment_amount"] and inv["status"] == "open":
        inv["amount_due"] += int(cn["pre_payment_amount"])
        inv["amount_remaining"] += int(cn["pre_payment_amount"])
    cn.update(status="void", voided_at=st.now(cn["customer"]))
    st.emit("credit_note.voided", cn)
    return cn
