"""One error vocabulary: DomainError subclasses carry a stable code and an HTTP status."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A rule of the domain refused the request; nothing was changed."""

    code: ClassVar[str] = "domain_error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "The request was refused"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def as_problem(self) -> dict[str, Any]:
        """The RFC 9457 body members this error contributes."""
        return {"code": self.code, "title": self.title, "detail": self.detail, **self.extra}


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 400
    title = "The input is not valid"


class Unprocessable(InvalidInput):
    """Well-formed input that a rule of the domain refuses (a past expiry, a missing reason)."""

    code = "unprocessable"
    status = 422
    title = "The input breaks a rule of the domain"


class NotFound(DomainError):
    code = "not_found"
    status = 404
    title = "Not found"


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    title = "Not allowed"


class Conflict(DomainError):
    code = "conflict"
    status = 409
    title = "The request conflicts with the current state"
