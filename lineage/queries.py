"""Lineage reads the API, the admin and the exports share: upstream and downstream closure of a
node to a depth, filtered by edge type, as the graph stood at a log position or a time. A walk
from `dataset:<name>` starts from the dataset and all its versions.

Two strategies, both cycle-safe: "frontier" walks breadth-first one level per query, carrying
the set of nodes already seen (each node expanded once); "cte" is one recursive CTE over
(node, depth) pairs. bench/lineage.py measures both; `closure` uses the faster."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection

from lineage import rules, streams
from lineage.errors import NodeNotFound
from lineage.models import LineageNode

UPSTREAM, DOWNSTREAM = "upstream", "downstream"
DEFAULT_STRATEGY = "frontier"
EDGES_PER_NODE = 4


@dataclass(frozen=True)
class Edge:
    source: uuid.UUID
    target: uuid.UUID
    edge_type: str
    position: int
    recorded_at: datetime
    stream_id: uuid.UUID


@dataclass
class Closure:
    """Nodes reached (id -> depth of first reach; the start is depth 0) and the edges walked."""

    start: uuid.UUID
    direction: str
    depth: int
    nodes: dict[uuid.UUID, int] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    truncated: bool = False  # the walk stopped at its node limit before its depth


def _filters(edge_types, up_to_position, as_of) -> tuple[str, list[Any]]:
    sql, params = "", []
    if edge_types:
        sql += " AND e.edge_type = ANY(%s)"
        params.append(list(edge_types))
    if up_to_position is not None:
        sql += " AND e.position <= %s"
        params.append(up_to_position)
    if as_of is not None:
        sql += " AND e.recorded_at <= %s"
        params.append(as_of)
    return sql, params


def _ends(direction: str) -> tuple[str, str]:
    """(column matched against the frontier, column holding the next node)."""
    if direction == UPSTREAM:
        return "target_id", "source_id"
    if direction == DOWNSTREAM:
        return "source_id", "target_id"
    raise ValueError(direction)


def closure(
    start: uuid.UUID,
    *,
    direction: str,
    depth: int,
    edge_types: tuple[str, ...] | None = None,
    up_to_position: int | None = None,
    as_of: datetime | None = None,
    strategy: str = DEFAULT_STRATEGY,
    with_edges: bool = True,
    limit: int | None = None,
) -> Closure:
    """Nodes reachable from `start` within `depth` edges. Without edges each level asks only
    for the distinct next nodes, which is what makes a wide closure cheap. With a `limit` the
    walk keeps at most that many nodes (and edges between them), nearest first, and says
    whether it stopped short (`truncated`); every query asks for no more rows than that."""
    rules.check_depth(depth)
    starts = _starts(start, up_to_position, as_of)
    if strategy == "cte":
        return _cte(start, starts, direction, depth, edge_types, up_to_position, as_of)
    walk = _frontier if with_edges else _frontier_nodes
    return walk(start, starts, direction, depth, edge_types, up_to_position, as_of, limit)


def _starts(start: uuid.UUID, up_to_position: int | None, as_of: datetime | None) -> list:
    """Where a walk begins: the node itself, and for `dataset:<name>` every version of the
    dataset that existed at the point asked about (all its versions: README, Lineage and
    audit exports)."""
    sql = "SELECT id FROM lineage_node WHERE owner_id = %s AND kind = %s"
    params: list[Any] = [start, rules.DATASET_VERSION]
    if up_to_position is not None:
        sql += " AND position <= %s"
        params.append(up_to_position)
    if as_of is not None:
        sql += " AND recorded_at <= %s"
        params.append(as_of)
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY number", params)
        return [start, *(row[0] for row in cursor.fetchall())]


def _frontier_nodes(
    start, starts, direction, depth, edge_types, up_to_position, as_of, limit=None
) -> Closure:
    match, other = _ends(direction)
    where, params = _filters(edge_types, up_to_position, as_of)
    sql = f"SELECT DISTINCT e.{other} FROM lineage_edge e WHERE e.{match} = ANY(%s){where}"
    sql += " ORDER BY 1 LIMIT %s"  # enough rows to fill the limit past the nodes already seen
    result = Closure(start, direction, depth, dict.fromkeys(starts, 0))
    frontier = list(starts)
    with connection.cursor() as cursor:
        for level in range(1, depth + 1):
            if not frontier:
                break
            room = _room(result, limit)
            cursor.execute(
                sql, [frontier, *params, None if room is None else room + 1 + len(result.nodes)]
            )
            new = [row[0] for row in cursor.fetchall() if row[0] not in result.nodes]
            if room is not None and len(new) > room:
                new, result.truncated = new[:room], True
            frontier = new
            for node in frontier:
                result.nodes[node] = level
            if result.truncated:
                break
    return result


def _room(result: Closure, limit: int | None) -> int | None:
    return None if limit is None else max(limit - len(result.nodes), 0)


def _frontier(
    start, starts, direction, depth, edge_types, up_to_position, as_of, limit=None
) -> Closure:
    match, _ = _ends(direction)
    where, params = _filters(edge_types, up_to_position, as_of)
    sql = (
        "SELECT e.source_id, e.target_id, e.edge_type, e.position, e.recorded_at, e.stream_id"
        f" FROM lineage_edge e WHERE e.{match} = ANY(%s){where} ORDER BY e.position LIMIT %s"
    )
    result = Closure(start, direction, depth, dict.fromkeys(starts, 0))
    frontier = list(starts)
    # Edges are bounded too: at most EDGES_PER_NODE times the node limit.
    budget = None if limit is None else limit * EDGES_PER_NODE
    with connection.cursor() as cursor:
        for level in range(1, depth + 1):
            if not frontier:
                break
            rows = None if budget is None else budget - len(result.edges) + 1
            cursor.execute(sql, [frontier, *params, rows])
            frontier = []
            for row in cursor.fetchall():
                edge = Edge(*row)
                reached = edge.source if direction == UPSTREAM else edge.target
                full = budget is not None and len(result.edges) >= budget
                if reached not in result.nodes:
                    if full or (limit is not None and len(result.nodes) >= limit):
                        result.truncated = True
                        continue
                    result.nodes[reached] = level
                    frontier.append(reached)
                elif full:
                    result.truncated = True
                    continue
                result.edges.append(edge)
            if result.truncated:
                break
    return result


def _cte(start, starts, direction, depth, edge_types, up_to_position, as_of) -> Closure:
    match, other = _ends(direction)
    where, params = _filters(edge_types, up_to_position, as_of)
    result = Closure(start, direction, depth)
    with connection.cursor() as cursor:
        # UNION (not UNION ALL) drops repeated (node, depth) pairs, and the depth bound ends
        # every walk: a cycle cannot make it run for ever.
        cursor.execute(
            "WITH RECURSIVE walk(node, depth) AS ("
            " SELECT unnest(%s::uuid[]), 0 UNION"
            f" SELECT e.{other}, w.depth + 1 FROM walk w JOIN lineage_edge e"
            f"  ON e.{match} = w.node WHERE w.depth < %s{where})"
            " SELECT node, min(depth) FROM walk GROUP BY node",
            [starts, depth, *params],
        )
        result.nodes = {row[0]: row[1] for row in cursor.fetchall()}
        inner = [n for n, d in result.nodes.items() if d < depth]
        cursor.execute(
            "SELECT e.source_id, e.target_id, e.edge_type, e.position, e.recorded_at, e.stream_id"
            f" FROM lineage_edge e WHERE e.{match} = ANY(%s){where}",
            [inner, *params],
        )
        result.edges = [Edge(*row) for row in cursor.fetchall()]
    return result


def node_exists_at(node: LineageNode, up_to_position: int | None, as_of: datetime | None) -> bool:
    if up_to_position is not None and node.position > up_to_position:
        return False
    return not (as_of is not None and node.recorded_at > as_of)


def nodes(ids) -> dict[uuid.UUID, LineageNode]:
    return {n.id: n for n in LineageNode.objects.filter(id__in=list(ids))}


def get_node(text: object) -> LineageNode:
    """The stored node a name denotes (case-insensitive model and dataset names)."""
    ref = rules.parse_node(text)
    found = LineageNode.objects.filter(id=streams.node_id(ref)).first()
    if found is None:
        raise NodeNotFound(f"no node {ref.key}")
    return found


def iter_edges(ids: list[uuid.UUID]) -> Iterator[Edge]:
    """Every edge between the given nodes, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT source_id, target_id, edge_type, position, recorded_at, stream_id"
            " FROM lineage_edge"
            " WHERE source_id = ANY(%s) AND target_id = ANY(%s) ORDER BY position",
            [ids, ids],
        )
        for row in cursor.fetchall():
            yield Edge(*row)


@dataclass(frozen=True)
class EdgeRow:
    id: uuid.UUID
    source: uuid.UUID
    target: uuid.UUID
    edge_type: str
    position: int
    recorded_at: datetime


def edges_of(node_id: uuid.UUID) -> list[EdgeRow]:
    """Edges into and out of a node, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, source_id, target_id, edge_type, position, recorded_at FROM lineage_edge"
            " WHERE source_id = %s OR target_id = %s ORDER BY position",
            [node_id, node_id],
        )
        return [EdgeRow(*row) for row in cursor.fetchall()]
