"""The board member's queue: the approval requests' change list as a reviewer reads it. Each
row names the model, version, tier, requester and target, how long the request has waited,
what the reviewer's own boards still need, and whether it is back for a re-review (a void
after the reviewer's decision, with why and which evidence changed); the Decide button goes to
the request's page, where the decision is recorded.

Columns are built per request (`queue_columns(user)`) because they speak of the viewer's boards
and decisions; the facts of a row are read once and kept for that page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from approvals import gate, queries
from approvals.models import ApprovalRequest
from approvals.state import ACTIVE
from approvals.streams import load_request
from boards.queries import boards_of, is_member
from eventstore.admin_site import Workspace, people, register, when, workspaces_of
from registry.models import RegisteredModel

QUEUE_QUERY = "?mine=pending"


class _Facts:
    """What the queue shows of one request, for one viewer, read on first use."""

    def __init__(self, user: Any, obj: ApprovalRequest, names: dict[Any, str]) -> None:
        self.obj = obj
        self.state = load_request(obj.id)
        self.mine = [b for b in boards_of(user) if b in obj.boards]
        self.reopened = queries.reopened_since_my_decision(self.state, user)
        self.decided = any(
            d.reviewer_id == user.pk and d.evidence_version >= self.state.voided_evidence_version
            for d in self.state.decisions
        )
        self.model = names.get(obj.model_id) or str(obj.model_id)
        counts = gate.assess_promotion(model_id=str(obj.model_id), number=obj.version_number)
        self.needs = {c.board: (c.needed, c.have) for c in counts.boards}


def queue_context(request) -> dict[str, Any]:
    """The list's frame for a board member: the queue's title, the person's workspaces as tabs
    in place of the list of tables."""
    pending = request.GET.get("mine") == "pending"
    return {
        "title": "Waiting for my decision" if pending else "Approval requests of my boards",
        "workspaces": workspaces_of(request.user),
        "here": request.get_full_path(),
        "is_nav_sidebar_enabled": False,
    }


def queue_columns(user: Any) -> list[Callable[[ApprovalRequest], Any]]:
    """The change list's columns for this viewer."""
    facts: dict[Any, _Facts] = {}
    names: dict[Any, str] = {}

    def of(obj: ApprovalRequest) -> _Facts:
        if obj.id not in facts:
            if obj.model_id not in names:
                names.update(
                    RegisteredModel.objects.filter(id=obj.model_id).values_list("id", "name")
                )
            facts[obj.id] = _Facts(user, obj, names)
        return facts[obj.id]

    @admin.display(description="model and version")
    def model(obj):
        return format_html(
            '<a href="{}"><strong>{}</strong> version {}</a>',
            reverse("admin:approvals_approvalrequest_change", args=[obj.id]),
            of(obj).model,
            obj.version_number,
        )

    @admin.display(description="tier")
    def tier(obj):
        return format_html('<span class="ws-badge tier-{}">{}</span>', obj.tier, obj.tier)

    @admin.display(description="requested by")
    def requester(obj):
        return people([obj.requester_id]).get(obj.requester_id, f"user {obj.requester_id}")

    @admin.display(description="target")
    def target(obj):
        return obj.target

    @admin.display(description="waiting since")
    def waiting(obj):
        reopened = of(obj).reopened
        return when(reopened[-1].at if reopened else obj.created_at)

    @admin.display(description="my boards still need")
    def needs(obj):
        f = of(obj)
        if not f.mine:
            return "-"
        lines = []
        for board in f.mine:
            needed, have = f.needs.get(board, (obj.boards.get(board, 0), 0))
            lines.append((board, max(needed - have, 0), needed))
        return format_html_join("", "<div>{}: {} more of {} approvals</div>", lines)

    @admin.display(description="review")
    def review(obj):
        f = of(obj)
        if obj.status not in ACTIVE:
            return obj.status.replace("_", " ")
        if f.reopened:
            last = f.reopened[-1]
            return format_html(
                '<span class="ws-badge rereview">Re-review</span>'
                '<div class="ws-note">You decided "{}" on {}. Voided on {}: {}.</div>',
                last.decided.replace("_", " "),
                when(last.decided_at),
                when(last.at),
                last.reason,
            )
        if f.decided:
            return "decided by you"
        return mark_safe('<span class="ws-badge">New</span>')

    @admin.display(description="")
    def decide(obj):
        f = of(obj)
        if not f.mine or obj.status not in ACTIVE or f.decided:
            return ""
        return format_html(
            '<a class="button decide-button" href="{}">Decide</a>',
            reverse("admin:approvals_approvalrequest_change", args=[obj.id]),
        )

    return [model, tier, requester, target, waiting, needs, review, decide]


register(
    Workspace(
        key="board-member",
        title="Waiting for my decision",
        role="Board member",
        description="Approval requests of your boards that need your decision, re-reviews"
        " after changed evidence marked.",
        url_name="approvals_approvalrequest_changelist",
        query=QUEUE_QUERY,
        holds=lambda user: is_member(user),
        waiting=lambda user: queries.pending_for(user).count(),
        order=10,
    )
)
