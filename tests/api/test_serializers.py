"""Serializer shortcuts held to the plain way: LeanFields (fields cloned from a per-class
prototype) against DRF's deep copy of the declared fields, and the model list's one tier
lookup per page against each model's own lookup."""

from __future__ import annotations

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

import api.approvals.serializers
import api.governance.serializers
import api.lineage.serializers
import api.registry.serializers
from api.registry.serializers import ModelOutput
from api.serializers import LeanFields, StrictInput
from core.actors import Actor
from governance import commands as governance
from registry.models import RegisteredModel
from tests.api.conftest import client_for
from tests.approvals.conftest import INTAKE
from tests.conftest import make_user

MODULES = (
    api.approvals.serializers,
    api.governance.serializers,
    api.lineage.serializers,
    api.registry.serializers,
)


def _lean_classes() -> list[type[LeanFields]]:
    found, todo = [], [LeanFields]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__ in {m.__name__ for m in MODULES} and sub not in found:
                found.append(sub)
    return sorted(found, key=lambda c: (c.__module__, c.__name__))


def _plain(cls: type[LeanFields]) -> type[LeanFields]:
    """The same serializer with DRF's own get_fields: a deep copy of the declared fields."""
    return type(f"Plain{cls.__name__}", (cls,), {"get_fields": serializers.Serializer.get_fields})


def _validators(field) -> list:
    """Each validator's type and attributes (DRF's lazy messages compared as text)."""
    return [
        (type(v), {k: str(x) if k == "message" else x for k, x in vars(v).items() if k[0] != "_"})
        for v in field.validators
    ]


LEAN = _lean_classes()


def test_every_registry_output_and_strict_input_is_lean():
    assert ModelOutput in LEAN
    assert len([c for c in LEAN if issubclass(c, StrictInput)]) >= 10


@pytest.mark.parametrize("cls", LEAN, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_lean_fields_are_the_fields_a_deep_copy_gives(cls):
    lean, plain = cls().fields, _plain(cls)().fields
    assert list(lean) == list(plain)
    for name in lean:
        assert type(lean[name]) is type(plain[name]), name
        assert repr(lean[name]) == repr(plain[name]), name
        assert lean[name].field_name == plain[name].field_name == name
        assert lean[name].source_attrs == plain[name].source_attrs, name
        assert _validators(lean[name]) == _validators(plain[name]), name
    again = cls().fields
    for name in lean:
        assert again[name] is not lean[name]
        assert again[name].validators is not lean[name].validators or not lean[name].validators


def _inputs(cls) -> list[dict]:
    names = list(copy.deepcopy(cls._declared_fields))
    shapes = ["x", "", 1, -1, 2.5, True, None, ["a"], {"k": "v"}, "a" * 600, "0" * 64]
    bodies: list[dict] = [{}, {"no_such_field": 1}]
    bodies += [dict.fromkeys(names, value) for value in shapes]
    bodies += [{name: value} for name in names for value in shapes]
    return bodies


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cls",
    [c for c in LEAN if issubclass(c, StrictInput)],
    ids=lambda c: f"{c.__module__}.{c.__name__}",
)
def test_lean_inputs_validate_every_body_as_the_plain_serializer_does(cls):
    for body in _inputs(cls):
        lean, plain = cls(data=body), _plain(cls)(data=body)
        assert lean.is_valid() == plain.is_valid(), body
        assert lean.errors == plain.errors, body
        if not lean.errors:
            assert lean.validated_data == plain.validated_data, body


@pytest.mark.django_db
def test_model_list_tiers_are_each_models_own_tier_in_one_query(owner, team):
    api = client_for(owner)
    for name in ("alpha", "beta", "gamma", "delta"):
        response = api.post(
            "/api/v1/models/", {"name": name, "team": team.name, "description": ""}, format="json"
        )
        assert response.status_code == 201, response.content
    ids = dict(RegisteredModel.objects.values_list("name", "id"))
    officer = Actor.user(make_user("rafa-risk", superuser=True), auth_method="session")
    owner_actor = Actor.user(owner, auth_method="token")
    for name in ("alpha", "beta", "gamma"):  # delta stays unconfirmed
        governance.record_intake(actor=owner_actor, model_id=str(ids[name]), answers=INTAKE["low"])
        governance.assign_risk_tier(actor=officer, model_id=str(ids[name]))
    governance.assign_risk_tier(
        actor=officer, model_id=str(ids["beta"]), tier="high", reason="feeds credit decisions"
    )
    models = list(RegisteredModel.objects.order_by("name"))
    with CaptureQueriesContext(connection) as listed:
        page = ModelOutput(models, many=True).data
    one_by_one = [ModelOutput(model).data for model in models]
    assert page == one_by_one
    assert {row["name"]: row["risk_tier"] for row in page} == {
        "alpha": "low",
        "beta": "high",
        "delta": "",
        "gamma": "low",
    }
    assert len(listed.captured_queries) == 1
    assert ModelOutput(RegisteredModel.objects.none(), many=True).data == []
