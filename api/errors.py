"""The one place where errors become RFC 9457 problem+json responses with a stable code."""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.views.defaults import bad_request, page_not_found, permission_denied, server_error
from rest_framework import exceptions
from rest_framework.views import set_rollback

from api.parsers import TooDeep
from api.throttling import throttle_refusal
from core.errors import DomainError
from eventstore.canonical import CanonicalizationError

log = logging.getLogger(__name__)
PROBLEM_CONTENT_TYPE = "application/problem+json"

_DRF_CODES: dict[type[exceptions.APIException], tuple[str, str]] = {
    exceptions.ValidationError: ("validation_error", "The request body or parameters are invalid"),
    exceptions.ParseError: ("malformed_request", "The request body could not be parsed"),
    exceptions.NotAuthenticated: ("not_authenticated", "Authentication is required"),
    exceptions.AuthenticationFailed: ("authentication_failed", "The credentials were refused"),
    exceptions.PermissionDenied: ("permission_denied", "Not allowed"),
    exceptions.NotFound: ("not_found", "Not found"),
    exceptions.MethodNotAllowed: ("method_not_allowed", "Method not allowed"),
    exceptions.NotAcceptable: ("not_acceptable", "No acceptable representation"),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "Unsupported media type"),
    exceptions.Throttled: ("throttled", "Too many requests"),
}


class PreconditionFailed(exceptions.APIException):
    status_code = 412
    default_detail = "The resource changed since the version named in If-Match."
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = "This request needs an If-Match header."
    default_code = "precondition_required"


class LengthRequired(exceptions.APIException):
    status_code = 411
    default_detail = "This request needs a Content-Length header."
    default_code = "length_required"


_DRF_CODES[TooDeep] = ("too_deep", "The JSON body is nested too deep")
_DRF_CODES[PreconditionFailed] = ("precondition_failed", "Precondition failed")
_DRF_CODES[LengthRequired] = ("length_required", "Length required")
_DRF_CODES[PreconditionRequired] = ("precondition_required", "Precondition required")


def problem(
    status: int, code: str, title: str, detail: str, *, instance: str = "", **extra: Any
) -> JsonResponse:
    body = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **({"instance": instance} if instance else {}),
        **extra,
    }
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def _field_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """Flatten DRF's nested error detail into [{field, message, code}]."""
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            errors.extend(
                _field_errors(value, f"{prefix}.{name}" if prefix and name else prefix or name)
            )
        return errors
    if isinstance(detail, list):
        errors = []
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                errors.extend(_field_errors(value, f"{prefix}[{index}]"))
            else:
                errors.extend(_field_errors(value, prefix))
        return errors
    return [{"field": prefix, "message": str(detail), "code": getattr(detail, "code", "invalid")}]


def exception_handler(exc: Exception, context: dict[str, Any]) -> JsonResponse | None:
    request = context.get("request")
    instance = request.path if request is not None else ""
    exc = throttle_refusal(exc, context)
    if isinstance(exc, DomainError):
        set_rollback()
        extra = {k: v for k, v in exc.extra.items() if v is not None}
        return problem(exc.status, exc.code, exc.title, exc.detail, instance=instance, **extra)
    if isinstance(exc, CanonicalizationError):
        # A safety net: commands check JSON exactness first; nothing unhashable is a 500.
        set_rollback()
        return problem(
            400, "invalid_json_value", "A value cannot be recorded", str(exc), instance=instance
        )
    if isinstance(exc, RequestDataTooBig):
        return problem(
            413, "payload_too_large", "The request body is too large", str(exc), instance=instance
        )
    if isinstance(exc, SuspiciousOperation):
        return problem(400, "bad_request", "The request was refused", str(exc), instance=instance)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    set_rollback()
    code, title = next(
        (value for cls, value in _DRF_CODES.items() if isinstance(exc, cls)),
        (exc.default_code, "The request was refused"),
    )
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        extra["errors"] = _field_errors(exc.detail)
        detail = "; ".join(
            f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in extra["errors"]
        )
    else:
        detail = str(exc.detail)
    response = problem(exc.status_code, code, title, detail, instance=instance, **extra)
    if getattr(exc, "auth_header", None):
        response["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        response["Retry-After"] = str(max(1, math.ceil(exc.wait)))
    return response


def api_bad_request(request, exception=None):
    """handler400: what Django refuses before any view runs (a Host not served, a body or a
    query string over the limits, other suspicious requests) is problem+json under /api/.
    The detail is generic: Django's message may echo the header or name the settings."""
    if request.path.startswith("/api/"):
        if isinstance(exception, RequestDataTooBig):
            return problem(
                413,
                "payload_too_large",
                "The request body is too large",
                "The request body exceeds the size this service accepts.",
                instance=request.path,
            )
        return problem(
            400,
            "bad_request",
            "The request was refused",
            "The request was refused before it reached the API (its Host header, size or form).",
            instance=request.path,
        )
    return bad_request(request, exception)


def api_forbidden(request, exception=None):
    """handler403: a PermissionDenied raised outside the API views, as problem+json."""
    if request.path.startswith("/api/"):
        detail = "This request is not allowed."
        return problem(403, "permission_denied", "Not allowed", detail, instance=request.path)
    return permission_denied(request, exception)


MLFLOW_PREFIXES = ("/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/")


def api_not_found(request, exception=None):
    """handler404: MLflow's error shape on MLflow's paths (its client falls back to another
    endpoint on ENDPOINT_NOT_FOUND), problem+json under /api/, Django's page elsewhere."""
    if request.path.startswith(MLFLOW_PREFIXES):
        body = {"error_code": "ENDPOINT_NOT_FOUND", "message": f"No API at {request.path}"}
        return JsonResponse(body, status=404)
    if request.path.startswith("/api/"):
        return problem(404, "not_found", "Not found", "No such resource.", instance=request.path)
    return page_not_found(request, exception)


def api_server_error(request):
    """handler500: never a stack trace; the log has it."""
    if request.path.startswith("/api/"):
        return problem(
            500, "internal_error", "Internal error", "The error was logged.", instance=request.path
        )
    return server_error(request)
