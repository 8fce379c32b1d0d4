"""Lineage commands: validate -> resolve nodes -> check permission and cycles -> append.

Edges live in their own streams (one per source, type and target), so recording the same edge
twice finds the stream already there and appends nothing. An OpenLineage RunEvent is mapped
onto these commands and the registry's by its endpoint (api/lineage/openlineage.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from core.actors import Actor
from eventstore import store
from eventstore.metadata import command_metadata
from eventstore.types import NO_STREAM, ConcurrencyConflict, StreamRef
from lineage import events as ev
from lineage import queries, rules
from lineage.errors import CycleRefused, NoTeam, NotRunOwner
from lineage.models import LineageEdge, LineageNode
from registry import permissions
from registry import queries as registry_queries
from registry.errors import NotOwner

ACYCLIC_LOCK = 0x6C696E65616765  # advisory lock: edge types that must stay acyclic


# -- nodes -------------------------------------------------------------------------------


def _endpoint(text: object) -> tuple[rules.NodeRef, uuid.UUID, str]:
    """(parsed, id, canonical key); a run need not exist yet, anything else must."""
    ref = rules.parse_node(text)
    if ref.kind == rules.RUN:
        return ref, rules.run_node_id(ref.name), ref.key
    node = queries.get_node(text)
    return ref, node.id, node.key


def _require_change(actor: Actor, node: LineageNode) -> None:
    if node.kind in (rules.DATASET, rules.DATASET_VERSION):
        permissions.require_change_dataset(actor.account, str(node.owner_id))
    else:
        permissions.require_change_model(actor.account, str(node.owner_id))


def _require_read(actor: Actor, node: LineageNode) -> None:
    """Models, versions and datasets are readable by every authenticated user (README), so
    another team's dataset or model may feed one's own: an active account is what it takes."""
    user = actor.account
    if user is None or not user.is_authenticated or not user.is_active:
        raise NotOwner(f"reading {node.key} needs an active account")


def claim_run(actor: Actor, run_id: str) -> None:
    """The team that first reports a run owns it, and only that team adds to it: a run already
    owned needs a member of its team (or a superuser); a new one is claimed for the actor's
    default team (422 no_team without one). Who owns another team's run is not told."""
    node = LineageNode.objects.filter(id=rules.run_node_id(run_id)).first()
    if node is not None and node.team_id is not None:
        if not permissions.acts_for(actor.account, node.team_id):
            raise NotRunOwner(f"run:{run_id} was reported by another team: only it adds to it")
        return
    team = registry_queries.default_team(actor.account)
    if team is None:
        raise NoTeam(
            f"run:{run_id} is new and is owned by the team that first reports it: choose a"
            " default team first (PUT /api/v1/users/me/default-team/)"
        )
    stream = rules.run_node_id(run_id)
    _, version = store.load(stream, lambda state, event: state, None)
    store.append(
        StreamRef(stream, ev.RUN),
        version,
        [ev.RunClaimed(run_id=run_id, team_id=team.pk, team=team.name)],
        command_metadata(actor),
    )


def _authorize(actor: Actor, source: rules.NodeRef, target: rules.NodeRef) -> None:
    """Change rights on the end an edge writes into (the target: its upstream lineage changes)
    and read rights on the other; a run end needs its team. The target is checked first, so a
    refused edge claims no run."""
    if target.kind == rules.RUN:
        claim_run(actor, target.name)
    else:
        _require_change(actor, queries.get_node(target.key))
    if source.kind == rules.RUN:
        claim_run(actor, source.name)
    else:
        _require_read(actor, queries.get_node(source.key))


# -- edges -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EdgeResult:
    id: uuid.UUID
    source: str
    target: str
    edge_type: str
    created: bool
    position: int | None


def _closes_cycle(source_id: uuid.UUID, target_id: uuid.UUID) -> bool:
    """Whether source is already downstream of target through acyclic-type edges."""
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE down(node) AS (SELECT %s::uuid UNION"
            " SELECT e.target_id FROM down JOIN lineage_edge e ON e.source_id = down.node"
            " WHERE e.edge_type = ANY(%s))"
            " SELECT EXISTS (SELECT 1 FROM down WHERE node = %s)",
            (target_id, list(rules.ACYCLIC_TYPES), source_id),
        )
        return cursor.fetchone()[0]


