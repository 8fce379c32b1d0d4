"""Lineage commands: edges between registered nodes, their rules, and projection replay."""

import pytest

from eventstore import projection, store
from lineage import commands, queries
from lineage.errors import CycleRefused, InvalidEdge, InvalidNode, NodeNotFound, SelfLoop
from lineage.models import LineageEdge, LineageNode
from registry import commands as registry
from registry import queries as registry_queries
from registry.errors import NotOwner

pytestmark = pytest.mark.django_db


def _keys(closure):
    found = queries.nodes(closure.nodes)
    return {found[n].key: d for n, d in closure.nodes.items()}


def test_version_creation_edges_are_projected_and_survive_rebuild(ledger):
    (train,) = ledger.dataset("transactions")
    (holdout,) = ledger.dataset("holdout")
    (model,) = ledger.model(
        "fraud",
        training_datasets=("transactions@1",),
        evaluation_datasets=("holdout@1",),
        run_id="mlflow-run-7",
    )
    node = queries.get_node(model)
    up = queries.closure(node.id, direction="upstream", depth=5)
    assert _keys(up) == {model: 0, train: 1, holdout: 1, "run:mlflow-run-7": 1}
    assert {e.edge_type for e in up.edges} == {"trained_on", "evaluated_on", "produced"}
    before = [projection.checksum(m) for m in (LineageNode, LineageEdge)]
    projection.rebuild()
    assert [projection.checksum(m) for m in (LineageNode, LineageEdge)] == before
    assert LineageEdge.objects.count() == 3


def test_record_edge_appends_once_and_repeats_find_the_same_edge(ledger):
    base, tuned = ledger.model("base", 2)
    first = commands.record_edge(
        actor=ledger.actor, source=base, target=tuned, edge_type="fine_tuned_from"
    )
    again = commands.record_edge(
        actor=ledger.actor, source=base, target=tuned, edge_type="fine_tuned_from"
    )
    assert first.created and not again.created and first.id == again.id
    events = store.read_stream(first.id)
    assert [e.type for e in events] == ["lineage.EdgeRecorded"]
    assert events[0].data["source"] == base


def test_self_loops_wrong_kinds_and_unknown_nodes_are_refused(ledger):
    (m,) = ledger.model("solo")
    (d,) = ledger.dataset("data")
    with pytest.raises(SelfLoop):
        commands.record_edge(actor=ledger.actor, source=m, target=m, edge_type="fine_tuned_from")
    with pytest.raises(InvalidEdge):
        commands.record_edge(actor=ledger.actor, source=m, target=d, edge_type="trained_on")
    with pytest.raises(InvalidEdge):
        commands.record_edge(actor=ledger.actor, source=d, target=m, edge_type="flew_over")
    with pytest.raises(NodeNotFound):
        commands.record_edge(
            actor=ledger.actor, source="model:solo@9", target=m, edge_type="fine_tuned_from"
        )
    with pytest.raises(InvalidNode):
        commands.record_edge(actor=ledger.actor, source="table:x", target=m, edge_type="trained_on")
    assert LineageEdge.objects.count() == 0


def test_acyclic_types_refuse_cycles_but_runs_may_read_and_write_one_dataset(ledger):
    a, b, c = ledger.model("chain", 3)
    record = commands.record_edge
    record(actor=ledger.actor, source=a, target=b, edge_type="fine_tuned_from")
    record(actor=ledger.actor, source=b, target=c, edge_type="distilled_from")
    with pytest.raises(CycleRefused):
        record(actor=ledger.actor, source=c, target=a, edge_type="ensembled_from")
    (d,) = ledger.dataset("ledger-table")
    record(actor=ledger.actor, source=d, target="run:r1", edge_type="consumed")
    record(actor=ledger.actor, source="run:r1", target=d, edge_type="produced")
    node = queries.get_node(d)
    down = queries.closure(node.id, direction="downstream", depth=10)
    assert _keys(down) == {d: 0, "run:r1": 1}
    assert len(down.edges) == 2


def test_edges_on_models_need_the_owning_team(ledger, outsider):
    from core.actors import Actor

    base, tuned = ledger.model("owned", 2)
    with pytest.raises(NotOwner):
        commands.record_edge(
            actor=Actor.user(outsider, auth_method="token"),
            source=base,
            target=tuned,
            edge_type="fine_tuned_from",
        )


def test_renaming_a_model_renames_its_nodes(ledger):
    ledger.model("old-name")
    model_id = registry_queries.model_id_for("old-name")
    registry.rename_model(
        actor=ledger.actor, model_id=str(model_id), expected_version=None, new_name="new-name"
    )
    assert queries.get_node("model:new-name@1").key == "model:new-name@1"
