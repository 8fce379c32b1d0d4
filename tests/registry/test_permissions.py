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


@pytest.fixture
def named_models(db):
    """Two registered models of one team, users with every kind of standing towards the first,
    and a direct grant on the second."""
    from core.actors import Actor
    from registry import commands

    group = Group.objects.create(name="fraud-ml")
    registrar = make_user("registrar", group)
    actor = Actor.user(registrar, auth_method="token")
    first = commands.register_model(actor=actor, name="Fraud-Detector", team="fraud-ml")
    second = commands.register_model(actor=actor, name="churn", team="fraud-ml")
    users = {
        "member": make_user("member", group),
        "outsider": make_user("outsider"),
        "inactive": make_user("inactive-member", group),
        "superuser": make_user("root", superuser=True),
        "direct": make_user("direct-grant"),
    }
    users["inactive"].is_active = False
    users["inactive"].save()
    assign_perm("registry.change_registeredmodel", users["direct"], RegisteredModel(id=second.id))
    return users, uuid.UUID(first.id), uuid.UUID(second.id)


def test_model_to_change_agrees_with_lookup_and_check_for_every_user(named_models):
    from django.contrib.auth import get_user_model

    from registry.errors import NotOwner
    from registry.permissions import model_to_change
    from registry.queries import model_id_for

    users, first, second = named_models
    for name, user in users.items():
        fresh = get_user_model().objects.get(pk=user.pk)
        for model_name, model_id in [("fraud-detector", first), ("CHURN", second)]:
            assert model_id_for(model_name) == model_id
            allowed = has_object_perm(
                fresh, "registry.change_registeredmodel", RegisteredModel, model_id
            )
            if allowed:
                assert model_to_change(fresh, model_name) == model_id, (name, model_name)
            else:
                with pytest.raises(NotOwner):
                    model_to_change(fresh, model_name)
    assert model_to_change(users["member"], "Fraud-Detector") == first
    assert model_to_change(users["direct"], "churn") == second
    with pytest.raises(NotOwner):
        model_to_change(users["direct"], "fraud-detector")
    with pytest.raises(NotOwner):
        model_to_change(users["inactive"], "fraud-detector")


def test_model_to_change_is_not_found_before_forbidden_when_no_model_has_the_name(named_models):
    from django.contrib.auth.models import AnonymousUser

    from registry.errors import ModelNotFound
    from registry.permissions import model_to_change

    users, _, _ = named_models
    for user in [*users.values(), AnonymousUser(), None]:
        with pytest.raises(ModelNotFound):
            model_to_change(user, "no-such-model")
