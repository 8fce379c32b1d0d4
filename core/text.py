"""Free text a command takes (a reason, a rationale, a title): checked once, the same way in
every app."""

from __future__ import annotations

from typing import Any

from core.errors import InvalidInput, Unprocessable


def clean_text(value: Any, what: str, limit: int = 2000, *, required: bool = False) -> str:
    """`value` as text of at most `limit` characters (None is empty); InvalidInput for anything
    else, Unprocessable when `required` and blank."""
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(f"{what} must be text of at most {limit} characters")
    if required and not value.strip():
        raise Unprocessable(f"{what} must not be blank")
    return value
