"""Admin of periodic reviews: due, overdue and escalated, with a form that completes a review
through the same command as the API."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html

from boards.queries import boards_of
from core import clock
from eventstore.admin import ReadOnlyAdmin, stream_history
from eventstore.admin_views import confirm_and_post
from governance import cadence, queries
from governance.commands import reviews
from governance.models import (
    PeriodicReview,
)
from registry.admin import ModelNames
from registry.queries import with_model_names


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
class PeriodicReviewAdmin(ModelNames, ReadOnlyAdmin):
    list_display = (
        "model_named",
        "version",
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
        return with_model_names(queries.visible_reviews(request.user))

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
