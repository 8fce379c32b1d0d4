"""Governance loaders: the stream ids of risk records, evidence, periodic reviews, bias audits
and findings, and the folds a command takes of them (current state, read from the log).
Nothing here writes."""

from __future__ import annotations

import uuid

from eventstore import store
from governance.errors import FindingNotFound, IncidentNotFound, ReviewNotFound
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

NAMESPACE = uuid.UUID("0b7f6e2a-4c51-4c1f-9d0e-5a3f2f6c9b21")


def risk_stream_id(model_id: str | uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"risk:{model_id}")


def evidence_stream_id(version_id: str | uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"evidence:{version_id}")


def review_stream_id(version_id: str | uuid.UUID, sequence: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"review:{version_id}:{sequence}")


def audit_stream_id(version_id: str | uuid.UUID, key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"bias-audit:{version_id}:{key}")


def finding_stream_id(source_id: str | uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"finding:{source_id}")


def load_risk(model_id: str | uuid.UUID) -> RiskState:
    state, _ = store.load(risk_stream_id(model_id), evolve_risk, RiskState())
    return state


def load_evidence(version_id: str | uuid.UUID) -> EvidenceState:
    state, _ = store.load(evidence_stream_id(version_id), evolve_evidence, EvidenceState())
    return state


def load_review(review_id: str | uuid.UUID) -> ReviewState:
    return store.load_existing(
        review_id, evolve_review, ReviewState(), ReviewNotFound(f"no periodic review {review_id}")
    )


def load_finding(finding_id: str | uuid.UUID) -> FindingState:
    return store.load_existing(
        finding_id, evolve_finding, FindingState(), FindingNotFound(f"no finding {finding_id}")
    )


def load_incident(incident_id: str | uuid.UUID) -> IncidentState:
    return store.load_existing(
        incident_id,
        evolve_incident,
        IncidentState(),
        IncidentNotFound(f"no incident {incident_id}"),
    )
