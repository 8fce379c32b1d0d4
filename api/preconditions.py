"""ETag = the stream version of the object; If-Match names the version a change expects."""

from __future__ import annotations

import re

from rest_framework.request import Request

from api.errors import PreconditionFailed

_TAG = re.compile(r'^\s*(?:W/)?"([0-9]{1,18})"\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(request: Request, current: int) -> int | None:
    """The version from If-Match (None without it); 412 when it is stale or malformed.

    A malformed header is a 412 rather than a 400 because RFC 9110 section 13.1.1 treats it
    as what it is: an entity-tag that matches no current representation."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    if header.strip() == "*":
        return current
    match = _TAG.match(header)
    if match is None:
        raise PreconditionFailed(
            f'If-Match must be an ETag such as "{current}", or *; it matches no version'
        )
    version = int(match.group(1))
    if version != current:
        raise PreconditionFailed(f"the object is at version {current}, not {version}")
    return version
