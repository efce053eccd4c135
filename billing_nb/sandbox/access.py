"""Authentication and restricted-key permissions, as Stripe applies them.

API reference, Authentication: "Authentication to the API is performed via HTTP Basic Auth.
Provide your API key as the basic auth username value. You do not need to provide a password.
If you need to authenticate via bearer auth ... use -H "Authorization: Bearer sk_test_..."".
So both ``Basic base64(key:)`` and ``Bearer key`` are accepted.

Restricted keys (``rk_test_...``) carry per-resource ``read``/``write`` permissions. The sandbox
knows a restricted key's permissions from its settings (``POST /_sandbox/settings`` with
``{"restricted_keys": {"rk_test_x": {"customer": "read", ...}}}``); a restricted key it has no
permissions for has full access, as before. A request the key may not make is refused as Stripe
refuses it (message as quoted in public reports of real responses): "The provided key
'rk_test_****abcd' does not have the required permissions for this endpoint on account
acct_sandbox. Having the rak_customer_read permission would allow this request to continue."
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from .errors import ApiError

__all__ = ["api_key", "check_permission", "RESOURCE"]

# The permission resource of each top-level path segment (after /v1/).
RESOURCE = {
    "customers": "customer", "products": "product", "prices": "price", "coupons": "coupon",
    "payment_methods": "payment_method", "billing_portal": "billing_portal", "checkout": "checkout_session",
    "events": "event", "subscriptions": "subscription", "subscription_items": "subscription",
    "invoices": "invoice", "invoiceitems": "invoice", "invoice_payments": "invoice", "payment_intents":
    "payment_intent", "charges": "charge", "refunds": "refund", "disputes": "dispute",
    "credit_notes": "credit_note", "test_helpers": "test_clock",
}


def api_key(authorization: str) -> str:
    """The API key in an ``Authorization`` header (Bearer or Basic with the key as user name)."""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.split(":", 1)[0].strip()
    return ""


def _mask(key: str) -> str:
    return key[:8] + "*" * max(len(key) - 12, 4) + key[-4:]


def check_permission(settings: dict[str, Any], key: str, method: str, path: str) -> None:
    """Refuse with 403 when a configured restricted key lacks the permission for this request."""
    if not key.startswith("rk_"):
        return
    perms = (settings.get("restricted_keys") or {}).get(key)
    if perms is None:
        return
    parts = path.strip("/").split("/")
    segment = parts[1] if len(parts) > 1 and parts[0] == "v1" else ""
    if segment == "customers" and len(parts) > 3:  # /v1/customers/{id}/payment_methods, .../balance_transactions
        segment = {"payment_methods": "payment_methods"}.get(parts[3], "customers")
    resource = RESOURCE.get(segment)
    if resource is None:
        return
    need = "read" if method == "GET" else "write"
    have = perms.get(resource, "none")
    if have == "write" or have == need:
        return
    raise ApiError(403, f"The provided key '{_mask(key)}' does not have the required permissions for this endpoint "
                   f"on account acct_sandbox. Having the rak_{resource}_{need} permission would allow this request "
                   "to continue.")
