"""Serializers of the lineage API: strict edge input, node and edge outputs, traversal forms."""

from __future__ import annotations

import base64

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.lineage.openlineage import MAX_DATASETS, RUN_EVENT_TYPES
from api.schema import NUL_FREE
from api.serializers import Pattern, Text
from api.shapes import input_field, input_of
from lineage import events as ev
from lineage import rules
from registry import rules as registry_rules


class EdgeCreateInput(input_of(ev.EdgeRecorded, exclude=("edge_type",))):
    type = input_field(rules.EDGE_TYPE)  # the event's edge_type, named "type" in the API


class EdgeOutput(serializers.Serializer):
    id = serializers.UUIDField()
    source = serializers.CharField()
    target = serializers.CharField()
    type = serializers.CharField(source="edge_type")
    position = serializers.IntegerField(allow_null=True)
    recorded_at = serializers.DateTimeField(required=False)


class EdgeCreatedOutput(serializers.Serializer):
    id = serializers.UUIDField()
    source = serializers.CharField()
    target = serializers.CharField()
    type = serializers.CharField(source="edge_type")
    position = serializers.IntegerField(allow_null=True)
    created = serializers.BooleanField(help_text="false when the edge was already recorded")


class NodeOutput(serializers.Serializer):
    id = serializers.CharField(help_text="The node's name, e.g. model:fraud@3")
    kind = serializers.ChoiceField(choices=rules.NODE_KINDS)
    depth = serializers.IntegerField(help_text="Edges from the start node (0 for the start)")


class TraversalEdgeOutput(serializers.Serializer):
    source = serializers.CharField()
    target = serializers.CharField()
    type = serializers.CharField()
    position = serializers.IntegerField()
    recorded_at = serializers.DateTimeField()


class TraversalOutput(serializers.Serializer):
    """form=flat: `nodes` only, each with its depth; form=graph adds the `edges` between them."""

    root = serializers.CharField()
    direction = serializers.CharField()
    depth = serializers.IntegerField()
    limit = serializers.IntegerField(help_text="The most nodes the walk keeps")
    truncated = serializers.BooleanField(
        help_text="true when the walk stopped at its limit before its depth: ask for less"
        " depth, fewer edge types or a higher limit"
    )
    nodes = NodeOutput(many=True)
    edges = TraversalEdgeOutput(many=True, required=False)


class RunEventAccepted(serializers.Serializer):
    run = serializers.CharField()
    event_type = serializers.CharField()
    inputs = serializers.ListField(child=serializers.CharField())
    outputs = serializers.ListField(child=serializers.CharField())
    edges = serializers.IntegerField()


# OpenLineage RunEvents: the members the ledger reads are checked; anything else the spec
# allows (schemaURL, facets of every kind) is accepted and passed on.


def _dataset_part(limit: int) -> str:
    """The characters a dataset name allows; namespace + "/" + name fit its 500."""
    return f"^{rules.DATASET_CHAR}{{1,{limit}}}$"


class RunBody(serializers.Serializer):
    runId = Pattern(rules.RUN_ID.pattern, max_length=200)
    facets = serializers.DictField(required=False)


class JobBody(serializers.Serializer):
    namespace = Text(max_length=500)
    name = Text(max_length=500)
    facets = serializers.DictField(required=False)


@extend_schema_field(
    {
        "type": "object",
        "description": "OpenLineage dataset facets, passed over except for what the ledger "
        "reads. version.datasetVersion is read from every dataset and stored as text (a "
        "string or number; other types are passed over). dataSource.uri and the names and "
        "types of schema.fields are read only when the event creates a dataset version, and "
        "are then refused if they hold NUL or are too long (2000 and 500 characters).",
        "properties": {
            "version": {
                # No "type": a member of another type is passed over, not refused.
                "properties": {"datasetVersion": {"maxLength": 200, "pattern": NUL_FREE}}
            },
        },
        "additionalProperties": {},
    }
)
class DatasetFacets(serializers.DictField):
    """The facets of an OpenLineage dataset, described as far as the ledger always reads them."""


class DatasetBody(serializers.Serializer):
    namespace = Pattern(_dataset_part(249), max_length=249)
    name = Pattern(_dataset_part(250), max_length=250)
    facets = DatasetFacets(required=False)


