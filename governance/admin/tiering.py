"""The risk officer's workspace: intakes waiting for a tier, with the owners' answers and the
tier they propose; confirm it or override it with a reason (assign_risk_tier, the command the
API calls, on the risk record as shown); and the history of tier decisions. Model risk records
stay readable, read-only, as before."""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from eventstore import store
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
from eventstore.models import Event
from governance import commands, policy
from governance import events as ev
from governance.commands.common import OFFICER_PERM
from governance.models import ModelRisk
from governance.permissions import model_parties
from governance.streams import risk_stream_id
from registry.models import ModelVersion, RegisteredModel

HISTORY_LENGTH = 25


def is_risk_officer(user) -> bool:
    """The holders of governance.assign_risk_tier, as the commands decide (superusers too)."""
    return bool(user and user.is_active and (user.is_superuser or user.has_perm(OFFICER_PERM)))


def independent_of_model(user, model_id) -> bool:
    """Not an owner, author or requester of the model (governance.permissions.model_parties)."""
    versions = [
        str(v) for v in ModelVersion.objects.filter(model_id=model_id).values_list("id", flat=True)
    ]
    return model_parties(model_id, versions).violation(user.pk) is None


def answers_html(answers: dict) -> str:
    return format_html(
        '<dl class="ws-answers">{}</dl>',
        format_html_join(
            "",
            "<dt>{}</dt><dd>{}</dd>",
            (
                (key.replace("_", " "), "yes" if v is True else "no" if v is False else v)
                for key, v in sorted(answers.items())
            ),
        ),
    )


def intakes_to_tier():
    return ModelRisk.objects.filter(tier="").exclude(proposed_tier="").order_by("updated_at")


def reopened_note(model_id) -> str:
    """Where the tier was confirmed before and new answers reopened it: a re-tier, with the
    tier it had and when it was reopened."""
    reopened = next(
        (
            e
            for e in reversed(store.read_stream(risk_stream_id(model_id), upcast=False))
            if e.type in (ev.RiskTierReopened.event_type, ev.RiskTierAssigned.event_type)
        ),
        None,
    )
    if reopened is None or reopened.type != ev.RiskTierReopened.event_type:
        return ""
    return format_html(
        '<div><span class="ws-badge rereview">Re-tier</span></div><div class="ws-note">'
        "Confirmed {} before; the owners' answers changed on {}.</div>",
        reopened.data["previous_tier"],
        when(reopened.recorded_at),
    )


class TierForm(forms.Form):
    tier = forms.ChoiceField(choices=[(t, t) for t in policy.TIERS])
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
        help_text="Needed when the tier differs from the proposed one.",
    )


