"""Approvals in the admin: boards (members and chair changed through forms that call the
boards app's commands), approval requests as read-only projections with the model card,
evidence, gate and event history, and Approve / Reject / Request changes buttons that call
record_decision.

Reviewers see only requests of their boards (django-guardian object permissions); superusers
and the `auditors` group (global view permissions) read everything and change nothing."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from approvals import admin_queue, commands, dossier, queries
from approvals.models import ApprovalRequest, Board, ReviewDecision
from approvals.state import ACTIVE, DECISIONS
from boards import commands as board_commands
from boards.permissions import is_board_admin
from boards.queries import boards_of, is_member
from core.display import name_of, names_of, when, with_person_name
from eventstore.admin import ReadOnlyAdmin, stream_history
from eventstore.admin_views import confirm_and_post
from governance import commands as governance_commands
from governance import documents
from governance.admin import selection_rate_chart
from governance.models import BiasAudit, Evidence
from governance.rules import AUDIT_SOURCE_LABELS
from governance.streams import evidence_stream_id
from lineage.svg import lineage_svg
from registry.models import RegisteredModel
from registry.queries import with_model_names

DECISION_LABELS = {
    "approve": "Approve",
    "reject": "Reject",
    "request_changes": "Request changes",
}


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
        names = names_of(obj.members)
        return ", ".join(names[pk] for pk in obj.members) or "-"

    @admin.display(description="chair")
    def chair_name(self, obj):
        return name_of(obj.chair_id)

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
        "title",
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
    # The page is the dossier (the change form's template draws it from approvals/dossier.py);
    # these are the request's own columns, for the admin's bookkeeping.
    fields = (
        "model_name",
        "version_number",
        "target",
        "tier",
        "policy_version",
        "status",
        "requester",
        "expires_at",
        "suspended",
        "suspension_reason",
    )
    readonly_fields = fields

    # -- who sees what -------------------------------------------------------------------

    def get_queryset(self, request):
        return with_model_names(queries.visible_requests(request.user))

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
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        """Reviewers, and whoever reads a request through the API (visible_requests: its
        boards, the owning team, officers, auditors); nobody else."""
        user = request.user
        if queries.sees_everything(user):
            return True
        if obj is None:
            return self._is_reviewer(user) or queries.visible_requests(user).exists()
        return queries.visible_requests(user).filter(id=obj.id).exists()

    # -- what the page shows: the dossier (approvals/dossier.py) ---------------------------

    @admin.display(description="request", ordering="created_at")
    def title(self, obj):
        return f"{obj.model_name or 'unknown model'} v{obj.version_number} — {obj.target}"

    @admin.display(description="model")
    def model_name(self, obj):
        return getattr(obj, "model_name", None) or (
            RegisteredModel.objects.filter(id=obj.model_id).values_list("name", flat=True).first()
        )

    @admin.display(description="requested by")
    def requester(self, obj):
        return name_of(obj.requester_id)

    def bias_results(self, obj):
        """The audits the ledger computed itself (newest first, with the latest chart), each
        labelled by where its rows came from: only an audit of the attached evaluation data
        counts toward the gate, never one of rows a client posted, nor the bias-audit document
        the owners attached (named beside, as supporting evidence only)."""
        recorded = list(
            BiasAudit.objects.filter(version_id=obj.version_id).order_by("-recorded_at")
        )
        attached = Evidence.objects.filter(
            version_id=obj.version_id, kind="bias_audit", waived=False
        ).first()
        document = (
            format_html(
                '<p class="detail">An attached bias-audit document ({}) is supporting evidence'
                " only: it never meets the bias-audit requirement.</p>",
                documents.filename_of(attached),
            )
            if attached is not None
            else ""
        )
        if not recorded:
            return format_html(
                '<p class="detail">No bias audit recorded by the ledger.</p>{}', document
            )
        return format_html(
            '<ul class="bias-audits">{}</ul>{}{}',
            format_html_join(
                "",
                '<li class="bias-audit bias-audit-{}"><span class="pill {}">{}</span>'
                ' <a href="{}">{} audit</a> of {} rows, {} (policy version {}): {}</li>',
                (
                    (
                        audit.source,
                        "ok" if audit.verdict == "pass" else "bad",
                        audit.verdict,
                        reverse("admin:governance_biasaudit_change", args=[audit.id]),
                        audit.trigger,
                        audit.rows,
                        when(audit.recorded_at),
                        audit.policy_version,
                        AUDIT_SOURCE_LABELS[audit.source],
                    )
                    for audit in recorded
                ),
            ),
            selection_rate_chart(recorded[0].result),
            document,
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
            path(
                "<uuid:request_id>/evidence/<uuid:evidence_id>/mismatch/",
                self.admin_site.admin_view(self.mismatch_view),
                name="approvals_approvalrequest_mismatch",
            ),
            *super().get_urls(),
        ]

    def mismatch_view(self, request, request_id, evidence_id):
        """A document the dossier flagged: the server re-hashes it and records the mismatch
        (governance.EvidenceTamperDetected, which opens a finding), by whoever reads the
        request."""
        obj = get_object_or_404(self.get_queryset(request), id=request_id)
        row = get_object_or_404(Evidence, id=evidence_id, version_id=obj.version_id)
        return confirm_and_post(
            self,
            request,
            obj,
            form=lambda data: forms.Form(data),
            streams={
                obj.id: "approval request",
                evidence_stream_id(
                    obj.version_id
                ): f"evidence of model version {obj.version_number}",
            },
            run=lambda actor, data, **seen: governance_commands.record_evidence_tamper(
                actor=actor, evidence_id=str(row.id)
            ),
            summary=lambda _: format_html(
                "<p>The stored {} document ({}) is re-hashed now. Bytes other than the recorded"
                " SHA-256 <code>{}</code> are recorded once as a tampering of the evidence, which"
                " opens a finding for the model-risk and security boards.</p>",
                row.kind,
                documents.filename_of(row),
                row.sha256,
            ),
            title=f"Report the {row.kind} document of {dossier.title_of(obj)}",
            submit="Re-hash and record",
            done="Re-hashed: a mismatch is recorded once, and its finding is open.",
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            shown = dossier.build(obj, request.user)
            decide = reverse("admin:approvals_approvalrequest_decide", args=[obj.id])
            context.update(
                dossier=shown,
                title=shown.title,
                subtitle=None,
                bias=self.bias_results(obj),
                lineage=lineage_svg(obj.version_id),
                history=self.history(obj),
                # Offered only where a decision can be taken: an open request, to a member of
                # one of its boards who is independent of the model.
                decision_buttons=[
                    (label, f"{decide}?decision={d}") for d, label in DECISION_LABELS.items()
                ]
                if shown.can_decide
                else [],
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
        if obj.status not in ACTIVE and request.method == "GET":
            messages.info(request, f"This request is {obj.status}; no decision is open on it.")
            return redirect("admin:approvals_approvalrequest_change", obj.id)
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
            title=f"Decide on {dossier.title_of(obj)}",
            submit="Record decision",
            submit_name="_record",
            done=lambda data: f"Decision recorded: {data['decision']}.",
        )

    def _decision_summary(self, obj) -> str:
        """What a decision is taken on: the request, the version's evidence and the decisions
        so far (the full dossier is the request's page)."""
        shown = dossier.build(obj, None)
        return render_to_string(
            "admin/approvals/approvalrequest/decision_summary.html", {"dossier": shown}
        )


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(ReadOnlyAdmin):
    list_display = ("request", "board", "reviewer", "decision", "recorded_at")
    list_filter = ("board", "decision")

    def get_queryset(self, request):
        visible = queries.visible_requests(request.user).values("id")
        of_request = ApprovalRequest.objects.filter(id=OuterRef("request_id"))
        rows = (
            super()
            .get_queryset(request)
            .filter(request_id__in=visible)
            .annotate(
                request_model=Subquery(of_request.values("model_id")[:1]),
                request_number=Subquery(of_request.values("version_number")[:1]),
                request_target=Subquery(of_request.values("target")[:1]),
            )
        )
        return with_person_name(with_model_names(rows, "request_model"), "reviewer_id")

    @admin.display(description="request")
    def request(self, obj):
        return f"{obj.model_name or 'unknown model'} v{obj.request_number} — {obj.request_target}"

    @admin.display(description="reviewer", ordering="person_name")
    def reviewer(self, obj):
        return obj.person_name or f"user {obj.reviewer_id} (deleted)"
