"""Read-only admin of the registry's projections, each page with the object's event history."""

from django.contrib import admin

from eventstore.admin import ReadOnlyAdmin, stream_history
from lineage.admin import LineagePictureMixin, export_audit_bundle
from registry.models import Dataset, DatasetVersion, ModelAlias, ModelVersion, RegisteredModel


class HistoryAdmin(ReadOnlyAdmin):
    @admin.display(description="event history")
    def history(self, obj):
        return stream_history(obj.id)


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
