"""Model version commands: create (numbered, gapless), change and move through the lifecycle."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from core.actors import Actor
from core.errors import InvalidInput
from core.shapes import with_fields_of
from eventstore import store
from eventstore.metadata import command_metadata
from eventstore.types import NO_STREAM, ConcurrencyConflict, StreamRef
from registry import events as ev
from registry import permissions, rules
from registry.commands.artifacts import rehash_after_promotion, require_intact_artifact
from registry.commands.common import (
    NUMBERING_ATTEMPTS,
    _numbered_at,
    _request_fingerprint,
    _require_expected,
)
from registry.errors import (
    InvalidTransition,
    ModelIsArchived,
    ModelNotFound,
    SeparationOfDutiesViolation,
    UnknownDatasetVersion,
)
from registry.models import Dataset, DatasetVersion
from registry.promotion import require_promotion
from registry.state import (
    REVIEW_OUTCOMES,
    STATUSES,
    ModelState,
    VersionState,
    evolve_model,
    evolve_version,
    transition_allowed,
)
from registry.streams import load_model, load_version, load_version_by_number, version_stream_id

VERSION_NUMBERED = ("model_id", "number")  # set by the command, not given


@dataclass(frozen=True)
@with_fields_of(ev.ModelVersionCreated, exclude=VERSION_NUMBERED)
class VersionInput:
    """What a client gives for a new model version: the event's fields, less those the
    command sets (the model and the number)."""


def _dataset_refs(refs: list[str], what: str) -> list[str]:
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
    fields = rules.checked(data, ev.ModelVersionCreated, exclude=VERSION_NUMBERED)
    for refs in ("training_datasets", "evaluation_datasets"):
        fields[refs] = _dataset_refs(fields[refs], refs)
    return ev.ModelVersionCreated(model_id=model_id, number=number, **fields)


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
    deploying = target == "deployed" and target != state.status
    store.append(
        StreamRef(uuid.UUID(state.id), ev.MODEL_VERSION),
        version,
        events,
        command_metadata(actor),
        side_effects=rehash_after_promotion(state) if deploying else (),
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
        require_intact_artifact(actor=actor, state=state)
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