def record_edge(
    *,
    actor: Actor,
    source: str,
    target: str,
    edge_type: str,
    idempotency_key: str | None = None,
    origin: str = "api",
    run_id: str = "",
) -> EdgeResult:
    """Record `source -edge_type-> target` (data flows from source to target)."""
    source_ref, source_id, source_key = _endpoint(source)
    target_ref, target_id, target_key = _endpoint(target)
    rules.check_edge(source_ref, target_ref, edge_type)
    if source_id == target_id:
        raise rules.SelfLoop(f"{source_key} cannot be its own {edge_type} source")
    edge_id = rules.edge_stream_id(source_id, edge_type, target_id)
    event = ev.EdgeRecorded(
        source=source_key,
        source_id=str(source_id),
        target=target_key,
        target_id=str(target_id),
        edge_type=edge_type,
        origin=origin,
        run_id=run_id,
    )
    try:
        with transaction.atomic():
            _authorize(actor, source_ref, target_ref)
            existing = LineageEdge.objects.filter(
                source_id=source_id, target_id=target_id, edge_type=edge_type
            ).first()
            if existing is not None:
                return EdgeResult(
                    existing.id, source_key, target_key, edge_type, False, existing.position
                )
            if edge_type in rules.ACYCLIC_TYPES:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (ACYCLIC_LOCK,))
                if _closes_cycle(source_id, target_id):
                    raise CycleRefused(
                        f"{source_key} is already downstream of {target_key}:"
                        f" a {edge_type} edge would close a cycle"
                    )
            result = store.append(
                StreamRef(edge_id, ev.EDGE),
                NO_STREAM,
                [event],
                command_metadata(actor, idempotency_key),
            )
    except ConcurrencyConflict as conflict:
        if conflict.stream_id != edge_id:
            raise  # a racing claim of a run: the client retries and learns who owns it
        # A racing writer recorded the same edge first: it exists, which is what was asked.
        stored = LineageEdge.objects.get(
            source_id=source_id, target_id=target_id, edge_type=edge_type
        )
        return EdgeResult(stored.id, source_key, target_key, edge_type, False, stored.position)
    return EdgeResult(
        edge_id, source_key, target_key, edge_type, not result.replayed, result.positions[0]
    )


# -- OpenLineage runs --------------------------------------------------------------------


def record_run_event(
    *,
    actor: Actor,
    run_id: str,
    run_state: str,
    event_time: str,
    job_namespace: str,
    job_name: str,
    producer: str,
    inputs: list[str],
    outputs: list[str],
    facets: dict[str, Any],
    request_fingerprint: bytes,
    idempotency_key: str | None = None,
) -> store.AppendResult:
    """Record an OpenLineage RunEvent on its run's stream, with the nodes its datasets resolved
    to; edges follow through record_edge. The same request repeated with its Idempotency-Key
    returns the first append (replayed). Only the run's team adds to it (claim_run)."""
    claim_run(actor, run_id)
    return store.append(
        StreamRef(rules.run_node_id(run_id), ev.RUN),
        None,
        [
            ev.RunEventReceived(
                run_id=run_id,
                run_state=run_state,
                event_time=event_time,
                job_namespace=job_namespace,
                job_name=job_name,
                producer=producer,
                inputs=inputs,
                outputs=outputs,
                facets=facets,
            )
        ],
        command_metadata(actor, idempotency_key),
        request_fingerprint=request_fingerprint,
    )


# -- exports -----------------------------------------------------------------------------


def start_export(
    *, actor: Actor, kind: str, format: str, subject: str, parameters: dict[str, Any]
) -> uuid.UUID:
    """Record who is exporting what before the first byte leaves."""
    export_id = uuid.uuid4()
    store.append(
        StreamRef(export_id, ev.EXPORT),
        NO_STREAM,
        [ev.ExportStarted(kind=kind, format=format, subject=subject, parameters=parameters)],
        command_metadata(actor),
    )
    return export_id


def complete_export(
    *, actor: Actor, export_id: uuid.UUID, sha256: str, size: int, events: int
) -> None:
    """Record the digest of what was sent, once the last byte has left."""
    store.append(
        StreamRef(export_id, ev.EXPORT),
        1,
        [ev.ExportCompleted(sha256=sha256, bytes=size, events=events)],
        command_metadata(actor),
    )
