"""Admin of governance's records: policy versions, risk records (intake and tier) and
evidence, read-only; the risk officer's and the chair's workspaces hang on the last two
(tiering.py, chair.py)."""

import json

from django.contrib import admin
from django.utils.html import format_html

from approvals import queries as approval_queries
from eventstore.admin import ReadOnlyAdmin, RecordedByName, stream_history
from governance.admin.chair import ChairWorkspace
from governance.admin.tiering import TieringWorkspace
from governance.models import (
    Evidence,
    ModelRisk,
    PolicyVersion,
)
from governance.streams import risk_stream_id
from registry.admin import ModelNames

VIEW_EVIDENCE = "governance.view_evidence"


def pretty(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))


@admin.register(PolicyVersion)
class PolicyVersionAdmin(RecordedByName, ReadOnlyAdmin):
    list_display = ("number", "reason", "recorded_at", "recorded_by_name")
    fields = ("number", "reason", "recorded_at", "recorded_by_name", "tiers_pretty")
    readonly_fields = fields

    @admin.display(description="tiers")
    def tiers_pretty(self, obj):
        return pretty(obj.tiers)


@admin.register(ModelRisk)
class ModelRiskAdmin(TieringWorkspace, ModelNames, ReadOnlyAdmin):
    list_display = ("model_named", "tier", "proposed_tier", "overridden", "suspended", "updated_at")
    list_filter = ("tier", "suspended", "overridden")
    search_fields = ("=model_id",)
    readonly_fields = ("history",)

    @admin.display(description="event history")
    def history(self, obj):
        return stream_history(risk_stream_id(obj.model_id))


@admin.register(Evidence)
class EvidenceAdmin(ChairWorkspace, ModelNames, RecordedByName, ReadOnlyAdmin):
    """Evidence of the models the user is party to, as the API shows it (party_records):
    auditors (governance.view_evidence) read all of it, staff with no part in a model none."""

    list_display = ("model_named", "version", "kind", "waived", "sha256", "recorded_at")
    fields = (
        "model_named",
        "version",
        "kind",
        "waived",
        "reason",
        "expires_at",
        "sha256",
        "size",
        "summary_pretty",
        "recorded_at",
        "recorded_by_name",
    )
    readonly_fields = fields

    @admin.display(description="summary")
    def summary_pretty(self, obj):
        return pretty(obj.summary)

    list_filter = ("kind", "waived")
    search_fields = ("=version_id", "=model_id", "sha256")

    def _readable(self, request):
        rows = Evidence.objects.all()
        return approval_queries.party_records(request.user, rows, every_perm=VIEW_EVIDENCE)

    def get_queryset(self, request):
        return self._readable(request)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        readable = self._readable(request)
        return readable.exists() if obj is None else readable.filter(pk=obj.pk).exists()
