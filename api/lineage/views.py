"""Lineage API views: thin adapters over lineage.commands, lineage.queries and lineage.exports,
and over eventstore.audit for the audit trail and bundle of the streams lineage selects.

Exports answer with StreamingHttpResponse: the body is produced chunk by chunk from a
server-side cursor while it is sent, and the export is recorded before and after. The status
leaves with the first chunk, so a failure after it cannot change it: the response has no
Content-Length (gunicorn sends it chunked), the exception is logged and passed on, and gunicorn
closes the connection without the last, zero-length chunk; the line-based formats also end with
a trailer (eventstore/audit/trailer.py) that a cut body lacks."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from dateutil.parser import isoparse
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import IdempotentCommands, idempotency_key
from api.lineage import openlineage
from api.lineage import serializers as s
from api.params import AS_OF, IDEMPOTENCY_KEY, as_of, problems
from core.actors import Actor
from eventstore import checkpoints
from eventstore.audit import bundle, trail
from lineage import commands, exports, queries, rules
from lineage.errors import NoCheckpoint, NodeNotFound
from lineage.permissions import require_auditor
from registry import rules as registry_rules

MODEL_NAME_PATTERN = registry_rules.NAME_PATTERN.pattern
NODE = OpenApiParameter(
    "node",
    {"type": "string", "pattern": rules.NODE_PATTERN, "maxLength": 520},
    required=True,
    description="model:<name>@<version>, dataset:<name>@<version>, dataset:<name> or run:<id>",
)
DEPTH = OpenApiParameter(
    "depth",
    {"type": "integer", "minimum": 0, "maximum": rules.MAX_DEPTH},
    description="How many edges to follow (default 10)",
)
EDGE_TYPE = OpenApiParameter(
    "type",
    {"type": "array", "items": {"type": "string", "enum": list(rules.EDGE_TYPES)}},
    explode=True,
    description="Follow only edges of these types (repeat the parameter for several)",
)
LIMIT = OpenApiParameter(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": rules.MAX_NODES},
    description=f"At most this many nodes, nearest first (default {rules.DEFAULT_NODES}), and"
    f" {queries.EDGES_PER_NODE} times as many edges; `truncated` says whether the walk stopped"
    " short of its depth",
)
FORM = OpenApiParameter(
    "form",
    {"type": "string", "enum": ["flat", "graph"]},
    description="flat: the nodes with their depth; graph: the nodes and the edges between them",
)


def _actor(request: Request) -> Actor:
    return Actor.from_request(request)


def _choice(request: Request, name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.query_params.get(name, default)
    if value not in choices:
        raise ValidationError({name: f"one of {', '.join(choices)}"})
    return value


def _depth(request: Request, default: int = 10) -> int:
    raw = request.query_params.get("depth")
    if raw is None:
        return default
    if not rules.DEPTH_TEXT.fullmatch(raw) or int(raw) > rules.MAX_DEPTH:
        raise ValidationError({"depth": f"a whole number from 0 to {rules.MAX_DEPTH}"})
    return int(raw)


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return rules.DEFAULT_NODES
    if not rules.LIMIT_TEXT.fullmatch(raw) or not 1 <= int(raw) <= rules.MAX_NODES:
        raise ValidationError({"limit": f"a whole number from 1 to {rules.MAX_NODES}"})
    return int(raw)


def _types(request: Request) -> tuple[str, ...] | None:
    values = request.query_params.getlist("type")
    unknown = sorted(set(values) - set(rules.EDGE_TYPES))
    if unknown:
        raise ValidationError({"type": f"unknown edge types: {', '.join(unknown)}"})
    return tuple(sorted(set(values))) or None


def _node(request: Request):
    raw = request.query_params.get("node")
    if raw is None:
        raise ValidationError({"node": "This parameter is required."})
    return queries.get_node(raw)


def _walks(
    request: Request,
    node,
    directions: tuple[str, ...],
    *,
    with_edges: bool = True,
    limit: int | None = None,
) -> list[queries.Closure]:
    point = as_of(request)
    if not queries.node_exists_at(node, point.position, point.moment):
        raise NodeNotFound(f"{node.key} did not exist yet at that point")
    depth, types = _depth(request), _types(request)
    return [
        queries.closure(
            node.id,
            direction=d,
            depth=depth,
            edge_types=types,
            up_to_position=point.position,
            as_of=point.moment,
            with_edges=with_edges,
            limit=limit,
        )
        for d in directions
    ]


def _traversal(request: Request, direction: str) -> Response:
    node = _node(request)
    form = _choice(request, "form", ("flat", "graph"), "flat")
    limit = _limit(request)
    walks = _walks(request, node, (direction,), with_edges=form == "graph", limit=limit)
    graph = exports.subgraph(node, walks)
    nodes = [
        {"id": n.key, "kind": n.kind, "depth": graph.depths[i]}
        for i, n in graph.nodes.items()
        if i in graph.depths
    ]
    nodes.sort(key=lambda n: (n["depth"], n["id"]))
    body: dict[str, Any] = {
        "root": node.key,
        "direction": direction,
        "depth": _depth(request),
        "limit": limit,
        "truncated": any(w.truncated for w in walks),
        "nodes": nodes,
    }
    if form == "graph":
        body["edges"] = [
            {
                "source": graph.nodes[e.source].key,
                "target": graph.nodes[e.target].key,
                "type": e.edge_type,
                "position": e.position,
                "recorded_at": e.recorded_at,
            }
            for e in graph.edges
        ]
    return Response(s.TraversalOutput(body).data)


class UpstreamApi(APIView):
    @extend_schema(
        responses={200: s.TraversalOutput, **problems(400, 404)},
        parameters=[NODE, DEPTH, EDGE_TYPE, AS_OF, FORM, LIMIT],
        summary="What went into a node: its upstream closure",
    )
    def get(self, request: Request) -> Response:
        return _traversal(request, queries.UPSTREAM)


class DownstreamApi(APIView):
    @extend_schema(
        responses={200: s.TraversalOutput, **problems(400, 404)},
        parameters=[NODE, DEPTH, EDGE_TYPE, AS_OF, FORM, LIMIT],
        summary="What a node went into: its downstream closure",
    )
    def get(self, request: Request) -> Response:
        return _traversal(request, queries.DOWNSTREAM)


class OpenLineageApi(IdempotentCommands, APIView):
    """OpenLineage RunEvents, where the openlineage-python HTTP transport posts them."""

    @extend_schema(
        request=s.RunEventBody,
        responses={201: s.RunEventAccepted, **problems(400, 403, 409, 413, 422)},
        parameters=[IDEMPOTENCY_KEY],
        summary="Receive an OpenLineage RunEvent",
        description="At most 100 inputs and 100 outputs. The run belongs to the team that first"
        " reported it (403 not_run_owner for others); a new run, and datasets first seen, are"
        " the sender's default team's (422 no_team without one). A dataset name under another"
        " team's claimed prefix is refused (403 prefix_claimed).",
    )
    def post(self, request: Request) -> Response:
        s.RunEventBody(data=request.data).is_valid(raise_exception=True)
        result = openlineage.ingest_run_event(
            actor=_actor(request), event=request.data, idempotency_key=idempotency_key(request)
        )
        body = {
            "run": result.run,
            "event_type": result.event_type,
            "inputs": list(result.inputs),
            "outputs": list(result.outputs),
            "edges": result.edges,
        }
        return Response(s.RunEventAccepted(body).data, status=status.HTTP_201_CREATED)


# -- exports -----------------------------------------------------------------------------


class ExportNegotiation(BaseContentNegotiation):
    """Exports choose their media type from `format`, which here is not DRF's renderer override;
    problems are problem+json whatever the Accept header says."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _streamed(
    request: Request,
    *,
    kind: str,
    fmt: str,
    subject: str,
    parameters: dict[str, Any],
    chunks,
    counter=None,
    content_type: str,
    filename: str,
) -> StreamingHttpResponse:
    actor = _actor(request)
    export_id = commands.start_export(
        actor=actor, kind=kind, format=fmt, subject=subject, parameters=parameters
    )
    body = exports.recorded(
        chunks, actor=actor, export_id=export_id, counter=counter or (lambda: 0)
    )
    response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Export-Id"] = str(export_id)
    return response


