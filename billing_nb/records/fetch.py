"""A case's snapshot with Stripe's own figures for every refund option, in three waves.

The previews depend on the options, and the options on what the first waves read, so they
are handed to :func:`~billing_nb.reading.waves.build_snapshot` as third-wave jobs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..analysis import contract as ctr
from ..analysis import figures as fig
from ..reading.provider import StripeReader
from ..reading.snapshot import CaseSnapshot
from ..reading.waves import PENDING_SEEN, PreviewJobs, build_snapshot

__all__ = ["preview_jobs", "fetch_snapshot"]


def preview_jobs(reader: StripeReader) -> PreviewJobs:
    """The snapshot's third-wave jobs for Stripe's previews of every refund option.

    The options are computed from the snapshot so far: which previews they need depends on
    the subscriptions, invoices and charges only (product metadata changes per-seat flags,
    never an option's request), so the previews go in the same wave as the products.
    """
    def jobs(snapshot: CaseSnapshot) -> dict[str, Callable[[], dict[str, Any]]]:
        options = ctr.all_refund_options(snapshot, ctr.contract_shapes(snapshot))
        def job(req: dict[str, Any]) -> dict[str, Any]:
            response = getattr(reader, req["call"])(**req["args"])
            return {**fig.stripe_figures(req, response), **({PENDING_SEEN: True} if fig.pending_in_preview(req, response) else {})}
        return {str(req["id"]): (lambda req=req: job(req)) for req in fig.previews_needed(options)}
    return jobs


def fetch_snapshot(reader: StripeReader, lookup: str) -> CaseSnapshot:
    """A case's snapshot with Stripe's refund-option figures, in three concurrent waves."""
    return build_snapshot(reader, lookup, previews=preview_jobs(reader))
