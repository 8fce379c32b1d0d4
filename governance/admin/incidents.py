"""Admin of serious incidents and their Art. 73 reporting clocks, with forms that record
the report to the authority and close an incident through the same commands as the API."""

from django import forms
from django.contrib import admin
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from core import clock
from eventstore.admin import ReadOnlyAdmin, stream_history
from eventstore.admin_views import confirm_and_post
from governance import art73, queries
from governance.commands import incidents
from governance.models import (
    Incident,
)


class IncidentReporting(admin.SimpleListFilter):
    """Where the Art. 73 report stands now, by the clock the commands read."""

    title = "Art. 73 report"
    parameter_name = "reporting"

    def lookups(self, request, model_admin):
        return [(status, status.replace("_", " ")) for status in art73.REPORTING_STATUSES]

    def queryset(self, request, queryset):
        if self.value() in art73.REPORTING_STATUSES:
            return queries.with_reporting_status(queryset, self.value(), clock.now())
        return queryset


class AuthorityReportForm(forms.Form):
    authority = forms.CharField(max_length=200, help_text="The market surveillance authority.")
    reference = forms.CharField(max_length=200, help_text="The authority's case reference.")
    reported_at = forms.DateTimeField(
        required=False, help_text="When it was reported (UTC); now when left empty."
    )


class CloseIncidentForm(forms.Form):
    resolution = forms.CharField(widget=forms.Textarea, max_length=10_000)
    no_report_reason = forms.CharField(
        widget=forms.Textarea,
        max_length=10_000,
        required=False,
        help_text="Where a clock ran and no report was filed: why none was due.",
    )


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = (
        "title",
        "tier",
        "incident_classes",
        "status",
        "reporting",
        "deadline_at",
        "authority_reported_at",
        "became_aware_at",
    )
    list_filter = (IncidentReporting, "status", "tier", "clock_applies", "overdue")
    search_fields = ("=model_id", "=version_id", "owner_team", "title")
    date_hierarchy = "became_aware_at"
    ordering = ("deadline_at",)
    readonly_fields = ("actions_links", "history")

    def get_queryset(self, request):
        return queries.visible_incidents(request.user)

    @admin.display(description="actions")
    def actions_links(self, obj):
        if obj.status != "open":
            return "-"
        links = []
        if obj.clock_applies and obj.authority_reported_at is None:
            links.append(("authority-report", "Record the report to the authority"))
        links.append(("closure", "Close the incident"))
        return format_html_join(
            " ",
            '<a class="button" href="{}">{}</a>',
            (
                (
                    reverse(f"admin:governance_incident_{name.replace('-', '_')}", args=[obj.id]),
                    text,
                )
                for name, text in links
            ),
        )

    def get_urls(self):
        return [
            path(
                "<uuid:incident_id>/authority-report/",
                self.admin_site.admin_view(self.authority_report_view),
                name="governance_incident_authority_report",
            ),
            path(
                "<uuid:incident_id>/closure/",
                self.admin_site.admin_view(self.closure_view),
                name="governance_incident_closure",
            ),
            *super().get_urls(),
        ]

    def authority_report_view(self, request, incident_id):
        """record_authority_report, the same command as the API; it decides who may."""
        return self._step_view(
            request,
            incident_id,
            AuthorityReportForm,
            incidents.record_authority_report,
            done="The report to the authority is recorded.",
            title="Report of incident",
            submit="Record the report",
        )

    def closure_view(self, request, incident_id):
        """close_incident, the same command as the API; it decides who may."""
        return self._step_view(
            request,
            incident_id,
            CloseIncidentForm,
            incidents.close_incident,
            done="The incident is closed.",
            title="Close incident",
            submit="Close the incident",
        )

    def _step_view(self, request, incident_id, form_class, command, *, done, title, submit):
        obj = get_object_or_404(self.get_queryset(request), id=incident_id)
        return confirm_and_post(
            self,
            request,
            obj,
            form=form_class,
            streams={obj.id: "incident"},
            run=lambda actor, data, **seen: command(
                actor=actor, incident_id=str(obj.id), **data, **seen
            ),
            summary=self._incident_summary,
            title=f"{title}: {obj.title}",
            submit=submit,
            done=done,
        )

    def _incident_summary(self, obj) -> str:
        deadline = (
            format_html(
                "; the Art. 73 report is due by {} UTC", date_format(obj.deadline_at, "Y-m-d H:i")
            )
            if obj.deadline_at
            else ""
        )
        return format_html(
            '<p>Incident "{}" ({}), known since {} UTC{}. Art. 73 report: {}.</p>',
            obj.title,
            obj.tier or "no tier",
            date_format(obj.became_aware_at, "Y-m-d H:i"),
            deadline,
            self.reporting(obj).replace("_", " "),
        )

    def has_module_permission(self, request):
        return request.user.is_superuser or queries.visible_incidents(request.user).exists()

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        visible = queries.visible_incidents(request.user)
        return visible.exists() if obj is None else visible.filter(id=obj.id).exists()

    @admin.display(description="classes")
    def incident_classes(self, obj):
        return ", ".join(obj.classes)

    @admin.display(description="Art. 73 report")
    def reporting(self, obj):
        return art73.reporting_status(
            clock_applies=obj.clock_applies,
            deadline_at=obj.deadline_at,
            reported=obj.authority_reported_at is not None,
            closed=obj.status != "open",
            now=clock.now(),
        )

    @admin.display(description="event history")
    def history(self, obj):
        return stream_history(obj.id)
