"""Read-only admin of governance projections: policy versions, risk records, evidence,
periodic reviews (due, overdue and escalated), with a form that completes a review through
the same command as the API, bias audits, findings and serious incidents with their Art. 73
reporting clocks, with forms that record the report to the authority and close them."""

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from boards.queries import boards_of
from core import clock
from eventstore.admin import ReadOnlyAdmin, stream_history
from eventstore.admin_views import confirm_and_post
from governance import art73, cadence, queries
from governance.commands import incidents, reviews
from governance.models import (
    BiasAudit,
    Evidence,
    Finding,
    Incident,
    ModelRisk,
    PeriodicReview,
    PolicyVersion,
)
from governance.streams import risk_stream_id


def pretty(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ("number", "reason", "recorded_at", "recorded_by")
    fields = ("number", "reason", "recorded_at", "recorded_by", "tiers_pretty")
    readonly_fields = fields

    @admin.display(description="tiers")
    def tiers_pretty(self, obj):
        return pretty(obj.tiers)


@admin.register(ModelRisk)
class ModelRiskAdmin(ReadOnlyAdmin):
    list_display = ("model_id", "tier", "proposed_tier", "overridden", "suspended", "updated_at")
    list_filter = ("tier", "suspended", "overridden")
    search_fields = ("=model_id",)
    readonly_fields = ("history",)

    @admin.display(description="event history")
    def history(self, obj):
        return stream_history(risk_stream_id(obj.model_id))


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ("version_id", "version_number", "kind", "waived", "sha256", "recorded_at")
    list_filter = ("kind", "waived")
    search_fields = ("=version_id", "=model_id", "sha256")


class ReviewTiming(admin.SimpleListFilter):
    """Where open reviews stand now, by the clock the commands read."""

    title = "timing"
    parameter_name = "timing"

    def lookups(self, request, model_admin):
        return [("upcoming", "Upcoming"), ("due", "Due"), ("overdue", "Overdue")]

    def queryset(self, request, queryset):
        if self.value() in ("upcoming", "due", "overdue"):
            return queries.with_timing(queryset, self.value(), clock.now())
        return queryset


class CompleteReviewForm(forms.Form):
    board = forms.ChoiceField()
    outcome = forms.ChoiceField(
        choices=[("satisfactory", "Satisfactory"), ("changes_required", "Changes required")]
    )
    rationale = forms.CharField(widget=forms.Textarea, max_length=5000)

    def __init__(self, *args, boards, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["board"].choices = [(b, b) for b in boards]


@admin.register(PeriodicReview)
class PeriodicReviewAdmin(ReadOnlyAdmin):
    list_display = (
        "version_id",
        "version_number",
        "sequence",
        "tier",
        "timing",
        "due_at",
        "escalation_level",
        "non_compliant",
        "flagged",
        "status",
    )
    list_filter = (
        ReviewTiming,
        "status",
        "tier",
        "escalation_level",
        "non_compliant",
        "flagged",
    )
    search_fields = ("=version_id", "=model_id")
    date_hierarchy = "due_at"
    readonly_fields = ("complete_link", "history")

    def get_queryset(self, request):
        return queries.visible_reviews(request.user)

    def _my_boards(self, user, obj) -> list[str]:
        return [name for name in boards_of(user) if name in obj.boards]

    def has_module_permission(self, request):
        return queries.visible_reviews(request.user).exists() or queries.sees_every_review(
            request.user
        )

    def has_view_permission(self, request, obj=None):
        if queries.sees_every_review(request.user):
            return True
        visible = queries.visible_reviews(request.user)
        return visible.exists() if obj is None else visible.filter(id=obj.id).exists()

    @admin.display(description="timing")
    def timing(self, obj):
        return cadence.timing(
            due_at=obj.due_at,
            remind_at=obj.remind_at,
            completed=obj.status == "completed",
            now=clock.now(),
        )

    @admin.display(description="complete")
    def complete_link(self, obj):
        if obj.status != "open":
            return "-"
        url = reverse("admin:governance_periodicreview_complete", args=[obj.id])
        return format_html('<a class="button" href="{}">Complete this review</a>', url)

    @admin.display(description="event history")
    def history(self, obj):
        return stream_history(obj.id)

    def get_urls(self):
        return [
            path(
                "<uuid:review_id>/complete/",
                self.admin_site.admin_view(self.complete_view),
                name="governance_periodicreview_complete",
            ),
            *super().get_urls(),
        ]

    def complete_view(self, request, review_id):
        """complete_review, the same command as the API, on the review as shown."""
        obj = get_object_or_404(self.get_queryset(request), id=review_id)
        boards = self._my_boards(request.user, obj)
        if not boards:
            raise PermissionDenied
        return confirm_and_post(
            self,
            request,
            obj,
            form=lambda data: CompleteReviewForm(data, boards=boards),
            streams={obj.id: "periodic review"},
            run=lambda actor, data, **seen: reviews.complete_review(
                actor=actor, review_id=str(obj.id), **data, **seen
            ),
            summary=lambda review: format_html(
                "<p>Periodic review {} of model version {} ({} tier), due {} UTC ({} now).</p>",
                review.sequence,
                review.version_number,
                review.tier,
                date_format(review.due_at, "Y-m-d H:i"),
                self.timing(review),
            ),
            title=f"Complete periodic review {obj.sequence}",
            submit="Complete review",
            done="Periodic review completed.",
        )


# -- bias audits and findings ------------------------------------------------------------

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
class FindingAdmin(ReadOnlyAdmin):
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


# -- serious incidents -------------------------------------------------------------------


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
