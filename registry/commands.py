"""Registry commands: load -> decide -> append. The only writers of registry state.

Each command takes the actor first and keyword arguments only, checks input and permissions,
folds the aggregate from its events, and appends with the version it read, so a concurrent
change surfaces as ConcurrencyConflict (409) rather than a lost update."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

import psycopg
from django.conf import settings
from django.db import IntegrityError, transaction

from core.actors import Actor
from core.errors import InvalidInput
from eventstore import store
from eventstore.canonical import canonical_json
from eventstore.metadata import command_metadata
from eventstore.types import NO_STREAM, ConcurrencyConflict, StreamRef
from registry import artifacts, permissions, rules
from registry import events as ev
from registry.errors import (
    AliasNotFound,
    AliasReserved,
    ArtifactAlreadyStored,
    InvalidTransition,
    ModelIsArchived,
    ModelNotFound,
    ModelVersionNotFound,
    NameTaken,
    SeparationOfDutiesViolation,
    UnknownDatasetVersion,
)
from registry.models import Dataset, DatasetVersion, RegisteredModel
from registry.promotion import require_promotion
from registry.state import (
    RESERVED_ALIASES,
    REVIEW_OUTCOMES,
    STATUSES,
    DatasetState,
    DatasetVersionState,
    ModelState,
    VersionState,
    evolve_model,
    evolve_version,
    transition_allowed,
)
from registry.streams import (
    dataset_version_stream_id,
    load_dataset,
    load_dataset_version,
    load_model,
    load_version,
    load_version_by_number,
    version_stream_id,
)

NUMBERING_ATTEMPTS = 50


@contextmanager
def _unique_name_guard(constraint: str, name: str) -> Iterator[None]:
    """Turn the projection's unique-name violation (a race the pre-check lost) into NameTaken."""
    try:
        yield
    except (IntegrityError, psycopg.errors.UniqueViolation) as exc:
        if constraint in str(exc):
            raise NameTaken(f"the name {name!r} is already in use") from exc
        raise


# -- models ------------------------------------------------------------------------------


def _require_expected(state_version: int, expected: int | None, stream_id: Any) -> int:
    if expected is not None and expected != state_version:
        raise ConcurrencyConflict(uuid.UUID(str(stream_id)), expected, state_version)
    return state_version


def register_model(
    *,
    actor: Actor,
    name: str,
    team: str,
    description: str = "",
    intended_use: str = "",
    limitations: str = "",
    tags: dict[str, str] | None = None,
    idempotency_key: str | None = None,
) -> ModelState:
    rules.check_name(name)
    event = ev.ModelRegistered(
        name=name,
        team=team,
        description=rules.check_text(description, "description"),
        intended_use=rules.check_text(intended_use, "intended_use"),
        limitations=rules.check_text(limitations, "limitations"),
        tags=rules.check_tags(tags),
    )
    group = permissions.require_member(actor.account, team)
    if idempotency_key is None and RegisteredModel.objects.filter(name__iexact=name).exists():
        raise NameTaken(f"the name {name!r} is already in use")
    model_id = uuid.uuid4()
    with transaction.atomic(), _unique_name_guard("registry_model_name_ci", name):
        # The stream id is new on every call, so a repeat is recognised by its content.
        result = store.append(
            StreamRef(model_id, ev.MODEL),
            NO_STREAM,
            [event],
            command_metadata(actor, idempotency_key),
            request_fingerprint=_request_fingerprint("", event),
        )
        if result.replayed:
            return load_model(result.stream_id)
        permissions.grant_team(group, RegisteredModel(id=model_id), permissions.MODEL_PERMS)
    return load_model(model_id)


MODEL_FIELDS = ("description", "intended_use", "limitations", "tags", "team")


