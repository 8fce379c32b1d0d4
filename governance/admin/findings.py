"""The findings workspace of their owners and reviewers: open findings by severity and due date
(those remediated, or whose risk was accepted until a date, among them); a form for the
model's owners that records what they did (record_remediation), and forms that accept a
finding's risk with a reason and an expiry (accept_finding_risk) or close it with the evidence
of the fix (close_finding), offered to members of the finding's boards independent of the
model: the commands the API calls. And the findings closed lately."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from boards.queries import boards_of, is_member
from core import clock
from eventstore.admin_site import (
    Row,
    Section,
    Workspace,
    badge,
    button,
    people,
    register,
    render_workspace,
    when,
)
from eventstore.admin_views import confirm_and_post
from governance import commands, policy, queries
from governance.models import Finding
from governance.permissions import model_parties, version_parties
from registry.models import ModelVersion, RegisteredModel
from registry.permissions import has_object_perm

RECENTLY_CLOSED = 10
CHANGE_MODEL = "registry.change_registeredmodel"
# What the acceptance form proposes; the reviewer changes it (the command allows up to a year).
DEFAULT_ACCEPTANCE = timedelta(days=90)
SEVERITY_ORDER = Case(
    *(When(severity=tier, then=Value(rank)) for rank, tier in enumerate(reversed(policy.TIERS))),
    default=Value(len(policy.TIERS)),
    output_field=IntegerField(),
)


def can_close(user, finding: Finding) -> bool:
    """What close_finding asks: a member of the finding's boards, independent of the model (of
    the version, where the finding names one)."""
    if not board_member_of(user, finding.boards):
        return False
    if finding.version_id:
        parties = version_parties(finding.model_id, finding.version_id)
    else:
        versions = ModelVersion.objects.filter(model_id=finding.model_id).values_list(
            "id", flat=True
        )
        parties = model_parties(finding.model_id, [str(v) for v in versions])
    return parties.violation(user.pk) is None


def can_remediate(user, finding: Finding) -> bool:
    """What record_remediation asks: the model's owning team (its change grant)."""
    return has_object_perm(user, CHANGE_MODEL, RegisteredModel, finding.model_id)


def board_member_of(user, boards) -> bool:
    return bool(set(boards_of(user)) & set(boards))


def has_findings(user) -> bool:
    return is_member(user) or queries.visible_findings(user).exists()


class CloseFindingForm(forms.Form):
    resolution = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000, help_text="What was done."
    )
    evidence = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=10_000,
        help_text="Where the fix can be checked: a version, a report, a ticket.",
    )


class RemediationForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, help_text="What was done."
    )
    evidence = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=10_000,
        help_text="Where a reviewer can check it: a version, a report, a ticket.",
    )


class AcceptRiskForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Why the risk is acceptable until then: a compensating control, a fix planned.",
    )
    expires_at = forms.DateTimeField(
        label="Accepted until (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        help_text="At most a year; the finding is due again then.",
    )


def _due(finding: Finding, now) -> str:
    """When the finding is due, and whether its accepted risk has run out."""
    if finding.status == "remediated":
        return format_html(
            "{} {}<div class='ws-quiet'>remediated: {} (evidence: {})</div>",
            when(finding.due_at),
            badge("to be checked", "rereview"),
            finding.resolution,
            finding.evidence,
        )
    if finding.status == "risk_accepted":
        return format_html(
            "{}<div class='ws-quiet'>risk accepted: {}</div>",
            badge("acceptance expired", "overdue")
            if finding.due_at <= now
            else format_html("{} {}", badge("accepted until", "rereview"), when(finding.due_at)),
            finding.resolution,
        )
    return format_html(
        "{} {}", when(finding.due_at), badge("overdue", "overdue") if finding.due_at <= now else ""
    )


