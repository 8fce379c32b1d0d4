"""Read-only admin of the registry's projections, each page with the object's event history;
and each user's display preferences (the time zone times are shown in), which the user edits."""

import zoneinfo

from django import forms
from django.conf import settings
from django.contrib import admin

from eventstore.admin import ReadOnlyAdmin, stream_history
from lineage.admin import LineagePictureMixin, export_audit_bundle
from registry.models import (
    Dataset,
    DatasetVersion,
    ModelAlias,
    ModelVersion,
    RegisteredModel,
    UserPreferences,
)
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


class PreferencesForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=lambda: [(name, name) for name in sorted(zoneinfo.available_timezones())],
        help_text="Times in the admin are shown in this zone.",
    )

    class Meta:
        model = UserPreferences
        fields = ("time_zone",)


@admin.register(UserPreferences)
class UserPreferencesAdmin(admin.ModelAdmin):
    """Every staff member keeps one row, their own; nobody reads or edits another's."""

    form = PreferencesForm
    list_display = ("time_zone",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(user_id=request.user.pk)

    def _own(self, request, obj) -> bool:
        return (
            request.user.is_active
            and request.user.is_staff
            and (obj is None or obj.user_id == request.user.pk)
        )

    def has_module_permission(self, request):
        return self._own(request, None)

    def has_view_permission(self, request, obj=None):
        return self._own(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._own(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._own(request, obj)

    def has_add_permission(self, request):
        mine = UserPreferences.objects.filter(user_id=request.user.pk).exists()
        return self._own(request, None) and not mine

    def get_changeform_initial_data(self, request):
        return {"time_zone": settings.TIME_ZONE}

    def save_model(self, request, obj, form, change):
        obj.user_id = request.user.pk
        super().save_model(request, obj, form, change)