def change_model(
    *,
    actor: Actor,
    model_id: str,
    expected_version: int | None,
    changes: dict[str, Any],
    name: str | None = None,
    archive: bool | None = None,
    reason: str = "",
) -> ModelState:
    """Change a model's fields, rename it and/or archive it as one decision.

    Everything is checked before anything is recorded; the events (ModelUpdated, ModelRenamed,
    ModelArchived, in that order) go in one append at the version read, with the unique-name
    guard and the team's object permissions in the same transaction. Bad input records nothing."""
    state = load_model(model_id)
    permissions.require_change_model(actor.account, state.id)
    version = _require_expected(state.stream_version, expected_version, state.id)
    unknown = set(changes) - set(MODEL_FIELDS)
    if unknown:
        raise InvalidInput(f"these fields cannot be changed here: {', '.join(sorted(unknown))}")
    if archive is False and state.archived:
        raise ModelIsArchived(f"model {state.name!r} is archived and cannot be restored")
    checked: dict[str, Any] = {}
    for field in ("description", "intended_use", "limitations"):
        if field in changes:
            checked[field] = rules.check_text(changes[field], field)
    if "tags" in changes:
        checked["tags"] = rules.check_tags(changes["tags"])
    new_team = changes.get("team")
    if new_team is not None and new_team != state.team:
        permissions.require_member(actor.account, new_team)
        checked["team"] = new_team
    events: list[Any] = []
    if checked:
        events.append(ev.ModelUpdated(changes=checked))
    renamed = name is not None and name != state.name
    if renamed:
        rules.check_name(name)
        taken = RegisteredModel.objects.filter(name__iexact=name).exclude(id=state.id).exists()
        if taken:
            raise NameTaken(f"the name {name!r} is already in use")
        events.append(ev.ModelRenamed(old_name=state.name, new_name=name))
    if archive and not state.archived:
        events.append(ev.ModelArchived(reason=rules.check_text(reason, "reason", 2000)))
    if not events:
        return state
    with transaction.atomic(), _unique_name_guard("registry_model_name_ci", name or state.name):
        store.append(
            StreamRef(uuid.UUID(state.id), ev.MODEL), version, events, command_metadata(actor)
        )
        if "team" in checked:
            obj = RegisteredModel(id=state.id)
            permissions.revoke_team(
                permissions.team_group(state.team), obj, permissions.MODEL_PERMS
            )
            permissions.grant_team(permissions.team_group(new_team), obj, permissions.MODEL_PERMS)
    return load_model(state.id)


def update_model(
    *, actor: Actor, model_id: str, expected_version: int | None, changes: dict[str, Any]
) -> ModelState:
    if "name" in changes:
        raise InvalidInput("rename a model with rename_model")
    return change_model(
        actor=actor, model_id=model_id, expected_version=expected_version, changes=changes
    )


def rename_model(
    *, actor: Actor, model_id: str, expected_version: int | None, new_name: str
) -> ModelState:
    return change_model(
        actor=actor,
        model_id=model_id,
        expected_version=expected_version,
        changes={},
        name=new_name,
    )


def archive_model(
    *, actor: Actor, model_id: str, expected_version: int | None, reason: str
) -> ModelState:
    return change_model(
        actor=actor,
        model_id=model_id,
        expected_version=expected_version,
        changes={},
        archive=True,
        reason=reason,
    )


# -- model versions ----------------------------------------------------------------------


@dataclass(frozen=True)
class VersionInput:
    description: str = ""
    artifact_uri: str = ""
    artifact_sha256: str = ""
    artifact_size: int | None = None
    framework: str = ""
    parameters: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    signature: dict[str, Any] | None = None
    code_repo: str = ""
    code_commit: str = ""
    run_id: str = ""
    training_datasets: tuple[str, ...] = ()
    evaluation_datasets: tuple[str, ...] = ()
    tags: dict[str, str] | None = None


def _dataset_refs(refs: tuple[str, ...], what: str) -> list[str]:
    canonical = []
    for ref in refs:
        name, number = rules.parse_dataset_ref(ref)
        found = DatasetVersion.objects.filter(
            dataset_id__in=Dataset.objects.filter(name__iexact=name).values("id"), number=number
        ).exists()
        if not found:
            raise UnknownDatasetVersion(f"{what}: no dataset version {name}@{number}")
        canonical.append(f"dataset:{name}@{number}")
    return canonical


