"""Write models of governance: pure folds of the policy, a model's risk record and a
version's evidence. Nothing here imports Django."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from eventstore.types import RecordedEvent


@dataclass(frozen=True)
class PolicyState:
    id: str = ""
    number: int = 0
    tiers: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    recorded_at: datetime | None = None
    stream_version: int = 0

    @property
    def exists(self) -> bool:
        return self.number > 0


def evolve_policy(state: PolicyState, event: RecordedEvent) -> PolicyState:
    if event.type == "governance.PolicyVersionRecorded":
        return replace(
            state,
            id=str(event.stream_id),
            number=event.data["number"],
            tiers=event.data["tiers"],
            reason=event.data["reason"],
            recorded_at=event.recorded_at,
            stream_version=event.version,
        )
    return replace(state, stream_version=event.version)


@dataclass(frozen=True)
class RiskState:
    model_id: str = ""
    tier: str = ""
    proposed_tier: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    overridden: bool = False
    reason: str = ""
    policy_version: int = 0
    suspended: bool = False
    suspension_reason: str = ""
    updated_at: datetime | None = None
    stream_version: int = 0


def evolve_risk(state: RiskState, event: RecordedEvent) -> RiskState:
    data = event.data
    stamp = {
        "model_id": data.get("model_id", state.model_id),
        "updated_at": event.recorded_at,
        "stream_version": event.version,
    }
    match event.type:
        case "governance.IntakeRecorded":
            return replace(
                state,
                answers=dict(data["answers"]),
                proposed_tier=data["proposed_tier"],
                policy_version=data["policy_version"],
                **stamp,
            )
        case "governance.RiskTierAssigned":
            return replace(
                state,
                tier=data["tier"],
                overridden=data["overridden"],
                reason=data["reason"],
                policy_version=data["policy_version"],
                **stamp,
            )
        case "governance.ModelSuspended":
            return replace(state, suspended=True, suspension_reason=data["reason"], **stamp)
        case "governance.ModelReinstated":
            return replace(state, suspended=False, suspension_reason="", **stamp)
    return replace(state, **stamp)


@dataclass(frozen=True)
class EvidenceItem:
    kind: str
    sha256: str
    uri: str
    size: int
    summary: dict[str, Any]
    recorded_at: datetime
    stream_version: int


@dataclass(frozen=True)
class Waiver:
    kind: str
    reason: str
    expires_at: datetime
    granted_by: str
    recorded_at: datetime
    stream_version: int


@dataclass(frozen=True)
class EvidenceState:
    version_id: str = ""
    items: dict[str, EvidenceItem] = field(default_factory=dict)
    waivers: dict[str, Waiver] = field(default_factory=dict)
    stream_version: int = 0

    def satisfied(self, kind: str, now: datetime) -> bool:
        """Attached, or waived by a waiver that has not expired."""
        if kind in self.items:
            return True
        waiver = self.waivers.get(kind)
        return waiver is not None and waiver.expires_at > now


def evolve_evidence(state: EvidenceState, event: RecordedEvent) -> EvidenceState:
    data = event.data
    stamp = {"version_id": data["version_id"], "stream_version": event.version}
    match event.type:
        case "governance.EvidenceAttached":
            item = EvidenceItem(
                kind=data["kind"],
                sha256=data["sha256"],
                uri=data["uri"],
                size=data["size"],
                summary=dict(data["summary"]),
                recorded_at=event.recorded_at,
                stream_version=event.version,
            )
            return replace(state, items={**state.items, data["kind"]: item}, **stamp)
        case "governance.EvidenceWaived":
            waiver = Waiver(
                kind=data["kind"],
                reason=data["reason"],
                expires_at=datetime.fromisoformat(data["expires_at"]),
                granted_by=event.metadata.get("actor", ""),
                recorded_at=event.recorded_at,
                stream_version=event.version,
            )
            return replace(state, waivers={**state.waivers, data["kind"]: waiver}, **stamp)
    return replace(state, **stamp)
