"""Admin of bias audits (with a chart of each group's selection rate) and findings,
read-only; the findings' workspace hangs on the latter (findings.py)."""

from django.contrib import admin
from django.utils.html import format_html

from eventstore.admin import ReadOnlyAdmin, RecordedByName, stream_history
from governance import queries, rules
from governance.admin.charts import selection_rate_chart
from governance.admin.findings import FindingsWorkspace
from governance.admin.records import pretty
from governance.models import (
    BiasAudit,
    Finding,
)
from registry.admin import ModelNames
from registry.queries import with_model_names


@admin.register(BiasAudit)
class BiasAuditAdmin(ModelNames, RecordedByName, ReadOnlyAdmin):
    list_display = (
        "model_named",
        "version",
        "tier",
        "trigger",
        "source_label",
        "verdict",
        "rows",
        "recorded_at",
    )
    list_filter = ("verdict", "trigger", "source", "tier")
    search_fields = ("=version_id", "=model_id")
    fields = (
        "model_named",
        "version",
        "tier",
        "policy_version",
        "trigger",
        "source_label",
        "evidence_sha256",
        "verdict",
        "rows",
        "chart",
        "result_pretty",
        "recorded_at",
        "recorded_by_name",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return with_model_names(queries.visible_audits(request.user))

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

    @admin.display(description="source", ordering="source")
    def source_label(self, obj):
        return format_html("{}: {}", obj.source, rules.AUDIT_SOURCE_LABELS[obj.source])

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
