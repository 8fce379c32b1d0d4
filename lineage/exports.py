"""Exports for auditors, produced as byte chunks so nothing is ever built whole in memory.

- lineage subgraphs as JSON, CSV (nodes and edges in one file, ending with the trailer row of
  `eventstore/audit/trailer.py`), W3C PROV-JSON and GraphML (whole documents: cut short, they
  do not parse);
- the streams an audit trail or audit bundle of a model covers (its streams, its governance
  record and its lineage closure), handed to eventstore.audit, which writes trails and bundles.

Every export is recorded: an ExportStarted event before the first byte (who, what, which
parameters) and an ExportCompleted event with the SHA-256 and size of what was sent, appended
only once the last chunk was produced. An export that fails on the way is logged and its
exception passes on to the server, which then ends the response without the chunked body's
last chunk (the client sees an incomplete transfer); its ExportStarted stays without an
ExportCompleted."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from approvals.models import ApprovalRequest
from core.actors import Actor
from eventstore.audit.trail import Counter, logged_streams
from eventstore.audit.trailer import trailed
from governance.models import BiasAudit, Finding, PeriodicReview
from governance.streams import evidence_stream_id, risk_stream_id
from lineage import commands, queries, rules
from lineage.models import LineageNode
from lineage.queries import Closure, Edge
from registry.models import ModelVersion
from registry.queries import model_id_for
from registry.streams import load_model, load_version

log = logging.getLogger(__name__)

BATCH = 1000
SUBGRAPH_FORMATS = ("json", "csv", "prov", "graphml")
CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "prov": "application/json",
    "graphml": "application/graphml+xml",
}


# -- recording ---------------------------------------------------------------------------


def recorded(
    chunks: Iterable[bytes],
    *,
    actor: Actor,
    export_id: uuid.UUID,
    counter: Callable[[], int] = lambda: 0,
) -> Iterator[bytes]:
    """Pass the chunks through, then record the digest of everything that was sent. A failure
    while producing them is logged and raised again, never turned into a clean end."""
    digest = hashlib.sha256()
    size = 0
    try:
        for chunk in chunks:
            if chunk:
                digest.update(chunk)
                size += len(chunk)
                yield chunk
    except Exception:
        log.exception(
            "export %s failed after %d bytes were sent; the response is cut short", export_id, size
        )
        raise
    commands.complete_export(
        actor=actor, export_id=export_id, sha256=digest.hexdigest(), size=size, events=counter()
    )


# -- lineage subgraphs -------------------------------------------------------------------


@dataclass
class Subgraph:
    start: LineageNode
    nodes: dict[uuid.UUID, LineageNode] = field(default_factory=dict)
    depths: dict[uuid.UUID, int] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)


def subgraph(node: LineageNode, closures: Iterable[Closure]) -> Subgraph:
    graph = Subgraph(node)
    seen: set[tuple[uuid.UUID, uuid.UUID, str]] = set()
    for walk in closures:
        for node_id, depth in walk.nodes.items():
            graph.depths[node_id] = min(depth, graph.depths.get(node_id, depth))
        for edge in walk.edges:
            if (edge.source, edge.target, edge.edge_type) not in seen:
                seen.add((edge.source, edge.target, edge.edge_type))
                graph.edges.append(edge)
    ids = set(graph.depths) | {e.source for e in graph.edges} | {e.target for e in graph.edges}
    graph.nodes = queries.nodes(ids)
    return graph


def _ts(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def subgraph_json(graph: Subgraph) -> Iterator[bytes]:
    yield b'{"root":' + json.dumps(graph.start.key).encode() + b',"nodes":['
    for i, (node_id, node) in enumerate(sorted(graph.nodes.items(), key=lambda x: x[1].key)):
        item = {"id": node.key, "kind": node.kind, "depth": graph.depths.get(node_id)}
        yield (b"," if i else b"") + json.dumps(item).encode()
    yield b'],"edges":['
    for i, edge in enumerate(graph.edges):
        item = {
            "source": graph.nodes[edge.source].key,
            "target": graph.nodes[edge.target].key,
            "type": edge.edge_type,
            "position": edge.position,
            "recorded_at": _ts(edge.recorded_at),
        }
        yield (b"," if i else b"") + json.dumps(item).encode()
    yield b"]}"


def _csv_rows(rows: Iterable[list[Any]], counter: Counter) -> Iterator[bytes]:
    """The rows as CSV, the first one the header (not counted)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        counter.value = count - 1
        if count % BATCH == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


