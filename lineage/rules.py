"""Pure rules of lineage: node names, which edge types join which kinds of node, and which edge
types may close a cycle. Nothing here imports Django."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from core.shapes import CHOICE, PATTERN, Shape
from lineage.errors import InvalidEdge, InvalidNode, SelfLoop
from registry.rules import _NAME_CHAR as DATASET_CHAR
from registry.rules import NAME_PATTERN as MODEL_NAME

NAMESPACE = uuid.UUID("0b6b7f5e-51d6-4c59-8f0e-3f1b0c7a2d44")
MODEL, DATASET, DATASET_VERSION, RUN = "model", "dataset", "dataset_version", "run"
DATASETS = frozenset({DATASET, DATASET_VERSION})
NODE_KINDS = (MODEL, DATASET, DATASET_VERSION, RUN)

# Edges point the way data flows: source is upstream of target. "fine_tuned_from" runs from the
# base model to the model fine-tuned from it; "consumed" from the input to the run.
EDGE_KINDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "trained_on": (DATASETS, frozenset({MODEL})),
    "evaluated_on": (DATASETS, frozenset({MODEL})),
    "validated_on": (DATASETS, frozenset({MODEL})),
    "fine_tuned_from": (frozenset({MODEL}), frozenset({MODEL})),
    "distilled_from": (frozenset({MODEL}), frozenset({MODEL})),
    "ensembled_from": (frozenset({MODEL}), frozenset({MODEL})),
    "derived_from": (DATASETS, DATASETS),
    "produced": (frozenset({RUN}), DATASETS | {MODEL}),
    "consumed": (DATASETS | {MODEL}, frozenset({RUN})),
}
EDGE_TYPES = tuple(EDGE_KINDS)
# Model ancestry and dataset derivation are histories: a cycle in them is an error. A run may
# read and write the same dataset, so cycles through runs are allowed.
ACYCLIC_TYPES = frozenset({"fine_tuned_from", "distilled_from", "ensembled_from", "derived_from"})
MAX_DEPTH = 100
# A traversal's node limit (the API's `limit`): the default and the most a client may ask for.
DEFAULT_NODES, MAX_NODES = 1000, 10000
LIMIT_TEXT = re.compile(r"^[0-9]{1,5}$")
# Validation patterns, each written once: the API's serializers and query parameters use these.
# A node name is built from the registry's model and dataset names, a version number and a run
# id (printable ASCII without spaces).
_MODEL_NAME = MODEL_NAME.pattern.removeprefix("^").removesuffix("$")
_NUMBER = "[1-9][0-9]{0,9}"
_RUN = "[!-~]{1,200}"
RUN_ID = re.compile(f"^{_RUN}$")
_MODEL = re.compile(f"^model:(?P<name>{_MODEL_NAME})@(?P<n>{_NUMBER})$")
_DATASET = re.compile(f"^dataset:(?P<name>{DATASET_CHAR}{{1,500}})(?:@(?P<n>{_NUMBER}))?$")
# The same rules as one pattern in the dialect OpenAPI uses (no named groups).
NODE_PATTERN = (
    f"^(model:{_MODEL_NAME}@{_NUMBER}|dataset:{DATASET_CHAR}{{1,500}}(@{_NUMBER})?|run:{_RUN})$"
)
# The depth query parameter: up to three digits (check_depth bounds the number).
DEPTH_TEXT = re.compile(r"^[0-9]{1,3}$")


@dataclass(frozen=True)
class NodeRef:
    """A parsed node name: its kind, the model or dataset name, the version number or run id."""

    kind: str
    name: str
    number: int | None = None

    @property
    def key(self) -> str:
        if self.kind == RUN:
            return f"run:{self.name}"
        prefix = "model" if self.kind == MODEL else "dataset"
        return f"{prefix}:{self.name}" + (f"@{self.number}" if self.number else "")


def parse_node(text: object) -> NodeRef:
    if not isinstance(text, str):
        raise InvalidNode("a node is a string such as model:<name>@<version>")
    if match := _MODEL.match(text):
        return NodeRef(MODEL, match["name"], int(match["n"]))
    if match := _DATASET.match(text):
        number = match["n"]
        if number is None:
            return NodeRef(DATASET, match["name"])
        return NodeRef(DATASET_VERSION, match["name"], int(number))
    if text.startswith("run:") and RUN_ID.match(text[4:]):
        return NodeRef(RUN, text[4:])
    raise InvalidNode(
        f"{text[:80]!r} is not a node: use model:<name>@<version>,"
        " dataset:<name>@<version>, dataset:<name> or run:<id>"
    )


def run_node_id(run_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"run:{run_id}")


def edge_stream_id(
    source_id: uuid.UUID | str, edge_type: str, target_id: uuid.UUID | str
) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"edge:{source_id}:{edge_type}:{target_id}")


def check_edge(source: NodeRef, target: NodeRef, edge_type: str) -> None:
    """Refuse unknown types, wrong kinds of endpoint and self-loops."""
    kinds = EDGE_KINDS.get(edge_type)
    if kinds is None:
        raise InvalidEdge(f"edge type must be one of {', '.join(EDGE_TYPES)}")
    if source.key == target.key:
        raise SelfLoop(f"{source.key} cannot be its own {edge_type} source")
    if source.kind not in kinds[0] or target.kind not in kinds[1]:
        raise InvalidEdge(
            f"a {edge_type} edge runs from {' or '.join(sorted(kinds[0]))}"
            f" to {' or '.join(sorted(kinds[1]))}, not from {source.kind} to {target.kind}"
        )


def check_depth(depth: object) -> int:
    if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= MAX_DEPTH:
        raise InvalidNode(f"depth is a whole number from 0 to {MAX_DEPTH}")
    return depth


def check_edge_types(types: list[str] | tuple[str, ...] | None) -> tuple[str, ...] | None:
    if not types:
        return None
    unknown = sorted(set(types) - set(EDGE_TYPES))
    if unknown:
        raise InvalidEdge(f"unknown edge types: {', '.join(unknown)}")
    return tuple(sorted(set(types)))


# The shapes of an edge's fields that a client sends (core.shapes): declared on
# lineage.events.EdgeRecorded, read by the API's input serializer.
SOURCE_NODE = Shape(
    PATTERN, pattern=NODE_PATTERN, max_length=520, required=True, help_text="Upstream node"
)
TARGET_NODE = Shape(
    PATTERN, pattern=NODE_PATTERN, max_length=520, required=True, help_text="Downstream node"
)
EDGE_TYPE = Shape(CHOICE, choices=EDGE_TYPES, required=True)
