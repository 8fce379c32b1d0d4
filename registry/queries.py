"""Reads the API and the admin share: current state from projections and folds, and any object
as it was at a log position or a time (folded from its events), and the ids of models and
datasets by name (from the read tables)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import CharField, Exists, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Lower
from guardian.models import GroupObjectPermission

from eventstore import store
from registry import permissions
from registry.errors import (
    DatasetNotFound,
    DatasetVersionNotFound,
    ModelNotFound,
    ModelVersionNotFound,
)
from registry.models import (
    Dataset,
    DatasetPrefix,
    DefaultTeam,
    RegisteredModel,
    UserPreferences,
)
from registry.rules import prefix_covers
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
from registry.streams import dataset_version_stream_id, version_stream_id


def model_id_for(name: str) -> uuid.UUID:
    # lower(name) is what the unique index holds, so this is an index lookup.
    row = (
        RegisteredModel.objects.alias(lowered=Lower("name"))
        .filter(lowered=Lower(Value(name)))
        .values_list("id", flat=True)
        .first()
    )
    if row is None:
        raise ModelNotFound(f"no model named {name!r}")
    return row


def dataset_id_for(name: str) -> uuid.UUID:
    row = (
        Dataset.objects.alias(lowered=Lower("name"))
        .filter(lowered=Lower(Value(name)))
        .values_list("id", flat=True)
        .first()
    )
    if row is None:
        raise DatasetNotFound(f"no dataset named {name!r}")
    return row


def get_model(
    name: str, *, up_to_position: int | None = None, as_of: datetime | None = None
) -> ModelState:
    model_id = model_id_for(name)
    state, _ = store.load(
        model_id, evolve_model, ModelState(), up_to_position=up_to_position, as_of=as_of
    )
    if not state.exists:
        raise ModelNotFound(f"model {name!r} did not exist yet at that point")
    return state


def get_version(
    name: str, number: int, *, up_to_position: int | None = None, as_of: datetime | None = None
) -> VersionState:
    model_id = model_id_for(name)
    state, _ = store.load(
        version_stream_id(model_id, number),
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
    dataset_id = dataset_id_for(name)
    state, _ = store.load(
        dataset_id, evolve_dataset, DatasetState(), up_to_position=up_to_position, as_of=as_of
    )
    if not state.exists:
        raise DatasetNotFound(f"dataset {name!r} did not exist yet at that point")
    return state


def get_dataset_version(
    name: str, number: int, *, up_to_position: int | None = None, as_of: datetime | None = None
) -> DatasetVersionState:
    dataset_id = dataset_id_for(name)
    state, _ = store.load(
        dataset_version_stream_id(dataset_id, number),
        evolve_dataset_version,
        DatasetVersionState(),
        up_to_position=up_to_position,
        as_of=as_of,
    )
    if not state.exists:
        raise DatasetVersionNotFound(f"dataset {name!r} has no version {number} at that point")
    return state


# -- teams and claimed prefixes --------------------------------------------------------------


def default_team(user: Any) -> Group | None:
    """The team the user chose to act for where a request names none, if the user still acts
    for it and it is still a team: a group change that records no event counts."""
    if user is None or user.pk is None:
        return None
    chosen = DefaultTeam.objects.filter(user_id=user.pk).first()
    group = Group.objects.filter(pk=chosen.team_id).first() if chosen is not None else None
    if group is None or permissions.is_role_group(group):
        return None
    return group if permissions.acts_for(user, group.pk) else None


def time_zone_of(user: Any) -> str | None:
    """The time zone the user chose to read times in (an IANA name), or None for the server's."""
    if user is None or user.pk is None:
        return None
    return (
        UserPreferences.objects.filter(user_id=user.pk).values_list("time_zone", flat=True).first()
    )


def prefix_claims_over(name: str) -> list[DatasetPrefix]:
    """The claims whose prefix covers the name, or that the name (as a prefix) covers."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM registry_datasetprefix WHERE starts_with(lower(%s), lower(prefix))"
            " OR starts_with(lower(prefix), lower(%s)) ORDER BY prefix",
            [name, name],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return list(DatasetPrefix.objects.filter(id__in=ids))


def claim_covering(name: str) -> DatasetPrefix | None:
    """The claim a dataset name falls under (claims never overlap, so at most one)."""
    return next((c for c in prefix_claims_over(name) if prefix_covers(c.prefix, name)), None)


def dataset_teams_under(prefix: str) -> set[str]:
    """The teams of the datasets registered under a prefix."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT team FROM registry_dataset WHERE starts_with(lower(name), lower(%s))",
            [prefix],
        )
        return {row[0] for row in cursor.fetchall()}


def owned_model_ids(user) -> QuerySet:
    """Ids of the models whose change grant a group of the user holds, matched by group id
    (the owning team, whatever its name is now or was when the model was registered)."""
    if user is None or user.pk is None:
        return RegisteredModel.objects.none().values("id")
    granted = GroupObjectPermission.objects.filter(
        group_id__in=user.groups.values("id"),
        permission__codename="change_registeredmodel",
        content_type__app_label="registry",
        content_type__model="registeredmodel",
        object_pk=Cast(OuterRef("id"), CharField()),
    )
    return RegisteredModel.objects.filter(Exists(granted)).values("id")


# -- names for lists ---------------------------------------------------------------------------


def with_model_names(queryset: QuerySet, model_field: str = "model_id") -> QuerySet:
    """The rows with `model_name`: the name of the registered model `model_field` holds, so a
    list shows names, not UUIDs, in one query."""
    names = RegisteredModel.objects.filter(id=OuterRef(model_field)).values("name")[:1]
    return queryset.annotate(model_name=Subquery(names))


def with_dataset_names(queryset: QuerySet, dataset_field: str = "dataset_id") -> QuerySet:
    names = Dataset.objects.filter(id=OuterRef(dataset_field)).values("name")[:1]
    return queryset.annotate(dataset_name=Subquery(names))
