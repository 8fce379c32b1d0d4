"""Who may change what: the owning team (a Django group) holds object permissions granted with
django-guardian when a model or dataset is registered; superusers may do anything."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import Group
from django.db import connection, models
from guardian.shortcuts import assign_perm, remove_perm

from registry import rules
from registry.errors import ModelNotFound, NotATeam, NotOwner, UnknownTeam
from registry.models import Dataset, RegisteredModel

MODEL_PERMS = ("registry.change_registeredmodel", "registry.view_registeredmodel")
DATASET_PERMS = ("registry.change_dataset", "registry.view_dataset")


def team_group(team: str) -> Group:
    try:
        return Group.objects.get(name=team)
    except Group.DoesNotExist:
        raise UnknownTeam(f"there is no team named {team!r}") from None


def require_member(user: Any, team: str) -> Group:
    """The team's group, if the user may act for it (member or superuser)."""
    group = team_group(team)
    if user is not None and (user.is_superuser or user.groups.filter(pk=group.pk).exists()):
        return group
    raise NotOwner(f"only members of team {team!r} can register for it")


def grant_team(group: Group, obj: Any, perms: tuple[str, ...]) -> None:
    for perm in perms:
        assign_perm(perm, group, obj)


def revoke_team(group: Group, obj: Any, perms: tuple[str, ...]) -> None:
    for perm in perms:
        remove_perm(perm, group, obj)


def require_change_model(user: Any, model_id: str) -> None:
    if not has_object_perm(user, "registry.change_registeredmodel", RegisteredModel, model_id):
        raise NotOwner("only the owning team can change this model")


def require_change_dataset(user: Any, dataset_id: str) -> None:
    if not has_object_perm(user, "registry.change_dataset", Dataset, dataset_id):
        raise NotOwner("only the owning team can change this dataset")


# Whether the user holds a guardian object permission, directly or through a group, in one
# indexed query. guardian's own checker answers the same question with several ORM queries per
# call, which on the write path cost more than the append itself. {pk} is the object's key as
# guardian stores it (text).
_HOLDS = """
    EXISTS (
        SELECT 1 FROM guardian_groupobjectpermission AS granted
          JOIN auth_user_groups AS membership ON membership.group_id = granted.group_id
          JOIN auth_permission AS perm ON perm.id = granted.permission_id
          JOIN django_content_type AS kind ON kind.id = granted.content_type_id
         WHERE membership.user_id = %(user)s AND granted.object_pk = {pk}
           AND perm.codename = %(codename)s AND kind.app_label = %(app)s AND kind.model = %(model)s
        UNION ALL
        SELECT 1 FROM guardian_userobjectpermission AS granted
          JOIN auth_permission AS perm ON perm.id = granted.permission_id
          JOIN django_content_type AS kind ON kind.id = granted.content_type_id
         WHERE granted.user_id = %(user)s AND granted.object_pk = {pk}
           AND perm.codename = %(codename)s AND kind.app_label = %(app)s AND kind.model = %(model)s
    )
"""
_HOLDS_OBJECT_PERM = "SELECT " + _HOLDS.format(pk="%(pk)s")
# A model found by name (lower(name) is what the unique index holds) and whether the user may
# change it, in one round trip: the create-version request's lookup and permission check.
_MODEL_NAMED_AND_CHANGEABLE = (
    "SELECT model.id, %(anyone)s OR "
    + _HOLDS.format(pk="model.id::text")
    + " FROM registry_registeredmodel AS model WHERE lower(model.name) = lower(%(name)s)"
)


def _perm_params(user: Any, perm: str, model: type[models.Model]) -> dict[str, Any]:
    app_label, codename = perm.split(".", 1)
    return {
        "user": getattr(user, "pk", None),
        "codename": codename,
        "app": app_label,
        "model": model._meta.model_name,
    }


def _may_hold_perms(user: Any) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def has_object_perm(user: Any, perm: str, model: type[models.Model], pk: Any) -> bool:
    """guardian's answer to user.has_perm(perm, obj) for an active user, superusers included."""
    if not _may_hold_perms(user):
        return False
    if user.is_superuser:
        return True
    with connection.cursor() as cursor:
        cursor.execute(_HOLDS_OBJECT_PERM, {**_perm_params(user, perm, model), "pk": str(pk)})
        return bool(cursor.fetchone()[0])


def model_to_change(user: Any, name: str) -> uuid.UUID:
    """The id of the model named `name` (any case), if the user may change it: one query for
    what model_id_for and require_change_model ask in two. ModelNotFound, then NotOwner."""
    active = _may_hold_perms(user)
    params = {
        **_perm_params(user, "registry.change_registeredmodel", RegisteredModel),
        # Without an active account nothing is granted (a NULL user matches no grant), but a
        # missing model is still a 404 first, for everyone.
        "user": user.pk if active else None,
        "name": name,
        "anyone": active and bool(user.is_superuser),
    }
    with connection.cursor() as cursor:
        cursor.execute(_MODEL_NAMED_AND_CHANGEABLE, params)
        row = cursor.fetchone()
    if row is None:
        raise ModelNotFound(f"no model named {name!r}")
    if not row[1]:
        raise NotOwner("only the owning team can change this model")
    return row[0]


def is_role_group(group: Group) -> bool:
    """A group that holds a role (a board's members, the auditors, officers holding a
    permission on a whole kind of object) rather than owning models and datasets."""
    return rules.is_role_group_name(group.name) or group.permissions.exists()


def require_team(group: Group) -> Group:
    if is_role_group(group):
        raise NotATeam(f"{group.name!r} holds a role: models and datasets belong to teams")
    return group


def acts_for(user: Any, group_id: int) -> bool:
    """Whether the user may act for the group with this id (a member, or a superuser)."""
    if not _may_hold_perms(user):
        return False
    return bool(user.is_superuser or user.groups.filter(pk=group_id).exists())


def is_member(user: Any, team: str) -> bool:
    return user is not None and user.groups.filter(name=team).exists()
