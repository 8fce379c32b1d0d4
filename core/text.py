"""Free text a command takes (a reason, a rationale, a title): checked once, the same way in
every app."""

from __future__ import annotations

from typing import Any

from core.errors import InvalidInput, Unprocessable
from core.shapes import TEXT, Shape


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


def shaped_text(value: Any, what: str, shape: Shape) -> str:
    """clean_text with the limits of a text field's shape (core.shapes), declared on its event:
    at most `max_length` characters, and not blank when the shape needs a `min_length`."""
    if shape.kind != TEXT:
        raise ValueError(f"{what} is not a text shape")
    return clean_text(value, what, shape.max_length or 2000, required=bool(shape.min_length))
