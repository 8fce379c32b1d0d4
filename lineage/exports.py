"""Exports for auditors, produced as byte chunks so nothing is ever built whole in memory.

- lineage subgraphs as JSON, CSV (nodes and edges in one file), W3C PROV-JSON and GraphML;
- audit trails (a model's streams, its governance record and its lineage closure, or the ledger
  over a time range) as JSON Lines and CSV, read through a server-side cursor;
- the audit bundle: a zip of the events, their Merkle inclusion proofs against the latest signed
  checkpoint, the checkpoint, a signed manifest of SHA-256 digests and a standalone verifier.

Every export is recorded: an ExportStarted event before the first byte (who, what, which
parameters) and an ExportCompleted event with the SHA-256 and size of what was sent."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from approvals.models import ApprovalRequest
from core.actors import Actor
from eventstore import checkpoints
from eventstore.canonical import canonical_json
from governance.models import BiasAudit, Finding, PeriodicReview
from governance.streams import evidence_stream_id, risk_stream_id
from lineage import commands, queries, rules
from lineage.models import LineageNode
from lineage.queries import Closure, Edge
from registry.models import ModelVersion
from registry.queries import model_id_for

BATCH = 1000
CHUNK = 256 * 1024
SUBGRAPH_FORMATS = ("json", "csv", "prov", "graphml")
TRAIL_FORMATS = ("jsonl", "csv")
CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "prov": "application/json",
    "graphml": "application/graphml+xml",
    "jsonl": "application/jsonl",
    "zip": "application/zip",
}
_TS = '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\''
_EVENT_EXPRESSIONS = (
    "e.position",
    "e.stream_id::text",
    "e.stream_type",
    "e.version",
    "e.type",
    "e.schema_version",
    "e.data::text",
    "e.metadata::text",
    f"to_char(e.occurred_at AT TIME ZONE 'UTC', {_TS})",
    f"to_char(e.recorded_at AT TIME ZONE 'UTC', {_TS})",
    "encode(e.prev_hash, 'hex')",
    "encode(e.hash, 'hex')",
)
EVENT_SQL = "SELECT " + ", ".join(_EVENT_EXPRESSIONS)


# -- recording ---------------------------------------------------------------------------


def recorded(
    chunks: Iterable[bytes],
    *,
    actor: Actor,
    export_id: uuid.UUID,
    counter: Callable[[], int] = lambda: 0,
) -> Iterator[bytes]:
    """Pass the chunks through, then record the digest of everything that was sent."""
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        if chunk:
            digest.update(chunk)
            size += len(chunk)
            yield chunk
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


def _csv_rows(rows: Iterable[list[Any]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % BATCH == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def subgraph_csv(graph: Subgraph) -> Iterator[bytes]:
    def rows() -> Iterator[list[Any]]:
        yield [
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

    return _csv_rows(rows())


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


# -- audit trails ------------------------------------------------------------------------


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


def model_streams(model_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """A model's streams, its governance record, and every stream in its lineage closure (both
    directions): versions, the models and datasets they came from or fed, runs, and the edges
    themselves."""
    streams: set[uuid.UUID] = set()
    for model_id in model_ids:
        model_id = uuid.UUID(str(model_id))
        streams.add(model_id)
        version_ids = list(
            ModelVersion.objects.filter(model_id=model_id).values_list("id", flat=True)
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
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT stream_id FROM eventstore_event WHERE stream_id = ANY(%s)",
            [list(streams)],
        )
        return sorted(row[0] for row in cursor.fetchall())


@dataclass(frozen=True)
class Selection:
    """Which events an audit trail holds: given streams, or a recorded_at range, or both."""

    streams: tuple[uuid.UUID, ...] | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = ["TRUE"], []
        if self.streams is not None:
            clauses.append("e.stream_id = ANY(%s)")
            params.append(list(self.streams))
        if self.since is not None:
            clauses.append("e.recorded_at >= %s")
            params.append(self.since)
        if self.until is not None:
            clauses.append("e.recorded_at < %s")
            params.append(self.until)
        return " AND ".join(clauses), params


def _event_rows(sql: str, params: list[Any]) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of rows from a server-side cursor, inside one read-only transaction."""
    with transaction.atomic():
        raw = connection.connection
        with raw.cursor(name=f"export_{uuid.uuid4().hex}") as cursor:
            cursor.itersize = BATCH
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(BATCH):
                yield rows


_NAME_JSON: dict[str, str] = {}


def _name(text: str) -> str:
    cached = _NAME_JSON.get(text)
    if cached is None:
        cached = _NAME_JSON[text] = json.dumps(text, ensure_ascii=False)
    return cached


