"""AWS S3 and S3-compatible stores (MinIO, SeaweedFS, Ceph): presigned PUT uploads to a bucket."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from django.core.exceptions import ImproperlyConfigured

from registry.artifacts.base import (
    ArtifactMismatch,
    ArtifactMissing,
    PresignedUpload,
    StoredArtifact,
    StoredDigest,
    _StoreSettings,
)
from registry.artifacts.keys import _check_expiry, _check_sha256, _check_size, check_key
from registry.artifacts.streaming import (
    _check_direct_size,
    _chunks,
    _compare,
    _read_exactly,
    _size_mismatch,
)


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
        self, key: str, *, size: int, sha256: str, expires_seconds: int = 3600
    ) -> PresignedUpload:
        check_key(key)
        size, expires_seconds = _check_size(size), _check_expiry(expires_seconds)
        checksum = _base64_sha256(_check_sha256(sha256))
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_seconds)
        url = self.client.generate_presigned_url(
            "put_object",
            # Signed headers: the length, the SHA-256 the store checks the body against, and
            # a write only where the key is free. Stores that check them (AWS, MinIO,
            # SeaweedFS) refuse other bytes and any second PUT through the same URL; where one
            # does not, verify() and the re-hash at promotion catch what it let through.
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ContentLength": size,
                "ChecksumSHA256": checksum,
                "IfNoneMatch": "*",
            },
            ExpiresIn=expires_seconds,
            HttpMethod="PUT",
        )
        return PresignedUpload(
            url=url,
            method="PUT",
            headers={
                "Content-Length": str(size),
                "Content-Type": "application/octet-stream",
                "x-amz-checksum-sha256": checksum,
                "If-None-Match": "*",
            },
            expires_at=expires_at,
        )

    def put(self, key: str, data: BinaryIO | bytes, *, size: int, sha256: str) -> None:
        """Store the declared bytes under `key` unless it holds an object already (verify()
        then tells whether that one is right)."""
        check_key(key)
        _check_direct_size(_check_size(size), self.max_direct_upload)
        checksum = _base64_sha256(_check_sha256(sha256))
        # Direct uploads are capped small, so holding one in memory is fine; SigV4 over plain
        # HTTP hashes the payload before sending, which needs it whole anyway.
        body = b"".join(_read_exactly(key, data, size))
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentLength=size,
                ContentType="application/octet-stream",
                ChecksumSHA256=checksum,
                IfNoneMatch="*",
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code in {"PreconditionFailed", "412"}:
                return
            if code in {"BadDigest", "XAmzContentChecksumMismatch", "InvalidDigest"}:
                found = hashlib.sha256(body).hexdigest()
                raise ArtifactMismatch(
                    f"artifact {key}: declared sha256 {sha256}, found sha256 {found}",
                    declared_sha256=sha256,
                    found_sha256=found,
                ) from exc
            raise

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

    def stored_digest(self, key: str) -> StoredDigest:
        """HEAD: the size and the full-object SHA-256 the store checked at the write. An object
        written without one (or in parts, whose checksum is of the parts) has None."""
        check_key(key)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in {"NoSuchKey", "404", "NotFound"}:
                raise ArtifactMissing(f"artifact {key} has not been uploaded") from exc
            raise
        checksum = head.get("ChecksumSHA256")
        sha256 = None
        if isinstance(checksum, str) and "-" not in checksum:
            try:
                sha256 = base64.b64decode(checksum, validate=True).hex()
            except ValueError:
                sha256 = None
        return StoredDigest(size=int(head["ContentLength"]), sha256=sha256)

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


def _base64_sha256(sha256: str) -> str:
    """The hexadecimal digest as S3's `x-amz-checksum-sha256` spells it (base64)."""
    return base64.b64encode(bytes.fromhex(sha256)).decode("ascii")


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
