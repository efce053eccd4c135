"""Invoices, invoice items and invoice payments over HTTP.

Subscription invoices come from the engine; this module lists and shows them, previews
the next one (``create_preview``), and lets a client pay, void, finalize, or build a
manual invoice from pending invoice items. In this API version an invoice has no
``charge``/``payment_intent``: its ``payments`` (includable) link to PaymentIntents.
"""

from __future__ import annotations

from ..engine import core as en
from ..engine import invoices as ei
from ..engine.pricing import line_amount, unit_decimal
from ..engine import taxes as et
from ..engine.prorate import Change, new_invoiceitem, preview
from ..engine.render import with_includables
from ..errors import ApiError, invalid
from ..filters import equals, range_filter
from ..listing import list_object, list_page
from ..params import Params
from ..routing import Ctx, route
from ..store import Obj
from .subscription_params import PRORATION, item_changes

INVOICE_STATUSES = ("draft", "open", "paid", "uncollectible", "void")
COLLECTION = ("charge_automatically", "send_invoice")


def _out(ctx: Ctx, p: Params, obj: Obj) -> Obj:
    return with_includables(ctx.store, obj, p.expand())


@route("POST", "/v1/invoices/create_preview", accepts=("customer", "subscription", "subscription_details"))
def create_preview(ctx: Ctx, p: Params) -> Obj:
    st = ctx.store
    sub = st.get("subscription", p.req("subscription"), "subscription") if p.has("subscription") else None
    if sub is None and not p.has("customer"):
        raise invalid("Must provide customer or subscription.", "customer", "parameter_missing")
    customer = sub["customer"] if sub else st.get("customer", p.req("customer"), "customer")["id"]
    if sub is not None and p.str("customer") not in (None, customer):
        raise invalid(f"The subscription {sub['id']} does not belong to the customer {p.str('customer')}.", "customer")
    details = p.sub("subscription_details") or Params({}, "subscription_details[")
    details.allow("items", "proration_behavior", "proration_date", "cancel_now")
    now = st.now(customer)
    at = details.int("proration_date", now) or now
    behavior = details.enum("proration_behavior", PRORATION, "create_prorations") or "create_prorations"
    if sub is None:
        live = [s for s in st.where("subscription", customer=customer)
                if s["status"] in ("active", "past_due", "trialing", "unpaid")]
        if details.list("items"):
            return _preview_new(ctx, customer, details)
        sub = live[0] if len(live) == 1 else None
        if sub is None and not en.pending_items(st, customer, None):
            raise invalid(f"No upcoming invoices for customer: {customer}", code="invoice_upcoming_none")
    if sub is not None and sub["status"] in ("canceled", "incomplete_expired"):
        raise invalid(f"No upcoming invoices for customer: {customer}", code="invoice_upcoming_none")
    changes: list[Change] = item_changes(st, sub, details.list("items")) if sub is not None else []
    inv = preview(st, sub, customer, changes, behavior, at, cancel_now=bool(details.bool("cancel_now", False)))
    return _out(ctx, p, inv)


def _preview_new(ctx: Ctx, customer: str, details: Params) -> Obj:
    """Preview the first invoice of a subscription not created yet."""
    st = ctx.store
    now = st.now(customer)
    lines = []
    inv = ei.new_invoice(st, customer, billing_reason="subscription_create", insert=False)
    for n, raw in enumerate(details.list("items")):
        ip = Params(raw, prefix=f"subscription_details[items][{n}][")
        price = st.get("price", ip.req("price"), f"subscription_details[items][{n}][price]")
        interval, count = en.interval_of(price)
        item = {"id": "si_preview", "price": price, "quantity": ip.int("quantity", 1)}
        lines.append(ei.period_line(st, inv["id"], "sub_preview", item, now, en.add_interval(now, interval, count),
                                    preview=True))
        inv["currency"] = price["currency"]
    ei.set_lines(inv, lines)
    ei.apply_balance(st, inv, False)
    return inv


@route("GET", "/v1/invoices", accepts=("customer", "subscription", "status", "created", "collection_method", "due_date",
                                      "limit", "starting_after", "ending_before"))
def list_invoices(ctx: Ctx, p: Params) -> Obj:
    customer, sub_id = p.str("customer"), p.str("subscription")
    status = p.enum("status", INVOICE_STATUSES)
    method = equals(p.enum("collection_method", COLLECTION), "collection_method")
    created, due = range_filter(p), range_filter(p, "due_date")

    def keep(i: Obj) -> bool:
        return (created(i) and due(i) and method(i) and (status is None or i["status"] == status)
                and (sub_id is None
                     or ((i.get("parent") or {}).get("subscription_details") or {}).get("subscription") == sub_id))

    return _out(ctx, p, list_page(p, ctx.store, "invoice", keep, "/v1/invoices", customer=customer))


