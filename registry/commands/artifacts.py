"""Artifact commands: a version's artifact is authorised, uploaded and verified here."""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from typing import Any, BinaryIO

from django.conf import settings

from core.actors import Actor
from core.errors import InvalidInput
from eventstore import store
from eventstore.metadata import command_metadata
from eventstore.types import SideEffect, StreamRef
from registry import artifacts, permissions, rules
from registry import events as ev
from registry.errors import ArtifactAlreadyStored, ArtifactTampered, InvalidTransition
from registry.state import VersionState
from registry.streams import load_version

REHASH_ARTIFACT_TASK = "registry.rehash_artifact"


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
        key,
        size=size,
        sha256=sha256,
        expires_seconds=expires_seconds or settings.ARTIFACT_UPLOAD_URL_SECONDS,
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
    target.put(key, data, size=size, sha256=sha256)
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
        kind="model",
        owner_id=uuid.UUID(state.model_id),
        number=state.number,
        sha256=sha256,
        filename=filename,
    )
    return state, key, sha256


# -- the stored bytes at promotion and after ------------------------------------------------


def require_intact_artifact(*, actor: Actor, state: VersionState) -> None:
    """At promotion: the store still holds the verified bytes. The store's own checksum
    (S3's HEAD) answers without reading the object; where it keeps none, the bytes are read
    and hashed now. A mismatch records registry.ArtifactTamperDetected (governance opens a
    finding) in a transaction of its own, committed before ArtifactTampered answers; a version
    once found tampered with is never promoted again (a new artifact is a new version)."""
    if not state.artifact_verified:
        return
    if state.artifact_tampered:
        raise _tampered(state, "was found tampered with before")
    target = artifacts.get_store()
    found: tuple[str, int | None] | None
    try:
        digest = target.stored_digest(state.artifact_key)
    except artifacts.ArtifactMissing:
        found, check = ("", None), "checksum"
    else:
        if digest.size != state.artifact_size:
            found, check = (digest.sha256 or "", digest.size), "checksum"
        elif digest.sha256 is not None:
            found, check = (digest.sha256, digest.size), "checksum"
        else:
            found, check = _rehash(target, state), "rehash"
    if found == (state.artifact_sha256, state.artifact_size):
        return
    _record_tamper(actor, state, found, check)
    raise _tampered(state, "does not match what was verified", found=found)


def recheck_artifact(*, actor: Actor, version_id: str) -> bool:
    """The background re-hash queued with each promotion: read the stored bytes whole and
    compare; a mismatch records registry.ArtifactTamperDetected. True while intact."""
    state = load_version(version_id)
    if not state.artifact_verified or state.artifact_tampered:
        return not state.artifact_tampered
    found = _rehash(artifacts.get_store(), state)
    if found == (state.artifact_sha256, state.artifact_size):
        return True
    _record_tamper(actor, state, found, "rehash")
    return False


def rehash_after_promotion(state: VersionState) -> list[SideEffect]:
    """The background re-hash of a promoted version's artifact (none without one)."""
    if not state.artifact_verified:
        return []
    return [SideEffect(REHASH_ARTIFACT_TASK, {"version_id": state.id})]


def _rehash(target: artifacts.ArtifactStore, state: VersionState) -> tuple[str, int | None]:
    try:
        source = target.open(state.artifact_key)
    except artifacts.ArtifactMissing:
        return "", None
    digest, size = hashlib.sha256(), 0
    with contextlib.closing(source):
        # One byte past the recorded size is enough to tell a longer object.
        for chunk in artifacts.read_chunks(source, (state.artifact_size or 0) + 1):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _record_tamper(
    actor: Actor, state: VersionState, found: tuple[str, int | None], check: str
) -> None:
    detected = ev.ArtifactTamperDetected(
        key=state.artifact_key,
        uri=state.artifact_uri,
        recorded_sha256=state.artifact_sha256,
        recorded_size=state.artifact_size or 0,
        found_sha256=found[0],
        found_size=found[1],
        check=check,
    )
    # Any stream version: the detection is a fact about the store, whatever else was
    # recorded meanwhile.
    store.append(
        StreamRef(uuid.UUID(state.id), ev.MODEL_VERSION), None, [detected], command_metadata(actor)
    )


def _tampered(
    state: VersionState, what: str, *, found: tuple[str, int | None] | None = None
) -> ArtifactTampered:
    extra: dict[str, Any] = {"recorded_sha256": state.artifact_sha256}
    if found is not None:
        extra |= {"found_sha256": found[0] or None, "found_size": found[1]}
    return ArtifactTampered(
        f"the stored artifact of version {state.number} {what}; it cannot be promoted,"
        " a finding is open, and a new artifact is a new version",
        **extra,
    )


def _append_version(
    actor: Actor, state: VersionState, recorded: list[Any], idempotency_key: str | None
) -> None:
    store.append(
        StreamRef(uuid.UUID(state.id), ev.MODEL_VERSION),
        state.stream_version,
        recorded,
        command_metadata(actor, idempotency_key),
    )