class FindingsWorkspace:
    """The findings' workspace, on the findings' admin (audits.FindingAdmin)."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("mine/", view(self.workspace_view), name="governance_finding_workspace"),
            path(
                "<uuid:finding_id>/closure/", view(self.close_view), name="governance_finding_close"
            ),
            path(
                "<uuid:finding_id>/remediation/",
                view(self.remediation_view),
                name="governance_finding_remediate",
            ),
            path(
                "<uuid:finding_id>/risk-acceptance/",
                view(self.accept_view),
                name="governance_finding_accept",
            ),
            *super().get_urls(),
        ]

    def workspace_view(self, request):
        user = request.user
        if not has_findings(user):
            raise PermissionDenied
        visible = queries.visible_findings(user)
        standing = visible.exclude(status="closed")
        open_ = list(standing.order_by(SEVERITY_ORDER, "due_at"))
        closed = list(visible.filter(status="closed").order_by("-closed_at")[:RECENTLY_CLOSED])
        names = dict(
            RegisteredModel.objects.filter(id__in={f.model_id for f in open_ + closed}).values_list(
                "id", "name"
            )
        )
        now = clock.now()
        rows = []
        for f in open_:
            subject = names.get(f.model_id, f.model_id)
            rows.append(
                Row(
                    [
                        badge(f.severity, f"sev-{f.severity}"),
                        format_html(
                            "<strong>{}</strong><div class='ws-quiet'>{}</div>",
                            f.title,
                            f.source.replace("_", " "),
                        ),
                        format_html("{} version {}", subject, f.version_number)
                        if f.version_number
                        else subject,
                        f.owner_team,
                        _due(f, now),
                        self._actions(user, f),
                    ],
                    key=f"finding-{f.id}",
                )
            )
        closers = people(f.closed_by for f in closed)
        done = [
            Row(
                [
                    badge(f.severity, f"sev-{f.severity}"),
                    format_html("<strong>{}</strong>", f.title),
                    names.get(f.model_id, f.model_id),
                    format_html(
                        "{}<div class='ws-quiet'>evidence: {}</div>", f.resolution, f.evidence
                    ),
                    closers.get(f.closed_by, "-"),
                    when(f.closed_at),
                ]
            )
            for f in closed
        ]
        return render_workspace(
            self,
            request,
            title="Findings",
            intro="Findings opened by the ledger's checks (failed bias audits, late incident"
            " reports, voided approvals of deployed versions, tampered artifacts), most severe"
            " and most urgent first. The model's owners record what they did about one; a"
            " member of the finding's boards, independent of the model, accepts its risk until"
            " a date (it is due again then) or closes it with the evidence of the fix.",
            sections=[
                Section(
                    key="open-findings",
                    title="Open findings",
                    columns=["severity", "finding", "model", "owners", "due", ""],
                    rows=rows,
                    empty="No open finding concerns you.",
                ),
                Section(
                    key="closed-findings",
                    title="Closed lately",
                    columns=["severity", "finding", "model", "resolution", "closed by", "closed"],
                    rows=done,
                    empty="No finding has been closed yet.",
                    actions=False,
                ),
            ],
        )

    def _actions(self, user, finding: Finding) -> str:
        """The buttons this person may use on the finding, by the commands' own predicates."""
        buttons = []
        if can_remediate(user, finding):
            url = reverse("admin:governance_finding_remediate", args=[finding.id])
            buttons.append(button(url, "Record the remediation", "remediate"))
        if can_close(user, finding):
            url = reverse("admin:governance_finding_accept", args=[finding.id])
            buttons.append(button(url, "Accept the risk", "accept-risk"))
            url = reverse("admin:governance_finding_close", args=[finding.id])
            buttons.append(button(url, "Close with evidence", "close-finding"))
        return format_html_join(" ", "{}", ((b,) for b in buttons))

    def remediation_view(self, request, finding_id):
        """record_remediation, the same command as the API, on the finding as shown."""
        finding = get_object_or_404(queries.visible_findings(request.user), id=finding_id)
        if not can_remediate(request.user, finding):
            raise PermissionDenied
        return self._step(
            request,
            finding,
            form=RemediationForm,
            run=lambda actor, data, **seen: commands.record_remediation(
                actor=actor,
                finding_id=str(finding.id),
                note=data["note"],
                evidence=data["evidence"],
                expected_version=seen["expected_version"],
            ),
            title=f"Record the remediation of the finding: {finding.title}",
            submit="Record the remediation",
            submit_name="_remediate",
            done="The remediation is recorded; a reviewer of the finding's boards checks it.",
        )

    def accept_view(self, request, finding_id):
        """accept_finding_risk, the same command as the API, on the finding as shown."""
        finding = get_object_or_404(queries.visible_findings(request.user), id=finding_id)
        if not board_member_of(request.user, finding.boards):
            raise PermissionDenied
        return self._step(
            request,
            finding,
            form=lambda data: AcceptRiskForm(
                data, initial={"expires_at": clock.now() + DEFAULT_ACCEPTANCE}
            ),
            run=lambda actor, data, **seen: commands.accept_finding_risk(
                actor=actor,
                finding_id=str(finding.id),
                reason=data["reason"],
                expires_at=data["expires_at"],
                expected_version=seen["expected_version"],
            ),
            title=f"Accept the risk of the finding: {finding.title}",
            submit="Accept the risk",
            submit_name="_accept",
            done=lambda data: f"The risk is accepted until {when(data['expires_at'])}.",
        )

    def close_view(self, request, finding_id):
        """close_finding, the same command as the API, on the finding as shown."""
        finding = get_object_or_404(queries.visible_findings(request.user), id=finding_id)
        if not board_member_of(request.user, finding.boards):
            raise PermissionDenied
        return self._step(
            request,
            finding,
            form=CloseFindingForm,
            run=lambda actor, data, **seen: commands.close_finding(
                actor=actor,
                finding_id=str(finding.id),
                resolution=data["resolution"],
                evidence=data["evidence"],
                expected_version=seen["expected_version"],
            ),
            title=f"Close the finding: {finding.title}",
            submit="Close the finding",
            submit_name="_close",
            done="The finding is closed.",
        )

    def _step(self, request, finding, **page):
        name = (
            RegisteredModel.objects.filter(id=finding.model_id)
            .values_list("name", flat=True)
            .first()
        )
        return confirm_and_post(
            self,
            request,
            finding,
            streams={finding.id: "finding"},
            summary=lambda obj: format_html(
                "<p>{} finding on <strong>{}</strong>: {} (owners: {}; due {}; {}).</p>",
                obj.severity.capitalize(),
                name,
                obj.title,
                obj.owner_team,
                when(obj.due_at),
                obj.status.replace("_", " "),
            ),
            back=reverse("admin:governance_finding_workspace"),
            **page,
        )


register(
    Workspace(
        key="findings",
        title="Findings",
        role="Finding owners and reviewers",
        description="Open findings of your boards and your team's models, by severity and due"
        " date; remediate, accept a risk until a date, or close with the evidence of the fix.",
        url_name="governance_finding_workspace",
        holds=has_findings,
        waiting=lambda user: queries.visible_findings(user).filter(status="open").count(),
        order=40,
    )
)
