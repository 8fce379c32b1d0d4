"""The local filesystem store: files under ARTIFACT_ROOT, the embedded default. Uploads go to
this service's own endpoint with a signed token standing in for S3's presigned URL."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from django.core import signing

from core.errors import InvalidInput
from registry.artifacts.base import (
    ArtifactMismatch,
    ArtifactMissing,
    ArtifactTooLarge,
    InvalidArtifactKey,
    InvalidUploadToken,
    PresignedUpload,
    StoredArtifact,
    StoredDigest,
    UploadAlreadyUsed,
)
from registry.artifacts.keys import _check_expiry, _check_sha256, _check_size, check_key
from registry.artifacts.streaming import (
    _check_direct_size,
    _chunks,
    _compare,
    _read_exactly,
    _size_mismatch,
)

UPLOAD_PATH = "/api/v1/artifact-uploads/"


_UPLOAD_SALT = "registry.artifacts.upload"


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
        self,
        key: str,
        *,
        size: int,
        sha256: str,
        expires_seconds: int,
        signed_at: float | None = None,
    ) -> str:
        """The signed {key, size, sha256} an upload URL carries; `signed_at` defaults to now."""
        check_key(key)
        stamp = int(time.time() if signed_at is None else signed_at)
        payload = {
            "k": key,
            "s": _check_size(size),
            "h": _check_sha256(sha256),
            "e": _check_expiry(expires_seconds),
        }
        return _UploadSigner(signed_at=stamp).sign_object(payload, compress=True)

    def read_upload_token(self, token: str) -> tuple[str, int, str]:
        """(key, size, sha256) from a token this service signed and that has not expired."""
        signer = signing.TimestampSigner(salt=_UPLOAD_SALT)
        try:
            # Checked once for the signature, then against the lifetime the token itself
            # carries: URLs are handed out with different lifetimes.
            payload = signer.unsign_object(token)
            signer.unsign_object(token, max_age=int(payload["e"]))
            key, size, sha256 = payload["k"], payload["s"], payload["h"]
        except signing.SignatureExpired as exc:
            raise InvalidUploadToken("the upload link has expired; ask for a new one") from exc
        except (signing.BadSignature, ValueError, TypeError, KeyError) as exc:
            raise InvalidUploadToken("the upload link is not valid") from exc
        try:
            return check_key(key), _check_size(size), _check_sha256(sha256)
        except InvalidInput as exc:
            raise InvalidUploadToken("the upload link is not valid") from exc

    def presigned_upload(
        self, key: str, *, size: int, sha256: str, expires_seconds: int = 3600
    ) -> PresignedUpload:
        signed_at = int(time.time())
        token = self.upload_token(
            key, size=size, sha256=sha256, expires_seconds=expires_seconds, signed_at=signed_at
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
        """What the upload endpoint does: check the token, then store exactly the signed size
        and SHA-256, once. The key is content addressed, so an object already there means the
        link was used: it is spent (UploadAlreadyUsed), whatever the body. No direct-upload
        cap here: presigned uploads are how large artifacts arrive."""
        key, size, sha256 = self.read_upload_token(token)
        if self._path(key).exists():
            raise UploadAlreadyUsed(f"the upload link for {key} was used; the object is stored")
        if content_length is not None and content_length > size:
            raise ArtifactTooLarge(
                f"the body is {content_length} bytes; this upload link allows {size}",
                limit=size,
            )
        if not self._write(key, data, size, sha256):
            raise UploadAlreadyUsed(f"the upload link for {key} was used; the object is stored")
        return key, size

    def put(self, key: str, data: BinaryIO | bytes, *, size: int, sha256: str) -> None:
        """Store the declared bytes under `key` unless it holds an object already (verify()
        then tells whether that one is right); other bytes than declared store nothing."""
        _check_direct_size(_check_size(size), self.max_direct_upload)
        if not self._path(key).exists():
            self._write(key, data, size, _check_sha256(sha256))

    def verify(self, key: str, *, size: int, sha256: str) -> StoredArtifact:
        size, sha256 = _check_size(size), _check_sha256(sha256)
        with self._open(key) as source:
            found = os.fstat(source.fileno()).st_size
            if found != size:
                raise _size_mismatch(key, declared=size, found=found)
            return _compare(
                key, self.uri(key), size=size, sha256=sha256, chunks=_chunks(source, size + 1)
            )

    def stored_digest(self, key: str) -> StoredDigest:
        """The file's size; a file keeps no checksum that a write behind the server's back
        would have to change, so the SHA-256 is for verify() to find."""
        try:
            return StoredDigest(size=self._path(key).stat().st_size, sha256=None)
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise ArtifactMissing(f"artifact {key} has not been uploaded") from exc

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

    def _write(self, key: str, data: BinaryIO | bytes, size: int, sha256: str) -> bool:
        """Write the object unless the key holds one already (False then): the declared size
        and SHA-256, checked while writing, or nothing at all."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.parent.resolve().is_relative_to(self.root):
            raise InvalidArtifactKey(f"artifact key {key!r} points outside the artifact store")
        # A temporary file in the same directory, linked into place only if the key is free
        # (link(2) never replaces): readers see no object or the whole one, a refused body
        # leaves nothing behind, and a stored object is never overwritten.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".part")
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out:
                for chunk in _read_exactly(key, data, size):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != sha256:
                raise ArtifactMismatch(
                    f"artifact {key}: declared sha256 {sha256}, found sha256 {digest.hexdigest()}",
                    declared_sha256=sha256,
                    found_sha256=digest.hexdigest(),
                )
            try:
                os.link(temporary, path)
            except FileExistsError:
                return False
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        _fsync_directory(path.parent)
        return True


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
