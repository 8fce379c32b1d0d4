"""Reads the API and the admin share: policies, risk records and evidence, also as of a time
or log position."""

from __future__ import annotations

from datetime import datetime

from eventstore import store
from governance.commands import evidence_stream_id, risk_stream_id
from governance.errors import PolicyNotFound
from governance.models import PolicyVersion
from governance.state import EvidenceState, RiskState, evolve_evidence, evolve_risk


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
    from governance.models import ModelRisk

    return ModelRisk.objects.filter(model_id=model_id).values_list("tier", flat=True).first() or ""


def tiers_of(model_ids: list) -> dict[str, str]:
    """Confirmed tiers of many models at once, keyed by the model id as text."""
    from governance.models import ModelRisk

    rows = ModelRisk.objects.filter(model_id__in=model_ids).values_list("model_id", "tier")
    return {str(model_id): tier for model_id, tier in rows}
