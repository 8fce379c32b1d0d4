"""The API's serializers derive their fields from the shapes on the event classes."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from api import shapes as api_shapes
from api.approvals import serializers as a
from api.governance import serializers as g
from api.lineage import serializers as lin
from api.registry import serializers as s
from api.serializers import Integer, JsonObject, Pattern, Tags, Text
from boards import events as bev
from core import shapes
from core.shapes import Shape, shaped_fields
from governance import events as gev
from lineage import events as lev
from registry import events as ev


@pytest.mark.parametrize(
    ("serializer", "event", "excluded"),
    [
        (s.ModelCreateInput, ev.ModelRegistered, set()),
        (s.VersionCreateInput, ev.ModelVersionCreated, {"model_id", "number"}),
        (s.DatasetCreateInput, ev.DatasetRegistered, set()),
        (s.DatasetVersionCreateInput, ev.DatasetVersionCreated, {"dataset_id", "number"}),
    ],
)
def test_a_create_input_accepts_exactly_the_events_shaped_fields(serializer, event, excluded):
    expected = {name for name, _ in shaped_fields(event)} - excluded
    assert set(serializer().fields) == expected


@pytest.mark.parametrize(
    ("serializer", "event", "excluded", "own"),
    [
        (g.RiskTierInput, gev.RiskTierAssigned, set(), set()),
        (g.SuspensionInput, gev.ModelSuspended, set(), set()),
        (g.EvidenceCreateInput, gev.EvidenceAttached, set(), {"filename", "size"}),
        (g.WaiverInput, gev.EvidenceWaived, set(), set()),
        (g.ReviewCompleteInput, gev.ReviewCompleted, set(), set()),
        (g.FindingCloseInput, gev.FindingClosed, set(), set()),
        (g.FindingRiskAcceptInput, gev.FindingRiskAccepted, set(), set()),
        (g.FindingRemediationInput, gev.FindingRemediated, set(), set()),
        (g.IncidentCreateInput, gev.IncidentReported, set(), {"version"}),
        (g.AuthorityReportInput, gev.IncidentReportedToAuthority, set(), set()),
        (g.IncidentCloseInput, gev.IncidentClosed, set(), set()),
        (a.BoardCreateInput, bev.BoardCreated, set(), set()),
        (lin.EdgeCreateInput, lev.EdgeRecorded, {"edge_type"}, {"type"}),
    ],
)
def test_an_input_derived_from_an_event_accepts_its_shaped_fields_and_its_own(
    serializer, event, excluded, own
):
    expected = {name for name, _ in shaped_fields(event)} - excluded
    assert set(serializer().fields) == expected | own


@pytest.mark.parametrize(
    ("serializer", "event"),
    [
        (s.ModelOutput, ev.ModelRegistered),
        (s.VersionOutput, ev.ModelVersionCreated),
        (s.DatasetOutput, ev.DatasetRegistered),
        (s.DatasetVersionOutput, ev.DatasetVersionCreated),
    ],
)
def test_an_output_shows_every_shaped_field_of_its_event(serializer, event):
    assert {name for name, _ in shaped_fields(event)} <= set(serializer().fields)


def test_each_kind_maps_to_its_strict_input_field():
    pattern = api_shapes.input_field(Shape(shapes.PATTERN, pattern="^a+$", blank=True))
    assert isinstance(pattern, Pattern) and pattern.allow_blank and not pattern.required
    text = api_shapes.input_field(Shape(shapes.TEXT, max_length=5, required=True))
    assert isinstance(text, Text) and text.required and text.max_length == 5
    assert not api_shapes.input_field(Shape(shapes.TEXT, required=True), partial=True).required
    integer = api_shapes.input_field(Shape(shapes.INTEGER, min_value=0, null=True))
    assert isinstance(integer, Integer) and integer.min_value == 0 and not integer.allow_null
    assert isinstance(api_shapes.input_field(Shape(shapes.TAGS)), Tags)
    refs = api_shapes.input_field(Shape(shapes.LIST, item=Shape(shapes.TEXT), max_items=3))
    assert isinstance(refs.child, Text) and refs.max_length == 3


def test_the_newer_kinds_map_to_their_input_fields():
    text = api_shapes.input_field(Shape(shapes.TEXT, min_length=1, max_length=9, required=True))
    assert isinstance(text, Text) and text.min_length == 1 and text.max_length == 9
    moment = api_shapes.input_field(Shape(shapes.DATETIME, required=True, help_text="when"))
    assert isinstance(moment, serializers.DateTimeField) and moment.required
    assert moment.help_text == "when"
    choice = api_shapes.input_field(Shape(shapes.CHOICE, choices=("a", "b")))
    assert isinstance(choice, serializers.ChoiceField) and not choice.required
    assert list(choice.choices) == ["a", "b"]
    classes = api_shapes.input_field(
        Shape(
            shapes.LIST,
            item=Shape(shapes.CHOICE, choices=("x", "y")),
            min_items=1,
            max_items=2,
            required=True,
        )
    )
    assert isinstance(classes.child, serializers.ChoiceField)
    assert (classes.min_length, classes.max_length, classes.required) == (1, 2, True)
    summary = api_shapes.input_field(Shape(shapes.JSON, help_text="what it says"))
    assert isinstance(summary, JsonObject) and summary.help_text == "what it says"


def test_the_newer_kinds_map_to_their_output_fields():
    moment = api_shapes.output_field(Shape(shapes.DATETIME, null=True))
    assert isinstance(moment, serializers.DateTimeField) and moment.allow_null
    choice = api_shapes.output_field(Shape(shapes.CHOICE, choices=("a", "b")))
    assert isinstance(choice, serializers.ChoiceField)


def test_the_code_commit_pattern_is_validated_as_the_rule_says():
    body = s.VersionCreateInput(data={"code_commit": "NOT-HEX"})
    assert not body.is_valid()
    assert "code_commit" in body.errors
    assert s.VersionCreateInput(data={"code_commit": "abc1234"}).is_valid()
    assert s.VersionCreateInput(data={"code_commit": ""}).is_valid()


def test_a_serious_incident_input_takes_the_classes_shape_of_its_event():
    body = {
        "title": "t",
        "description": "d",
        "occurred_at": "2024-01-01T00:00:00Z",
        "became_aware_at": "2024-01-02T00:00:00Z",
    }
    assert not g.IncidentCreateInput(data={**body, "classes": []}).is_valid()
    assert not g.IncidentCreateInput(data={**body, "classes": ["minor"]}).is_valid()
    assert g.IncidentCreateInput(data={**body, "classes": ["death"]}).is_valid()