def _version_event(model_id: str, number: int, data: VersionInput) -> ev.ModelVersionCreated:
    if data.artifact_size is not None and (
        not isinstance(data.artifact_size, int) or data.artifact_size < 0
    ):
        raise InvalidInput("artifact_size is a non-negative integer")
    return ev.ModelVersionCreated(
        model_id=model_id,
        number=number,
        description=rules.check_text(data.description, "description"),
        artifact_uri=rules.check_text(data.artifact_uri, "artifact_uri", 2000),
        artifact_sha256=rules.check_sha256(data.artifact_sha256, "artifact_sha256"),
        artifact_size=data.artifact_size,
        framework=rules.check_text(data.framework, "framework", 100),
        parameters=rules.check_json(data.parameters, "parameters"),
        metrics=rules.check_json(data.metrics, "metrics"),
        signature=rules.check_json(data.signature, "signature"),
        code_repo=rules.check_text(data.code_repo, "code_repo", 500),
        code_commit=rules.check_commit(data.code_commit),
        run_id=rules.check_text(data.run_id, "run_id", 200),
        training_datasets=_dataset_refs(data.training_datasets, "training_datasets"),
        evaluation_datasets=_dataset_refs(data.evaluation_datasets, "evaluation_datasets"),
        tags=rules.check_tags(data.tags),
    )


def create_model_version(
    *,
    actor: Actor,
    model_id: str | None = None,
    model_name: str | None = None,
    data: VersionInput,
    idempotency_key: str | None = None,
) -> VersionState:
    """Number a new version (gapless per model) and record it, for the model given by id or by
    name (one query then finds it and checks the permission).

    Creators of versions of one model queue on its stream's lock and number from the state
    committed under it, so racing creates wait their turn instead of conflicting and retrying;
    a conflict can still come from another kind of change to the model, and is retried."""
    if (model_id is None) == (model_name is None):
        raise TypeError("create_model_version needs model_id or model_name")
    if model_name is not None:
        model_id = str(permissions.model_to_change(actor.account, model_name))
    else:
        load_model(model_id, cached=True)  # ModelNotFound before NotOwner
        permissions.require_change_model(actor.account, model_id)
    template = _version_event(str(model_id), 0, data)  # validate once, before any retry
    model_stream = StreamRef(uuid.UUID(str(model_id)), ev.MODEL)
    fingerprint = _request_fingerprint(str(model_id), template)
    for _attempt in range(NUMBERING_ATTEMPTS):
        try:
            with transaction.atomic():
                state, head = store.load_locked(model_stream, evolve_model, ModelState())
                if not state.exists:
                    raise ModelNotFound(f"no model with id {model_id}")
                if state.archived:
                    raise ModelIsArchived(f"model {state.name!r} is archived")
                number = state.latest_version + 1
                version_id = version_stream_id(state.id, number)
                created = ev.ModelVersionCreated(**{**template.to_data(), "number": number})
                numbered, *rest = store.append_all(
                    [
                        store.Append(
                            model_stream,
                            head.version,
                            [ev.ModelVersionNumbered(number=number, version_id=str(version_id))],
                            command_metadata(actor, idempotency_key),
                            request_fingerprint=fingerprint,
                            head=head,
                        ),
                        store.Append(
                            StreamRef(version_id, ev.MODEL_VERSION),
                            NO_STREAM,
                            [created],
                            command_metadata(actor),
                        ),
                    ]
                )
                if numbered.replayed:
                    return load_version_by_number(state.id, _numbered_at(numbered))
                (recorded,) = rest
        except ConcurrencyConflict:
            continue
        model_after = evolve_model(state, numbered.events[0])
        store.remember(model_stream.id, evolve_model, numbered.last_version, model_after)
        version = evolve_version(VersionState(), recorded.events[0])
        store.remember(version_id, evolve_version, recorded.last_version, version)
        return version
    raise ConcurrencyConflict(model_stream.id, None, None)


def _request_fingerprint(owner_id: str, event: Any, **overrides: Any) -> bytes:
    """What a repeated create request must match: its content, without the assigned number."""
    body = {**event.to_data(), **overrides, "owner": owner_id, "type": event.event_type}
    return hashlib.sha256(canonical_json(body)).digest()


