"""Approvals in the admin: boards (members and chair changed through forms that call the
boards app's commands), approval requests as read-only projections with the model card,
evidence, gate and event history, and Approve / Reject / Request changes buttons that call
record_decision.

Reviewers see only requests of their boards (django-guardian object permissions); superusers
and the `auditors` group (global view permissions) read everything and change nothing."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from approvals import admin_queue, commands, gate, queries
from approvals.models import ApprovalRequest, Board, ReviewDecision
from approvals.state import DECISIONS
from approvals.streams import load_request
from boards import commands as board_commands
from boards.permissions import is_board_admin
from boards.queries import boards_of, is_member
from eventstore.admin import ReadOnlyAdmin, stream_history
from eventstore.admin_views import confirm_and_post
from governance.admin import pretty, selection_rate_chart
from governance.models import BiasAudit, Evidence
from governance.streams import evidence_stream_id
from lineage.svg import lineage_svg
from registry.models import ModelVersion, RegisteredModel

DECISION_LABELS = {
    "approve": "Approve",
    "reject": "Reject",
    "request_changes": "Request changes",
}


def _username(user_id) -> str:
    if user_id is None:
        return "-"
    user = get_user_model().objects.filter(pk=user_id).first()
    return user.get_username() if user else f"user {user_id}"


class BoardMemberForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("add", "Add member"), ("remove", "Remove member"), ("chair", "Appoint chair")]
    )
    user = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_active=True))


@admin.register(Board)
class BoardAdmin(ReadOnlyAdmin):
    list_display = ("name", "title", "member_names", "chair_name", "updated_at")
    fields = ("name", "title", "member_names", "chair_name", "history")
    readonly_fields = fields
    change_form_template = "admin/approvals/board/change_form.html"

    @admin.display(description="members")
    def member_names(self, obj):
        return ", ".join(_username(pk) for pk in obj.members) or "-"

    @admin.display(description="chair")
    def chair_name(self, obj):
        return _username(obj.chair_id)

    @admin.display(description="event history")
    def history(self, obj):
        return stream_history(obj.id)

    def get_urls(self):
        return [
            path(
                "<uuid:board_id>/members/",
                self.admin_site.admin_view(self.members_view),
                name="approvals_board_members",
            ),
            *super().get_urls(),
        ]

    def members_view(self, request, board_id):
        """Add, remove or appoint through the board commands, on the board as shown."""
        board = get_object_or_404(Board, id=board_id)
        if not is_board_admin(request.user):
            raise PermissionDenied
        command = {
            "add": board_commands.add_board_member,
            "remove": board_commands.remove_board_member,
            "chair": board_commands.appoint_chair,
        }
        return confirm_and_post(
            self,
            request,
            board,
            form=BoardMemberForm,
            streams={board.id: f"board {board.name}"},
            run=lambda actor, data, **seen: command[data["action"]](
                actor=actor, board=board.name, user_id=data["user"].pk, **seen
            ),
            summary=lambda obj: format_html(
                "<p>Members: {}; chair: {}.</p>",
                self.member_names(obj),
                self.chair_name(obj),
            ),
            title=f"Members of {board.name}",
            submit="Apply",
            done=f"Board {board.name} updated.",
        )


class PendingForMe(admin.SimpleListFilter):
    """The review queue: requests of my boards that wait for my decision."""

    title = "my reviews"
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("pending", "Waiting for me")]

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.filter(id__in=queries.pending_for(request.user).values("id"))
        return queryset


class DecisionForm(forms.Form):
    board = forms.ChoiceField()
    decision = forms.ChoiceField(choices=[(d, DECISION_LABELS[d]) for d in DECISIONS])
    rationale = forms.CharField(widget=forms.Textarea, max_length=5000)
    conditions = forms.CharField(
        widget=forms.Textarea,
        required=False,
        help_text="One condition per line (approvals only).",
    )

    def __init__(self, *args, boards, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["board"].choices = [(b, b) for b in boards]


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "model_name",
        "version_number",
        "tier",
        "status",
        "suspended",
        "expires_at",
        "created_at",
    )
    list_filter = (PendingForMe, "status", "tier", "suspended")
    change_list_template = "admin/approvals/approvalrequest/change_list.html"
    search_fields = ("=id", "=model_id")
    change_form_template = "admin/approvals/approvalrequest/change_form.html"
    fields = (
        "model_name",
        "version_number",
        "target",
        "tier",
        "policy_version",
        "status",
        "requester",
        "boards",
        "required_evidence",
        "expires_at",
        "conditions",
        "suspended",
        "suspension_reason",
        "promotion",
        "reviewed",
        "model_card",
        "evidence",
        "bias_results",
        "lineage",
        "decisions",
        "history",
    )
    readonly_fields = fields

    # -- who sees what -------------------------------------------------------------------

    def get_queryset(self, request):
        return queries.visible_requests(request.user)

    def get_list_display(self, request):
        """A board member reads the list as their queue (approvals/admin_queue.py)."""
        if self._is_reviewer(request.user):
            return admin_queue.queue_columns(request.user)
        return super().get_list_display(request)

    def changelist_view(self, request, extra_context=None):
        if self._is_reviewer(request.user):
            extra_context = {**admin_queue.queue_context(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def get_list_display_links(self, request, list_display):
        return (
            None
            if self._is_reviewer(request.user)
            else super().get_list_display_links(request, list_display)
        )

    def _is_reviewer(self, user) -> bool:
        return is_member(user)

    def has_module_permission(self, request):
        return queries.sees_everything(request.user) or self._is_reviewer(request.user)

    def has_view_permission(self, request, obj=None):
        user = request.user
        if queries.sees_everything(user):
            return True
        if obj is None:
            return self._is_reviewer(user)
        return queries.visible_requests(user).filter(id=obj.id).exists()

    # -- what the page shows -------------------------------------------------------------

    @admin.display(description="model")
    def model_name(self, obj):
        return (
            RegisteredModel.objects.filter(id=obj.model_id).values_list("name", flat=True).first()
        )

    @admin.display(description="requested by")
    def requester(self, obj):
        return _username(obj.requester_id)

    @admin.display(description="promotion gate")
    def promotion(self, obj):
        return pretty(
            gate.describe(
                gate.assess_promotion(model_id=str(obj.model_id), number=obj.version_number)
            )
        )

    @admin.display(description="reviewed facts")
    def reviewed(self, obj):
        """What the decisions are given on: the snapshot the request took, and why it was last
        voided."""
        state = load_request(obj.id)
        return pretty(
            {
                "artifact_sha256": state.artifact_sha256,
                "evidence": state.evidence,
                "tier": state.tier,
                "answers": state.answers,
                "policy_version": state.policy_version,
                "void_reason": state.void_reason,
            }
        )

    @admin.display(description="model card")
    def model_card(self, obj):
        card = Evidence.objects.filter(version_id=obj.version_id, kind="model_card").first()
        return pretty(card.summary) if card else "no model card attached"

    @admin.display(description="bias results")
    def bias_results(self, obj):
        """The audit the ledger computed itself (newest first, with its chart), beside the
        bias-audit document the owners attached as evidence."""
        recorded = BiasAudit.objects.filter(version_id=obj.version_id).order_by("-recorded_at")
        latest = recorded.first()
        if latest is None:
            computed = mark_safe("<p>no bias audit recorded by the ledger</p>")
        else:
            computed = format_html(
                '<p><a href="{}">{} audit, {}</a> on {} rows, {} (policy {}); {} recorded</p>{}',
                reverse("admin:governance_biasaudit_change", args=[latest.id]),
                latest.verdict.upper(),
                latest.trigger,
                latest.rows,
                latest.recorded_at,
                latest.policy_version,
                recorded.count(),
                selection_rate_chart(latest.result),
            )
        attached = Evidence.objects.filter(version_id=obj.version_id, kind="bias_audit").first()
        if attached is None:
            document = "no bias audit document attached"
        elif attached.waived:
            document = f"waived until {attached.expires_at}: {attached.reason}"
        else:
            document = pretty(attached.summary)
        return format_html(
            "{}<p>attached document ({}):</p>{}",
            computed,
            attached.sha256[:12] if attached is not None and not attached.waived else "-",
            document,
        )

    @admin.display(description="lineage")
    def lineage(self, obj):
        return lineage_svg(obj.version_id)

    @admin.display(description="evidence")
    def evidence(self, obj):
        rows = Evidence.objects.filter(version_id=obj.version_id).order_by("kind")
        return format_html(
            "<table><thead><tr><th>kind</th><th>sha256 / waiver</th><th>recorded</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                (
                    (
                        e.kind,
                        f"waived until {e.expires_at}: {e.reason}" if e.waived else e.sha256,
                        e.recorded_at,
                    )
                    for e in rows
                ),
            ),
        )

    @admin.display(description="decisions")
    def decisions(self, obj):
        rows = ReviewDecision.objects.filter(request_id=obj.id).order_by("seq")
        return format_html(
            "<table><thead><tr><th>board</th><th>reviewer</th><th>decision</th>"
            "<th>rationale</th><th>conditions</th><th>recorded</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        d.board,
                        _username(d.reviewer_id),
                        d.decision,
                        d.rationale,
                        "; ".join(d.conditions),
                        d.recorded_at,
                    )
                    for d in rows
                ),
            ),
        )

    @admin.display(description="event history")
    def history(self, obj):
        return stream_history(obj.id)

    # -- decisions -----------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<uuid:request_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="approvals_approvalrequest_decide",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            boards = self._my_boards(request.user, obj)
            decide = reverse("admin:approvals_approvalrequest_decide", args=[obj.id])
            context["decision_buttons"] = (
                [
                    (
                        label,
                        f"{decide}?decision={d}",
                    )
                    for d, label in DECISION_LABELS.items()
                ]
                if boards and obj.status not in ("rejected", "withdrawn")
                else []
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _my_boards(self, user, obj) -> list[str]:
        return [name for name in boards_of(user) if name in obj.boards]

    def decide_view(self, request, request_id):
        """record_decision, the same command as the API, on the request, evidence and version
        as this page showed them."""
        obj = get_object_or_404(self.get_queryset(request), id=request_id)
        boards = self._my_boards(request.user, obj)
        if not boards:
            raise PermissionDenied
        initial = {"decision": request.GET.get("decision", "approve"), "board": boards[0]}
        number = obj.version_number
        return confirm_and_post(
            self,
            request,
            obj,
            form=lambda data: DecisionForm(data, boards=boards, initial=initial),
            streams={
                obj.id: "approval request",
                evidence_stream_id(obj.version_id): f"evidence of model version {number}",
                obj.version_id: f"model version {number}",
            },
            run=lambda actor, data, **seen: commands.record_decision(
                actor=actor,
                request_id=str(obj.id),
                board=data["board"],
                decision=data["decision"],
                rationale=data["rationale"],
                conditions=[c.strip() for c in data["conditions"].splitlines() if c.strip()],
                **seen,
            ),
            summary=self._decision_summary,
            title=f"Decide on approval request {obj.id}",
            submit="Record decision",
            submit_name="_record",
            done=lambda data: f"Decision recorded: {data['decision']}.",
        )

    def _decision_summary(self, obj) -> str:
        """What a decision is taken on: the request, the version's evidence and status."""
        version_status = (
            ModelVersion.objects.filter(id=obj.version_id).values_list("status", flat=True).first()
        )
        return format_html(
            "<p>{} version {} for {}, {} tier; the request is {}, the version {}.</p>"
            "<h2>Evidence</h2>{}<h2>Decisions so far</h2>{}",
            self.model_name(obj),
            obj.version_number,
            obj.target,
            obj.tier,
            obj.status,
            version_status,
            self.evidence(obj),
            self.decisions(obj),
        )


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(ReadOnlyAdmin):
    list_display = ("request_id", "board", "reviewer_id", "decision", "recorded_at")
    list_filter = ("board", "decision")

    def get_queryset(self, request):
        visible = queries.visible_requests(request.user).values("id")
        return super().get_queryset(request).filter(request_id__in=visible)