@route("POST", "/v1/invoices", accepts=("customer", "auto_advance", "collection_method", "days_until_due", "description",
                                       "metadata", "pending_invoice_items_behavior", "subscription",
                                       "default_payment_method", "currency", "footer", "default_tax_rates"))
def create_invoice(ctx: Ctx, p: Params) -> Obj:
    st = ctx.store
    customer = st.get("customer", p.req("customer"), "customer")["id"]
    sub = st.get("subscription", p.req("subscription"), "subscription") if p.has("subscription") else None
    inv = ei.new_invoice(st, customer, billing_reason="manual", subscription=sub, description=p.str("description"),
                         metadata=p.metadata(), auto_advance=bool(p.bool("auto_advance", False)),
                         currency=p.str("currency", "usd") or "usd")
    inv["default_payment_method"] = p.str("default_payment_method")
    inv["footer"] = p.str("footer")
    if p.has("default_tax_rates"):  # the rates of the lines that have none of their own
        inv["default_tax_rates"] = et.rates_param(st, p.list("default_tax_rates"), "default_tax_rates")
    method = p.enum("collection_method", COLLECTION, "charge_automatically")
    days = p.int("days_until_due")
    if method == "send_invoice":
        # API reference, Create an invoice: days_until_due "Only valid for invoices where
        # collection_method=send_invoice" (the due date counts from creation).
        inv["collection_method"] = "send_invoice"
        inv["due_date"] = inv["created"] + 86400 * (days if days is not None else 30)
    elif days is not None:
        raise invalid("days_until_due can only be set when collection_method is send_invoice.", "days_until_due")
    if p.enum("pending_invoice_items_behavior", ("exclude", "include"), "exclude") == "include":
        items = en.pending_items(st, customer, sub["id"] if sub else None)
        for ii in items:
            ii["invoice"] = inv["id"]
        ei.set_lines(inv, [ei.line_from_item(st, inv["id"], ii) for ii in items])
    st.emit("invoice.created", inv)
    return _out(ctx, p, inv)


@route("GET", "/v1/invoices/{iid}", accepts=())
def retrieve_invoice(ctx: Ctx, p: Params, iid: str) -> Obj:
    return _out(ctx, p, ctx.store.get("invoice", iid))


@route("POST", "/v1/invoices/{iid}", accepts=("metadata", "description", "auto_advance", "default_payment_method", "footer"))
def update_invoice(ctx: Ctx, p: Params, iid: str) -> Obj:
    inv = ctx.store.get("invoice", iid)
    if p.has("metadata"):
        inv["metadata"] = p.metadata(inv["metadata"])
    if p.has("auto_advance"):
        if inv["status"] not in ("draft", "open"):
            # Invoicing docs, Automatic invoice advancement: "An invoice must be in a draft or
            # open state to update automatic advancement."
            raise invalid(f"You can't change auto_advance on a {inv['status']} invoice.", "auto_advance")
        inv["auto_advance"] = bool(p.bool("auto_advance"))
    for field in ("description", "default_payment_method", "footer"):
        if p.has(field):
            if inv["status"] != "draft" and field != "description":
                raise invalid(f"You can only update {field} on a draft invoice.", field, "invoice_not_editable")
            inv[field] = p.str(field)
    ctx.store.emit("invoice.updated", inv)
    return _out(ctx, p, inv)


@route("DELETE", "/v1/invoices/{iid}", accepts=())
def delete_invoice(ctx: Ctx, p: Params, iid: str) -> Obj:
    inv = ctx.store.get("invoice", iid)
    if inv["status"] != "draft":
        raise invalid("You can only delete draft invoices.", code="invoice_not_editable")
    if (inv.get("parent") or {}).get("subscription_details"):
        # API reference, Delete a draft invoice: "once an invoice has been finalized or if an
        # invoice is for a subscription, it must be voided."
        raise invalid("You can't delete invoices created by subscriptions.", code="invoice_not_editable")
    inv["deleted"] = True
    ctx.store.emit("invoice.deleted", inv)
    return {"id": iid, "object": "invoice", "deleted": True}


@route("GET", "/v1/invoices/{iid}/lines", accepts=("limit", "starting_after", "ending_before"))
def invoice_lines(ctx: Ctx, p: Params, iid: str) -> Obj:
    inv = ctx.store.get("invoice", iid)
    return list_object(p, inv["_lines"], f"/v1/invoices/{iid}/lines")


