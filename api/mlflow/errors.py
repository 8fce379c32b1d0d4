"""MLflow's error shape on the MLflow-compatible paths: `{"error_code", "message"}` with the
status MLflow's client maps each code to, instead of problem+json.

The ledger's refusals keep their meaning: a domain error is translated by its class (status
and stable code), DRF's refusals by theirs. Governance refusals (the promotion gate, a
tampered or unverified artifact, changed reviewed facts) answer PERMISSION_DENIED, with the
gate's reasons in the message and, as on /api/v1/, in the body."""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.views import set_rollback

from api.parsers import TooDeep
from api.throttling import throttle_refusal
from core.errors import DomainError
from eventstore.canonical import CanonicalizationError

log = logging.getLogger(__name__)

# The codes this adapter answers, and the status MLflow's client expects for each.
STATUS = {
    "INVALID_PARAMETER_VALUE": 400,
    "MALFORMED_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_CONFLICT": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "TEMPORARILY_UNAVAILABLE": 503,
    "INTERNAL_ERROR": 500,
}

# Refusals of the promotion gate and of the stored-bytes checks: governance, not bad input.
GOVERNANCE_CODES = frozenset(
    {
        "promotion_blocked",
        "artifact_tampered",
        "artifact_not_verified",
        "artifact_missing",
        "reviewed_facts_changed",
        "alias_reserved",
    }
)
ALREADY_EXISTS_CODES = frozenset({"name_taken"})


class MlflowError(Exception):
    """A refusal made by the adapter itself (a filter it cannot read, a page token it did not
    sign, a missing parameter)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def invalid(message: str) -> MlflowError:
    return MlflowError("INVALID_PARAMETER_VALUE", message)


def error(code: str, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error_code": code, "message": message, **extra}, status=STATUS[code])


def _domain_code(exc: DomainError) -> str:
    if exc.code in GOVERNANCE_CODES:
        return "PERMISSION_DENIED"
    if exc.code in ALREADY_EXISTS_CODES:
        return "RESOURCE_ALREADY_EXISTS"
    if exc.status == 404:
        return "RESOURCE_DOES_NOT_EXIST"
    if exc.status == 403:
        return "PERMISSION_DENIED"
    if exc.status == 401:
        return "UNAUTHENTICATED"
    if exc.status == 503:
        return "TEMPORARILY_UNAVAILABLE"
    if exc.code == "concurrency_conflict":
        return "RESOURCE_CONFLICT"
    # Every other refusal (bad input, a transition the lifecycle does not allow, an archived
    # model) is about the parameters the client sent.
    return "INVALID_PARAMETER_VALUE"


def _domain_error(exc: DomainError) -> JsonResponse:
    extra = {k: v for k, v in exc.extra.items() if v is not None}
    message = f"{exc.title}: {exc.detail}"
    return error(_domain_code(exc), message, ledger_code=exc.code, **extra)


_DRF: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.NotAuthenticated, "UNAUTHENTICATED"),
    (exceptions.AuthenticationFailed, "UNAUTHENTICATED"),
    (exceptions.PermissionDenied, "PERMISSION_DENIED"),
    (exceptions.NotFound, "ENDPOINT_NOT_FOUND"),
    (exceptions.Throttled, "REQUEST_LIMIT_EXCEEDED"),
    (exceptions.ParseError, "MALFORMED_REQUEST"),
    (TooDeep, "MALFORMED_REQUEST"),
]


def exception_handler(exc: Exception, context: dict[str, Any]) -> JsonResponse | None:
    """DRF's exception handler for the MLflow views (APIView.get_exception_handler)."""
    exc = throttle_refusal(exc, context)
    if isinstance(exc, MlflowError):
        set_rollback()
        return error(exc.code, exc.message)
    if isinstance(exc, DomainError):
        set_rollback()
        return _domain_error(exc)
    if isinstance(exc, CanonicalizationError):
        set_rollback()
        return error("INVALID_PARAMETER_VALUE", f"A value cannot be recorded: {exc}")
    if isinstance(exc, RequestDataTooBig):
        return error("INVALID_PARAMETER_VALUE", "The request body is too large.")
    if isinstance(exc, SuspiciousOperation):
        return error("MALFORMED_REQUEST", "The request was refused.")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if not isinstance(exc, exceptions.APIException):
        return None
    set_rollback()
    if isinstance(exc, exceptions.MethodNotAllowed):
        response = JsonResponse(
            {"error_code": "ENDPOINT_NOT_FOUND", "message": str(exc.detail)}, status=405
        )
    else:
        code = next((c for cls, c in _DRF if isinstance(exc, cls)), "INVALID_PARAMETER_VALUE")
        response = error(code, str(exc.detail))
    if getattr(exc, "auth_header", None):
        response["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        response["Retry-After"] = str(max(1, math.ceil(exc.wait)))
    return response
