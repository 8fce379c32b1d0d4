"""Serializer fields derived from the shapes declared on event classes (core.shapes), so a
field's name, type and limits are written once, on its event, and the API's input and output
follow it.

    class VersionCreateInput(input_of(ev.ModelVersionCreated, exclude=("model_id", "number"))):
        pass

    class VersionOutput(output_of(ev.ModelVersionCreated)):
        status = serializers.CharField()  # fields the event does not record

The generated base class has no docstring, so the schema's description stays the one the
serializer would have had (StrictInput's, or none)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.fields import Field

from api.serializers import Integer, JsonObject, LeanFields, Pattern, StrictInput, Tags, Text
from core import shapes
from core.shapes import Shape


def input_field(shape: Shape, *, partial: bool = False) -> Field:
    """The strict input field of a shape; `partial` (an update) makes every field optional."""
    optional: dict[str, Any] = {} if shape.required and not partial else {"required": False}
    if shape.help_text:
        optional["help_text"] = shape.help_text
    match shape.kind:
        case shapes.TEXT | shapes.PATTERN:
            kwargs: dict[str, Any] = dict(optional)
            if shape.min_length is not None:
                kwargs["min_length"] = shape.min_length
            if shape.max_length is not None:
                kwargs["max_length"] = shape.max_length
            if shape.blank:
                kwargs["allow_blank"] = True
            if shape.kind == shapes.TEXT:
                return Text(**kwargs)
            return Pattern(shape.pattern, **kwargs)
        case shapes.INTEGER:
            return Integer(min_value=shape.min_value, max_value=shape.max_value, **optional)
        case shapes.JSON:
            return JsonObject(**optional)
        case shapes.TAGS:
            return Tags(required=False)
        case shapes.LIST:
            assert shape.item is not None
            child = input_field(shape.item)
            if shape.min_items is not None:
                optional["min_length"] = shape.min_items
            return serializers.ListField(child=child, max_length=shape.max_items, **optional)
        case shapes.UUID:
            return serializers.UUIDField(**optional)
        case shapes.BOOLEAN:
            return serializers.BooleanField(**optional)
        case shapes.DATETIME:
            return serializers.DateTimeField(**optional)
        case shapes.CHOICE:
            return serializers.ChoiceField(choices=shape.choices, **optional)
    raise ValueError(f"no input field for shape kind {shape.kind}")


def output_field(shape: Shape) -> Field:
    """The output field of a shape, as the API has always described it."""
    match shape.kind:
        case shapes.TEXT | shapes.PATTERN:
            return serializers.CharField()
        case shapes.INTEGER:
            return serializers.IntegerField(allow_null=shape.null)
        case shapes.JSON:
            return serializers.DictField()
        case shapes.TAGS:
            return serializers.DictField(child=serializers.CharField())
        case shapes.LIST:
            return serializers.ListField(child=serializers.CharField())
        case shapes.UUID:
            return serializers.UUIDField()
        case shapes.BOOLEAN:
            return serializers.BooleanField()
        case shapes.DATETIME:
            return serializers.DateTimeField(allow_null=shape.null)
        case shapes.CHOICE:
            return serializers.ChoiceField(choices=shape.choices)
    raise ValueError(f"no output field for shape kind {shape.kind}")


def input_of(
    source: type, *, exclude: tuple[str, ...] = (), partial: bool = False
) -> type[StrictInput]:
    """A StrictInput base holding the input fields of `source`'s shaped fields."""
    fields = {
        name: input_field(shape, partial=partial)
        for name, shape in shapes.shaped_fields(source, exclude=exclude)
    }
    return _base(f"{source.__name__}Input", StrictInput, fields)


def output_of(source: type, *, exclude: tuple[str, ...] = ()) -> type[LeanFields]:
    """A LeanFields base holding the output fields of `source`'s shaped fields."""
    fields = {
        name: output_field(shape) for name, shape in shapes.shaped_fields(source, exclude=exclude)
    }
    return _base(f"{source.__name__}Output", LeanFields, fields)


def _base(name: str, parent: type, fields: dict[str, Field]) -> Any:
    return type(f"_{name}Fields", (parent,), {**fields, "__doc__": None, "__module__": __name__})
