"""Reads the API and the admin share: policies (the one in force too), risk records and
evidence, also as of a time or log position."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q

from boards.queries import boards_of, is_member
from eventstore import store
from governance import rules
from governance.errors import (
    BiasAuditNotFound,
    FindingNotFound,
    IncidentNotFound,
    PolicyMissing,
    PolicyNotFound,
    ReviewNotFound,
)
from governance.models import (
    ApprovalStanding,
    BiasAudit,
    Finding,
    Incident,
    ModelRisk,
    PeriodicReview,
    PolicyVersion,
)
from governance.state import (
    EvidenceState,
    FindingState,
    IncidentState,
    ReviewState,
    RiskState,
    evolve_evidence,
    evolve_finding,
    evolve_incident,
    evolve_review,
    evolve_risk,
)
from governance.streams import evidence_stream_id, risk_stream_id
from registry.queries import owned_model_ids


def current_policy() -> PolicyVersion:
    """The policy version in force. Only reads: a log without any policy is a deployment that
    was not seeded (the migrations and `manage.py seed_governance` record the default), and the
    caller gets an error rather than an append."""
    current = PolicyVersion.objects.order_by("-number").first()
    if current is None:
        raise PolicyMissing("no risk-tier policy is recorded; run `manage.py seed_governance`")
    return current


def get_policy(number: int) -> PolicyVersion:
    found = PolicyVersion.objects.filter(number=number).first()
    if found is None:
        raise PolicyNotFound(f"no policy version {number}")
    return found


def get_risk(
    model_id: str, *, up_to_position: int | None = None, as_of: datetime | None = None
) -> RiskState:
    state, _ = store.load(
        risk_stream_id(model_id),
        evolve_risk,
        RiskState(model_id=str(model_id)),
        up_to_position=up_to_position,
        as_of=as_of,
    )
    return state


def get_evidence(
    version_id: str, *, up_to_position: int | None = None, as_of: datetime | None = None
) -> EvidenceState:
    state, _ = store.load(
        evidence_stream_id(version_id),
        evolve_evidence,
        EvidenceState(version_id=str(version_id)),
        up_to_position=up_to_position,
        as_of=as_of,
    )
    return state


def tier_of(model_id: str) -> str:
    """The model's confirmed tier from the projection ('' until a risk officer confirms)."""
    return ModelRisk.objects.filter(model_id=model_id).values_list("tier", flat=True).first() or ""


def tiers_of(model_ids: list) -> dict[str, str]:
    """Confirmed tiers of many models at once, keyed by the model id as text."""
    rows = ModelRisk.objects.filter(model_id__in=model_ids).values_list("model_id", "tier")
    return {str(model_id): tier for model_id, tier in rows}


# -- periodic reviews --------------------------------------------------------------------

REVIEW_VIEW_PERM = "governance.view_periodicreview"


def sees_every_review(user) -> bool:
    """Superusers and auditors (the global view permission) read every review."""
    return bool(user and (user.is_superuser or user.has_perm(REVIEW_VIEW_PERM)))


def visible_reviews(user):
    """Reviews assigned to the user's boards and reviews of their teams' models."""
    if sees_every_review(user):
        return PeriodicReview.objects.all()
    if user is None or not user.is_authenticated:
        return PeriodicReview.objects.none()
    boards = boards_of(user)
    visible = Q(model_id__in=owned_model_ids(user))
    for board in boards:
        visible |= Q(boards__contains=[board])
    return PeriodicReview.objects.filter(visible)


def with_timing(queryset, timing: str, now: datetime):
    """Open reviews by where they stand now: upcoming, due (reminder period) or overdue."""
    open_ = queryset.filter(status="open")
    if timing == "overdue":
        return open_.filter(due_at__lt=now)
    if timing == "due":
        return open_.filter(remind_at__lte=now, due_at__gte=now)
    return open_.filter(remind_at__gt=now)


def get_review(
    review_id: str,
    *,
    user,
    up_to_position: int | None = None,
    as_of: datetime | None = None,
):
    if not visible_reviews(user).filter(id=review_id).exists():
        raise ReviewNotFound(f"no periodic review {review_id}")
    return store.load_existing(
        review_id,
        evolve_review,
        ReviewState(),
        ReviewNotFound(f"periodic review {review_id} did not exist yet at that point"),
        up_to_position=up_to_position,
        as_of=as_of,
    )


# -- bias audits and findings ------------------------------------------------------------


def _concerned(user, queryset, perm: str):
    """Everything for superusers, holders of `perm` and board members; the models of their
    teams for everyone else."""
    if user is None or not user.is_authenticated:
        return queryset.none()
    if user.is_superuser or user.has_perm(perm) or is_member(user):
        return queryset
    return queryset.filter(model_id__in=owned_model_ids(user))


