"""The model-risk chair's workspace: evidence missing on versions under review, with a form
that grants a waiver (a reason and an expiry; grant_waiver, the command the API calls), the
waivers in force, and the models' suspensions, with forms that suspend and reinstate a model
(suspend_model, reinstate_model). Evidence stays readable, read-only, as before."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from boards.queries import board_by_name, last_actor
from boards.rules import REVIEW_BOARD, lift_violation
from core import clock
from eventstore.admin_site import (
    Row,
    Section,
    Workspace,
    actor_names,
    badge,
    button,
    register,
    render_workspace,
    when,
)
from eventstore.admin_views import confirm_and_post
from governance import commands, policy
from governance import events as ev
from governance.admin.tiering import is_risk_officer
from governance.models import ApprovalStanding, Evidence, ModelRisk
from governance.permissions import model_parties, version_parties
from governance.queries import current_policy
from governance.streams import evidence_stream_id, risk_stream_id
from registry.models import ModelVersion, RegisteredModel

UNDER_REVIEW = ("open", "changes_requested")
# What the waiver form proposes; the chair changes it (the command allows up to a year).
DEFAULT_WAIVER = timedelta(days=90)


def chairs_review_board(user) -> bool:
    return bool(user and user.pk is not None and board_by_name(REVIEW_BOARD).chair_id == user.pk)


def _version_ids(model_id) -> list[str]:
    return [
        str(v) for v in ModelVersion.objects.filter(model_id=model_id).values_list("id", flat=True)
    ]


def missing_evidence() -> list[tuple[ModelVersion, str, list[str]]]:
    """Versions with a request under review and the evidence their tier needs that is neither
    attached nor waived (an expired waiver counts as missing)."""
    reviewed = ApprovalStanding.objects.filter(status__in=UNDER_REVIEW).values("version_id")
    versions = ModelVersion.objects.filter(id__in=reviewed).order_by("model_id", "number")
    risks = {
        r.model_id: r for r in ModelRisk.objects.filter(model_id__in=versions.values("model_id"))
    }
    tiers = current_policy().tiers
    now = clock.now()
    found = []
    for version in versions:
        risk = risks.get(version.model_id)
        if risk is None or not risk.tier:
            continue
        needed = policy.required_evidence(
            tiers[risk.tier], personal_data=bool(risk.answers.get("personal_data", False))
        )
        have = {
            e.kind
            for e in Evidence.objects.filter(version_id=version.id)
            if not e.waived or (e.expires_at is not None and e.expires_at > now)
        }
        missing = [kind for kind in needed if kind not in have]
        if missing:
            found.append((version, risk.tier, missing))
    return found


class WaiverForm(forms.Form):
    kind = forms.ChoiceField()
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    expires_at = forms.DateTimeField(
        label="Expires at (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, k.replace("_", " ")) for k in kinds]


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class ChairWorkspace:
    """The chair's pages, on the evidence's admin (records.EvidenceAdmin)."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("chair/", view(self.workspace_view), name="governance_evidence_chair"),
            path(
                "waive/<uuid:version_id>/",
                view(self.waiver_view),
                name="governance_evidence_waive",
            ),
            path(
                "suspension/<uuid:model_id>/",
                view(self.suspension_view),
                name="governance_evidence_suspension",
            ),
            *super().get_urls(),
        ]

    # -- the workspace -------------------------------------------------------------------

    def workspace_view(self, request):
        user = request.user
        chair = chairs_review_board(user)
        if not (chair or is_risk_officer(user)):
            raise PermissionDenied
        missing = missing_evidence()
        names = dict(RegisteredModel.objects.values_list("id", "name"))
        sections = [self._missing_section(user, chair, missing, names)]
        sections.append(self._waivers_section(names))
        sections.append(self._suspensions_section(user, names))
        return render_workspace(
            self,
            request,
            title="Waivers and suspensions",
            intro=f"As chair of the {REVIEW_BOARD} board you waive missing evidence for a"
            " limited time, with a reason; a waiver voids the decisions given before it. Model-"
            "risk officers suspend a model at once and another officer reinstates it. The"
            " owners, authors and requesters of a model can do none of this.",
            sections=sections,
        )

    def _missing_section(self, user, chair, missing, names) -> Section:
        rows = []
        for version, tier, kinds in missing:
            url = reverse("admin:governance_evidence_waive", args=[version.id])
            can = chair and version_parties(version.model_id, version.id).violation(user.pk) is None
            rows.append(
                Row(
                    [
                        format_html(
                            "<strong>{}</strong> version {}",
                            names.get(version.model_id, version.model_id),
                            version.number,
                        ),
                        badge(tier, f"tier-{tier}"),
                        format_html_join(" ", "{}", ((badge(k),) for k in kinds)),
                        format_html_join(
                            " ",
                            "{}",
                            (
                                (
                                    button(
                                        f"{url}?kind={k}", f"Waive {k.replace('_', ' ')}", "waive"
                                    ),
                                )
                                for k in kinds
                            ),
                        )
                        if can
                        else "",
                    ],
                    key=f"missing-{version.id}",
                )
            )
        return Section(
            key="missing-evidence",
            title="Evidence missing on versions under review",
            columns=["version", "tier", "missing evidence", ""],
            rows=rows,
            empty="Every version under review has the evidence its tier needs.",
        )

    def _waivers_section(self, names) -> Section:
        waivers = list(Evidence.objects.filter(waived=True).order_by("expires_at"))
        by = actor_names(w.recorded_by for w in waivers)
        now = clock.now()
        rows = [
            Row(
                [
                    format_html(
                        "<strong>{}</strong> version {}",
                        names.get(w.model_id, w.model_id),
                        w.version_number,
                    ),
                    badge(w.kind),
                    w.reason,
                    format_html(
                        "{} {}",
                        when(w.expires_at),
                        badge("expired", "overdue") if w.expires_at and w.expires_at <= now else "",
                    ),
                    by[w.recorded_by],
                ]
            )
            for w in waivers
        ]
        return Section(
            key="waivers",
            title="Waivers",
            columns=["version", "evidence", "reason", "expires", "granted by"],
            rows=rows,
            empty="No waiver has been granted.",
            actions=False,
        )

    def _suspensions_section(self, user, names) -> Section:
        officer = is_risk_officer(user)
        rows = []
        for risk in ModelRisk.objects.exclude(tier="").order_by("-suspended", "model_id"):
            url = reverse("admin:governance_evidence_suspension", args=[risk.model_id])
            parties = model_parties(risk.model_id, _version_ids(risk.model_id))
            if risk.suspended:
                suspender = last_actor(risk_stream_id(risk.model_id), ev.ModelSuspended.event_type)
                can = officer and lift_violation(user.pk, parties, suspender) is None
                action = button(url, "Reinstate", "reinstate") if can else ""
                state = format_html("{} {}", badge("suspended", "overdue"), risk.suspension_reason)
            else:
                can = officer and parties.violation(user.pk) is None
                action = button(url, "Suspend", "suspend") if can else ""
                state = "in use"
            rows.append(
                Row(
                    [
                        format_html("<strong>{}</strong>", names.get(risk.model_id, risk.model_id)),
                        badge(risk.tier, f"tier-{risk.tier}"),
                        state,
                        when(risk.updated_at),
                        action,
                    ],
                    key=f"suspension-{risk.model_id}",
                )
            )
        return Section(
            key="suspensions",
            title="Suspensions and reinstatements",
            columns=["model", "tier", "standing", "last change", ""],
            rows=rows,
            empty="No model has a confirmed tier yet.",
        )

    # -- the actions ---------------------------------------------------------------------

    def waiver_view(self, request, version_id):
        """grant_waiver, the same command as the API, on the version's evidence as shown."""
        if not chairs_review_board(request.user):
            raise PermissionDenied
        version = get_object_or_404(ModelVersion, id=version_id)
        name = (
            RegisteredModel.objects.filter(id=version.model_id)
            .values_list("name", flat=True)
            .first()
        )
        kinds = next((k for v, _, k in missing_evidence() if v.id == version.id), None) or list(
            policy.EVIDENCE_KINDS
        )
        stream = evidence_stream_id(version.id)
        initial = {
            "kind": request.GET.get("kind", kinds[0]),
            "expires_at": clock.now() + DEFAULT_WAIVER,
        }
        return confirm_and_post(
            self,
            request,
            version,
            form=lambda data: WaiverForm(data, kinds=kinds, initial=initial),
            streams={stream: f"evidence of {name} version {version.number}"},
            stream_id=stream,
            run=lambda actor, data, **seen: commands.grant_waiver(
                actor=actor,
                model_id=str(version.model_id),
                number=version.number,
                kind=data["kind"],
                reason=data["reason"],
                expires_at=data["expires_at"],
            ),
            summary=lambda obj: format_html(
                "<p><strong>{}</strong> version {} is under review without: {}.</p>",
                name,
                obj.number,
                ", ".join(k.replace("_", " ") for k in kinds),
            ),
            title=f"Waive evidence of {name} version {version.number}",
            submit="Grant the waiver",
            submit_name="_waive",
            done=lambda data: f"Waiver of {data['kind']} granted until {when(data['expires_at'])}.",
            back=reverse("admin:governance_evidence_chair"),
        )

    def suspension_view(self, request, model_id):
        """suspend_model or reinstate_model, the same commands as the API, on the risk record
        as shown."""
        if not is_risk_officer(request.user):
            raise PermissionDenied
        risk = get_object_or_404(ModelRisk, model_id=model_id)
        name = RegisteredModel.objects.filter(id=model_id).values_list("name", flat=True).first()
        command = commands.reinstate_model if risk.suspended else commands.suspend_model
        verb = "Reinstate" if risk.suspended else "Suspend"
        stream = risk_stream_id(model_id)
        return confirm_and_post(
            self,
            request,
            risk,
            form=ReasonForm,
            streams={stream: f"risk record of {name}"},
            stream_id=stream,
            run=lambda actor, data, **seen: command(
                actor=actor, model_id=str(model_id), reason=data["reason"]
            ),
            summary=lambda obj: format_html(
                "<p><strong>{}</strong> ({} tier) is {}.</p>",
                name,
                obj.tier,
                f"suspended: {obj.suspension_reason}" if obj.suspended else "in use",
            ),
            title=f"{verb} {name}",
            submit=verb,
            submit_name="_suspension",
            done=f"{name}: {verb.lower()}d." if verb == "Suspend" else f"{name} reinstated.",
            back=reverse("admin:governance_evidence_chair"),
        )


def _waiting(user) -> int:
    """For the chair, the missing evidence to waive or chase; for an officer, the suspensions."""
    if chairs_review_board(user):
        return sum(len(kinds) for _, _, kinds in missing_evidence())
    return ModelRisk.objects.filter(suspended=True).count()


register(
    Workspace(
        key="chair",
        title="Waivers and suspensions",
        role=f"Chair of {REVIEW_BOARD}, risk officers",
        description="Evidence missing on versions under review, waivers and their expiry, models"
        " suspended and reinstated.",
        url_name="governance_evidence_chair",
        holds=lambda user: chairs_review_board(user) or is_risk_officer(user),
        waiting=_waiting,
        order=30,
    )
)
