"""Artifact storage for model versions: keys, presigned uploads, and size + sha256 checks.

base has the refusals, the results and the store interface; keys the key and argument checks;
streaming the chunked reading and hashing; local and s3 the two stores. Callers import this
package: `artifacts.get_store()`, `artifacts.ArtifactMismatch`."""

from __future__ import annotations

import functools

from django.conf import settings

from registry.artifacts.base import (
    ArtifactError,
    ArtifactMismatch,
    ArtifactMissing,
    ArtifactStore,
    ArtifactTooLarge,
    InvalidArtifactKey,
    InvalidUploadToken,
    PresignedUpload,
    StoredArtifact,
    StoredDigest,
    UploadAlreadyUsed,
    _StoreSettings,
)
from registry.artifacts.keys import MAX_UPLOAD_URL_SECONDS, artifact_key, check_filename, check_key
from registry.artifacts.local import UPLOAD_PATH, LocalArtifactStore
from registry.artifacts.s3 import S3ArtifactStore, make_s3_client
from registry.artifacts.streaming import CHUNK_SIZE
from registry.artifacts.streaming import _chunks as read_chunks

# -- choosing the store -------------------------------------------------------------------


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
    "CHUNK_SIZE",
    "MAX_UPLOAD_URL_SECONDS",
    "UPLOAD_PATH",
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
    "StoredDigest",
    "UploadAlreadyUsed",
    "artifact_key",
    "check_filename",
    "check_key",
    "get_store",
    "make_s3_client",
    "read_chunks",
]