def visible_audits(user):
    return _concerned(user, BiasAudit.objects.all(), "governance.view_biasaudit")


def visible_findings(user):
    """Every finding for superusers, auditors and risk officers; a board member's for the
    findings naming their boards; the owning team's (by group id) for its models."""
    findings = Finding.objects.all()
    if user is None or not user.is_authenticated:
        return findings.none()
    if any(user.has_perm(p) for p in ("governance.view_finding", "governance.assign_risk_tier")):
        return findings
    concerned = Q(model_id__in=owned_model_ids(user))
    for board in boards_of(user):
        concerned |= Q(boards__contains=[board])
    return findings.filter(concerned)


def get_audit(audit_id: str, *, user):
    found = visible_audits(user).filter(id=audit_id).first()
    if found is None:
        raise BiasAuditNotFound(f"no bias audit {audit_id}")
    return found


def get_finding(
    finding_id: str, *, user, up_to_position: int | None = None, as_of: datetime | None = None
):
    if not visible_findings(user).filter(id=finding_id).exists():
        raise FindingNotFound(f"no finding {finding_id}")
    return store.load_existing(
        finding_id,
        evolve_finding,
        FindingState(),
        FindingNotFound(f"finding {finding_id} did not exist yet at that point"),
        up_to_position=up_to_position,
        as_of=as_of,
    )


def computed_audits(version_id: Any) -> list[rules.ComputedAudit]:
    """The version's recorded audits, each with whether the finding it opened is still open."""
    audits = list(
        BiasAudit.objects.filter(version_id=version_id).values_list(
            "id", "source", "evidence_sha256", "verdict"
        )
    )
    open_findings = set(
        Finding.objects.filter(
            source=rules.BIAS_AUDIT,
            source_id__in=[str(audit_id) for audit_id, *_ in audits],
            status="open",
        ).values_list("source_id", flat=True)
    )
    return [
        rules.ComputedAudit(str(audit_id), source, sha, verdict, str(audit_id) in open_findings)
        for audit_id, source, sha, verdict in audits
    ]


def bias_audit_shortfall(
    version_id: Any, evaluation_sha256: str, evidence: EvidenceState, now: datetime
) -> str:
    """Why the version's bias-audit requirement is not met on the evaluation data whose
    digest is `evaluation_sha256` ("" when it is): governance.rules.bias_audit_shortfall."""
    waiver = evidence.waivers.get(rules.BIAS_AUDIT)
    return rules.bias_audit_shortfall(
        computed_audits(version_id),
        evaluation_sha256,
        waived=waiver is not None and waiver.expires_at > now,
    )


# -- serious incidents -------------------------------------------------------------------


def visible_incidents(user):
    """Every incident for superusers, auditors (governance.view_incident) and board members;
    the incidents of their teams' models for everyone else."""
    return _concerned(user, Incident.objects.all(), "governance.view_incident")


def get_incident(
    incident_id: str, *, user, up_to_position: int | None = None, as_of: datetime | None = None
):
    if not visible_incidents(user).filter(id=incident_id).exists():
        raise IncidentNotFound(f"no incident {incident_id}")
    return store.load_existing(
        incident_id,
        evolve_incident,
        IncidentState(),
        IncidentNotFound(f"incident {incident_id} did not exist yet at that point"),
        up_to_position=up_to_position,
        as_of=as_of,
    )


def with_reporting_status(queryset, status: str, now: datetime):
    """Incidents by where their Art. 73 report stands now (governance.art73.reporting_status):
    not_required, reported, not_filed, overdue (deadline passed without it) or pending."""
    if status == "not_required":
        return queryset.filter(clock_applies=False)
    clocked = queryset.filter(clock_applies=True)
    if status == "reported":
        return clocked.filter(authority_reported_at__isnull=False)
    unreported = clocked.filter(authority_reported_at__isnull=True)
    if status == "not_filed":
        return unreported.exclude(status="open")
    running = unreported.filter(status="open")
    if status == "overdue":
        return running.filter(Q(deadline_at__lt=now) | Q(overdue=True))
    return running.filter(deadline_at__gte=now, overdue=False)


# -- approvals as governance sees them -----------------------------------------------------


def last_granted_at(version_id: Any) -> datetime | None:
    """When the version's approval standing now was granted (the latest, where several)."""
    return (
        ApprovalStanding.objects.filter(version_id=version_id, granted_at__isnull=False)
        .order_by("-granted_at")
        .values_list("granted_at", flat=True)
        .first()
    )


def approval_in_force(version_id: Any) -> str:
    """The id of the version's approval that stands and is not suspended ('' if none)."""
    row = (
        ApprovalStanding.objects.filter(version_id=version_id, status="approved", suspended=False)
        .order_by("-granted_at")
        .values_list("id", flat=True)
        .first()
    )
    return str(row) if row else ""
