"""Lineage reads: traversal on generated graphs against a brute-force reference (every
strategy, direction, depth, edge-type filter and `as_of` position must reach the same nodes at
the same depths and walk the same edges, cycles included); a dataset's name starting a walk
from all its versions; nodes by name; the edges of a node and between nodes; whether a node
existed at a position or time."""

from __future__ import annotations

import itertools
import uuid
from collections import deque
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.actors import Actor
from lineage import commands, queries, rules
from lineage.errors import CycleRefused, InvalidNode, NodeNotFound
from registry import commands as registry
from registry.commands import VersionInput

pytestmark = pytest.mark.django_db

MODEL_TYPES = ("fine_tuned_from", "distilled_from", "ensembled_from")


def reference(edges, start, direction, depth, types=None, cut=None):
    """Plain BFS over every edge loaded in memory: (node -> depth, set of edges walked)."""
    kept = [e for e in edges if (types is None or e[2] in types) and (cut is None or e[3] <= cut)]
    reached = {start: 0}
    walked = set()
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if reached[node] >= depth:
            continue
        for source, target, edge_type, _ in kept:
            here, there = (target, source) if direction == "upstream" else (source, target)
            if here != node:
                continue
            walked.add((source, target, edge_type))
            if there not in reached:
                reached[there] = reached[node] + 1
                queue.append(there)
    return reached, walked


graphs = st.tuples(
    st.integers(min_value=2, max_value=7),  # model versions
    st.integers(min_value=0, max_value=3),  # runs
    st.lists(
        st.tuples(st.integers(0, 9), st.integers(0, 9), st.sampled_from(range(5))), max_size=25
    ),
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    graph=graphs,
    start=st.integers(0, 9),
    direction=st.sampled_from(["upstream", "downstream"]),
    depth=st.integers(0, 6),
    types=st.none() | st.sets(st.sampled_from(rules.EDGE_TYPES), min_size=1),
    cut_at=st.none() | st.integers(0, 30),
)
def test_closure_matches_brute_force_bfs(owner, graph, start, direction, depth, types, cut_at):
    actor = Actor.user(owner, auth_method="token")
    versions, runs, wanted = graph
    name = f"g-{uuid.uuid4().hex[:12]}"
    model = registry.register_model(actor=actor, name=name, team="fraud-ml")
    for _ in range(versions):
        registry.create_model_version(actor=actor, model_id=model.id, data=VersionInput())
    nodes = [f"model:{name}@{i + 1}" for i in range(versions)]
    nodes += [f"run:{name}-r{i}" for i in range(runs)]
    accepted = []
    for a, b, kind in wanted:
        source, target = nodes[a % len(nodes)], nodes[b % len(nodes)]
        if source == target:
            continue
        if source.startswith("run:") and target.startswith("run:"):
            continue
        if source.startswith("run:"):
            edge_type = "produced"
        elif target.startswith("run:"):
            edge_type = "consumed"
        else:
            edge_type = MODEL_TYPES[kind % 3]
        try:
            edge = commands.record_edge(
                actor=actor, source=source, target=target, edge_type=edge_type
            )
        except CycleRefused:
            continue
        if edge.created:
            accepted.append((source, target, edge_type, edge.position))
    origin = nodes[start % len(nodes)]
    if origin.startswith("run:") and not any(origin in e[:2] for e in accepted):
        origin = nodes[0]
    cut = None
    if cut_at is not None and accepted:
        cut = sorted(e[3] for e in accepted)[cut_at % len(accepted)]
    want_nodes, want_edges = reference(
        accepted, origin, direction, depth, set(types) if types else None, cut
    )
    node_id = queries.get_node(origin).id
    for strategy, with_edges in (("frontier", True), ("frontier", False), ("cte", True)):
        walk = queries.closure(
            node_id,
            direction=direction,
            depth=depth,
            edge_types=tuple(sorted(types)) if types else None,
            up_to_position=cut,
            strategy=strategy,
            with_edges=with_edges,
        )
        names = {i: n.key for i, n in queries.nodes(walk.nodes).items()}
        assert {names[i]: d for i, d in walk.nodes.items()} == want_nodes, strategy
        if not with_edges:
            continue
        edge_names = queries.nodes({e.source for e in walk.edges} | {e.target for e in walk.edges})
        got_edges = {
            (edge_names[e.source].key, edge_names[e.target].key, e.edge_type) for e in walk.edges
        }
        assert got_edges == want_edges, strategy
        assert len(walk.edges) == len(got_edges), f"{strategy} walked an edge twice"


