"""Evidence documents read back for reviewers: the stored bytes re-hashed against the SHA-256
the evidence event recorded before anyone is shown them, and how each kind of file may be
shown (inline, previewed, or only downloaded). Reads only: nothing here appends."""

from __future__ import annotations

import hashlib
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from governance.models import Evidence
from registry import artifacts

# Bytes kept in memory while a document is re-hashed; larger ones spill to a temporary file.
SPOOL_BYTES = 8 * 1024 * 1024
# Markdown and CSV are previewed up to this many bytes; beyond it they are downloaded.
PREVIEW_BYTES = 512 * 1024
CSV_PREVIEW_ROWS = 200
# A page listing documents re-hashes those the store keeps no checksum of up to this size.
PAGE_REHASH_BYTES = 16 * 1024 * 1024

# Shown inline by the browser itself (its PDF viewer, an <img>): nothing in them runs script
# in the ledger's origin. Everything else is a download with a neutral type.
INLINE_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
PREVIEW_KINDS = {".md": "markdown", ".markdown": "markdown", ".csv": "csv", ".txt": "text"}
NEUTRAL_TYPE = "application/octet-stream"


class DocumentMismatch(Exception):
    """The store holds other bytes than the evidence recorded (or none)."""

    def __init__(self, evidence: Evidence, found_sha256: str, found_size: int | None) -> None:
        self.evidence = evidence
        self.found_sha256 = found_sha256
        self.found_size = found_size
        found = f"sha256 {found_sha256}" if found_sha256 else "no document"
        super().__init__(
            f"the stored {evidence.kind} document of version {evidence.version_number} does not"
            f" match what was recorded (sha256 {evidence.sha256}, found {found}); it is not"
            " shown"
        )


@dataclass(frozen=True)
class Shape:
    """How a document is offered: `inline` (PDF, raster image), `markdown`, `csv` or `text`
    previews, or `download`; with the filename and the Content-Type it is served under."""

    filename: str
    content_type: str
    show: str

    @property
    def inline(self) -> bool:
        return self.show == "inline"


def filename_of(evidence: Evidence) -> str:
    """The uploaded file's name: the key ends `<kind>.<filename>`."""
    last = PurePosixPath(evidence.artifact_key).name
    return last.removeprefix(f"{evidence.kind}.") or evidence.kind


def shape_of(evidence: Evidence) -> Shape:
    filename = filename_of(evidence)
    suffix = PurePosixPath(filename).suffix.lower()
    if suffix in INLINE_TYPES:
        return Shape(filename, INLINE_TYPES[suffix], "inline")
    preview = PREVIEW_KINDS.get(suffix)
    if preview and (evidence.size or 0) <= PREVIEW_BYTES:
        return Shape(filename, NEUTRAL_TYPE, preview)
    return Shape(filename, NEUTRAL_TYPE, "download")


def intact(evidence: Evidence) -> bool | None:
    """Whether the store still holds the recorded bytes, for the page that lists the document:
    the store's own checksum where it keeps one (S3's HEAD, no bytes read), else the bytes
    read and hashed up to PAGE_REHASH_BYTES; None for a larger document the store keeps no
    checksum of (it is re-hashed when opened)."""
    store = artifacts.get_store()
    try:
        digest = store.stored_digest(evidence.artifact_key)
    except (artifacts.ArtifactMissing, artifacts.InvalidArtifactKey):
        return False
    if digest.size != evidence.size:
        return False
    if digest.sha256 is not None:
        return digest.sha256 == evidence.sha256
    if (evidence.size or 0) > PAGE_REHASH_BYTES:
        return None
    try:
        store.verify(evidence.artifact_key, size=evidence.size or 0, sha256=evidence.sha256)
    except (artifacts.ArtifactMismatch, artifacts.ArtifactMissing):
        return False
    return True


def read_verified(evidence: Evidence) -> IO[bytes]:
    """The document's bytes, read whole and hashed; DocumentMismatch unless they are exactly
    the recorded ones. The caller closes the returned file."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (returned open)
    digest, size = hashlib.sha256(), 0
    try:
        source = artifacts.get_store().open(evidence.artifact_key)
    except (artifacts.ArtifactMissing, artifacts.InvalidArtifactKey):
        spool.close()
        raise DocumentMismatch(evidence, "", None) from None
    with closing(source):
        # One byte past the recorded size is enough to tell a longer object.
        for chunk in artifacts.read_chunks(source, (evidence.size or 0) + 1):
            digest.update(chunk)
            size += len(chunk)
            spool.write(chunk)
    if (digest.hexdigest(), size) != (evidence.sha256, evidence.size):
        spool.close()
        raise DocumentMismatch(evidence, digest.hexdigest(), size)
    spool.seek(0)
    return spool
