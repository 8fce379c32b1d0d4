"""What the registry commands share: the numbering retry budget, the unique-name guard, the
expected-version check and the fingerprint a repeated create request is matched by."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import IntegrityError

from eventstore import store
from eventstore.canonical import canonical_json
from eventstore.types import ConcurrencyConflict
from registry.errors import NameTaken

NUMBERING_ATTEMPTS = 50


@contextmanager
def _unique_name_guard(constraint: str, name: str) -> Iterator[None]:
    """Turn the projection's unique-name violation (a race the pre-check lost) into NameTaken."""
    try:
        yield
    except (IntegrityError, psycopg.errors.UniqueViolation) as exc:
        if constraint in str(exc):
            raise NameTaken(f"the name {name!r} is already in use") from exc
        raise


def _require_expected(state_version: int, expected: int | None, stream_id: Any) -> int:
    if expected is not None and expected != state_version:
        raise ConcurrencyConflict(uuid.UUID(str(stream_id)), expected, state_version)
    return state_version


def _request_fingerprint(owner_id: str, event: Any, **overrides: Any) -> bytes:
    """What a repeated create request must match: its content, without the assigned number."""
    body = {**event.to_data(), **overrides, "owner": owner_id, "type": event.event_type}
    return hashlib.sha256(canonical_json(body)).digest()


def _numbered_at(result: Any) -> int:
    (event,) = [
        e
        for e in store.read_stream(result.stream_id, after_version=result.first_version - 1)
        if e.version == result.first_version
    ]
    return event.data["number"]
