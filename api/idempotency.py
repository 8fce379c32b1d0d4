"""The Idempotency-Key header: the same key from the same actor repeats the first result."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

HEADER = "Idempotency-Key"


def idempotency_key(request: Request) -> str | None:
    value = request.headers.get(HEADER)
    if value is None:
        return None
    if not 1 <= len(value) <= 200 or not value.isprintable() or not value.isascii():
        raise ValidationError({HEADER: "must be 1-200 printable ASCII characters"})
    return value