class TieringWorkspace:
    """The risk officer's pages, on the model risk records' admin (records.ModelRiskAdmin)."""

    def get_urls(self):
        return [
            path(
                "tiering/",
                self.admin_site.admin_view(self.workspace_view),
                name="governance_modelrisk_tiering",
            ),
            path(
                "<uuid:model_id>/tier/",
                self.admin_site.admin_view(self.tier_view),
                name="governance_modelrisk_tier",
            ),
            *super().get_urls(),
        ]

    def workspace_view(self, request):
        user = request.user
        if not is_risk_officer(user):
            raise PermissionDenied
        waiting = list(intakes_to_tier())
        names = dict(
            RegisteredModel.objects.filter(id__in=[r.model_id for r in waiting]).values_list(
                "id", "name"
            )
        )
        rows = []
        for risk in waiting:
            url = reverse("admin:governance_modelrisk_tier", args=[risk.model_id])
            actions = (
                format_html(
                    "{} {}",
                    button(url, f"Confirm {risk.proposed_tier}", "confirm-tier default"),
                    button(f"{url}?override=1", "Override", "override-tier"),
                )
                if independent_of_model(user, risk.model_id)
                else format_html(
                    '<span class="ws-quiet">{}</span>', "not independent of this model"
                )
            )
            rows.append(
                Row(
                    [
                        format_html(
                            "<strong>{}</strong>{}",
                            names.get(risk.model_id, risk.model_id),
                            reopened_note(risk.model_id),
                        ),
                        answers_html(risk.answers),
                        badge(risk.proposed_tier, f"tier-{risk.proposed_tier}"),
                        when(risk.updated_at),
                        actions,
                    ],
                    key=f"intake-{risk.model_id}",
                )
            )
        return render_workspace(
            self,
            request,
            title="Risk tiering",
            intro="Models whose owners answered the intake questionnaire and whose tier is not"
            " confirmed yet. Confirm the proposed tier, or override it with a reason; the owners,"
            " authors and requesters of a model cannot decide on its tier.",
            sections=[
                Section(
                    key="intakes",
                    title="Intakes to tier",
                    columns=["model", "intake answers", "proposed tier", "answered", ""],
                    rows=rows,
                    empty="No intake waits for a tier.",
                ),
                self._history_section(),
            ],
        )

    def _history_section(self) -> Section:
        events = list(
            Event.objects.filter(type=ev.RiskTierAssigned.event_type).order_by("-position")[
                :HISTORY_LENGTH
            ]
        )
        names = dict(
            RegisteredModel.objects.filter(id__in=[e.data["model_id"] for e in events]).values_list(
                "id", "name"
            )
        )
        by = actor_names(e.metadata.get("actor", "") for e in events)
        rows = [
            Row(
                [
                    names.get(uuid.UUID(e.data["model_id"]), e.data["model_id"]),
                    badge(e.data["tier"], f"tier-{e.data['tier']}"),
                    e.data.get("previous_tier") or "none",
                    (
                        format_html("override of {}: {}", e.data["proposed_tier"], e.data["reason"])
                        if e.data.get("overridden")
                        else "confirmed as proposed"
                    ),
                    by[e.metadata.get("actor", "")],
                    when(e.recorded_at),
                ]
            )
            for e in events
        ]
        return Section(
            key="tier-history",
            title="Tier history",
            columns=["model", "tier", "before", "decision", "by", "when"],
            rows=rows,
            empty="No tier has been decided yet.",
            actions=False,
        )

    def tier_view(self, request, model_id):
        """assign_risk_tier, the same command as the API, on the risk record as shown."""
        if not is_risk_officer(request.user):
            raise PermissionDenied
        risk = get_object_or_404(ModelRisk, model_id=model_id)
        name = RegisteredModel.objects.filter(id=model_id).values_list("name", flat=True).first()
        stream = risk_stream_id(model_id)
        override = bool(request.GET.get("override"))
        initial = {"tier": risk.proposed_tier or risk.tier}
        return confirm_and_post(
            self,
            request,
            risk,
            form=lambda data: TierForm(data, initial=initial),
            streams={stream: f"risk record of {name}"},
            stream_id=stream,
            run=lambda actor, data, **seen: commands.assign_risk_tier(
                actor=actor,
                model_id=str(model_id),
                tier=data["tier"],
                reason=data["reason"],
                expected_version=seen["expected_version"],
            ),
            summary=lambda obj: format_html(
                "<p>The owners of <strong>{}</strong> answered the intake questionnaire;"
                " the policy proposes the <strong>{}</strong> tier{}.</p>{}",
                name,
                obj.proposed_tier,
                format_html(" (currently {})", obj.tier) if obj.tier else "",
                answers_html(obj.answers),
            ),
            title=f"{'Override' if override else 'Confirm'} the risk tier of {name}",
            submit="Record the tier",
            submit_name="_tier",
            done=lambda data: f"The tier of {name} is {data['tier']}.",
            back=reverse("admin:governance_modelrisk_tiering"),
        )


register(
    Workspace(
        key="risk-officer",
        title="Risk tiering",
        role="Risk officer",
        description="Intakes waiting for a confirmed tier, with the owners' answers; the history"
        " of tier decisions.",
        url_name="governance_modelrisk_tiering",
        holds=is_risk_officer,
        waiting=lambda user: intakes_to_tier().count(),
        order=20,
    )
)
