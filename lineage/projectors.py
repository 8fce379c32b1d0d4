"""Projectors: lineage and registry events -> lineage nodes and edges. One function per event type.

Registry events make nodes (model versions, datasets, dataset versions) and the edges a version
names at creation (training and evaluation datasets, the run that produced it); lineage events
add edges and runs. Names come from the registry's read tables, written earlier in the log."""

from __future__ import annotations

from eventstore.projection import ProjectionWriter, projection_tables, projector
from eventstore.types import RecordedEvent
from lineage import rules
from lineage.models import LineageEdge, LineageNode

projection_tables(LineageNode, LineageEdge)

_NODE = (
    "INSERT INTO lineage_node (id, key, kind, owner_id, number, position, recorded_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)
_EDGE_FROM_REF = (
    "INSERT INTO lineage_edge (id, source_id, target_id, edge_type, position, recorded_at,"
    " stream_id)"
    " SELECT %s, dv.id, %s, %s, %s, %s, %s"
    " FROM registry_datasetversion dv JOIN registry_dataset d ON d.id = dv.dataset_id"
    " WHERE lower(d.name) = lower(%s) AND dv.number = %s ON CONFLICT DO NOTHING"
)


def _run_node(out: ProjectionWriter, run_id: str, event: RecordedEvent) -> str:
    node_id = rules.run_node_id(run_id)
    out.execute(
        _NODE, (node_id, f"run:{run_id}", rules.RUN, None, None, event.position, event.recorded_at)
    )
    return str(node_id)


def _edge(out: ProjectionWriter, source, edge_type: str, target, event: RecordedEvent) -> None:
    out.execute(
        "INSERT INTO lineage_edge (id, source_id, target_id, edge_type, position, recorded_at,"
        " stream_id) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (
            rules.edge_stream_id(source, edge_type, target),
            source,
            target,
            edge_type,
            event.position,
            event.recorded_at,
            event.stream_id,
        ),
    )


@projector("registry.ModelVersionCreated")
def project_model_version_created(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    out.execute(
        "INSERT INTO lineage_node (id, key, kind, owner_id, number, position, recorded_at)"
        " SELECT %s, 'model:' || m.name || '@' || %s, %s, m.id, %s, %s, %s"
        " FROM registry_registeredmodel m WHERE m.id = %s ON CONFLICT DO NOTHING",
        (
            event.stream_id,
            data["number"],
            rules.MODEL,
            data["number"],
            event.position,
            event.recorded_at,
            data["model_id"],
        ),
    )
    for refs, edge_type in (
        (data["training_datasets"], "trained_on"),
        (data["evaluation_datasets"], "evaluated_on"),
    ):
        for ref in refs:
            node = rules.parse_node(ref)
            out.execute(
                _EDGE_FROM_REF,
                (
                    rules.edge_stream_id(node.key.lower(), edge_type, event.stream_id),
                    event.stream_id,
                    edge_type,
                    event.position,
                    event.recorded_at,
                    event.stream_id,
                    node.name,
                    node.number,
                ),
            )
    if data["run_id"]:
        run = _run_node(out, data["run_id"], event)
        _edge(out, run, "produced", str(event.stream_id), event)


@projector("registry.ModelRenamed")
def project_model_renamed(event: RecordedEvent, out: ProjectionWriter) -> None:
    out.execute(
        "UPDATE lineage_node SET key = 'model:' || %s || '@' || number"
        " WHERE owner_id = %s AND kind = %s",
        (event.data["new_name"], event.stream_id, rules.MODEL),
    )


@projector("registry.DatasetRegistered")
def project_dataset_registered(event: RecordedEvent, out: ProjectionWriter) -> None:
    key = f"dataset:{event.data['name']}"
    out.execute(
        _NODE,
        (
            event.stream_id,
            key,
            rules.DATASET,
            event.stream_id,
            None,
            event.position,
            event.recorded_at,
        ),
    )


@projector("registry.DatasetVersionCreated")
def project_dataset_version_created(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    out.execute(
        "INSERT INTO lineage_node (id, key, kind, owner_id, number, position, recorded_at)"
        " SELECT %s, 'dataset:' || d.name || '@' || %s, %s, d.id, %s, %s, %s"
        " FROM registry_dataset d WHERE d.id = %s ON CONFLICT DO NOTHING",
        (
            event.stream_id,
            data["number"],
            rules.DATASET_VERSION,
            data["number"],
            event.position,
            event.recorded_at,
            data["dataset_id"],
        ),
    )


@projector("lineage.EdgeRecorded")
def project_edge_recorded(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    for key in (data["source"], data["target"]):
        if key.startswith("run:"):
            _run_node(out, key[4:], event)
    _edge(out, data["source_id"], data["edge_type"], data["target_id"], event)


@projector("lineage.RunEventReceived")
def project_run_event_received(event: RecordedEvent, out: ProjectionWriter) -> None:
    _run_node(out, event.data["run_id"], event)