@route("POST", "/v1/invoices/{iid}/finalize", accepts=("auto_advance",))
def finalize_invoice(ctx: Ctx, p: Params, iid: str) -> Obj:
    inv = ctx.store.get("invoice", iid)
    if inv["status"] != "draft":
        raise invalid("This invoice is already finalized, you can't re-finalize a non-draft invoice.",
                      code="invoice_not_editable")
    if p.has("auto_advance"):
        inv["auto_advance"] = bool(p.bool("auto_advance"))
    ei.finalize(ctx.store, inv)
    return _out(ctx, p, inv)


@route("POST", "/v1/invoices/{iid}/pay", accepts=("payment_method", "paid_out_of_band"))
def pay_invoice(ctx: Ctx, p: Params, iid: str) -> Obj:
    st = ctx.store
    inv = st.get("invoice", iid)
    if inv["status"] == "paid":
        raise invalid("Invoice is already paid", code="invoice_already_paid")
    if inv["status"] in ("void", "deleted"):
        raise invalid(f"This invoice can't be paid because it is {inv['status']}.")
    if inv["status"] == "draft":
        ei.finalize(st, inv)
    if inv["status"] == "paid":
        return _out(ctx, p, inv)
    if p.bool("paid_out_of_band"):  # "This will result in no charge being made" (Pay an invoice)
        inv["_paid_off_stripe"] = int(inv.get("_paid_off_stripe") or 0) + int(inv["amount_remaining"])
        ei.mark_paid(st, inv, st.now(inv["customer"]), int(inv["amount_paid"]) + int(inv["amount_remaining"]))
        en._after_attempt(st, inv, True, schedule=False)  # noqa: SLF001 - same consequences as a payment
        return _out(ctx, p, inv)
    pm_id = None
    if p.has("payment_method"):
        from .payment_methods import resolve_payment_method

        pm_id = resolve_payment_method(st, p.req("payment_method"), inv["customer"])["id"]
    ok, err = en.collect(st, inv, pm_id, schedule=False)
    if not ok:
        if err is None:
            raise invalid("This customer has no attached payment source or default payment method.",
                          code="resource_missing")
        raise ApiError(402, err["message"], type="card_error", code=err["code"], decline_code=err["decline_code"],
                       extra={"charge": err["charge"]})
    return _out(ctx, p, inv)


def _close(ctx: Ctx, iid: str, status: str, stamp: str, event: str) -> Obj:
    inv = ctx.store.get("invoice", iid)
    if inv["status"] not in ("open", "uncollectible") or (status == "uncollectible" and inv["status"] != "open"):
        raise invalid(f"You can only mark an invoice as {status} if it is open" + (
            " or uncollectible." if status == "void" else "."), code="invoice_not_open" if status != "void" else None)
    inv.update(status=status, next_payment_attempt=None, auto_advance=False,
               amount_remaining=0 if status == "void" else inv["amount_remaining"])
    cust = ctx.store.maybe("customer", inv["customer"])
    if status == "uncollectible" and cust is not None:
        # API reference, Customer object, delinquent: "Paying an invoice or marking it
        # uncollectible via the API will set this field to false."
        cust["delinquent"] = False
    inv["status_transitions"][stamp] = ctx.store.now(inv["customer"])
    pi = ctx.store.maybe("payment_intent", inv.get("_pi"))
    if status == "void" and pi is not None and pi["status"] != "succeeded":
        pi.update(status="canceled", cancellation_reason="void_invoice", canceled_at=ctx.store.now(inv["customer"]))
    ctx.store.emit(event, inv)
    return inv


@route("POST", "/v1/invoices/{iid}/void", accepts=())
def void_invoice(ctx: Ctx, p: Params, iid: str) -> Obj:
    return _out(ctx, p, _close(ctx, iid, "void", "voided_at", "invoice.voided"))


@route("POST", "/v1/invoices/{iid}/mark_uncollectible", accepts=())
def mark_uncollectible(ctx: Ctx, p: Params, iid: str) -> Obj:
    return _out(ctx, p, _close(ctx, iid, "uncollectible", "marked_uncollectible_at", "invoice.marked_uncollectible"))


# ----- invoice payments ---------------------------------------------------------------
@route("GET", "/v1/invoice_payments", accepts=("invoice", "payment", "status", "limit", "starting_after",
                                              "ending_before", "created"))
