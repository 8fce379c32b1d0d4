"""Alias commands: point an alias at a version, or remove it; reserved aliases pass the
promotion gate."""

from __future__ import annotations

import uuid

from core.actors import Actor
from eventstore import store
from eventstore.metadata import command_metadata
from eventstore.types import StreamRef
from registry import events as ev
from registry import permissions, rules
from registry.commands.artifacts import rehash_after_promotion, require_intact_artifact
from registry.commands.common import _require_expected
from registry.errors import (
    AliasNotFound,
    AliasReserved,
    InvalidTransition,
    ModelIsArchived,
    ModelVersionNotFound,
)
from registry.promotion import require_promotion
from registry.state import RESERVED_ALIASES, ModelState
from registry.streams import load_model, load_version_by_number


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
    target = load_version_by_number(state.id, version)
    if target.status == "retired":
        raise InvalidTransition(f"version {version} is retired")
    if state.aliases.get(alias) == version:
        return state
    if alias in RESERVED_ALIASES:
        require_intact_artifact(actor=actor, state=target)
        require_promotion(model_id=state.id, number=version)
    store.append(
        StreamRef(uuid.UUID(state.id), ev.MODEL),
        stream_version,
        [ev.AliasAssigned(alias=alias, version=version, previous_version=state.aliases.get(alias))],
        command_metadata(actor),
        side_effects=rehash_after_promotion(target) if alias in RESERVED_ALIASES else (),
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