def _moment(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        moment = isoparse(raw)
    except (ValueError, OverflowError):
        raise ValidationError({name: "an ISO 8601 timestamp"}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


EXPORT_FORMAT = OpenApiParameter(
    "format",
    {"type": "string", "enum": list(exports.SUBGRAPH_FORMATS)},
    description="json, csv (nodes and edges), prov (W3C PROV-JSON) or graphml",
)
DIRECTION = OpenApiParameter(
    "direction",
    {"type": "string", "enum": ["upstream", "downstream", "both"]},
)
BINARY_DESCRIPTION = "Streamed export (chunked, no Content-Length)"
TRUNCATION = (
    "\n\nThe export is streamed with chunked transfer coding and no Content-Length: the status"
    " is sent before the body is produced, so an export that fails on the way ends the"
    " connection without the last, zero-length chunk, which HTTP clients report as an"
    " incomplete transfer. A body read to the end of a closed connection is whole only if it"
    " ends with its trailer."
)
CSV_TRAILER = (
    "CSV ends with a trailer row that no data row has:"
    " `#trailer,csv,<records>,<sha256>,complete`, padded with empty fields to the header's"
    " width, where `records` counts the rows after the header and `sha256` is the lowercase hex"
    " SHA-256 of every byte before the trailer row (the header included)."
)
JSONL_TRAILER = (
    "JSON Lines ends with a trailer line that no event line has:"
    ' `{"trailer":{"format":"jsonl","records":<events>,"sha256":"<hex>","complete":true}}`,'
    " where `records` counts the lines before it and `sha256` is the lowercase hex SHA-256 of"
    " every byte before the trailer line."
)
BINARY = {
    (200, media): OpenApiResponse(OpenApiTypes.BINARY, description=BINARY_DESCRIPTION)
    for media in ("application/json", "text/csv", "application/graphml+xml")
}


class LineageExportApi(APIView):
    content_negotiation_class = ExportNegotiation

    @extend_schema(
        responses={**BINARY, **problems(400, 404)},
        parameters=[NODE, DIRECTION, DEPTH, EDGE_TYPE, AS_OF, EXPORT_FORMAT],
        summary="Export a lineage subgraph (auditors)",
        description="json and prov are one JSON document and graphml one XML document: cut short,"
        " they do not parse. csv is a header, a row per node and a row per edge, then the"
        " trailer. " + CSV_TRAILER + TRUNCATION,
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        require_auditor(request.user)
        fmt = _choice(request, "format", exports.SUBGRAPH_FORMATS, "json")
        direction = _choice(request, "direction", ("upstream", "downstream", "both"), "both")
        node = _node(request)
        directions = (queries.UPSTREAM, queries.DOWNSTREAM) if direction == "both" else (direction,)
        graph = exports.subgraph(node, _walks(request, node, directions))
        parameters = {k: request.query_params.getlist(k) for k in sorted(request.query_params)}
        ext = {"prov": "prov.json", "graphml": "graphml"}.get(fmt, fmt)
        return _streamed(
            request,
            kind="lineage",
            fmt=fmt,
            subject=node.key,
            parameters=parameters,
            chunks=exports.SUBGRAPH_WRITERS[fmt](graph),
            content_type=exports.CONTENT_TYPES[fmt],
            filename=f"lineage.{ext}",
        )


MODEL = OpenApiParameter(
    "model",
    {"type": "string", "pattern": MODEL_NAME_PATTERN},
    description="A registered model's name",
)
MODELS = OpenApiParameter(
    "model",
    {"type": "array", "items": {"type": "string", "pattern": MODEL_NAME_PATTERN}, "minItems": 1},
    explode=True,
    required=True,
    description="Registered model names (repeat for several)",
)
SINCE = OpenApiParameter("since", OpenApiTypes.DATETIME, description="recorded_at from (inclusive)")
UNTIL = OpenApiParameter(
    "until", OpenApiTypes.DATETIME, description="recorded_at until (exclusive)"
)
TRAIL_FORMAT = OpenApiParameter("format", {"type": "string", "enum": list(trail.TRAIL_FORMATS)})


class AuditTrailExportApi(APIView):
    content_negotiation_class = ExportNegotiation

    @extend_schema(
        responses={
            **{
                (200, media): OpenApiResponse(OpenApiTypes.BINARY, description=BINARY_DESCRIPTION)
                for media in ("application/jsonl", "text/csv")
            },
            **problems(400, 404),
        },
        parameters=[MODEL, SINCE, UNTIL, TRAIL_FORMAT],
        summary="Export an audit trail: a model and its lineage, or the ledger over a time range",
        description="The events in log order, one a line (jsonl) or one a row after a header"
        " (csv), then the trailer. " + JSONL_TRAILER + " " + CSV_TRAILER + TRUNCATION,
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        require_auditor(request.user)
        fmt = _choice(request, "format", trail.TRAIL_FORMATS, "jsonl")
        since, until = _moment(request, "since"), _moment(request, "until")
        model = request.query_params.get("model")
        streams = None
        subject = "ledger"
        if model is not None:
            subject, ids, _ = exports.bundle_subject([model])
            streams = tuple(ids)
        counter = trail.Counter()
        selection = trail.Selection(streams=streams, since=since, until=until)
        parameters = {k: request.query_params.getlist(k) for k in sorted(request.query_params)}
        return _streamed(
            request,
            kind="audit-trail",
            fmt=fmt,
            subject=subject,
            parameters=parameters,
            chunks=trail.TRAIL_WRITERS[fmt](selection, counter),
            counter=counter,
            content_type=trail.CONTENT_TYPES[fmt],
            filename=f"audit-trail.{fmt}",
        )


class AuditBundleExportApi(APIView):
    content_negotiation_class = ExportNegotiation

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The bundle, streamed, as of the newest signed checkpoint (the"
                " signer is asked for a fresh one when the last is older than a minute). Its"
                " table of contents is written last: a bundle cut short fails verification."
                " Verify it offline with its verify.py, pinning the ledger's key from"
                " GET /api/v1/checkpoints/latest/: python3 verify.py bundle.zip --public-key KEY",
            ),
            **problems(400, 404, 503),
        },
        parameters=[MODELS],
        summary="Export an offline-verifiable audit bundle for one or more models (auditors)",
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        require_auditor(request.user)
        names = request.query_params.getlist("model")
        if not names:
            raise ValidationError({"model": "This parameter is required."})
        subject, streams, roots = exports.bundle_subject(names)
        counter = trail.Counter()
        return _streamed(
            request,
            kind="audit-bundle",
            fmt="zip",
            subject=subject,
            parameters={"model": names},
            chunks=bundle.audit_bundle(streams, subject, counter, roots=roots),
            counter=counter,
            content_type=trail.CONTENT_TYPES["zip"],
            filename="audit-bundle.zip",
        )


class CheckpointLatestApi(APIView):
    """The newest signed checkpoint and the public keys it is checked with, so an auditor
    can pin the key from a source other than the bundle it verifies."""

    @extend_schema(
        responses={200: s.CheckpointOutput, **problems(404)},
        summary="The latest signed checkpoint and the checkpoint verification keys",
    )
    def get(self, request: Request) -> Response:
        checkpoint = checkpoints.latest()
        if checkpoint is None:
            raise NoCheckpoint("no checkpoint has been signed yet")
        keys = checkpoints.published_keys()
        signer = next((k.public_key for k in keys if k.key_id == checkpoint.key_id), None)
        body = {
            "origin": checkpoint.origin,
            "tree_size": checkpoint.tree_size,
            "root": bytes(checkpoint.root_hash).hex(),
            "note": checkpoint.note,
            "signature": base64.b64encode(bytes(checkpoint.signature)).decode(),
            "key_id": checkpoint.key_id,
            "public_key": signer,
            "created_at": checkpoint.created_at,
            "keys": [vars(k) for k in keys],
        }
        return Response(s.CheckpointOutput(body).data)