def _numbered_at(result: Any) -> int:
    (event,) = [
        e
        for e in store.read_stream(result.stream_id, after_version=result.first_version - 1)
        if e.version == result.first_version
    ]
    return event.data["number"]


def update_model_version(
    *, actor: Actor, version_id: str, expected_version: int | None, changes: dict[str, Any]
) -> VersionState:
    """Change a version's description and tags, and/or move its status (with a reason)."""
    state = load_version(version_id)
    target = changes.get("status", state.status)
    permissions.require_change_model(actor.account, state.model_id)
    version = _require_expected(state.stream_version, expected_version, state.id)
    checked: dict[str, Any] = {}
    if "description" in changes:
        checked["description"] = rules.check_text(changes["description"], "description")
    if "tags" in changes:
        checked["tags"] = rules.check_tags(changes["tags"])
    unknown = set(changes) - {"description", "tags", "status", "reason"}
    if unknown:
        raise InvalidInput(f"these fields cannot be changed: {', '.join(sorted(unknown))}")
    events: list[Any] = []
    if checked:
        events.append(ev.ModelVersionUpdated(changes=checked))
    if target != state.status:
        events.append(_status_change(actor, state, target, changes.get("reason", "")))
    if not events:
        return state
    store.append(
        StreamRef(uuid.UUID(state.id), ev.MODEL_VERSION), version, events, command_metadata(actor)
    )
    return load_version(state.id)


def _status_change(
    actor: Actor, state: VersionState, target: str, reason: str
) -> ev.ModelVersionStatusChanged:
    if target not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
    if not transition_allowed(state.status, target):
        raise InvalidTransition(f"a {state.status} version cannot become {target}")
    if target in REVIEW_OUTCOMES:
        raise SeparationOfDutiesViolation(
            "approved and rejected follow the outcome of an approval request"
        )
    if target == "deployed":
        require_promotion(model_id=state.model_id, number=state.number)
    return ev.ModelVersionStatusChanged(
        from_status=state.status, to_status=target, reason=rules.check_text(reason, "reason", 2000)
    )


def transition_model_version(
    *, actor: Actor, version_id: str, expected_version: int | None, to_status: str, reason: str = ""
) -> VersionState:
    return update_model_version(
        actor=actor,
        version_id=version_id,
        expected_version=expected_version,
        changes={"status": to_status, "reason": reason},
    )


# -- artifacts --------------------------------------------------------------------------


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


# -- aliases -----------------------------------------------------------------------------


def assign_alias(
    *, actor: Actor, model_id: str, alias: str, version: int, expected_version: int | None = None
) -> ModelState:
    rules.check_alias(alias)
    state = load_model(model_id)
    permissions.require_change_model(actor.account, state.id)
    stream_version = _require_expected(state.stream_version, expected_version, state.id)
    if state.archived:
        raise ModelIsArchived(f"model {state.name!r} is archived")
    if not isinstance(version, int) or version not in state.versions:
        raise ModelVersionNotFound(f"model {state.name!r} has no version {version}")
    if load_version_by_number(state.id, version).status == "retired":
        raise InvalidTransition(f"version {version} is retired")
    if state.aliases.get(alias) == version:
        return state
    if alias in RESERVED_ALIASES:
        require_promotion(model_id=state.id, number=version)
    store.append(
        StreamRef(uuid.UUID(state.id), ev.MODEL),
        stream_version,
        [ev.AliasAssigned(alias=alias, version=version, previous_version=state.aliases.get(alias))],
        command_metadata(actor),
    )
    return load_model(state.id)


def remove_alias(
    *, actor: Actor, model_id: str, alias: str, expected_version: int | None = None
) -> ModelState:
    if alias in RESERVED_ALIASES:
        raise AliasReserved(f"the {alias!r} alias moves only through the promotion gate")
    state = load_model(model_id)
    permissions.require_change_model(actor.account, state.id)
    stream_version = _require_expected(state.stream_version, expected_version, state.id)
    if alias not in state.aliases:
        raise AliasNotFound(f"model {state.name!r} has no alias {alias!r}")
    store.append(
        StreamRef(uuid.UUID(state.id), ev.MODEL),
        stream_version,
        [ev.AliasRemoved(alias=alias, version=state.aliases[alias])],
        command_metadata(actor),
    )
    return load_model(state.id)


