"""Governance events: policy versions, intake and risk tiers, suspensions, and evidence.

Streams: one policy stream ("governance.Policy") numbers policy versions; each model has a
risk stream ("governance.ModelRisk", id derived from the model id) with its intake answers,
tier and suspension; each model version has an evidence stream ("governance.Evidence", id
derived from the version id). People appear only as user ids."""

from __future__ import annotations

from typing import Any

from eventstore.catalog import DomainEvent, event

POLICY = "governance.Policy"
MODEL_RISK = "governance.ModelRisk"
EVIDENCE = "governance.Evidence"


@event("governance.PolicyVersionRecorded")
class PolicyVersionRecorded(DomainEvent):
    number: int
    tiers: dict[str, Any]
    reason: str


@event("governance.IntakeRecorded")
class IntakeRecorded(DomainEvent):
    model_id: str
    answers: dict[str, Any]
    proposed_tier: str
    policy_version: int


@event("governance.RiskTierAssigned")
class RiskTierAssigned(DomainEvent):
    model_id: str
    tier: str
    previous_tier: str
    proposed_tier: str
    overridden: bool
    reason: str
    policy_version: int


@event("governance.ModelSuspended")
class ModelSuspended(DomainEvent):
    model_id: str
    reason: str


@event("governance.ModelReinstated")
class ModelReinstated(DomainEvent):
    model_id: str
    reason: str


@event("governance.EvidenceAttached")
class EvidenceAttached(DomainEvent):
    model_id: str
    version_id: str
    version_number: int
    kind: str
    key: str
    uri: str
    sha256: str
    size: int
    summary: dict[str, Any]


@event("governance.EvidenceWaived")
class EvidenceWaived(DomainEvent):
    model_id: str
    version_id: str
    version_number: int
    kind: str
    reason: str
    expires_at: str
    board: str
