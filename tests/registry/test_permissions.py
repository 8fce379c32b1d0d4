"""The one-query object permission check answers exactly what django-guardian answers."""

from __future__ import annotations

import itertools
import uuid

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

from registry.models import Dataset, RegisteredModel
from registry.permissions import has_object_perm
from tests.conftest import make_user

PERMS = [
    ("registry.change_registeredmodel", RegisteredModel),
    ("registry.view_registeredmodel", RegisteredModel),
    ("registry.change_dataset", Dataset),
]


@pytest.fixture
def world(db):
    """Users who hold a permission directly, through a group, through the wrong object, not at
    all, while inactive, or as superusers; and two objects of each kind."""
    group = Group.objects.create(name="holders")
    objects = {RegisteredModel: [uuid.uuid4(), uuid.uuid4()], Dataset: [uuid.uuid4()]}
    users = {
        "direct": make_user("direct"),
        "via-group": make_user("via-group", group),
        "other-object": make_user("other-object"),
        "nobody": make_user("nobody"),
        "inactive": make_user("inactive", group),
        "superuser": make_user("superuser", superuser=True),
    }
    users["inactive"].is_active = False
    users["inactive"].save()
    for perm, model in PERMS:
        first = model(id=objects[model][0])
        assign_perm(perm, users["direct"], first)
        assign_perm(perm, group, first)
        if len(objects[model]) > 1:
            assign_perm(perm, users["other-object"], model(id=objects[model][1]))
    return users, objects


def test_one_query_check_agrees_with_guardian_for_every_user_object_and_perm(world):
    from django.contrib.auth import get_user_model

    users, objects = world
    for (name, user), (perm, model) in itertools.product(users.items(), PERMS):
        for pk in [*objects[model], uuid.uuid4()]:
            fresh = get_user_model().objects.get(pk=user.pk)
            expected = fresh.is_active and fresh.has_perm(perm, model(id=pk))
            assert has_object_perm(fresh, perm, model, pk) == expected, (name, perm, pk)


def test_nobody_holds_anything_when_anonymous(world):
    from django.contrib.auth.models import AnonymousUser

    _, objects = world
    pk = objects[RegisteredModel][0]
    assert not has_object_perm(None, "registry.change_registeredmodel", RegisteredModel, pk)
    assert not has_object_perm(
        AnonymousUser(), "registry.change_registeredmodel", RegisteredModel, pk
    )
