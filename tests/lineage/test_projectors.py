"""Lineage projectors: every lineage event type is projected or listed as kept in the log only;
the projectors are registered by event class; and the lineage tables the projectors write as
events arrive are the tables a replay of the log writes.

No lineage table is a snapshot of one stream's fold: a node stands for a registry stream (a
model version, a dataset, a dataset version) or a run, written from registry and lineage events
alike, and an edge row is keyed by its endpoints and type (an edge a model version names at
creation lives in the version's stream). So both keep explicit projectors."""

from __future__ import annotations

import pytest

from eventstore import catalog
from eventstore.projection import checksum, projectors_for, rebuild
from eventstore.snapshots import registered_snapshots
from lineage import commands
from lineage import events as ev
from lineage import projectors as lineage_projectors
from lineage.models import LineageEdge, LineageNode
from registry import commands as registry
from registry.queries import model_id_for

# Events kept in the log only, with why: an export's record is read back from its stream (the
# audit trail and bundle list it); no read table holds it.
NOT_PROJECTED = {
    ev.ExportStarted: "an export is recorded in the log only",
    ev.ExportCompleted: "an export is recorded in the log only",
}


def _lineage_classes() -> set[type[catalog.DomainEvent]]:
    return {
        cls
        for cls in vars(ev).values()
        if isinstance(cls, type)
        and issubclass(cls, catalog.DomainEvent)
        and cls is not catalog.DomainEvent
    }


def _projected(event_type: str) -> list:
    """The projectors of `event_type` itself, not those every event runs (the stream index)."""
    everyone = projectors_for("no.such.EventType")
    return [p for p in projectors_for(event_type) if p not in everyone]


def test_every_lineage_event_class_is_projected_or_listed_as_kept_in_the_log():
    classes = _lineage_classes()
    assert classes == {
        cls for t, cls in catalog.registered_types().items() if t.startswith("lineage.")
    }
    for cls in classes:
        handled = bool(_projected(cls.event_type))
        assert handled != (cls in NOT_PROJECTED), cls.event_type


def test_lineage_projectors_are_registered_by_event_class():
    ours = [
        projector
        for event_type in catalog.registered_types()
        for projector in _projected(event_type)
        if getattr(projector, "__wrapped__", projector).__module__ == lineage_projectors.__name__
    ]
    assert len(ours) == 7
    # A projector registered by class is wrapped to decode the event; one of a name is not.
    assert all(hasattr(projector, "__wrapped__") for projector in ours)


def test_no_lineage_table_is_a_snapshot():
    assert not {s.model for s in registered_snapshots()} & {LineageNode, LineageEdge}


@pytest.mark.django_db
def test_lineage_tables_written_on_append_are_the_tables_a_replay_writes(ledger):
    train, evaluation = ledger.dataset("transactions", versions=2)
    base = ledger.model("fraud-base")[0]
    (model,) = ledger.model(
        "fraud",
        training_datasets=(train,),
        evaluation_datasets=(evaluation,),
        run_id="train-7",
    )
    commands.record_edge(actor=ledger.actor, source=base, target=model, edge_type="fine_tuned_from")
    commands.record_edge(
        actor=ledger.actor, source=evaluation, target="run:etl-1", edge_type="consumed"
    )
    commands.record_edge(
        actor=ledger.actor, source="run:etl-1", target="dataset:transactions", edge_type="produced"
    )
    commands.record_run_event(
        actor=ledger.actor,
        run_id="etl-2",
        run_state="START",
        event_time="2026-11-23T12:00:00Z",
        job_namespace="spark",
        job_name="etl",
        producer="p",
        inputs=[train],
        outputs=[],
        facets={},
        request_fingerprint=b"x" * 32,
    )
    registry.rename_model(
        actor=ledger.actor,
        model_id=str(model_id_for("fraud-base")),
        expected_version=None,
        new_name="fraud-core",
    )
    export = commands.start_export(
        actor=ledger.actor, kind="lineage", format="json", subject=model, parameters={}
    )
    commands.complete_export(
        actor=ledger.actor, export_id=export, sha256="ab" * 32, size=1, events=0
    )

    keys = set(LineageNode.objects.values_list("key", flat=True))
    assert {
        "dataset:transactions",
        "dataset:transactions@1",
        "dataset:transactions@2",
        "model:fraud-core@1",
        "model:fraud@1",
        "run:train-7",
        "run:etl-1",
        "run:etl-2",
    } <= keys
    assert set(LineageEdge.objects.values_list("edge_type", flat=True)) == {
        "trained_on",
        "evaluated_on",
        "produced",
        "fine_tuned_from",
        "consumed",
    }
    before = {table: checksum(table) for table in (LineageNode, LineageEdge)}
    rebuild()
    assert {table: checksum(table) for table in (LineageNode, LineageEdge)} == before
