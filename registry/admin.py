"""Read-only admin of the registry's projections, each page with the object's event history."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from eventstore import store
from eventstore.admin import ReadOnlyAdmin
from lineage.admin import LineagePictureMixin, export_audit_bundle
from registry.models import Dataset, DatasetVersion, ModelAlias, ModelVersion, RegisteredModel


def _history(stream_id) -> str:
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
        (
            (
                e.version,
                e.type,
                e.recorded_at,
                e.metadata.get("actor", ""),
                bytes(e.hash).hex()[:16],
            )
            for e in store.read_stream(stream_id, upcast=False)
        ),
    )
    return format_html(
        "<table><thead><tr><th>v</th><th>event</th><th>recorded</th><th>actor</th>"
        "<th>hash</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )


class HistoryAdmin(ReadOnlyAdmin):
    @admin.display(description="event history")
    def history(self, obj):
        return _history(obj.id)


@admin.register(RegisteredModel)
class RegisteredModelAdmin(HistoryAdmin):
    list_display = ("name", "team", "latest_version", "archived", "updated_at")
    list_filter = ("team", "archived")
    search_fields = ("name", "description")
    readonly_fields = ("history",)
    actions = [export_audit_bundle]


@admin.register(ModelVersion)
class ModelVersionAdmin(LineagePictureMixin, HistoryAdmin):
    list_display = ("model_id", "number", "status", "framework", "artifact_verified", "created_at")
    list_filter = ("status", "framework", "artifact_verified")
    search_fields = ("=model_id", "run_id")
    readonly_fields = ("lineage", "history")


@admin.register(ModelAlias)
class ModelAliasAdmin(ReadOnlyAdmin):
    list_display = ("model_id", "alias", "version", "updated_at")


@admin.register(Dataset)
class DatasetAdmin(HistoryAdmin):
    list_display = ("name", "team", "latest_version", "updated_at")
    search_fields = ("name",)
    readonly_fields = ("history",)


@admin.register(DatasetVersion)
class DatasetVersionAdmin(LineagePictureMixin, HistoryAdmin):
    list_display = ("dataset_id", "number", "uri", "row_count", "legal_basis", "created_at")
    readonly_fields = ("lineage", "history")