class RunEventBody(serializers.Serializer):
    eventType = serializers.ChoiceField(choices=RUN_EVENT_TYPES, required=False)
    eventTime = Text(max_length=64)
    run = RunBody()
    job = JobBody()
    producer = Text(max_length=2000, required=False)
    inputs = serializers.ListField(child=DatasetBody(), max_length=MAX_DATASETS, required=False)
    outputs = serializers.ListField(child=DatasetBody(), max_length=MAX_DATASETS, required=False)


class PublishedKeyOutput(serializers.Serializer):
    key_id = serializers.CharField(help_text="First 16 hex digits of the key's SHA-256")
    public_key = serializers.CharField(help_text="Base64 of the raw 32-byte Ed25519 public key")
    current = serializers.BooleanField(help_text="true for the key that signs new checkpoints")


class CheckpointOutput(serializers.Serializer):
    origin = serializers.CharField()
    tree_size = serializers.IntegerField(help_text="Leaves (events) in the signed Merkle tree")
    root = serializers.CharField(help_text="The RFC 6962 root, hex")
    note = serializers.CharField(help_text="The signed text: <origin>\\n<size>\\n<base64 root>\\n")
    signature = serializers.CharField(help_text="Base64 Ed25519 signature of the note")
    key_id = serializers.CharField(help_text="Which key signed the note")
    public_key = serializers.CharField(
        allow_null=True,
        help_text="Base64 Ed25519 public key that signed it (null if no longer trusted)",
    )
    created_at = serializers.DateTimeField()
    keys = PublishedKeyOutput(
        many=True,
        help_text="Every key whose checkpoints verify: the current one, then LEDGER_TRUSTED_KEYS;"
        " auditors pin each with verify.py --public-key",
    )


@extend_schema_field({"type": "string", "pattern": "^[0-9a-f]{64}$"})
class HexDigest(serializers.Field):
    def to_representation(self, value) -> str:
        return bytes(value).hex()


@extend_schema_field({"type": "string", "format": "byte"})
class Base64Bytes(serializers.Field):
    def to_representation(self, value) -> str:
        return base64.b64encode(bytes(value)).decode()


class SignedCheckpointOutput(serializers.Serializer):
    """A stored checkpoint as signed: verify `signature` over `note` with the key `key_id`
    names (GET /api/v1/checkpoints/latest/ publishes the keys)."""

    origin = serializers.CharField()
    tree_size = serializers.IntegerField(help_text="Leaves (events) in the signed Merkle tree")
    root = HexDigest(source="root_hash", help_text="The RFC 6962 root, hex")
    note = serializers.CharField(
        help_text="The signed text: <origin>\\n<size>\\n<base64 root>\\n, possibly followed by"
        " extension lines"
    )
    signature = Base64Bytes(help_text="Base64 Ed25519 signature of the note")
    key_id = serializers.CharField(help_text="Which key signed the note")
    created_at = serializers.DateTimeField()


class CheckpointConsistencyOutput(serializers.Serializer):
    first = SignedCheckpointOutput(help_text="The older checkpoint")
    second = SignedCheckpointOutput(help_text="The newer checkpoint")
    proof = serializers.ListField(
        child=serializers.CharField(),
        help_text="RFC 6962 consistency proof from first to second, hex nodes (RFC 9162"
        " section 2.1.4.2 verifies it); empty when the sizes are equal",
    )


# Teams: the default team a user's clients act for, and claimed dataset name prefixes.


class DefaultTeamInput(serializers.Serializer):
    team = Text(max_length=150)


class DefaultTeamOutput(serializers.Serializer):
    user = serializers.CharField(help_text="The user's name")
    team = serializers.CharField(
        allow_null=True, help_text="The default team, null when none is chosen or usable"
    )


class DatasetPrefixInput(serializers.Serializer):
    prefix = Pattern(registry_rules.DATASET_PREFIX.pattern, max_length=500)
    team = Text(max_length=150)


class DatasetPrefixOutput(serializers.Serializer):
    prefix = serializers.CharField()
    team = serializers.CharField()
    created_at = serializers.DateTimeField()
