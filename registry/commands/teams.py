"""Team commands: the default team a user's machine clients act for where a request names none
(OpenLineage's datasets first seen, later MLflow), and dataset name prefixes claimed for a team
so that no other team registers datasets under them (register_dataset checks the claims)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction

from core.actors import Actor
from eventstore import store
from eventstore.metadata import command_metadata
from eventstore.types import NO_STREAM, StreamRef
from registry import events as ev
from registry import permissions, queries, rules
from registry.commands.common import _unique_name_guard
from registry.errors import (
    InvalidName,
    NotAMember,
    NotPrefixAdmin,
    NotUserAdmin,
    PrefixClaimed,
    PrefixConflict,
)
from registry.models import DatasetPrefix, DefaultTeam

NAMESPACE = uuid.UUID("5d0f3c55-0a53-4b5e-9a55-8e8c0f0b7e21")
USER_ADMIN_PERM = "auth.change_user"
PREFIX_ADMIN_PERM = "registry.add_datasetprefix"
PREFIX_LOCK = 0x70726566697873  # advisory lock: claims are checked against each other


def user_teams_stream_id(user_id: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"user:{user_id}")


def prefix_stream_id(prefix: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"prefix:{prefix.lower()}")


def _is_admin(user: Any, perm: str) -> bool:
    return bool(user is not None and user.is_active and (user.is_superuser or user.has_perm(perm)))


def choose_default_team(*, actor: Actor, user_id: int, team: str) -> DefaultTeam:
    """Record the team a user acts for by default: by the user, or by an administrator for
    them. The team must be one the user belongs to and no role group."""
    account = actor.account
    if account is None or (account.pk != user_id and not _is_admin(account, USER_ADMIN_PERM)):
        raise NotUserAdmin("only the user or an administrator may choose the user's default team")
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotUserAdmin("no such active user")
    group = permissions.require_team(permissions.team_group(team))
    if not user.groups.filter(pk=group.pk).exists():
        raise NotAMember(f"{user.username!r} is not a member of team {team!r}")
    current = DefaultTeam.objects.filter(user_id=user_id).first()
    if current is not None and current.team_id == group.pk:
        return current
    stream = user_teams_stream_id(user_id)
    _, version = store.load(stream, lambda state, event: state, None)
    store.append(
        StreamRef(stream, ev.USER_TEAMS),
        version,
        [ev.DefaultTeamChosen(user_id=user_id, team_id=group.pk, team=group.name)],
        command_metadata(actor),
    )
    return DefaultTeam.objects.get(user_id=user_id)


def claim_dataset_prefix(*, actor: Actor, prefix: str, team: str) -> DatasetPrefix:
    """Claim a dataset name prefix for a team (administrators only). A claim may not overlap
    another team's claim, nor cover datasets another team already registered."""
    if not _is_admin(actor.account, PREFIX_ADMIN_PERM):
        raise NotPrefixAdmin(f"claiming a dataset name prefix needs {PREFIX_ADMIN_PERM}")
    if not isinstance(prefix, str) or not rules.DATASET_PREFIX.match(prefix):
        raise InvalidName("a prefix is 3-500 characters of a dataset name")
    group = permissions.require_team(permissions.team_group(team))
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (PREFIX_LOCK,))
        for claim in queries.prefix_claims_over(prefix):
            if claim.prefix.lower() == prefix.lower() and claim.team_id == group.pk:
                return claim
            raise PrefixConflict(f"{prefix!r} overlaps the claimed prefix {claim.prefix!r}")
        others = queries.dataset_teams_under(prefix) - {group.name}
        if others:
            raise PrefixConflict(f"datasets of other teams are already named under {prefix!r}")
        with _unique_name_guard("registry_dataset_prefix_ci", prefix):
            store.append(
                StreamRef(prefix_stream_id(prefix), ev.DATASET_PREFIX),
                NO_STREAM,
                [ev.DatasetPrefixClaimed(prefix=prefix, team_id=group.pk, team=group.name)],
                command_metadata(actor),
            )
    return DatasetPrefix.objects.get(id=prefix_stream_id(prefix))


def require_unclaimed_or_ours(name: str, group: Group) -> None:
    """A dataset name under another team's claimed prefix is refused."""
    claim = queries.claim_covering(name)
    if claim is not None and claim.team_id != group.pk:
        raise PrefixClaimed(f"the dataset name {name!r} falls under a prefix another team claimed")