def list_invoice_payments(ctx: Ctx, p: Params) -> Obj:
    inv_id, status = p.str("invoice"), p.enum("status", ("canceled", "open", "paid"))
    pay = p.sub("payment")
    if pay is not None:
        pay.allow("payment_intent", "type")
        pay.enum("type", ("payment_intent",))
    pi_id = pay.str("payment_intent") if pay else None
    keep = range_filter(p)
    rows = [x for x in ctx.store.matching("invoice_payment", invoice=inv_id, status=status)
            if (pi_id is None or x["payment"].get("payment_intent") == pi_id) and keep(x)]
    return _out(ctx, p, list_object(p, rows, "/v1/invoice_payments"))


@route("GET", "/v1/invoice_payments/{pid}", accepts=())
def retrieve_invoice_payment(ctx: Ctx, p: Params, pid: str) -> Obj:
    return _out(ctx, p, ctx.store.get("invoice_payment", pid))


# ----- invoice items ------------------------------------------------------------------
@route("POST", "/v1/invoiceitems", accepts=("customer", "amount", "currency", "description", "invoice", "subscription",
                                            "metadata", "period", "pricing", "quantity", "discountable", "tax_rates"))
def create_invoiceitem(ctx: Ctx, p: Params) -> Obj:
    st = ctx.store
    customer = st.get("customer", p.req("customer"), "customer")["id"]
    qty = p.int("quantity", 1) or 1
    pricing = p.sub("pricing")
    if pricing is not None:
        pricing.allow("price")
    price_id = pricing.str("price") if pricing is not None else None
    price = st.get("price", price_id, "pricing[price]") if price_id else None
    if price is not None:
        amount, currency = line_amount(price, qty), price["currency"]
    else:
        amount = p.int("amount", required=True) or 0
        currency = p.str("currency", required=True) or "usd"
    now = st.now(customer)
    per = p.sub("period")
    if per is not None:
        per.allow("start", "end")
    period = (per.int("start", now) or now, per.int("end", now) or now) if per else (now, now)
    inv = st.get("invoice", p.req("invoice"), "invoice") if p.has("invoice") else None
    if inv is not None and inv["status"] != "draft":
        raise invalid("You can only add invoice items to draft invoices.", "invoice", "invoice_not_editable")
    ii = new_invoiceitem(st, customer=customer, amount=amount, currency=currency, description=p.str("description"),
                         period=period, price=price, quantity=qty, sub_id=p.str("subscription"),
                         invoice=inv["id"] if inv else None, metadata=p.metadata(),
                         unit_decimal=unit_decimal(price, qty) if price else None,
                         tax_rates=et.rates_param(st, p.list("tax_rates"), "tax_rates"))
    if p.has("discountable"):  # API reference, Create an invoice item: defaults to true (false for prorations)
        ii["discountable"] = bool(p.bool("discountable"))
    if inv is not None:
        ei.set_lines(inv, inv["_lines"] + [ei.line_from_item(st, inv["id"], ii)])
    return ii


@route("GET", "/v1/invoiceitems", accepts=("customer", "invoice", "pending", "created", "limit", "starting_after",
                                           "ending_before"))
def list_invoiceitems(ctx: Ctx, p: Params) -> Obj:
    customer, inv_id, pending = p.str("customer"), p.str("invoice"), p.bool("pending")
    keep = range_filter(p, "created", "date")  # an invoice item's creation time is its ``date``
    rows = [ii for ii in ctx.store.all("invoiceitem")
            if (customer is None or ii["customer"] == customer) and (inv_id is None or ii["invoice"] == inv_id)
            and (pending is None or (ii["invoice"] is None) == pending) and keep(ii)]
    return list_object(p, rows, "/v1/invoiceitems")


@route("GET", "/v1/invoiceitems/{ii_id}", accepts=())
def retrieve_invoiceitem(ctx: Ctx, p: Params, ii_id: str) -> Obj:
    return ctx.store.get("invoiceitem", ii_id)


@route("DELETE", "/v1/invoiceitems/{ii_id}", accepts=())
def delete_invoiceitem(ctx: Ctx, p: Params, ii_id: str) -> Obj:
    ii = ctx.store.get("invoiceitem", ii_id)
    if ii.get("invoice"):
        inv = ctx.store.get("invoice", ii["invoice"])
        if inv["status"] != "draft":
            raise invalid("This invoice item is attached to an invoice that is no longer editable.",
                          code="invoice_not_editable")
    ii["deleted"] = True
    ctx.store.emit("invoiceitem.deleted", ii)
    return {"id": ii_id, "object": "invoiceitem", "deleted": True}
