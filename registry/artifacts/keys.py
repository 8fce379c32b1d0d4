"""Artifact keys, and the checks every store applies to keys, sizes, digests and URL lifetimes."""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any

from core.errors import InvalidInput
from registry.artifacts.base import InvalidArtifactKey

# SigV4 presigned URLs cannot live longer than seven days; the local store keeps the same cap.
MAX_UPLOAD_URL_SECONDS = 7 * 24 * 3600


_KIND_PREFIXES = {"model": "models", "dataset": "datasets", "evidence": "evidence"}
_MAX_FILENAME_CHARS = 200
# Most filesystems cap one path component at 255 bytes; past that the local store would fail.
_MAX_FILENAME_BYTES = 255
_MAX_KEY_BYTES = 1024  # the S3 limit
# Control, format (RTL/LTR overrides, zero-width joiners, BOM), surrogate, private-use and
# unassigned characters, and line/paragraph separators: none belongs in a file name, and the
# format ones make a name display differently from what it is.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def artifact_key(*, kind: str, owner_id: uuid.UUID, number: int, sha256: str, filename: str) -> str:
    """`models/<owner_id>/<number>/<sha256>/<filename>`: content addressed, so other bytes are
    another object and an object, once written, is never replaced (the stores refuse to
    overwrite a key). The filename is checked and NFC-normalised so one name maps to one
    object whatever form the client's keyboard produced."""
    prefix = _KIND_PREFIXES.get(kind)
    if prefix is None:
        raise InvalidArtifactKey(f"artifact kind must be one of {sorted(_KIND_PREFIXES)}")
    if not isinstance(owner_id, uuid.UUID):
        raise InvalidArtifactKey("owner_id must be a UUID")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise InvalidArtifactKey("number must be a positive integer")
    digest = _check_sha256(sha256)
    return f"{prefix}/{owner_id}/{number}/{digest}/{check_filename(filename)}"


def check_filename(filename: Any) -> str:
    """The NFC form of an artifact file name, or InvalidArtifactKey saying which rule failed."""
    if not isinstance(filename, str):
        raise InvalidArtifactKey("the artifact file name must be text")
    name = unicodedata.normalize("NFC", filename)
    if not 1 <= len(name) <= _MAX_FILENAME_CHARS:
        raise InvalidArtifactKey(
            f"the artifact file name must be 1-{_MAX_FILENAME_CHARS} characters"
        )
    if len(name.encode("utf-8", "surrogatepass")) > _MAX_FILENAME_BYTES:
        raise InvalidArtifactKey(
            f"the artifact file name must be at most {_MAX_FILENAME_BYTES} bytes in UTF-8"
        )
    if name in {".", ".."}:
        raise InvalidArtifactKey("the artifact file name cannot be '.' or '..'")
    if name.startswith("-"):
        raise InvalidArtifactKey("the artifact file name cannot start with '-'")
    if "/" in name or "\\" in name:
        raise InvalidArtifactKey("the artifact file name cannot contain '/' or '\\'")
    for char in name:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise InvalidArtifactKey(
                f"the artifact file name cannot contain U+{ord(char):04X}"
                " (control, format or unassigned character)"
            )
    if name != name.strip():
        raise InvalidArtifactKey("the artifact file name cannot start or end with whitespace")
    return name


def check_key(key: Any) -> str:
    """A full key as the stores accept it: relative, '/'-separated, no '.', '..' or empty
    segment. Stores check again because keys also come back from events and other callers."""
    if not isinstance(key, str) or not key:
        raise InvalidArtifactKey("an artifact key must be non-empty text")
    if unicodedata.normalize("NFC", key) != key:
        raise InvalidArtifactKey("an artifact key must be NFC-normalised")
    if len(key.encode("utf-8", "surrogatepass")) > _MAX_KEY_BYTES:
        raise InvalidArtifactKey(f"an artifact key must be at most {_MAX_KEY_BYTES} bytes")
    for part in key.split("/"):
        if part in {"", ".", ".."} or "\\" in part:
            raise InvalidArtifactKey(f"artifact key {key!r} has an unsafe segment")
        if any(unicodedata.category(c) in _FORBIDDEN_CATEGORIES for c in part):
            raise InvalidArtifactKey("an artifact key cannot contain control characters")
    return key


def _check_size(size: Any) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InvalidInput("an artifact size is a non-negative integer of bytes")
    return size


def _check_sha256(sha256: Any) -> str:
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise InvalidInput("an artifact sha256 is 64 hexadecimal characters")
    return sha256.lower()


def _check_expiry(expires_seconds: Any) -> int:
    if (
        isinstance(expires_seconds, bool)
        or not isinstance(expires_seconds, int)
        or not 1 <= expires_seconds <= MAX_UPLOAD_URL_SECONDS
    ):
        raise InvalidInput(f"an upload URL lives 1-{MAX_UPLOAD_URL_SECONDS} seconds")
    return expires_seconds
