"""Shared serializer pieces: strict input (unknown fields are errors) and the problem body."""

from __future__ import annotations

import copy
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import Field

from eventstore import catalog


def _clone(field: Field) -> Field:
    """A fresh, unbound copy of an unbound field: its attributes copied, not its __init__ rerun."""
    if isinstance(field, serializers.BaseSerializer):
        return copy.deepcopy(field)
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    if "_validators" in clone.__dict__:  # a list that code may append to: one per clone
        clone._validators = list(clone._validators)
    child = field.__dict__.get("child")
    if isinstance(child, Field):
        # The child was bound to the prototype by the field's __init__; only its parent differs.
        clone.child = _clone(child)
        clone.child.parent = clone
    return clone


# Fields copied from a per-class prototype instead of DRF's deep copy of the declared fields,
# which reruns every field's __init__ on each serializer instance (measured: about a tenth of a
# create request's CPU). Each instance still gets its own field objects to bind, so the fields,
# their validation and the OpenAPI schema are those of a plain Serializer. (A comment, not a
# docstring: drf-spectacular would publish a docstring as every subclass's description.)
class LeanFields(serializers.Serializer):
    def get_fields(self) -> dict[str, Field]:
        cls = type(self)
        prototype = cls.__dict__.get("_field_prototype")
        if prototype is None:
            prototype = copy.deepcopy(self._declared_fields)
            cls._field_prototype = prototype
        return {name: _clone(field) for name, field in prototype.items()}


class StrictInput(LeanFields):
    """Input serializers refuse fields they do not know instead of silently dropping them."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["This field is not accepted here."] for name in unknown}
                )
        return super().to_internal_value(data)


class ProblemFieldError(serializers.Serializer):
    field = serializers.CharField()
    message = serializers.CharField()
    code = serializers.CharField()


class Problem(serializers.Serializer):
    """RFC 9457 problem details, with a stable machine-readable `code`."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    instance = serializers.CharField(required=False)
    errors = ProblemFieldError(many=True, required=False)
    expected_version = serializers.IntegerField(required=False, allow_null=True)
    current_version = serializers.IntegerField(required=False, allow_null=True)


class Text(serializers.CharField):
    """A string and only a string: numbers and booleans are not quietly turned into text, and
    the text is kept as sent (no silent trimming that the schema could not describe)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class Integer(serializers.IntegerField):
    """A JSON integer and only that: "12", 12.5 and true are not quietly taken as numbers."""

    def to_internal_value(self, data: Any) -> int:
        # JSON (and JSON Schema) has one number type: 58.0 is the integer 58, 58.5 is not.
        if isinstance(data, float) and data.is_integer():
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class Pattern(serializers.RegexField):
    """A string matching a pattern; like Text, never a number or boolean turned into text and
    never trimmed: the pattern judges exactly what was sent."""

    def __init__(self, regex: Any, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(regex, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "type": "object",
        "maxProperties": 50,
        "propertyNames": {"minLength": 1, "maxLength": 100},
        "additionalProperties": {"type": "string", "maxLength": 500},
    }
)
class Tags(serializers.DictField):
    child = Text(max_length=500, allow_blank=True)

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if len(value) > 50:
            raise serializers.ValidationError("at most 50 tags")
        for key in value:
            if not 1 <= len(key) <= 100:
                raise serializers.ValidationError("tag keys are 1-100 characters")
        return value


@extend_schema_field({"$ref": "#/components/schemas/JsonObject"})
class JsonObject(serializers.DictField):
    """A JSON object the ledger can hash exactly: numbers within +-(2**53 - 1), no NaN."""


SHA256_HEX_OUTPUT = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


class EventOutput(serializers.Serializer):
    """One event of an object's history."""

    position = serializers.IntegerField(help_text="Global position in the log")
    version = serializers.IntegerField(help_text="Version within the object's stream: 1, 2, ...")
    type = serializers.CharField()
    schema_version = serializers.IntegerField()
    data = serializers.DictField(help_text="The event's payload, as recorded")
    metadata = serializers.DictField(help_text="Actor, request and correlation ids, ...")
    occurred_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    hash = serializers.SerializerMethodField()
    prev_hash = serializers.SerializerMethodField(
        help_text="The previous event's hash; 64 zeros for the first event"
    )

    redacted = serializers.SerializerMethodField(
        help_text="The fields shown as null (`data.<field>`, `metadata.<field>`): the reader "
        "is not party to the object (its owning team, boards, officers, auditors), so storage "
        "paths, evidence summaries "
        "and the ids of its governance record are withheld. Such an entry cannot be re-hashed "
        "by its reader; `hash` and `prev_hash` still place it in the chain"
    )

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_redacted(self, event: Any) -> list[str]:
        if not self.context.get("redact", False):
            return []
        return catalog.sensitive_paths(event.type, event.data, event.metadata)

    def to_representation(self, instance: Any) -> Any:
        shown = super().to_representation(instance)
        return catalog.redacted(shown, shown["redacted"]) if shown["redacted"] else shown

    @extend_schema_field(SHA256_HEX_OUTPUT)
    def get_hash(self, event: Any) -> str:
        return bytes(event.hash).hex()

    @extend_schema_field(SHA256_HEX_OUTPUT)
    def get_prev_hash(self, event: Any) -> str:
        return bytes(event.prev_hash).hex()