def test_acyclic_types_never_form_a_cycle_in_generated_graphs(owner):
    actor = Actor.user(owner, auth_method="token")
    model = registry.register_model(actor=actor, name="cyclic", team="fraud-ml")
    for _ in range(4):
        registry.create_model_version(actor=actor, model_id=model.id, data=VersionInput())
    ring = [f"model:cyclic@{i}" for i in (1, 2, 3, 4)]
    for a, b in itertools.pairwise(ring):
        commands.record_edge(actor=actor, source=a, target=b, edge_type="fine_tuned_from")
    with pytest.raises(CycleRefused):
        commands.record_edge(
            actor=actor, source=ring[3], target=ring[0], edge_type="distilled_from"
        )
    # Through a run the same loop is allowed, and the walk still ends.
    commands.record_edge(actor=actor, source=ring[3], target="run:loop", edge_type="consumed")
    commands.record_edge(actor=actor, source="run:loop", target=ring[0], edge_type="produced")
    walk = queries.closure(queries.get_node(ring[0]).id, direction="downstream", depth=100)
    assert sorted(walk.nodes.values()) == [0, 1, 2, 3, 4]


def test_get_node_finds_recorded_nodes_by_name_whatever_the_case(ledger):
    (model,) = ledger.model("Casey")
    (data,) = ledger.dataset("rows")
    assert queries.get_node(model).key == model
    assert queries.get_node(model.upper().replace("MODEL:", "model:")).id == (
        queries.get_node(model).id
    )
    assert queries.get_node(data).key == data
    with pytest.raises(NodeNotFound):
        queries.get_node("model:casey@9")
    with pytest.raises(InvalidNode):
        queries.get_node(42)


def test_a_walk_from_a_dataset_starts_from_every_version_it_has(ledger):
    data = ledger.dataset("letters", versions=2)
    first = ledger.model("reader", training_datasets=("letters@1",))
    second = ledger.model("writer", training_datasets=("letters@2",))
    down = queries.closure(queries.get_node("dataset:letters").id, direction="downstream", depth=1)
    names = {
        n.key: d for n, d in ((queries.nodes(down.nodes)[i], d) for i, d in down.nodes.items())
    }
    assert names == {"dataset:letters": 0, data[0]: 0, data[1]: 0, first[0]: 1, second[0]: 1}
    one = queries.closure(queries.get_node(data[0]).id, direction="downstream", depth=1)
    assert set(one.nodes) == {queries.get_node(data[0]).id, queries.get_node(first[0]).id}


def test_edges_of_a_node_are_those_into_and_out_of_it_oldest_first(ledger):
    (data,) = ledger.dataset("basis")
    (base,) = ledger.model("base", training_datasets=("basis@1",))
    (tuned,) = ledger.model("tuned")
    (other,) = ledger.model("other")
    actor = ledger.actor
    commands.record_edge(actor=actor, source=base, target=tuned, edge_type="fine_tuned_from")
    commands.record_edge(actor=actor, source=other, target=base, edge_type="distilled_from")
    base_id, tuned_id = queries.get_node(base).id, queries.get_node(tuned).id
    data_id, other_id = queries.get_node(data).id, queries.get_node(other).id

    edges = queries.edges_of(base_id)
    assert [(e.source, e.target, e.edge_type) for e in edges] == [
        (data_id, base_id, "trained_on"),
        (base_id, tuned_id, "fine_tuned_from"),
        (other_id, base_id, "distilled_from"),
    ]
    assert [e.position for e in edges] == sorted(e.position for e in edges)
    assert [e.edge_type for e in queries.edges_of(tuned_id)] == ["fine_tuned_from"]

    among = list(queries.iter_edges([base_id, tuned_id, data_id]))
    assert [(e.source, e.target) for e in among] == [(data_id, base_id), (base_id, tuned_id)]
    assert list(queries.iter_edges([tuned_id, other_id])) == []


def test_node_exists_at_a_position_or_time_only_once_recorded(ledger):
    (model,) = ledger.model("dated")
    node = queries.get_node(model)
    assert queries.node_exists_at(node, None, None)
    assert queries.node_exists_at(node, node.position, node.recorded_at)
    assert not queries.node_exists_at(node, node.position - 1, None)
    assert not queries.node_exists_at(node, None, node.recorded_at - timedelta(microseconds=1))
