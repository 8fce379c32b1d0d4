"""Where a new version's source already is in the service's own store: a version's verified
artifact, named as `models:/<name>/<version>` (what copy_model_version sends) or by its store
URI. Those bytes are copied under the new version's own content-addressed key and checksummed
as they are written (registry.commands.upload_artifact), so the new version's artifact is
verified. Any other source is recorded as the client named it and never read: not a local
path, not an address elsewhere; the version then says `ledger.artifact_verified=false`."""

from __future__ import annotations

import contextlib
from pathlib import PurePosixPath

from django.conf import settings

from core.actors import Actor
from registry import artifacts, commands, queries
from registry.models import ModelVersion, RegisteredModel
from registry.state import VersionState

MODELS_SCHEME = "models:/"


def _named_version(source: str) -> ModelVersion | None:
    if source.startswith(MODELS_SCHEME):
        name, _, number = source[len(MODELS_SCHEME) :].partition("/")
        if not (number.isascii() and number.isdigit() and len(number) <= 9):
            return None
        model = RegisteredModel.objects.filter(name__iexact=name).first()
        if model is None:
            return None
        return ModelVersion.objects.filter(model_id=model.id, number=int(number)).first()
    if not source.startswith(_own_prefix()):
        return None  # not this service's store: nothing to look up, nothing is read
    return (
        ModelVersion.objects.filter(artifact_uri=source, artifact_verified=True)
        .order_by("created_at")
        .first()
    )


def _own_prefix() -> str:
    """The URI prefix of every object in the service's store (its bucket, or its folder)."""
    store = artifacts.get_store()
    if isinstance(store, artifacts.S3ArtifactStore):
        return f"s3://{store.bucket}/"
    return store.root.as_uri() + "/"


def stored_source(source: str) -> VersionState | None:
    """The verified, untampered version whose artifact `source` names, if it is one the
    service can copy in one request (up to ARTIFACT_MAX_DIRECT_UPLOAD bytes)."""
    row = _named_version(source)
    if row is None or not row.artifact_verified:
        return None
    model = RegisteredModel.objects.get(id=row.model_id)
    state = queries.get_version(model.name, row.number)
    if state.artifact_tampered or not state.artifact_key:
        return None
    if (state.artifact_size or 0) > settings.ARTIFACT_MAX_DIRECT_UPLOAD:
        return None
    return state


def copy_artifact(actor: Actor, *, source: VersionState, version_id: str) -> None:
    """The source's bytes as the new version's artifact, checksummed against the source's
    recorded sha256 as they are written: bytes changed in the store are refused."""
    stream = artifacts.get_store().open(source.artifact_key)
    with contextlib.closing(stream):
        commands.upload_artifact(
            actor=actor,
            version_id=version_id,
            filename=PurePosixPath(source.artifact_key).name,
            size=source.artifact_size or 0,
            sha256=source.artifact_sha256,
            data=stream,
        )
