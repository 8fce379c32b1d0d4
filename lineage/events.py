"""Lineage events: immutable facts in past tense, each with a schema version.

Streams: each edge is its own stream ("lineage.Edge", id derived from its endpoints and type, so
the same edge recorded twice is one stream); each OpenLineage run is a stream ("lineage.Run")
of the team that first reported it (RunClaimed) and the RunEvents received for it; each export
is a stream ("lineage.Export") that says who exported what and the digest of what they
received."""

from __future__ import annotations

from typing import Any

from eventstore.catalog import DomainEvent, event
from lineage import rules

EDGE = "lineage.Edge"
RUN = "lineage.Run"
EXPORT = "lineage.Export"


@event("lineage.EdgeRecorded")
class EdgeRecorded(DomainEvent):
    source: str = rules.SOURCE_NODE.field()
    source_id: str
    target: str = rules.TARGET_NODE.field()
    target_id: str
    edge_type: str = rules.EDGE_TYPE.field()
    origin: str
    run_id: str


@event("lineage.RunEventReceived")
class RunEventReceived(DomainEvent):
    run_id: str
    run_state: str  # OpenLineage eventType (the name event_type belongs to the class)
    event_time: str
    job_namespace: str
    job_name: str
    producer: str
    inputs: list[str]
    outputs: list[str]
    facets: dict[str, Any]


@event("lineage.RunClaimed")
class RunClaimed(DomainEvent):
    """The team that first reported a run owns it: only that team adds to it."""

    run_id: str
    team_id: int
    team: str


@event("lineage.ExportStarted")
class ExportStarted(DomainEvent):
    kind: str
    format: str
    subject: str
    parameters: dict[str, Any]


@event("lineage.ExportCompleted")
class ExportCompleted(DomainEvent):
    sha256: str
    bytes: int
    events: int
