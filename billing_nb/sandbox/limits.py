"""Field-specific length limits that Stripe's API reference states, checked before a handler runs.

Only limits the docs state are enforced (the parameter descriptions of the API reference, as
stripe-python's typed params carry them); any other string is bounded by the general 5000
characters of :mod:`.params`. The message wording is ours (Stripe's is not documented).
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError
from .params import invalid

__all__ = ["FIELD_LIMITS", "DESCRIPTOR_FORBIDDEN", "check_limits"]

_DESCRIPTOR = 22  # "This may be up to 22 characters" (products, product_data); PaymentIntents: "the 22-character limit"
#: (method, route pattern) -> {parameter path: most characters}
FIELD_LIMITS: dict[tuple[str, str], dict[str, int]] = {
    # docs.stripe.com/api/customers/create#create_customer-email: "This may be up to 512 characters."
    ("POST", "/v1/customers"): {"email": 512},
    ("POST", "/v1/customers/{cid}"): {"email": 512},
    # docs.stripe.com/api/test_clocks/create#create_test_clock-name: "The maximum length is 300 characters."
    ("POST", "/v1/test_helpers/test_clocks"): {"name": 300},
    # docs.stripe.com/api/prices/create#create_price-lookup_key: "This may be up to 200 characters."
    ("POST", "/v1/prices"): {"lookup_key": 200, "product_data[statement_descriptor]": _DESCRIPTOR},
    ("POST", "/v1/prices/{price_id}"): {"lookup_key": 200},
    # docs.stripe.com/api/products/create#create_product-statement_descriptor
    ("POST", "/v1/products"): {"statement_descriptor": _DESCRIPTOR},
    ("POST", "/v1/products/{pid}"): {"statement_descriptor": _DESCRIPTOR},
    # docs.stripe.com/api/payment_intents/create#create_payment_intent-statement_descriptor
    ("POST", "/v1/payment_intents"): {"statement_descriptor": _DESCRIPTOR},
}
#: "The statement description may not include <, >, \\, ", ' characters" (products, product_data).
DESCRIPTOR_FORBIDDEN = set('<>\\"\'')


def _at(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.replace("]", "").split("["):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def check_limits(method: str, pattern: str, data: dict[str, Any]) -> None:
    """Refuse a string over its documented limit (400 ``invalid_request_error``, the parameter named)."""
    for path, most in FIELD_LIMITS.get((method, pattern), {}).items():
        value = _at(data, path)
        if not isinstance(value, str):
            continue
        if len(value) > most:
            raise _too_long(path, value, most)
        if path.endswith("statement_descriptor") and DESCRIPTOR_FORBIDDEN & set(value):
            raise invalid(f"Invalid {path}: it may not include the characters < > \\ \" '", path)


def _too_long(path: str, value: str, most: int) -> ApiError:
    return invalid(f"Invalid string: {value[:20]}...; must be at most {most} characters", path)
