"""Registry loaders: the stream ids of models, versions and datasets, and the folds a command
takes of them (current state, read from the log). Commands and other apps' commands read
registry aggregates through here; nothing here writes."""

from __future__ import annotations

import uuid

from core.errors import InvalidInput
from eventstore import store
from registry.errors import DatasetNotFound, ModelNotFound, ModelVersionNotFound
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

VERSION_NAMESPACE = uuid.UUID("6f1c3a52-0d4b-4f0e-9a57-3d2b8c1e7a10")


def version_stream_id(model_id: str | uuid.UUID, number: int) -> uuid.UUID:
    """Deterministic: the same model and number always name the same version stream."""
    return uuid.uuid5(VERSION_NAMESPACE, f"model:{model_id}:{number}")


def dataset_version_stream_id(dataset_id: str | uuid.UUID, number: int) -> uuid.UUID:
    return uuid.uuid5(VERSION_NAMESPACE, f"dataset:{dataset_id}:{number}")


# -- models ------------------------------------------------------------------------------


def load_model(model_id: str | uuid.UUID, *, cached: bool = False) -> ModelState:
    state, _ = store.load(uuid.UUID(str(model_id)), evolve_model, ModelState(), cached=cached)
    if not state.exists:
        raise ModelNotFound(f"no model with id {model_id}")
    return state


def load_version(version_id: str | uuid.UUID) -> VersionState:
    state, _ = store.load(uuid.UUID(str(version_id)), evolve_version, VersionState())
    if not state.exists:
        raise ModelVersionNotFound(f"no model version {version_id}")
    return state


def load_version_by_number(model_id: str, number: int) -> VersionState:
    return load_version(version_stream_id(model_id, number))


# -- datasets ----------------------------------------------------------------------------


def load_dataset(dataset_id: str | uuid.UUID) -> DatasetState:
    state, _ = store.load(uuid.UUID(str(dataset_id)), evolve_dataset, DatasetState())
    if not state.exists:
        raise DatasetNotFound(f"no dataset with id {dataset_id}")
    return state


def load_dataset_version(version_id: str | uuid.UUID) -> DatasetVersionState:
    state, _ = store.load(uuid.UUID(str(version_id)), evolve_dataset_version, DatasetVersionState())
    if not state.exists:
        raise InvalidInput(f"no dataset version {version_id}")
    return state
