"""Model commands: register, change, rename and archive a model."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from core.actors import Actor
from core.errors import InvalidInput
from eventstore import store
from eventstore.metadata import command_metadata
from eventstore.types import NO_STREAM, StreamRef
from registry import events as ev
from registry import permissions, rules
from registry.commands.common import _request_fingerprint, _require_expected, _unique_name_guard
from registry.errors import ModelIsArchived, NameTaken
from registry.models import RegisteredModel
from registry.state import ModelState
from registry.streams import load_model


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
