"""Projectors: lineage and registry events -> lineage nodes and edges. One function per event type.

Registry events make nodes (model versions, datasets, dataset versions) and the edges a version
names at creation (training and evaluation datasets, the run that produced it); lineage events
add edges and runs. Names come from the registry's read tables, written earlier in the log."""

from __future__ import annotations

from eventstore.projection import ProjectionWriter, projection_tables, projector
from eventstore.types import RecordedEvent
from lineage import events as ev
from lineage import rules
from lineage.models import LineageEdge, LineageNode
from registry import events as rev

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


# A run's team: the first to report it. A model version naming a run reports it for the
# model's team; a claim (RunClaimed) for the claiming team. Either keeps an earlier owner.
_RUN_TEAM = (
    "INSERT INTO lineage_node (id, key, kind, owner_id, number, position, recorded_at, team_id)"
    " VALUES (%s, %s, %s, NULL, NULL, %s, %s, {team})"
    " ON CONFLICT (id) DO UPDATE SET team_id = coalesce(lineage_node.team_id, EXCLUDED.team_id)"
)
_MODEL_TEAM = (
    "(SELECT g.id FROM auth_group g JOIN registry_registeredmodel m ON g.name = m.team"
    " WHERE m.id = %s)"
)


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


@projector(rev.ModelVersionCreated)
def project_model_version_created(
    e: rev.ModelVersionCreated, event: RecordedEvent, out: ProjectionWriter
) -> None:
    out.execute(
        "INSERT INTO lineage_node (id, key, kind, owner_id, number, position, recorded_at)"
        " SELECT %s, 'model:' || m.name || '@' || %s, %s, m.id, %s, %s, %s"
        " FROM registry_registeredmodel m WHERE m.id = %s ON CONFLICT DO NOTHING",
        (
            event.stream_id,
            e.number,
            rules.MODEL,
            e.number,
            event.position,
            event.recorded_at,
            e.model_id,
        ),
    )
    for refs, edge_type in (
        (e.training_datasets, "trained_on"),
        (e.evaluation_datasets, "evaluated_on"),
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
    if e.run_id:
        run = rules.run_node_id(e.run_id)
        out.execute(
            _RUN_TEAM.format(team=_MODEL_TEAM),
            (run, f"run:{e.run_id}", rules.RUN, event.position, event.recorded_at, e.model_id),
        )
        _edge(out, str(run), "produced", str(event.stream_id), event)


@projector(rev.ModelRenamed)
def project_model_renamed(e: rev.ModelRenamed, event: RecordedEvent, out: ProjectionWriter) -> None:
    out.execute(
        "UPDATE lineage_node SET key = 'model:' || %s || '@' || number"
        " WHERE owner_id = %s AND kind = %s",
        (e.new_name, event.stream_id, rules.MODEL),
    )


@projector(rev.DatasetRegistered)
def project_dataset_registered(
    e: rev.DatasetRegistered, event: RecordedEvent, out: ProjectionWriter
) -> None:
    key = f"dataset:{e.name}"
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


@projector(rev.DatasetVersionCreated)
def project_dataset_version_created(
    e: rev.DatasetVersionCreated, event: RecordedEvent, out: ProjectionWriter
) -> None:
    out.execute(
        "INSERT INTO lineage_node (id, key, kind, owner_id, number, position, recorded_at)"
        " SELECT %s, 'dataset:' || d.name || '@' || %s, %s, d.id, %s, %s, %s"
        " FROM registry_dataset d WHERE d.id = %s ON CONFLICT DO NOTHING",
        (
            event.stream_id,
            e.number,
            rules.DATASET_VERSION,
            e.number,
            event.position,
            event.recorded_at,
            e.dataset_id,
        ),
    )


@projector(ev.EdgeRecorded)
def project_edge_recorded(e: ev.EdgeRecorded, event: RecordedEvent, out: ProjectionWriter) -> None:
    for key in (e.source, e.target):
        if key.startswith("run:"):
            _run_node(out, key[4:], event)
    _edge(out, e.source_id, e.edge_type, e.target_id, event)


@projector(ev.RunEventReceived)
def project_run_event_received(
    e: ev.RunEventReceived, event: RecordedEvent, out: ProjectionWriter
) -> None:
    _run_node(out, e.run_id, event)


@projector(ev.RunClaimed)
def project_run_claimed(e: ev.RunClaimed, event: RecordedEvent, out: ProjectionWriter) -> None:
    out.execute(
        _RUN_TEAM.format(team="%s"),
        (
            rules.run_node_id(e.run_id),
            f"run:{e.run_id}",
            rules.RUN,
            event.position,
            event.recorded_at,
            e.team_id,
        ),
    )
