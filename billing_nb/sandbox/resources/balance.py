"""Customer balance transactions: list, retrieve and create (an ``adjustment``); and the
account's balance transactions (``/v1/balance_transactions``: what each charge, refund and
dispute moved), list and retrieve.

Every change to ``customer.balance`` is recorded as a ``customer_balance_transaction`` (API
reference, Customer Balance Transaction object): ``credit_note`` when a credit note credits the
balance, ``applied_to_invoice`` when a finalized invoice uses it, ``adjustment`` when made through
this endpoint. Negative amounts are credits the customer can use.
"""

from __future__ import annotations

from ..engine.invoices import record_balance
from ..errors import invalid, missing
from ..listing import list_object, list_page
from ..params import Params
from ..routing import Ctx, route
from ..store import Obj

__all__: list[str] = []

KIND = "customer_balance_transaction"


@route("GET", "/v1/customers/{cid}/balance_transactions",
       accepts=("limit", "starting_after", "ending_before", "created", "invoice"))
def list_balance_transactions(ctx: Ctx, p: Params, cid: str) -> Obj:
    from ..filters import range_filter

    ctx.store.get("customer", cid, "customer")
    keep, inv = range_filter(p), p.str("invoice")
    rows = [t for t in ctx.store.where(KIND, customer=cid) if keep(t) and (inv is None or t.get("invoice") == inv)]
    return list_object(p, rows, f"/v1/customers/{cid}/balance_transactions")


@route("GET", "/v1/customers/{cid}/balance_transactions/{tid}", accepts=())
def retrieve_balance_transaction(ctx: Ctx, p: Params, cid: str, tid: str) -> Obj:
    ctx.store.get("customer", cid, "customer")
    txn = ctx.store.maybe(KIND, tid)
    if txn is None or txn["customer"] != cid:
        raise missing("customer_balance_transaction", tid)
    return txn


@route("POST", "/v1/customers/{cid}/balance_transactions",
       accepts=("amount", "currency", "description", "metadata"))
def create_balance_transaction(ctx: Ctx, p: Params, cid: str) -> Obj:
    """API reference, Create a customer balance transaction: ``amount`` and ``currency`` are
    required; the currency must be the customer's (once it has one)."""
    st = ctx.store
    cust = st.get("customer", cid, "customer")
    amount = p.int("amount", required=True)
    assert amount is not None
    currency = p.req("currency").lower()
    if cust.get("currency") and cust["currency"] != currency:
        raise invalid(f"The currency {currency} does not match the customer's currency {cust['currency']}.",
                      "currency")
    txn = record_balance(st, cust, amount, currency, "adjustment", created=st.now(cid), description=p.str("description"),
                 metadata=p.metadata())
    st.emit("customer.updated", cust,
            previous={"balance": cust["balance"] - amount})
    return txn


@route("GET", "/v1/balance_transactions",
       accepts=("limit", "starting_after", "ending_before", "created", "currency", "source", "type", "payout"))
def list_account_balance_transactions(ctx: Ctx, p: Params) -> Obj:
    """API reference, List all balance transactions (https://docs.stripe.com/api/balance_transactions/list):
    newest first, filtered by ``created``, ``currency``, ``source`` and ``type`` (no payouts here)."""
    from ..filters import range_filter

    keep, cur, typ, source = range_filter(p), p.str("currency"), p.str("type"), p.str("source")
    if p.str("payout"):  # the sandbox makes no payouts: nothing was paid out in one
        return {"object": "list", "data": [], "has_more": False, "url": "/v1/balance_transactions"}
    return list_page(p, ctx.store, "balance_transaction",
                     lambda t: keep(t) and (cur is None or t.get("currency") == cur)
                     and (typ is None or t.get("type") == typ), "/v1/balance_transactions", source=source)


@route("GET", "/v1/balance_transactions/{tid}", accepts=())
def retrieve_account_balance_transaction(ctx: Ctx, p: Params, tid: str) -> Obj:
    return ctx.store.get("balance_transaction", tid)
