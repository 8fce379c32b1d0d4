"""Artifact storage for model versions: keys, presigned uploads, and size + sha256 checks."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
import re
import tempfile
import threading
import time
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured

from core.errors import DomainError, InvalidInput

CHUNK_SIZE = 1024 * 1024
# SigV4 presigned URLs cannot live longer than seven days; the local store keeps the same cap.
MAX_UPLOAD_URL_SECONDS = 7 * 24 * 3600
UPLOAD_PATH = "/api/v1/artifact-uploads/"

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
_UPLOAD_SALT = "registry.artifacts.upload"


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


class ArtifactStore(Protocol):
    def uri(self, key: str) -> str: ...

    def presigned_upload(
        self, key: str, *, size: int, expires_seconds: int = 3600
    ) -> PresignedUpload: ...

    def put(self, key: str, data: BinaryIO | bytes, *, size: int) -> None: ...

    def verify(self, key: str, *, size: int, sha256: str) -> StoredArtifact: ...

    def open(self, key: str) -> BinaryIO: ...


# -- keys ---------------------------------------------------------------------------------


def artifact_key(*, kind: str, owner_id: uuid.UUID, number: int, filename: str) -> str:
    """`models/<owner_id>/<number>/<filename>`; the filename is checked and NFC-normalised so
    one name maps to one object whatever form the client's keyboard produced."""
    prefix = _KIND_PREFIXES.get(kind)
    if prefix is None:
        raise InvalidArtifactKey(f"artifact kind must be one of {sorted(_KIND_PREFIXES)}")
    if not isinstance(owner_id, uuid.UUID):
        raise InvalidArtifactKey("owner_id must be a UUID")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise InvalidArtifactKey("number must be a positive integer")
    return f"{prefix}/{owner_id}/{number}/{check_filename(filename)}"


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


# -- streaming helpers --------------------------------------------------------------------


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


# -- the local filesystem -----------------------------------------------------------------


class _UploadSigner(signing.TimestampSigner):
    """Django's timestamp signer, with the signing time chosen by the caller so the expiry
    handed to the client is computed from the very timestamp inside the token."""

    def __init__(self, *, signed_at: int) -> None:
        super().__init__(salt=_UPLOAD_SALT)
        self._signed_at = signed_at

    def timestamp(self) -> str:
        return signing.b62_encode(self._signed_at)


