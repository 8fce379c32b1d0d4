"""Lineage in the admin: the edges (read-only), the lineage picture the registry's version pages
show, and the "Export audit bundle" action on registered models."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.http import HttpResponseBase, StreamingHttpResponse

from core.actors import Actor
from eventstore.admin import ReadOnlyAdmin
from eventstore.audit import bundle, trail
from lineage import commands, exports
from lineage.admin_auditor import AuditorWorkspace
from lineage.models import LineageEdge, LineageNode
from lineage.permissions import is_auditor
from lineage.svg import lineage_svg


class LineagePictureMixin:
    """Adds a `lineage` read-only field: the SVG picture around the object's node."""

    @admin.display(description="lineage")
    def lineage(self, obj):
        return lineage_svg(obj.id)


@admin.action(description="Export audit bundle")
def export_audit_bundle(modeladmin, request, queryset) -> HttpResponseBase | None:
    """Streams one zip covering the selected models; the export is recorded like the API's."""
    if not is_auditor(request.user):
        modeladmin.message_user(
            request, "Only auditors and administrators can export.", messages.ERROR
        )
        return None
    names = sorted(queryset.values_list("name", flat=True))
    subject, streams, roots = exports.bundle_subject(names)
    actor = Actor.from_request(request)
    export_id = commands.start_export(
        actor=actor,
        kind="audit-bundle",
        format="zip",
        subject=subject,
        parameters={"model": names, "via": "admin"},
    )
    counter = trail.Counter()
    response = StreamingHttpResponse(
        exports.recorded(
            bundle.audit_bundle(streams, subject, counter, roots=roots),
            actor=actor,
            export_id=export_id,
            counter=counter,
        ),
        content_type="application/zip",
    )
    response["Content-Disposition"] = 'attachment; filename="audit-bundle.zip"'
    return response


@admin.register(LineageNode)
class LineageNodeAdmin(AuditorWorkspace, LineagePictureMixin, ReadOnlyAdmin):
    list_display = ("key", "kind", "position", "recorded_at")
    list_filter = ("kind",)
    search_fields = ("key",)
    readonly_fields = ("lineage",)


@admin.register(LineageEdge)
class LineageEdgeAdmin(ReadOnlyAdmin):
    list_display = ("source", "edge_type", "target", "position", "recorded_at")
    list_filter = ("edge_type",)
    search_fields = ("=source_id", "=target_id")

    def get_queryset(self, request):
        # Each end by its name (`dataset:<name>@<n>`), in the list's one query.
        def key(end: str) -> Subquery:
            return Subquery(LineageNode.objects.filter(id=OuterRef(end)).values("key")[:1])

        return (
            super()
            .get_queryset(request)
            .annotate(source_key=key("source_id"), target_key=key("target_id"))
        )

    @admin.display(description="source", ordering="source_key")
    def source(self, obj):
        return obj.source_key or obj.source_id

    @admin.display(description="target", ordering="target_key")
    def target(self, obj):
        return obj.target_key or obj.target_id
