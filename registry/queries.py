"""Reads the API and the admin share: current state from projections and folds, and any object
as it was at a log position or a time (folded from its events)."""

from __future__ import annotations

from datetime import datetime

from eventstore import store
from registry import commands
from registry.errors import DatasetVersionNotFound, ModelNotFound, ModelVersionNotFound
from registry.state import (
    DatasetState,
    DatasetVersionState,
    ModelState,
    VersionState,
    evolve_dataset,
    evolve_dataset_version,
    evolve_model,
    evolve_version,
)


def get_model(
    name: str, *, up_to_position: int | None = None, as_of: datetime | None = None
) -> ModelState:
    model_id = commands.model_id_for(name)
    state, _ = store.load(
        model_id, evolve_model, ModelState(), up_to_position=up_to_position, as_of=as_of
    )
    if not state.exists:
        raise ModelNotFound(f"model {name!r} did not exist yet at that point")
    return state


def get_version(
    name: str, number: int, *, up_to_position: int | None = None, as_of: datetime | None = None
) -> VersionState:
    model_id = commands.model_id_for(name)
    state, _ = store.load(
        commands.version_stream_id(model_id, number),
        evolve_version,
        VersionState(),
        up_to_position=up_to_position,
        as_of=as_of,
    )
    if not state.exists:
        raise ModelVersionNotFound(f"model {name!r} has no version {number} at that point")
    return state


def get_dataset(
    name: str, *, up_to_position: int | None = None, as_of: datetime | None = None
) -> DatasetState:
    dataset_id = commands.dataset_id_for(name)
    state, _ = store.load(
        dataset_id, evolve_dataset, DatasetState(), up_to_position=up_to_position, as_of=as_of
    )
    if not state.exists:
        raise commands.DatasetNotFound(f"dataset {name!r} did not exist yet at that point")
    return state


def get_dataset_version(
    name: str, number: int, *, up_to_position: int | None = None, as_of: datetime | None = None
) -> DatasetVersionState:
    dataset_id = commands.dataset_id_for(name)
    state, _ = store.load(
        commands.dataset_version_stream_id(dataset_id, number),
        evolve_dataset_version,
        DatasetVersionState(),
        up_to_position=up_to_position,
        as_of=as_of,
    )
    if not state.exists:
        raise DatasetVersionNotFound(f"dataset {name!r} has no version {number} at that point")
    return state