def _jsonl_line(row: tuple[Any, ...]) -> str:
    """One event as a JSON object, data and metadata spliced in as PostgreSQL printed them."""
    return (
        f'{{"position":{row[0]},"stream_id":"{row[1]}","stream_type":{_name(row[2])},'
        f'"version":{row[3]},"type":{_name(row[4])},"schema_version":{row[5]},'
        f'"data":{row[6]},"metadata":{row[7]},"occurred_at":"{row[8]}",'
        f'"recorded_at":"{row[9]}","prev_hash":"{row[10]}","hash":"{row[11]}"}}\n'
    )


class Counter:
    def __init__(self) -> None:
        self.value = 0

    def __call__(self) -> int:
        return self.value


def trail_jsonl(selection: Selection, counter: Counter | None = None) -> Iterator[bytes]:
    where, params = selection.where()
    sql = f"{EVENT_SQL} FROM eventstore_event e WHERE {where} ORDER BY e.position"
    for rows in _event_rows(sql, params):
        if counter is not None:
            counter.value += len(rows)
        yield "".join(map(_jsonl_line, rows)).encode()


TRAIL_COLUMNS = [
    "position",
    "stream_id",
    "stream_type",
    "version",
    "type",
    "schema_version",
    "data",
    "metadata",
    "occurred_at",
    "recorded_at",
    "prev_hash",
    "hash",
]


def trail_csv(selection: Selection, counter: Counter | None = None) -> Iterator[bytes]:
    """PostgreSQL writes the CSV itself (COPY ... TO STDOUT, RFC 4180 quoting); the rows are
    passed on in chunks of about CHUNK bytes as they arrive."""
    where, params = selection.where()
    columns = ", ".join(
        f"{expression} AS {name}"
        for expression, name in zip(_EVENT_EXPRESSIONS, TRAIL_COLUMNS, strict=True)
    )
    query = (
        f"COPY (SELECT {columns} FROM eventstore_event e WHERE {where} ORDER BY e.position)"
        " TO STDOUT (FORMAT csv, HEADER)"
    )
    with transaction.atomic():
        raw = connection.connection
        with raw.cursor() as cursor, cursor.copy(query, params) as copy:
            pending = bytearray()
            rows = 0
            for data in copy:
                pending += data
                rows += 1
                if len(pending) >= CHUNK:
                    yield bytes(pending)
                    pending.clear()
                    if counter is not None:
                        counter.value = rows - 1  # less the header
            if counter is not None:
                counter.value = max(0, rows - 1)
            yield bytes(pending)


TRAIL_WRITERS = {"jsonl": trail_jsonl, "csv": trail_csv}


# -- audit bundle ------------------------------------------------------------------------

BUNDLE_FORMAT = "model-ledger-audit-bundle/1"
_BUNDLED = ("eventstore/canonical.py", "eventstore/merkle.py", "lineage/verifier.py")
README = """Model Ledger audit bundle
=========================

subject: {subject}
checkpoint: {origin}, tree size {tree_size}, root {root}
signing key (base64 Ed25519 public key): {public_key}

Verify it offline with nothing but Python 3.11 or newer:

    python3 verify.py            (inside the unpacked folder)
    python3 verify.py bundle.zip --public-key {public_key}

Compare the key with the one the ledger publishes: the verifier proves the bundle was signed
by that key and that every event is in its signed Merkle tree, not who holds the key.

Files: events.jsonl (one event per line, with prev_hash and hash), proofs.jsonl (RFC 6962
inclusion proof of each event), checkpoint.json (the signed tree head), manifest.json (SHA-256
of every file; signed in manifest.sig), verify.py (the verifier).
"""


def verifier_source() -> str:
    """verify.py: the ledger's canonical JSON and Merkle modules verbatim, then the verifier."""
    root = Path(__file__).resolve().parent.parent
    parts = [
        '"""Model Ledger offline audit-bundle verifier (standard library only)."""\n',
        "from __future__ import annotations\n",
    ]
    for name in _BUNDLED:
        lines = (root / name).read_text().splitlines()
        kept = [
            line
            for line in lines
            if not line.startswith("from __future__") and not line.endswith("# bundled")
        ]
        parts.append(f"\n# ---- {name} ----\n" + "\n".join(kept) + "\n")
    return "".join(parts)


