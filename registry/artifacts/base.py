"""What an artifact store is: the refusals it raises, what it hands back, its interface, and
the settings one is built from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, Protocol

from core.errors import DomainError


class ArtifactError(DomainError):
    code = "artifact_error"
    status = 400
    title = "The artifact request was refused"


class InvalidArtifactKey(ArtifactError):
    code = "invalid_artifact_name"
    status = 400
    title = "The artifact name is not allowed"


class ArtifactMissing(ArtifactError):
    code = "artifact_missing"
    status = 409
    title = "The artifact has not been uploaded"


class ArtifactMismatch(ArtifactError):
    code = "artifact_mismatch"
    status = 422
    title = "The artifact does not match what was declared"


class ArtifactTooLarge(ArtifactError):
    code = "artifact_too_large"
    status = 413
    title = "The artifact is too large"


class UploadAlreadyUsed(ArtifactError):
    """An upload URL is good for one object: once its content-addressed key holds bytes, the
    URL is spent, and no PUT through it changes what is stored."""

    code = "upload_already_used"
    status = 409
    title = "The upload link was already used"


class InvalidUploadToken(ArtifactError):
    code = "invalid_upload_token"
    status = 403
    title = "The upload link is not valid"


@dataclass(frozen=True)
class PresignedUpload:
    """Where and how the client sends the bytes. A URL starting with "/" is on this service;
    the API hands it out through request.build_absolute_uri (a no-op for S3's absolute URLs)."""

    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime


@dataclass(frozen=True)
class StoredArtifact:
    uri: str
    size: int
    sha256: str


@dataclass(frozen=True)
class StoredDigest:
    """What the store says of an object without reading it: its size, and the SHA-256 it
    checked when the object was written (None where the store keeps none for it)."""

    size: int
    sha256: str | None


class ArtifactStore(Protocol):
    def uri(self, key: str) -> str: ...

    def presigned_upload(
        self, key: str, *, size: int, sha256: str, expires_seconds: int = 3600
    ) -> PresignedUpload: ...

    def put(self, key: str, data: BinaryIO | bytes, *, size: int, sha256: str) -> None: ...

    def verify(self, key: str, *, size: int, sha256: str) -> StoredArtifact: ...

    def stored_digest(self, key: str) -> StoredDigest: ...

    def open(self, key: str) -> BinaryIO: ...


@dataclass(frozen=True)
class _StoreSettings:
    bucket: str | None
    endpoint_url: str | None
    region: str
    addressing_style: str
    access_key: str | None
    secret_key: str | None = field(repr=False)
    root: str
    max_direct_upload: int
