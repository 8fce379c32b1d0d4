"""Field shapes: declared on an event class, taken over by the states and inputs built from it."""

from __future__ import annotations

import dataclasses

import pytest

from core import shapes
from core.shapes import Shape, shaped_fields, with_fields_of
from registry import events as ev
from registry import rules
from registry.state import VersionState


def test_a_shape_of_an_unknown_kind_or_without_its_pattern_or_item_is_refused():
    with pytest.raises(ValueError, match="unknown shape kind"):
        Shape("colour")
    with pytest.raises(ValueError, match="needs a pattern"):
        Shape(shapes.PATTERN)
    with pytest.raises(ValueError, match="item shape"):
        Shape(shapes.LIST)
    with pytest.raises(ValueError, match="item shape"):
        Shape(shapes.TEXT, item=Shape(shapes.TEXT))
    with pytest.raises(ValueError, match="choices"):
        Shape(shapes.CHOICE)
    with pytest.raises(ValueError, match="choices"):
        Shape(shapes.TEXT, choices=("a", "b"))


def test_a_moment_or_a_choice_starts_empty_unless_null():
    assert Shape(shapes.DATETIME).empty == ""  # an event records a moment as ISO text
    assert Shape(shapes.DATETIME, null=True).empty is None
    assert Shape(shapes.CHOICE, choices=("a", "b")).empty == ""


def test_a_state_takes_the_events_shaped_fields_with_empty_defaults():
    state = VersionState()
    event_fields = {name for name, _ in shaped_fields(ev.ModelVersionCreated)}
    state_fields = {f.name for f in dataclasses.fields(VersionState)}
    assert event_fields <= state_fields
    assert (state.code_commit, state.artifact_size, state.parameters) == ("", None, {})
    assert state.training_datasets == ()  # a state holds its lists as tuples
    assert VersionState().tags is not state.tags  # each state has its own dict


def test_with_fields_of_keeps_the_fields_a_class_declares_itself():
    @dataclasses.dataclass(frozen=True)
    @with_fields_of(ev.ModelVersionCreated, exclude=("number",))
    class Draft:
        code_commit: str = "0000000"
        note: str = ""

    names = [f.name for f in dataclasses.fields(Draft)]
    assert "number" not in names
    assert names[-2:] == ["code_commit", "note"]
    assert Draft().code_commit == "0000000"


def test_the_commit_pattern_is_written_once_and_carried_by_the_event_field():
    field = {f.name: f for f in dataclasses.fields(ev.ModelVersionCreated)}["code_commit"]
    assert shapes.shape_of(field) is rules.CODE_COMMIT
    assert rules.CODE_COMMIT.pattern == rules.COMMIT.pattern
