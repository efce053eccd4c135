"""Stripe-shaped API errors raised by sandbox handlers and rendered by the app."""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "missing", "unknown_param", "invalid", "DOC_BASE"]

DOC_BASE = "https://stripe.com/docs/error-codes/"


class ApiError(Exception):
    """An error response: HTTP status plus Stripe's ``error`` object."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: dict[str, Any] | None = None,
        validation: bool = False,
    ) -> None:
        super().__init__(message)
        # A refusal of the parameters themselves, before the endpoint begins executing: Stripe
        # saves no idempotent result for it (API reference, Idempotent requests).
        self.validation = validation
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}

    def body(self, request_id: str) -> dict[str, Any]:
        err: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            err["code"] = self.code
            err["doc_url"] = DOC_BASE + self.code.replace("_", "-")
        if self.param:
            err["param"] = self.param
        if self.decline_code:
            err["decline_code"] = self.decline_code
        err["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        err.update(self.extra)
        return {"error": err}


def missing(kind: str, obj_id: str, param: str = "id") -> ApiError:
    """404 ``resource_missing`` as Stripe words it: ``No such customer: 'cus_x'``."""
    return ApiError(404, f"No such {kind}: '{obj_id}'", code="resource_missing", param=param)


def unknown_param(name: str) -> ApiError:
    return ApiError(
        400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name, validation=True
    )


def invalid(message: str, param: str | None = None, code: str | None = None, *, validation: bool = False) -> ApiError:
    """400 invalid_request_error (``parameter_invalid_*`` and friends)."""
    return ApiError(400, message, code=code, param=param, validation=validation)
