"""billing-nb: notebook-based investigation of customer billing cases on Stripe.

The public API, imported lazily so that ``billing-nb --help`` and the sandbox stay
fast (pandas and the stripe SDK load only when a name that needs them is used).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the type checker sees real imports; at run time they stay lazy
    from .actions import Action, Plan, execute, plan
    from .records.case import Case, open_case
    from .analysis.classify import Bucket, Classification, Decision, classify, decide
    from .config import Settings, load_settings
    from .analysis.contract import contract_shapes, refund_options
    from .exceptions import BillingNbError
    from .analysis.gaps import ProductGap, find_gaps
    from .records.handoff import render_handoff
    from .analysis.identify import Anomaly, IdentitySummary, identify
    from .actions.ledger import Ledger
    from .money import Money
    from .notebook import start_case
    from .reading.provider import StripeReader, make_client
    from .reading.masking import mask_text
    from .records.scan import scan
    from .records.batch import run_batch
    from .records.runner import CaseRequest, run_case
    from .reading.snapshot import CaseSnapshot

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # data flow, in order
    "Settings": "config", "load_settings": "config",
    "Money": "money",
    "StripeReader": "reading.provider", "make_client": "reading.provider",
    "CaseSnapshot": "reading.snapshot",
    "identify": "analysis.identify", "IdentitySummary": "analysis.identify", "Anomaly": "analysis.identify",
    "classify": "analysis.classify", "decide": "analysis.classify", "Bucket": "analysis.classify", "Classification": "analysis.classify",
    "Decision": "analysis.classify",
    "contract_shapes": "analysis.contract", "refund_options": "analysis.contract",
    "plan": "actions", "execute": "actions", "Action": "actions", "Plan": "actions",
    "Ledger": "actions.ledger",
    "find_gaps": "analysis.gaps", "ProductGap": "analysis.gaps",
    "render_handoff": "records.handoff",
    "scan": "records.scan", "mask_text": "reading.masking",
    "Case": "records.case", "open_case": "records.case",
    "start_case": "notebook",
    "run_case": "records.runner", "run_batch": "records.batch", "CaseRequest": "records.runner",
    "BillingNbError": "exceptions",
}

__all__ = [  # noqa: RUF022 - kept in data-flow order, checked against _EXPORTS by the tests
    "Settings", "load_settings", "Money", "StripeReader", "make_client", "CaseSnapshot",
    "identify", "IdentitySummary", "Anomaly", "classify", "decide", "Bucket", "Classification",
    "Decision", "contract_shapes", "refund_options", "plan", "execute", "Action", "Plan", "Ledger",
    "find_gaps", "ProductGap", "render_handoff", "scan", "mask_text", "Case", "open_case",
    "start_case", "run_case", "run_batch", "CaseRequest", "BillingNbError", "__version__",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'billing_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
