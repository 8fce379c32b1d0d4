"""Who may change what: the owning team (a Django group) holds object permissions granted with
django-guardian when a model or dataset is registered; superusers may do anything."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm, remove_perm

from registry.errors import NotOwner, UnknownTeam
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
    if user is None or not (
        user.is_superuser
        or user.has_perm("registry.change_registeredmodel", RegisteredModel(id=model_id))
    ):
        raise NotOwner("only the owning team can change this model")


def require_change_dataset(user: Any, dataset_id: str) -> None:
    if user is None or not (
        user.is_superuser or user.has_perm("registry.change_dataset", Dataset(id=dataset_id))
    ):
        raise NotOwner("only the owning team can change this dataset")


def is_member(user: Any, team: str) -> bool:
    return user is not None and user.groups.filter(name=team).exists()
