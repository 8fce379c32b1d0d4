"""Dataset commands: register a dataset and create its numbered versions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction

from core.actors import Actor
from core.errors import InvalidInput
from core.shapes import with_fields_of
from eventstore import store
from eventstore.metadata import command_metadata
from eventstore.types import NO_STREAM, ConcurrencyConflict, StreamRef
from registry import events as ev
from registry import permissions, rules
from registry.commands.common import (
    NUMBERING_ATTEMPTS,
    _numbered_at,
    _request_fingerprint,
    _unique_name_guard,
)
from registry.commands.teams import require_unclaimed_or_ours
from registry.errors import NameTaken
from registry.models import Dataset
from registry.state import DatasetState, DatasetVersionState
from registry.streams import dataset_version_stream_id, load_dataset, load_dataset_version


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
    require_unclaimed_or_ours(name, group)
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


DATASET_NUMBERED = ("dataset_id", "number")  # set by the command, not given


@dataclass(frozen=True)
@with_fields_of(ev.DatasetVersionCreated, exclude=DATASET_NUMBERED)
class DatasetVersionInput:
    """What a client gives for a new dataset version: the event's fields, less those the
    command sets (the dataset and the number)."""


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
    fields = rules.checked(data, ev.DatasetVersionCreated, exclude=DATASET_NUMBERED)
    dataset_stream = StreamRef(uuid.UUID(state.id), ev.DATASET)
    for _attempt in range(NUMBERING_ATTEMPTS):
        number = state.latest_version + 1
        version_id = dataset_version_stream_id(state.id, number)
        created = ev.DatasetVersionCreated(dataset_id=state.id, number=number, **fields)
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