# -- datasets ----------------------------------------------------------------------------


def register_dataset(
    *,
    actor: Actor,
    name: str,
    team: str,
    description: str = "",
    tags: dict[str, str] | None = None,
    idempotency_key: str | None = None,
) -> DatasetState:
    rules.check_dataset_name(name)
    event = ev.DatasetRegistered(
        name=name,
        team=team,
        description=rules.check_text(description, "description"),
        tags=rules.check_tags(tags),
    )
    group = permissions.require_member(actor.account, team)
    if idempotency_key is None and Dataset.objects.filter(name__iexact=name).exists():
        raise NameTaken(f"the dataset name {name!r} is already in use")
    dataset_id = uuid.uuid4()
    with transaction.atomic(), _unique_name_guard("registry_dataset_name_ci", name):
        result = store.append(
            StreamRef(dataset_id, ev.DATASET),
            NO_STREAM,
            [event],
            command_metadata(actor, idempotency_key),
            request_fingerprint=_request_fingerprint("", event),
        )
        if result.replayed:
            return load_dataset(result.stream_id)
        permissions.grant_team(group, Dataset(id=dataset_id), permissions.DATASET_PERMS)
    return load_dataset(dataset_id)


@dataclass(frozen=True)
class DatasetVersionInput:
    uri: str
    checksum: str = ""
    schema: dict[str, Any] | None = None
    row_count: int | None = None
    pii_categories: tuple[str, ...] = ()
    legal_basis: str = ""
    owner: str = ""
    retention_days: int | None = None
    description: str = ""
    tags: dict[str, str] | None = None


def create_dataset_version(
    *,
    actor: Actor,
    dataset_id: str,
    data: DatasetVersionInput,
    idempotency_key: str | None = None,
) -> DatasetVersionState:
    state = load_dataset(dataset_id)
    permissions.require_change_dataset(actor.account, state.id)
    if not data.uri:
        raise InvalidInput("a dataset version needs a uri")
    for value, what in ((data.row_count, "row_count"), (data.retention_days, "retention_days")):
        if value is not None and (not isinstance(value, int) or value < 0):
            raise InvalidInput(f"{what} is a non-negative integer")
    pii = [rules.check_text(p, "pii category", 100) for p in data.pii_categories]
    dataset_stream = StreamRef(uuid.UUID(state.id), ev.DATASET)
    for _attempt in range(NUMBERING_ATTEMPTS):
        number = state.latest_version + 1
        version_id = dataset_version_stream_id(state.id, number)
        created = ev.DatasetVersionCreated(
            dataset_id=state.id,
            number=number,
            uri=rules.check_text(data.uri, "uri", 2000),
            checksum=rules.check_text(data.checksum, "checksum", 200),
            schema=rules.check_json(data.schema, "schema"),
            row_count=data.row_count,
            pii_categories=pii,
            legal_basis=rules.check_text(data.legal_basis, "legal_basis", 100),
            owner=rules.check_text(data.owner, "owner", 150),
            retention_days=data.retention_days,
            description=rules.check_text(data.description, "description"),
            tags=rules.check_tags(data.tags),
        )
        try:
            with transaction.atomic():
                numbered = store.append(
                    dataset_stream,
                    state.stream_version,
                    [ev.DatasetVersionNumbered(number=number, version_id=str(version_id))],
                    command_metadata(actor, idempotency_key),
                    request_fingerprint=_request_fingerprint(state.id, created, number=0),
                )
                if numbered.replayed:
                    return load_dataset_version(
                        dataset_version_stream_id(state.id, _numbered_at(numbered))
                    )
                store.append(
                    StreamRef(version_id, ev.DATASET_VERSION),
                    NO_STREAM,
                    [created],
                    command_metadata(actor),
                )
        except ConcurrencyConflict:
            state = load_dataset(state.id)
            continue
        return load_dataset_version(version_id)
    raise ConcurrencyConflict(uuid.UUID(state.id), state.stream_version, None)
