"""Lineage fixtures: registered models, versions and datasets made through the commands."""

from __future__ import annotations

import pytest

from registry import commands
from registry.commands import DatasetVersionInput, VersionInput
from tests.conftest import make_user


@pytest.fixture
def auditor(db):
    from django.contrib.auth.models import Group

    # The data migration made the group; tests that commit flush it, so it is made again here.
    group, _ = Group.objects.get_or_create(name="auditors")
    return make_user("ada-auditor", group)


@pytest.fixture
def owner(team):
    """The owner, with fraud-ml as the default team their clients act for (OpenLineage's
    datasets first seen and the runs they report are fraud-ml's)."""
    from core.actors import Actor

    user = make_user("olivia-owner", team)
    commands.choose_default_team(
        actor=Actor.user(user, auth_method="token"), user_id=user.pk, team=team.name
    )
    return user


@pytest.fixture
def ledger(owner_actor):
    """A small world: two dataset versions, a model trained on one, evaluated on the other."""

    class World:
        actor = owner_actor

        def dataset(self, name: str, versions: int = 1) -> list[str]:
            ds = commands.register_dataset(actor=owner_actor, name=name, team="fraud-ml")
            for i in range(versions):
                commands.create_dataset_version(
                    actor=owner_actor,
                    dataset_id=ds.id,
                    data=DatasetVersionInput(uri=f"s3://lake/{name}/{i + 1}"),
                )
            return [f"dataset:{name}@{i + 1}" for i in range(versions)]

        def model(self, name: str, versions: int = 1, **data) -> list[str]:
            model = commands.register_model(actor=owner_actor, name=name, team="fraud-ml")
            for _ in range(versions):
                commands.create_model_version(
                    actor=owner_actor, model_id=model.id, data=VersionInput(**data)
                )
            return [f"model:{name}@{i + 1}" for i in range(versions)]

    return World()


@pytest.fixture
def owner_api(owner):
    from tests.api.conftest import client_for

    return client_for(owner)
