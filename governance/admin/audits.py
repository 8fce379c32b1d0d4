"""Admin of bias audits (with a chart of each group's selection rate) and findings,
read-only; the findings' workspace hangs on the latter (findings.py)."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from eventstore.admin import ReadOnlyAdmin, stream_history
from governance import queries
from governance.admin.findings import FindingsWorkspace
from governance.admin.records import pretty
from governance.models import (
    BiasAudit,
    Finding,
)

BAR_WIDTH = 240
BAR_HEIGHT = 16


def selection_rate_chart(result: dict) -> str:
    """Inline SVG bars of the selection rate per group, one chart per slice; the reference
    group is dark, failing groups red, and a line marks four fifths of the reference."""
    charts = []
    for slice_ in result.get("slices", []):
        groups = slice_.get("groups", [])
        height = (len(groups) + 1) * (BAR_HEIGHT + 4)
        reference = (slice_.get("reference") or {}).get("selection_rate")
        bars = []
        for row, group in enumerate(groups):
            rate = group["counts"]["selection_rate"] or 0.0
            colour = (
                "#264653"
                if group["is_reference"]
                else "#c0392b"
                if group["verdict"] == "fail"
                else "#2a9d8f"
            )
            y = row * (BAR_HEIGHT + 4)
            bars.append(
                format_html(
                    '<text x="0" y="{}" font-size="11">{}</text>'
                    '<rect x="110" y="{}" width="{}" height="{}" fill="{}"/>'
                    '<text x="{}" y="{}" font-size="11">{} (n={})</text>',
                    y + BAR_HEIGHT - 4,
                    group["group"][:18],
                    y,
                    round(rate * BAR_WIDTH, 1),
                    BAR_HEIGHT,
                    colour,
                    round(115 + rate * BAR_WIDTH, 1),
                    y + BAR_HEIGHT - 4,
                    f"{rate:.2f}",
                    group["counts"]["n"],
                )
            )
        if reference:
            x = round(110 + 0.8 * reference * BAR_WIDTH, 1)
            bars.append(
                format_html(
                    '<line x1="{}" x2="{}" y1="0" y2="{}" stroke="#e76f51" '
                    'stroke-dasharray="3,2"/>',
                    x,
                    x,
                    height - BAR_HEIGHT,
                )
            )
        charts.append(
            format_html(
                "<figure><figcaption>{}: selection rate by group ({})</figcaption>"
                '<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" role="img">'
                "{}</svg></figure>",
                slice_["name"],
                slice_["verdict"],
                BAR_WIDTH + 200,
                height,
                format_html_join("", "{}", ((bar,) for bar in bars)),
            )
        )
    return format_html_join("", "{}", ((chart,) for chart in charts))


@admin.register(BiasAudit)
class BiasAuditAdmin(ReadOnlyAdmin):
    list_display = (
        "version_id",
        "version_number",
        "tier",
        "trigger",
        "verdict",
        "rows",
        "recorded_at",
    )
    list_filter = ("verdict", "trigger", "tier")
    search_fields = ("=version_id", "=model_id")
    fields = (
        "model_id",
        "version_id",
        "version_number",
        "tier",
        "policy_version",
        "trigger",
        "source",
        "verdict",
        "rows",
        "chart",
        "result_pretty",
        "recorded_at",
        "recorded_by",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return queries.visible_audits(request.user)

    def has_module_permission(self, request):
        return request.user.is_superuser or queries.visible_audits(request.user).exists()

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        visible = queries.visible_audits(request.user)
        return visible.exists() if obj is None else visible.filter(id=obj.id).exists()

    @admin.display(description="selection rate per group")
    def chart(self, obj):
        return selection_rate_chart(obj.result)

    @admin.display(description="result")
    def result_pretty(self, obj):
        return pretty(obj.result)


@admin.register(Finding)
class FindingAdmin(FindingsWorkspace, ReadOnlyAdmin):
    list_display = ("title", "severity", "owner_team", "status", "due_at", "opened_at")
    list_filter = ("status", "severity", "source")
    search_fields = ("=version_id", "=model_id", "owner_team")
    readonly_fields = ("history",)

    def get_queryset(self, request):
        return queries.visible_findings(request.user)

    def has_module_permission(self, request):
        return request.user.is_superuser or queries.visible_findings(request.user).exists()

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        visible = queries.visible_findings(request.user)
        return visible.exists() if obj is None else visible.filter(id=obj.id).exists()

    @admin.display(description="event history")
    def history(self, obj):
        return stream_history(obj.id)