SUBGRAPH_CSV_COLUMNS = [
    "record",
    "node",
    "kind",
    "depth",
    "source",
    "target",
    "type",
    "position",
    "recorded_at",
]


def subgraph_csv(graph: Subgraph) -> Iterator[bytes]:
    """A header, a row per node and a row per edge, then the trailer row."""

    def rows() -> Iterator[list[Any]]:
        yield SUBGRAPH_CSV_COLUMNS
        for node_id, node in sorted(graph.nodes.items(), key=lambda x: x[1].key):
            yield ["node", node.key, node.kind, graph.depths.get(node_id, ""), "", "", "", "", ""]
        for edge in graph.edges:
            yield [
                "edge",
                "",
                "",
                "",
                graph.nodes[edge.source].key,
                graph.nodes[edge.target].key,
                edge.edge_type,
                edge.position,
                _ts(edge.recorded_at),
            ]

    counter = Counter()
    return trailed(_csv_rows(rows(), counter), "csv", counter, width=len(SUBGRAPH_CSV_COLUMNS))


PROV_PREFIX = "ledger"
PROV_NAMESPACE = "urn:model-ledger:"


def _prov_id(node: LineageNode) -> str:
    return f"{PROV_PREFIX}:{node.key}"


def subgraph_prov(graph: Subgraph) -> Iterator[bytes]:
    """W3C PROV-JSON: models and datasets are entities, runs are activities; produced is
    wasGeneratedBy, consumed is used, every other edge is wasDerivedFrom with its type."""
    yield b'{"prefix":' + json.dumps({PROV_PREFIX: PROV_NAMESPACE}).encode()
    kinds = {"entity": [], "activity": []}
    for node in sorted(graph.nodes.values(), key=lambda n: n.key):
        section = "activity" if node.kind == rules.RUN else "entity"
        kinds[section].append(node)
    for section, members in kinds.items():
        yield b',"' + section.encode() + b'":{'
        for i, node in enumerate(members):
            attrs = {"prov:label": node.key, f"{PROV_PREFIX}:kind": node.kind}
            if section == "entity":
                attrs["prov:type"] = {
                    "$": f"{PROV_PREFIX}:{node.kind}",
                    "type": "prov:QUALIFIED_NAME",
                }
            yield (
                (b"," if i else b"")
                + json.dumps(_prov_id(node)).encode()
                + b":"
                + json.dumps(attrs).encode()
            )
        yield b"}"
    relations: dict[str, list[tuple[str, dict[str, Any]]]] = {
        "wasGeneratedBy": [],
        "used": [],
        "wasDerivedFrom": [],
    }
    for number, edge in enumerate(graph.edges, start=1):
        source, target = graph.nodes[edge.source], graph.nodes[edge.target]
        rel_id = f"_:e{number}"
        when = _ts(edge.recorded_at)
        if edge.edge_type == "produced":
            relations["wasGeneratedBy"].append(
                (
                    rel_id,
                    {
                        "prov:entity": _prov_id(target),
                        "prov:activity": _prov_id(source),
                        "prov:time": when,
                    },
                )
            )
        elif edge.edge_type == "consumed":
            relations["used"].append(
                (
                    rel_id,
                    {
                        "prov:activity": _prov_id(target),
                        "prov:entity": _prov_id(source),
                        "prov:time": when,
                    },
                )
            )
        else:
            relations["wasDerivedFrom"].append(
                (
                    rel_id,
                    {
                        "prov:generatedEntity": _prov_id(target),
                        "prov:usedEntity": _prov_id(source),
                        "prov:type": {
                            "$": f"{PROV_PREFIX}:{edge.edge_type}",
                            "type": "prov:QUALIFIED_NAME",
                        },
                    },
                )
            )
    for name, members in relations.items():
        if not members:
            continue
        yield b',"' + name.encode() + b'":{'
        for i, (rel_id, attrs) in enumerate(members):
            yield (
                (b"," if i else b"")
                + json.dumps(rel_id).encode()
                + b":"
                + json.dumps(attrs).encode()
            )
        yield b"}"
    yield b"}"


