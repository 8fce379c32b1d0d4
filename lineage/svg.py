"""The lineage picture on admin pages: an SVG drawn on the server (no JavaScript), upstream
nodes to the left, downstream to the right, each node linking to its own admin page, its full
name wrapped over lines (never cut), each edge labelled with its type, and a legend."""

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
BOX_W, GAP_X, GAP_Y, PAD = 230, 130, 16, 10
LINE_H, PER_LINE, LEGEND_H = 14, 34, 26
LEGEND = (
    (rules.MODEL, "model version"),
    (rules.DATASET_VERSION, "dataset or dataset version"),
    (rules.RUN, "run"),
)
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


def _lines(text: str) -> list[str]:
    """The node's name in lines of at most PER_LINE characters, whole."""
    return [text[i : i + PER_LINE] for i in range(0, len(text), PER_LINE)] or [""]


def _box_h(text: str) -> int:
    return 12 + LINE_H * len(_lines(text))


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
    where: dict[uuid.UUID, tuple[int, int, int]] = {}  # x, y, height
    hidden = 0
    left = min(columns)
    column_heights = []
    for column, members in columns.items():
        members.sort(key=lambda n: found[n].key)
        hidden += max(0, len(members) - PER_COLUMN)
        y = PAD
        for node in members[:PER_COLUMN]:
            x = PAD + (column - left) * (BOX_W + GAP_X)
            h = _box_h(found[node].key)
            where[node] = (x, y, h)
            y += h + GAP_Y
        column_heights.append(y)
    legend_w = PAD + sum(30 + 6 * len(words) for _, words in LEGEND)
    width = max(PAD * 2 + (max(columns) - left + 1) * (BOX_W + GAP_X) - GAP_X, legend_w)
    height = max(column_heights) + LEGEND_H + (20 if hidden else 0)
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
        (x1, y1, h1), (x2, y2, h2) = where[edge.source], where[edge.target]
        ax, ay, bx, by = x1 + BOX_W, y1 + h1 // 2, x2, y2 + h2 // 2
        label = escape(edge.edge_type)
        mx, my = (ax + bx) / 2, (ay + by) / 2
        parts.append(
            f'<g class="lineage-edge"><line x1="{ax}" y1="{ay}" x2="{bx}" y2="{by}"'
            f' stroke="#64748b" marker-end="url(#arrow)"/>'
            f'<rect x="{mx - 3.2 * len(edge.edge_type) - 4}" y="{my - 8}"'
            f' width="{6.4 * len(edge.edge_type) + 8}" height="14" rx="3" fill="#fff"'
            f' stroke="#cbd5e1"/><text x="{mx}" y="{my + 3}" text-anchor="middle"'
            f' font-size="10" fill="#334155">{label}</text></g>'
        )
    for node_id_, (x, y, h) in where.items():
        node = found[node_id_]
        stroke = ' stroke-width="2.5"' if node.id == start.id else ""
        lines = "".join(
            f'<tspan x="{x + 8}" dy="{LINE_H if i else 0}">{escape(line)}</tspan>'
            for i, line in enumerate(_lines(node.key))
        )
        box = (
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{h}" rx="4"'
            f' fill="{COLOURS.get(node.kind, "#eee")}" stroke="#334155"{stroke}/>'
            f'<text x="{x + 8}" y="{y + 17}">{lines}</text>'
            f"<title>{escape(node.key)}</title>"
        )
        url = admin_url(node)
        parts.append(f'<a href="{escape(url)}">{box}</a>' if url else box)
    legend_y = height - LEGEND_H + 8 - (20 if hidden else 0)
    x = PAD
    for kind, words in LEGEND:
        parts.append(
            f'<rect x="{x}" y="{legend_y}" width="12" height="12" rx="2"'
            f' fill="{COLOURS[kind]}" stroke="#334155"/>'
            f'<text x="{x + 17}" y="{legend_y + 10}">{words}</text>'
        )
        x += 30 + 6 * len(words)
    if hidden:
        parts.append(f'<text x="{PAD}" y="{height - 6}">{hidden} more not shown</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text above is escaped)