class _Sink(io.RawIOBase):
    """A write-only, unseekable file that hands out what was written since the last drain."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._offset = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._offset += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._offset

    def drain(self) -> bytes:
        out, self._chunks = b"".join(self._chunks), []
        return out


def _leaf_indices(streams: list[uuid.UUID], size: int) -> Iterator[int]:
    sql = (
        "SELECT l.leaf_index FROM eventstore_event e"
        " JOIN eventstore_leaf l ON l.position = e.position"
        " WHERE e.stream_id = ANY(%s) AND l.leaf_index < %s"
    )
    for rows in _event_rows(sql, [streams, size]):
        for row in rows:
            yield row[0]


def audit_bundle(
    streams: list[uuid.UUID], subject: str, counter: Counter | None = None
) -> Iterator[bytes]:
    """The zip, streamed: events and proofs first (hashed as they go), the manifest last."""
    checkpoint = checkpoints.write_checkpoint()
    size = checkpoint.tree_size
    root = bytes(checkpoint.root_hash)
    public = checkpoints.public_key_bytes(checkpoints.signing_key().public_key())
    public_b64 = base64.b64encode(public).decode()
    # One streamed pass over the log's leaves keeps only the nodes these events' paths need.
    paths = checkpoints.audit_paths(_leaf_indices(streams, size), size)
    if paths.root != root:
        raise checkpoints.ProofUnavailable("the stored leaves do not make the checkpoint's root")
    sink = _Sink()
    archive = zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED)
    files: dict[str, dict[str, Any]] = {}
    heads: dict[str, dict[str, Any]] = {}
    count = 0
    sql = (
        f"{EVENT_SQL}, l.leaf_index FROM eventstore_event e"
        " JOIN eventstore_leaf l ON l.position = e.position"
        " WHERE e.stream_id = ANY(%s) AND l.leaf_index < %s ORDER BY e.position"
    )
    events_digest = hashlib.sha256()
    # Proofs go to the archive after the events; a spooled file keeps them off the heap.
    proofs = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115
    proofs_digest = hashlib.sha256()
    events_size = 0
    with archive.open("events.jsonl", "w") as out:
        for rows in _event_rows(sql, [streams, size]):
            text = "".join(_jsonl_line(row[:12]) for row in rows).encode()
            events_digest.update(text)
            events_size += len(text)
            out.write(text)
            lines = []
            for row in rows:
                heads[row[1]] = {"version": row[3], "hash": row[11]}
                lines.append(
                    json.dumps(
                        {
                            "position": row[0],
                            "leaf_index": row[12],
                            "path": [node.hex() for node in paths.path(row[12])],
                        },
                        separators=(",", ":"),
                    )
                )
            chunk = ("\n".join(lines) + "\n").encode()
            proofs_digest.update(chunk)
            proofs.write(chunk)
            count += len(rows)
            if counter is not None:
                counter.value = count
            yield sink.drain()
    files["events.jsonl"] = {"sha256": events_digest.hexdigest(), "bytes": events_size}
    del paths
    files["proofs.jsonl"] = {"sha256": proofs_digest.hexdigest(), "bytes": proofs.tell()}
    proofs.seek(0)
    with proofs, archive.open("proofs.jsonl", "w") as out:
        while chunk := proofs.read(1 << 20):
            out.write(chunk)
            yield sink.drain()
    checkpoint_doc = {
        "origin": checkpoint.origin,
        "tree_size": size,
        "root": root.hex(),
        "key_id": checkpoint.key_id,
        "public_key": public_b64,
        "signature": base64.b64encode(bytes(checkpoint.signature)).decode(),
        "note": checkpoint.note,
    }
    readme = README.format(
        subject=subject,
        origin=checkpoint.origin,
        tree_size=size,
        root=root.hex(),
        public_key=public_b64,
    )
    for name, body in (
        ("checkpoint.json", json.dumps(checkpoint_doc, indent=2).encode()),
        ("verify.py", verifier_source().encode()),
        ("README.txt", readme.encode()),
    ):
        files[name] = {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
        archive.writestr(name, body)
    with connection.cursor() as cursor:
        # Events newer than the checkpoint cannot be proven yet: say how many were left out.
        cursor.execute(
            "SELECT count(*) FROM eventstore_event e LEFT JOIN eventstore_leaf l"
            " ON l.position = e.position WHERE e.stream_id = ANY(%s)"
            " AND (l.leaf_index IS NULL OR l.leaf_index >= %s)",
            [streams, size],
        )
        pending = cursor.fetchone()[0]
    manifest = canonical_json(
        {
            "format": BUNDLE_FORMAT,
            "not_yet_checkpointed": pending,
            "subject": subject,
            "origin": settings.LEDGER_ORIGIN,
            "checkpoint": {"tree_size": size, "root": root.hex()},
            "events": count,
            "streams": heads,
            "files": files,
        }
    )
    archive.writestr("manifest.json", manifest)
    archive.writestr("manifest.sig", base64.b64encode(checkpoints.signing_key().sign(manifest)))
    archive.close()
    yield sink.drain()


def bundle_subject(model_names: list[str]) -> tuple[str, list[uuid.UUID]]:
    ids = [model_id_for(name) for name in model_names]
    return ",".join(f"model:{name}" for name in model_names), model_streams(ids)
