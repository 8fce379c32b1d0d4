"""Read-only admin of the registry's projections, each page with the object's event history."""

from django.contrib import admin

from eventstore.admin import ReadOnlyAdmin, stream_history
from lineage.admin import LineagePictureMixin, export_audit_bundle
from registry.models import Dataset, DatasetVersion, ModelAlias, ModelVersion, RegisteredModel
from registry.queries import with_dataset_names, with_model_names


class ModelNames:
    """For the changelists of rows about a model: the model's name and the version's number
    instead of their UUIDs (annotated in the list's one query)."""

    def get_queryset(self, request):
        return with_model_names(super().get_queryset(request))

    @admin.display(description="model", ordering="model_name")
    def model_named(self, obj):
        return getattr(obj, "model_name", None) or "-"

    @admin.display(description="version", ordering="version_number")
    def version(self, obj):
        number = getattr(obj, "version_number", None)
        return f"v{number}" if number is not None else "-"


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
class ModelVersionAdmin(ModelNames, LineagePictureMixin, HistoryAdmin):
    list_display = (
        "model_named",
        "number",
        "status",
        "framework",
        "artifact_verified",
        "created_at",
    )
    list_filter = ("status", "framework", "artifact_verified")
    search_fields = ("=model_id", "run_id")
    readonly_fields = ("lineage", "history")


@admin.register(ModelAlias)
class ModelAliasAdmin(ModelNames, ReadOnlyAdmin):
    list_display = ("model_named", "alias", "version_number", "updated_at")

    @admin.display(description="version", ordering="version")
    def version_number(self, obj):
        return f"v{obj.version}"


@admin.register(Dataset)
class DatasetAdmin(HistoryAdmin):
    list_display = ("name", "team", "latest_version", "updated_at")
    search_fields = ("name",)
    readonly_fields = ("history",)


@admin.register(DatasetVersion)
class DatasetVersionAdmin(LineagePictureMixin, HistoryAdmin):
    list_display = ("dataset", "number", "uri", "row_count", "legal_basis", "created_at")
    readonly_fields = ("lineage", "history")

    def get_queryset(self, request):
        return with_dataset_names(super().get_queryset(request))

    @admin.display(description="dataset", ordering="dataset_name")
    def dataset(self, obj):
        return obj.dataset_name or "-"