def _xml(text: object) -> str:
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def subgraph_graphml(graph: Subgraph) -> Iterator[bytes]:
    yield (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
        b'<key id="kind" for="node" attr.name="kind" attr.type="string"/>\n'
        b'<key id="depth" for="node" attr.name="depth" attr.type="int"/>\n'
        b'<key id="type" for="edge" attr.name="type" attr.type="string"/>\n'
        b'<key id="position" for="edge" attr.name="position" attr.type="long"/>\n'
        b'<graph id="lineage" edgedefault="directed">\n'
    )
    for node_id, node in sorted(graph.nodes.items(), key=lambda x: x[1].key):
        depth = graph.depths.get(node_id)
        depth_data = f'<data key="depth">{depth}</data>' if depth is not None else ""
        yield (
            f'<node id="{_xml(node.key)}"><data key="kind">{node.kind}</data>{depth_data}</node>\n'
        ).encode()
    for number, edge in enumerate(graph.edges, start=1):
        yield (
            f'<edge id="e{number}" source="{_xml(graph.nodes[edge.source].key)}"'
            f' target="{_xml(graph.nodes[edge.target].key)}">'
            f'<data key="type">{edge.edge_type}</data>'
            f'<data key="position">{edge.position}</data></edge>\n'
        ).encode()
    yield b"</graph>\n</graphml>\n"


SUBGRAPH_WRITERS = {
    "json": subgraph_json,
    "csv": subgraph_csv,
    "prov": subgraph_prov,
    "graphml": subgraph_graphml,
}


# -- the streams of an audit trail or bundle ---------------------------------------------


def governance_streams(model_id: uuid.UUID, version_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Every governance stream whose subject is the model or one of its versions: the risk
    stream (intake, tier, suspensions), each version's evidence (attachments, waivers), the
    approval requests (with their decisions), periodic reviews, bias audits and findings.
    The first two have ids derived from the subject; the others are found in their read
    tables, whose ids are the stream ids."""
    streams = {risk_stream_id(model_id)}
    streams.update(evidence_stream_id(version_id) for version_id in version_ids)
    for table in (ApprovalRequest, PeriodicReview, BiasAudit, Finding):
        streams.update(table.objects.filter(model_id=model_id).values_list("id", flat=True))
    return streams


def linked_streams(model_id: uuid.UUID) -> tuple[list[uuid.UUID], set[uuid.UUID]]:
    """From the events alone: the model's versions (ModelVersionNumbered) and every stream
    linked to the model or to one of them (registry.StreamLinked): what verify.py requires."""
    model = load_model(model_id)
    version_ids = [uuid.UUID(v) for v in model.versions.values()]
    linked = {uuid.UUID(s) for s in model.linked_streams}
    for version_id in version_ids:
        linked.update(uuid.UUID(s) for s in load_version(version_id).linked_streams)
    return version_ids, linked


def model_streams(model_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """A model's streams, its governance record, and every stream in its lineage closure (both
    directions): versions, the models and datasets they came from or fed, runs, and the edges
    themselves. The versions and the streams linked to the model and its versions come from
    their events; the read tables add what was opened before streams were linked."""
    streams: set[uuid.UUID] = set()
    for model_id in model_ids:
        model_id = uuid.UUID(str(model_id))
        streams.add(model_id)
        numbered, linked = linked_streams(model_id)
        streams.update(linked)
        version_ids = list(
            dict.fromkeys(
                [
                    *numbered,
                    *ModelVersion.objects.filter(model_id=model_id).values_list("id", flat=True),
                ]
            )
        )
        streams.update(governance_streams(model_id, version_ids))
        for version_id in version_ids:
            streams.add(version_id)
            for direction in (queries.UPSTREAM, queries.DOWNSTREAM):
                walk = queries.closure(version_id, direction=direction, depth=rules.MAX_DEPTH)
                streams.update(walk.nodes)
                streams.update(e.stream_id for e in walk.edges)
    owners = LineageNode.objects.filter(id__in=list(streams)).exclude(owner_id=None)
    streams.update(owners.values_list("owner_id", flat=True))
    # Only ids that are streams of the log (a run seen only as a version's run_id has none).
    return logged_streams(streams)


def bundle_subject(model_names: list[str]) -> tuple[str, list[uuid.UUID], list[uuid.UUID]]:
    """The subject a trail or bundle describes ("model:<name>,..."), the streams it covers, and
    the subject's own model streams (a bundle's verifier requires every stream they link)."""
    ids = [uuid.UUID(str(model_id_for(name))) for name in model_names]
    return ",".join(f"model:{name}" for name in model_names), model_streams(ids), ids
