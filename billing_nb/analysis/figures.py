"""Stripe's own figures for the refund options, with the I/O left to the caller.

``previews_needed(options)`` lists the preview requests to make (method of
:class:`billing_nb.reading.provider.StripeReader` and its keyword arguments); the caller makes
them and passes each response to ``stripe_figures(request, response)``; then
``with_stripe_amounts(options, figures)`` fills ``RefundOption.stripe_amount``.
``fetch_stripe_figures(reader, options)`` does the three steps with an injected reader.

- unused time (``cancel_now_refund``, ``credit_note_unused``, ``out_of_band_unused``: paid outside
  Stripe): an invoice preview with
  ``subscription_details.cancel_now`` at ``proration_date`` = the case's now; Stripe's
  figure is the credit of its proration lines (their amounts with their exclusive tax, negated).
- ``credit_balance_unused`` (a period the credit balance paid in full): Stripe's credit note
  preview of each part with ``credit_amount`` (``credit_notes.preview``); Stripe's figure is the
  previews' total, what it would credit back to the customer's balance.
- ``downgrade_prorations``: an invoice preview swapping each item to the cheaper price
  with ``proration_behavior=create_prorations`` at the same ``proration_date``; Stripe's
  figure is the net credit of the proration lines, before tax (as the option is).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Protocol

from ..reading.objects import line_is_proration
from ..reading.taxes import line_tax

if TYPE_CHECKING:
    from .terms import RefundOption

__all__ = ["previews_needed", "stripe_figures", "with_stripe_amounts", "fetch_stripe_figures", "figure_key",
           "pending_in_preview"]

_UNUSED = ("cancel_now_refund", "credit_note_unused", "out_of_band_unused")


def previews_needed(options: list[RefundOption]) -> list[dict[str, Any]]:
    """One request per distinct preview: ``{"call", "args", "keys"}`` (keys = option keys it answers)."""
    requests: dict[str, dict[str, Any]] = {}
    for opt in options:
        now = opt.details.get("now")
        if now is None:
            continue
        if opt.kind in _UNUSED:
            params: dict[str, Any] = {"subscription_details": {
                "cancel_now": True, "proration_behavior": "create_prorations", "proration_date": int(now)}}
            rid = f"cancel_now:{opt.subscription_id}"
        elif opt.kind == "credit_balance_unused":
            credits = [[str(p["invoice"]), int(p.get("to_balance") or 0)] for p in opt.details.get("parts") or []]
            rid = f"credit_balance:{opt.subscription_id}"
            requests[rid] = {"id": rid, "call": "preview_balance_credits", "args": {"credits": credits},
                             "keys": [figure_key(opt)]}
            continue
        elif opt.kind == "downgrade_prorations":
            items = [{"id": item_id, "price": d["to_price"]} for item_id, d in sorted(opt.details["items"].items())]
            params = {"subscription_details": {
                "items": items, "proration_behavior": "create_prorations", "proration_date": int(now)}}
            rid = f"downgrade:{opt.subscription_id}"
        else:
            continue
        req = requests.setdefault(rid, {
            "id": rid, "call": "preview_invoice",
            "args": {"subscription_id": opt.subscription_id, "params": params}, "keys": []})
        req["keys"].append(opt.key)
    return list(requests.values())


def stripe_figures(request: dict[str, Any], response: dict[str, Any]) -> dict[str, int]:
    """Stripe's figure for each option key a preview answers: the credit of its proration lines."""
    if str(request.get("id") or "").startswith("credit_balance:"):  # credit note previews, one per part
        return {key: sum(int(cn.get("amount") or 0) for cn in response.get("data") or []) for key in request["keys"]}
    lines = ((response.get("lines") or {}).get("data") or [])
    # like with like: the unused time is what the customer paid, tax in, so a proration line's
    # exclusive tax counts beside its amount (inclusive tax is inside it); the downgrade's credit
    # is prorated from prices, before tax, and so is its figure
    taxed = str(request.get("id") or "").startswith("cancel_now:")
    credit = -sum(int(line.get("amount") or 0) + (line_tax(line)[1] if taxed else 0)
                  for line in lines if line_is_proration(line))
    return {key: credit for key in request["keys"]}


def pending_in_preview(request: dict[str, Any], response: dict[str, Any]) -> bool:
    """Whether a cancel preview shows prorations pending from an earlier change: cancelling only
    credits unused time, so a proration line that charges is an invoice item already waiting
    (a change undone within the period, seats up then down, leaves one of each)."""
    if not str(request.get("id") or "").startswith("cancel_now:"):
        return False
    return any(line_is_proration(line) and int(line.get("amount") or 0) > 0
               for line in ((response.get("lines") or {}).get("data") or []))


def figure_key(opt: RefundOption) -> str:
    """Where ``opt``'s figure is kept: its key, and for a credit note preview the credits it previewed
    too (``=in_X:AMOUNT,...``): a preview of other amounts (an option computed before the snapshot was
    complete) is not this option's figure."""
    if opt.kind != "credit_balance_unused":
        return opt.key
    return opt.key + "=" + ",".join(f"{p['invoice']}:{int(p.get('to_balance') or 0)}"
                                    for p in opt.details.get("parts") or [])


def with_stripe_amounts(options: list[RefundOption], figures: dict[str, int]) -> list[RefundOption]:
    """The options with ``stripe_amount`` filled from ``figures`` (keyed by :func:`figure_key`)."""
    return [dataclasses.replace(o, stripe_amount=int(figures[figure_key(o)])) if figure_key(o) in figures else o
            for o in options]


class _Reader(Protocol):
    def preview_invoice(self, subscription_id: str, params: dict[str, Any]) -> dict[str, Any]: ...

    def preview_balance_credits(self, credits: list[list[Any]]) -> dict[str, Any]: ...


def fetch_stripe_figures(reader: _Reader, options: list[RefundOption]) -> dict[str, int]:
    """Ask Stripe (through ``reader``, e.g. a StripeReader) for every figure the options need."""
    figures: dict[str, int] = {}
    for request in previews_needed(options):
        response = getattr(reader, request["call"])(**request["args"])
        figures.update(stripe_figures(request, response))
    return figures
