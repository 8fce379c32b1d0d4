"""The bias audit chart, drawn on the server as SVG (no script): per slice, each group's
selection rate as a bar on a labelled 0-1 axis, the reference group's rate and the
four-fifths threshold as lines, each group's counts, disparate impact ratio and significance
beside its bar, and a legend."""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

LABEL_W = 170  # group names
PLOT_W = 320  # the 0-1 axis
NOTE_W = 330  # counts and tests beside each bar
ROW_H = 30
BAR_H = 18
TOP = 22
AXIS_H = 40
LEGEND_H = 44
COLOURS = {
    "reference": "#1e3a5f",
    "pass": "#2a9d8f",
    "fail": "#c0392b",
    "not_judged": "#9ca3af",
}
THRESHOLD = "#d97706"
TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _x(rate: float) -> float:
    return round(LABEL_W + max(0.0, min(1.0, rate)) * PLOT_W, 1)


def _role(group: dict[str, Any]) -> str:
    if group.get("is_reference"):
        return "reference"
    if not group.get("judged", True):
        return "not_judged"
    return "fail" if group.get("verdict") == "fail" else "pass"


def _note(group: dict[str, Any], alpha: float) -> str:
    counts = group.get("counts") or {}
    rate = counts.get("selection_rate")
    parts = [
        f"{rate:.2f}" if rate is not None else "-",
        f"{counts.get('selected', 0)}/{counts.get('n', 0)} selected",
    ]
    if group.get("is_reference"):
        parts.append("reference")
    elif not group.get("judged", True):
        parts.append(f"not judged ({(group.get('not_judged_reason') or '').replace('_', ' ')})")
    else:
        ratio = group.get("disparate_impact_ratio")
        if ratio is not None:
            parts.append(f"DIR {ratio:.2f}")
        test = group.get("selection_rate_test") or {}
        if test.get("p_value") is not None:
            star = " *" if test.get("significant") else ""
            parts.append(f"p={test['p_value']:.3g}{star}")
    return " · ".join(parts)


def _legend(y: int, ratio: float, alpha: float) -> SafeString:
    items = [
        ("reference", "reference group"),
        ("pass", "passes"),
        ("fail", "fails"),
        ("not_judged", "not judged (too small)"),
    ]
    parts = []
    x = LABEL_W
    for role, label in items:
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="10" height="10" fill="{}"/>'
                '<text x="{}" y="{}">{}</text>',
                x,
                y,
                COLOURS[role],
                x + 14,
                y + 9,
                label,
            )
        )
        x += 28 + 6 * len(label)
    parts.append(
        format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="2"'
            ' stroke-dasharray="5,3"/><text x="{}" y="{}">threshold: {} &#215; the reference rate'
            " (disparate impact ratio)</text>"
            '<text x="{}" y="{}">* significant difference from the reference at &#945; = {}</text>',
            LABEL_W,
            LABEL_W + 18,
            y + 23,
            y + 23,
            THRESHOLD,
            LABEL_W + 24,
            y + 27,
            ratio,
            LABEL_W,
            y + 42,
            alpha,
        )
    )
    return format_html_join("", "{}", ((p,) for p in parts))


def _slice_chart(slice_: dict[str, Any], ratio: float, alpha: float) -> SafeString:
    groups = slice_.get("groups", [])
    plot_h = len(groups) * ROW_H
    width = LABEL_W + PLOT_W + NOTE_W
    height = TOP + plot_h + AXIS_H + LEGEND_H
    parts = []
    for tick in TICKS:  # gridlines and the axis's ticks
        x = _x(tick)
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#e5e7eb"/>'
                '<text x="{}" y="{}" text-anchor="middle" fill="#4b5563">{}</text>',
                x,
                x,
                TOP,
                TOP + plot_h,
                x,
                TOP + plot_h + 14,
                f"{tick:g}",
            )
        )
    parts.append(
        format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#374151"/>'
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#374151"/>'
            '<text x="{}" y="{}" text-anchor="middle" font-weight="600">'
            "selection rate (share of the group given the favourable outcome)</text>"
            '<text x="{}" y="{}" text-anchor="end" font-weight="600">group</text>',
            LABEL_W,
            LABEL_W + PLOT_W,
            TOP + plot_h,
            TOP + plot_h,
            LABEL_W,
            LABEL_W,
            TOP,
            TOP + plot_h,
            LABEL_W + PLOT_W / 2,
            TOP + plot_h + 30,
            LABEL_W - 8,
            TOP - 2,
        )
    )
    for row, group in enumerate(groups):
        y = TOP + row * ROW_H + (ROW_H - BAR_H) / 2
        rate = (group.get("counts") or {}).get("selection_rate") or 0.0
        name = str(group.get("group", ""))
        shown = name if len(name) <= 26 else name[:25] + "…"
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end"><title>{}</title>{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>'
                '<text x="{}" y="{}" fill="#111827">{}</text>',
                LABEL_W - 8,
                y + BAR_H - 3,
                name,
                shown,
                LABEL_W,
                y,
                round(_x(rate) - LABEL_W, 1),
                BAR_H,
                COLOURS[_role(group)],
                name,
                _note(group, alpha),
                LABEL_W + PLOT_W + 8,
                y + BAR_H - 3,
                _note(group, alpha),
            )
        )
    reference = (slice_.get("reference") or {}).get("selection_rate")
    if reference:
        x = _x(ratio * reference)
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="2"'
                ' stroke-dasharray="5,3"><title>threshold {}</title></line>',
                x,
                x,
                TOP - 4,
                TOP + plot_h + 4,
                THRESHOLD,
                round(ratio * reference, 3),
            )
        )
    parts.append(_legend(TOP + plot_h + AXIS_H, ratio, alpha))
    return format_html(
        '<figure class="bias-chart"><figcaption><strong>{}</strong>: selection rate by group'
        " ({}, verdict {})</figcaption>"
        '<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}"'
        ' role="img" font-family="system-ui, sans-serif" font-size="12"'
        ' aria-label="Selection rate by group for {}">{}</svg></figure>',
        slice_.get("name", ""),
        ", ".join(slice_.get("attributes", [])) or "all rows",
        slice_.get("verdict", "-"),
        width,
        height,
        width,
        height,
        slice_.get("name", ""),
        format_html_join("", "{}", ((p,) for p in parts)),
    )


def selection_rate_chart(result: dict[str, Any]) -> SafeString:
    """One chart per slice of an audit result (`AuditResult.as_dict()`)."""
    thresholds = (result.get("spec") or {}).get("thresholds") or {}
    ratio = thresholds.get("min_disparate_impact_ratio", 0.8)
    alpha = thresholds.get("significance_level", 0.05)
    return format_html_join(
        "", "{}", ((_slice_chart(s, ratio, alpha),) for s in result.get("slices", []))
    )
