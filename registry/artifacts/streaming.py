"""Artifact bytes read, bounded and hashed a chunk at a time, so no upload sits in memory."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import BinaryIO

from registry.artifacts.base import ArtifactMismatch, ArtifactTooLarge, StoredArtifact

CHUNK_SIZE = 1024 * 1024


def _chunks(source: BinaryIO, limit: int) -> Iterator[bytes]:
    """At most `limit` bytes of `source`, a chunk at a time, so no upload sits in memory."""
    remaining = limit
    while remaining > 0:
        chunk = source.read(min(CHUNK_SIZE, remaining))
        if not chunk:
            return
        remaining -= len(chunk)
        yield chunk


def _compare(
    key: str, uri: str, *, size: int, sha256: str, chunks: Iterator[bytes]
) -> StoredArtifact:
    digest = hashlib.sha256()
    found_size = 0
    for chunk in chunks:
        digest.update(chunk)
        found_size += len(chunk)
    found_sha256 = digest.hexdigest()
    if found_size != size:
        raise _size_mismatch(key, declared=size, found=found_size)
    if found_sha256 != sha256:
        raise ArtifactMismatch(
            f"artifact {key}: declared sha256 {sha256}, found sha256 {found_sha256}",
            declared_sha256=sha256,
            found_sha256=found_sha256,
        )
    return StoredArtifact(uri=uri, size=found_size, sha256=found_sha256)


def _size_mismatch(key: str, *, declared: int, found: int) -> ArtifactMismatch:
    return ArtifactMismatch(
        f"artifact {key}: declared size {declared} bytes, found size {found} bytes",
        declared_size=declared,
        found_size=found,
    )


def _as_stream(data: BinaryIO | bytes) -> BinaryIO:
    if isinstance(data, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(data))
    return data


def _read_exactly(key: str, data: BinaryIO | bytes, size: int) -> Iterator[bytes]:
    """The declared bytes, refusing a body that is longer (413) or shorter (422) than said."""
    source = _as_stream(data)
    received = 0
    for chunk in _chunks(source, size + 1):
        received += len(chunk)
        if received > size:
            raise ArtifactTooLarge(
                f"artifact {key}: the body is larger than the declared {size} bytes",
                limit=size,
            )
        yield chunk
    if received < size:
        raise _size_mismatch(key, declared=size, found=received)


def _check_direct_size(size: int, limit: int) -> None:
    if size > limit:
        raise ArtifactTooLarge(
            f"direct uploads are at most {limit} bytes; ask for a presigned upload instead",
            limit=limit,
        )