class LocalArtifactStore:
    """Files under ARTIFACT_ROOT: the embedded default, needing no service. Uploads go to
    this service's own endpoint with a signed token standing in for S3's presigned URL."""

    def __init__(self, root: Path | str, *, max_direct_upload: int) -> None:
        self.root = Path(root).resolve()
        self.max_direct_upload = max_direct_upload

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()

    def upload_token(
        self, key: str, *, size: int, expires_seconds: int, signed_at: float | None = None
    ) -> str:
        """The signed {key, size} an upload URL carries; `signed_at` defaults to now."""
        check_key(key)
        stamp = int(time.time() if signed_at is None else signed_at)
        payload = {"k": key, "s": _check_size(size), "e": _check_expiry(expires_seconds)}
        return _UploadSigner(signed_at=stamp).sign_object(payload, compress=True)

    def read_upload_token(self, token: str) -> tuple[str, int]:
        """(key, size) from a token this service signed and that has not expired."""
        signer = signing.TimestampSigner(salt=_UPLOAD_SALT)
        try:
            # Checked once for the signature, then against the lifetime the token itself
            # carries: URLs are handed out with different lifetimes.
            payload = signer.unsign_object(token)
            signer.unsign_object(token, max_age=int(payload["e"]))
            key, size = payload["k"], payload["s"]
        except signing.SignatureExpired as exc:
            raise InvalidUploadToken("the upload link has expired; ask for a new one") from exc
        except (signing.BadSignature, ValueError, TypeError, KeyError) as exc:
            raise InvalidUploadToken("the upload link is not valid") from exc
        return check_key(key), _check_size(size)

    def presigned_upload(
        self, key: str, *, size: int, expires_seconds: int = 3600
    ) -> PresignedUpload:
        signed_at = int(time.time())
        token = self.upload_token(
            key, size=size, expires_seconds=expires_seconds, signed_at=signed_at
        )
        return PresignedUpload(
            url=f"{UPLOAD_PATH}{token}",
            method="PUT",
            headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
            expires_at=datetime.fromtimestamp(signed_at + expires_seconds, UTC),
        )

    def accept_upload(
        self, token: str, data: BinaryIO, *, content_length: int | None
    ) -> tuple[str, int]:
        """What the upload endpoint does: check the token, then store exactly the signed size.
        No direct-upload cap here: presigned uploads are how large artifacts arrive."""
        key, size = self.read_upload_token(token)
        if content_length is not None and content_length > size:
            raise ArtifactTooLarge(
                f"the body is {content_length} bytes; this upload link allows {size}",
                limit=size,
            )
        self._write(key, data, size)
        return key, size

    def put(self, key: str, data: BinaryIO | bytes, *, size: int) -> None:
        _check_direct_size(_check_size(size), self.max_direct_upload)
        self._write(key, data, size)

    def verify(self, key: str, *, size: int, sha256: str) -> StoredArtifact:
        size, sha256 = _check_size(size), _check_sha256(sha256)
        with self._open(key) as source:
            found = os.fstat(source.fileno()).st_size
            if found != size:
                raise _size_mismatch(key, declared=size, found=found)
            return _compare(
                key, self.uri(key), size=size, sha256=sha256, chunks=_chunks(source, size + 1)
            )

    def open(self, key: str) -> BinaryIO:
        return self._open(key)

    def _open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ArtifactMissing(f"artifact {key} has not been uploaded") from exc

    def _path(self, key: str) -> Path:
        # resolve() follows symlinks and '..': whatever the key, the file must land in root.
        path = (self.root / check_key(key)).resolve()
        if path == self.root or not path.is_relative_to(self.root):
            raise InvalidArtifactKey(f"artifact key {key!r} points outside the artifact store")
        return path

    def _write(self, key: str, data: BinaryIO | bytes, size: int) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.parent.resolve().is_relative_to(self.root):
            raise InvalidArtifactKey(f"artifact key {key!r} points outside the artifact store")
        # A temporary file in the same directory, renamed into place: readers see the old
        # object or the whole new one, never a half-written file, and a refused body leaves
        # nothing behind.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in _read_exactly(key, data, size):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- S3 and S3-compatible stores ----------------------------------------------------------


class S3ArtifactStore:
    """Objects in one bucket of AWS S3 or any S3-compatible store (MinIO, SeaweedFS, Ceph)."""

    def __init__(self, *, bucket: str, client: Any, max_direct_upload: int) -> None:
        self.bucket = bucket
        self.client = client
        self.max_direct_upload = max_direct_upload

    @classmethod
    def from_config(cls, config: _StoreSettings) -> S3ArtifactStore:
        return cls(
            bucket=cast(str, config.bucket),
            client=make_s3_client(
                endpoint_url=config.endpoint_url,
                region=config.region,
                addressing_style=config.addressing_style,
                access_key=config.access_key,
                secret_key=config.secret_key,
            ),
            max_direct_upload=config.max_direct_upload,
        )

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{check_key(key)}"

    def presigned_upload(
        self, key: str, *, size: int, expires_seconds: int = 3600
    ) -> PresignedUpload:
        check_key(key)
        size, expires_seconds = _check_size(size), _check_expiry(expires_seconds)
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_seconds)
        url = self.client.generate_presigned_url(
            "put_object",
            # ContentLength becomes a signed header: stores that check signed headers (AWS,
            # MinIO, SeaweedFS) refuse a body of any other length; verify() catches the rest.
            Params={"Bucket": self.bucket, "Key": key, "ContentLength": size},
            ExpiresIn=expires_seconds,
            HttpMethod="PUT",
        )
        return PresignedUpload(
            url=url,
            method="PUT",
            headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
            expires_at=expires_at,
        )

    def put(self, key: str, data: BinaryIO | bytes, *, size: int) -> None:
        check_key(key)
        _check_direct_size(_check_size(size), self.max_direct_upload)
        # Direct uploads are capped small, so holding one in memory is fine; SigV4 over plain
        # HTTP hashes the payload before sending, which needs it whole anyway.
        body = b"".join(_read_exactly(key, data, size))
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentLength=size,
            ContentType="application/octet-stream",
        )

    def verify(self, key: str, *, size: int, sha256: str) -> StoredArtifact:
        size, sha256 = _check_size(size), _check_sha256(sha256)
        body = self._get_body(key)
        with contextlib.closing(body):
            found = body.headers_size
            if found is not None and found != size:
                raise _size_mismatch(key, declared=size, found=found)
            return _compare(
                key, self.uri(key), size=size, sha256=sha256, chunks=body.chunks(size + 1)
            )

    def open(self, key: str) -> BinaryIO:
        return cast(BinaryIO, self._get_body(key).stream)

    def _get_body(self, key: str) -> _S3Body:
        check_key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if str(error.get("Code")) in {"NoSuchKey", "404", "NotFound"}:
                raise ArtifactMissing(f"artifact {key} has not been uploaded") from exc
            raise
        return _S3Body(response["Body"], response.get("ContentLength"))


