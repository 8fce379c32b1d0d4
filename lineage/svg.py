"""The lineage picture on admin pages: an SVG drawn on the server (no JavaScript), upstream
nodes to the left, downstream to the right, each node linking to its own admin page."""

from __future__ import annotations

import uuid
from collections import defaultdict

from django.urls import NoReverseMatch, reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from lineage import queries, rules
from lineage.models import LineageNode

DEPTH = 3
PER_COLUMN = 12
BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 210, 30, 60, 14, 10
COLOURS = {
    rules.MODEL: "#dbeafe",
    rules.DATASET: "#dcfce7",
    rules.DATASET_VERSION: "#dcfce7",
    rules.RUN: "#fef3c7",
}


def admin_url(node: LineageNode) -> str:
    try:
        if node.kind == rules.MODEL:
            return reverse("admin:registry_modelversion_change", args=[node.id])
        if node.kind == rules.DATASET_VERSION:
            return reverse("admin:registry_datasetversion_change", args=[node.id])
        if node.kind == rules.DATASET:
            return reverse("admin:registry_dataset_change", args=[node.id])
        return reverse("admin:eventstore_event_changelist") + f"?q={node.id}"
    except NoReverseMatch:
        return ""


def _label(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def lineage_svg(node_id: uuid.UUID | str) -> SafeString:
    start = LineageNode.objects.filter(id=node_id).first()
    if start is None:
        return mark_safe("<p>No lineage recorded.</p>")
    up = queries.closure(start.id, direction=queries.UPSTREAM, depth=DEPTH)
    down = queries.closure(start.id, direction=queries.DOWNSTREAM, depth=DEPTH)
    columns: dict[int, list[uuid.UUID]] = defaultdict(list)
    for node, depth in up.nodes.items():
        columns[-depth].append(node)
    for node, depth in down.nodes.items():
        if depth:
            columns[depth].append(node)
    found = queries.nodes(set(up.nodes) | set(down.nodes))
    where: dict[uuid.UUID, tuple[int, int]] = {}
    hidden = 0
    left = min(columns)
    for column, members in columns.items():
        members.sort(key=lambda n: found[n].key)
        hidden += max(0, len(members) - PER_COLUMN)
        for row, node in enumerate(members[:PER_COLUMN]):
            x = PAD + (column - left) * (BOX_W + GAP_X)
            where[node] = (x, PAD + row * (BOX_H + GAP_Y))
    width = PAD * 2 + (max(columns) - left + 1) * (BOX_W + GAP_X) - GAP_X
    tallest = max(min(len(m), PER_COLUMN) for m in columns.values())
    height = PAD * 2 + tallest * (BOX_H + GAP_Y) + (20 if hidden else 0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage-picture" width="{width}"'
        f' height="{height}" viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="Lineage of {escape(start.key)}" font-family="sans-serif" font-size="11">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6"'
        ' markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker>'
        "</defs>",
    ]
    drawn = set()
    for edge in [*up.edges, *down.edges]:
        key = (edge.source, edge.target, edge.edge_type)
        if key in drawn or edge.source not in where or edge.target not in where:
            continue
        drawn.add(key)
        (x1, y1), (x2, y2) = where[edge.source], where[edge.target]
        parts.append(
            f'<line x1="{x1 + BOX_W}" y1="{y1 + BOX_H // 2}" x2="{x2}" y2="{y2 + BOX_H // 2}"'
            f' stroke="#64748b" marker-end="url(#arrow)"><title>{escape(edge.edge_type)}</title>'
            "</line>"
        )
    for node_id_, (x, y) in where.items():
        node = found[node_id_]
        stroke = ' stroke-width="2.5"' if node.id == start.id else ""
        box = (
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4"'
            f' fill="{COLOURS.get(node.kind, "#eee")}" stroke="#334155"{stroke}/>'
            f'<text x="{x + 6}" y="{y + 19}">{escape(_label(node.key))}</text>'
            f"<title>{escape(node.key)}</title>"
        )
        url = admin_url(node)
        parts.append(f'<a href="{escape(url)}">{box}</a>' if url else box)
    if hidden:
        parts.append(f'<text x="{PAD}" y="{height - 6}">{hidden} more not shown</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text above is escaped)
