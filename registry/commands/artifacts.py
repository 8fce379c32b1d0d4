"""Artifact commands: a version's artifact is authorised, uploaded and verified here."""

from __future__ import annotations

import uuid
from typing import Any, BinaryIO

from django.conf import settings

from core.actors import Actor
from core.errors import InvalidInput
from eventstore import store
from eventstore.metadata import command_metadata
from eventstore.types import StreamRef
from registry import artifacts, permissions, rules
from registry import events as ev
from registry.errors import ArtifactAlreadyStored, InvalidTransition
from registry.state import VersionState
from registry.streams import load_version


def authorize_artifact_upload(
    *,
    actor: Actor,
    version_id: str,
    filename: str,
    size: int,
    sha256: str,
    expires_seconds: int | None = None,
    idempotency_key: str | None = None,
) -> tuple[VersionState, artifacts.PresignedUpload]:
    """A presigned upload URL for the version's artifact, and the declaration it is held to:
    the artifact counts as stored only once verify_artifact has found exactly these bytes."""
    state, key, sha256 = _artifact_target(actor, version_id, filename, size, sha256)
    if size > settings.ARTIFACT_MAX_UPLOAD:
        raise artifacts.ArtifactTooLarge(
            f"an artifact is at most {settings.ARTIFACT_MAX_UPLOAD} bytes",
            limit=settings.ARTIFACT_MAX_UPLOAD,
        )
    target = artifacts.get_store()
    upload = target.presigned_upload(
        key, size=size, expires_seconds=expires_seconds or settings.ARTIFACT_UPLOAD_URL_SECONDS
    )
    authorized = ev.ArtifactUploadAuthorized(
        key=key, uri=target.uri(key), size=size, sha256=sha256, method="presigned"
    )
    _append_version(actor, state, [authorized], idempotency_key)
    return load_version(state.id), upload


def verify_artifact(
    *, actor: Actor, version_id: str, idempotency_key: str | None = None
) -> VersionState:
    """Check the uploaded bytes against the declaration; only a match records the artifact."""
    state = load_version(version_id)
    permissions.require_change_model(actor.account, state.model_id)
    if state.artifact_verified:
        return state
    pending = state.pending_artifact
    if pending is None:
        raise artifacts.ArtifactMissing(
            f"version {state.number} has no artifact upload to verify; ask for an upload URL"
        )
    stored = artifacts.get_store().verify(
        pending["key"], size=pending["size"], sha256=pending["sha256"]
    )
    verified = ev.ArtifactVerified(uri=stored.uri, sha256=stored.sha256, size=stored.size)
    _append_version(actor, state, [verified], idempotency_key)
    return load_version(state.id)


def upload_artifact(
    *,
    actor: Actor,
    version_id: str,
    filename: str,
    size: int,
    sha256: str,
    data: BinaryIO | bytes,
    idempotency_key: str | None = None,
) -> VersionState:
    """A small artifact sent in the request itself: stored, checked, and recorded at once."""
    state, key, sha256 = _artifact_target(actor, version_id, filename, size, sha256)
    target = artifacts.get_store()
    target.put(key, data, size=size)
    stored = target.verify(key, size=size, sha256=sha256)
    recorded = [
        ev.ArtifactUploadAuthorized(
            key=key, uri=stored.uri, size=size, sha256=sha256, method="direct"
        ),
        ev.ArtifactVerified(uri=stored.uri, sha256=stored.sha256, size=stored.size),
    ]
    _append_version(actor, state, recorded, idempotency_key)
    return load_version(state.id)


def _artifact_target(
    actor: Actor, version_id: str, filename: str, size: int, sha256: str
) -> tuple[VersionState, str, str]:
    """The version, its artifact key and the normalised sha256, once the upload may go ahead."""
    state = load_version(version_id)
    permissions.require_change_model(actor.account, state.model_id)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InvalidInput("an artifact size is a non-negative integer of bytes")
    if not isinstance(sha256, str) or not rules.SHA256.match(sha256.lower()):
        raise InvalidInput("an artifact sha256 is 64 hexadecimal characters")
    sha256 = sha256.lower()
    if state.artifact_verified:
        raise ArtifactAlreadyStored(
            f"version {state.number} already has its artifact; a version's artifact never changes"
        )
    if state.status == "retired":
        raise InvalidTransition(f"version {state.number} is retired")
    declared = {"sha256": state.artifact_sha256 or sha256, "size": state.artifact_size}
    if declared["sha256"] != sha256 or declared["size"] not in (None, size):
        raise artifacts.ArtifactMismatch(
            f"version {state.number} was created declaring sha256 {state.artifact_sha256 or '-'}"
            f" and size {state.artifact_size if state.artifact_size is not None else '-'};"
            " the upload must match",
            declared_sha256=state.artifact_sha256 or None,
            declared_size=state.artifact_size,
        )
    key = artifacts.artifact_key(
        kind="model", owner_id=uuid.UUID(state.model_id), number=state.number, filename=filename
    )
    return state, key, sha256


def _append_version(
    actor: Actor, state: VersionState, recorded: list[Any], idempotency_key: str | None
) -> None:
    store.append(
        StreamRef(uuid.UUID(state.id), ev.MODEL_VERSION),
        state.stream_version,
        recorded,
        command_metadata(actor, idempotency_key),
    )