class _S3Body:
    """A GetObject body read a chunk at a time: one request gives both the size and the bytes,
    so they belong to the same object even if it is replaced meanwhile."""

    def __init__(self, stream: Any, headers_size: int | None) -> None:
        self.stream = stream
        self.headers_size = headers_size

    def chunks(self, limit: int) -> Iterator[bytes]:
        return _chunks(self.stream, limit)

    def close(self) -> None:
        self.stream.close()


def make_s3_client(
    *,
    endpoint_url: str | None,
    region: str,
    addressing_style: str,
    access_key: str | None,
    secret_key: str | None,
) -> Any:
    """A boto3 S3 client that speaks plain SigV4, as every S3-compatible store understands."""
    if addressing_style not in {"path", "virtual", "auto"}:
        raise ImproperlyConfigured("S3_ADDRESSING_STYLE must be path, virtual or auto")
    if (access_key is None) != (secret_key is None):
        raise ImproperlyConfigured("set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or none")
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": addressing_style},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        # Newer botocore adds CRC checksums and aws-chunked bodies by default; several
        # S3-compatible stores refuse them, and verify() does our own sha256 check anyway.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    # One boto3 session of our own (not boto3's global default) for every client: it loads the
    # S3 service model once, which otherwise costs ~0.1 s per client. Sessions are not
    # thread-safe, hence the lock; the clients they make are.
    with _BOTO_LOCK:
        global _boto_session
        if _boto_session is None:
            _boto_session = boto3.session.Session()
        return _boto_session.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=config,
        )


_BOTO_LOCK = threading.Lock()
_boto_session: Any = None


# -- choosing the store -------------------------------------------------------------------


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


def get_store() -> ArtifactStore:
    """S3 when S3_BUCKET is set, else the local filesystem; one store per distinct settings,
    so tests that change settings get a matching store and production builds one client."""
    return _store_for(
        _StoreSettings(
            bucket=settings.S3_BUCKET or None,
            endpoint_url=settings.S3_ENDPOINT_URL or None,
            region=settings.S3_REGION,
            addressing_style=settings.S3_ADDRESSING_STYLE,
            access_key=settings.AWS_ACCESS_KEY_ID or None,
            secret_key=settings.AWS_SECRET_ACCESS_KEY or None,
            root=str(settings.ARTIFACT_ROOT),
            max_direct_upload=settings.ARTIFACT_MAX_DIRECT_UPLOAD,
        )
    )


@functools.lru_cache(maxsize=16)
def _store_for(config: _StoreSettings) -> ArtifactStore:
    if config.bucket:
        return S3ArtifactStore.from_config(config)
    return LocalArtifactStore(config.root, max_direct_upload=config.max_direct_upload)


__all__ = [
    "ArtifactError",
    "ArtifactMismatch",
    "ArtifactMissing",
    "ArtifactStore",
    "ArtifactTooLarge",
    "InvalidArtifactKey",
    "InvalidUploadToken",
    "LocalArtifactStore",
    "PresignedUpload",
    "S3ArtifactStore",
    "StoredArtifact",
    "artifact_key",
    "check_filename",
    "check_key",
    "get_store",
]
