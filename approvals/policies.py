"""Approvals' reactions to governance events: evidence that changes voids the decisions given
on the old evidence (the request takes a new snapshot of it), a tier confirmed other than a
request's voids it (or suspends it in production), a version marked non-compliant loses
its production approval, and a model moved to another owning team voids its open requests.
They run in the transaction of the command that recorded the cause."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from approvals import events as ev
from approvals import rules
from approvals.gate import evidence_digests
from approvals.models import ApprovalRequest
from approvals.notices import notify
from approvals.state import ACTIVE, CLOSED
from approvals.streams import load_request
from boards.queries import board_members
from eventstore.subscribers import subscriber
from eventstore.types import Reaction, RecordedEvent, StreamRef
from governance.streams import load_evidence
from registry.streams import load_model, load_version

EVIDENCE_CHANGED = ("governance.EvidenceAttached", "governance.EvidenceWaived")
NON_COMPLIANT = "governance.VersionMarkedNonCompliant"
TIER_CONFIRMED = "governance.RiskTierAssigned"
MODEL_CHANGED = "registry.ModelUpdated"


@subscriber(*EVIDENCE_CHANGED)
def void_approvals_on_evidence_change(event: RecordedEvent) -> Iterator[Reaction]:
    """The version's evidence is now at the event's version, so decisions given on older
    evidence no longer count. The latest request per target (the one the gate reads) records
    ApprovalVoided and is open again, and its boards are told, as for a new request."""
    evidence_version = event.version
    seen: set[str] = set()
    rows = ApprovalRequest.objects.filter(version_id=event.data["version_id"])
    for row in rows.order_by("-created_at").values("id", "target"):
        if row["target"] in seen:
            continue
        seen.add(row["target"])
        state = load_request(row["id"])
        stale = rules.decisions_to_void(state, evidence_version)
        if not stale and state.status in CLOSED:
            continue
        digests = evidence_digests(load_evidence(state.version_id))
        changed = sorted(
            kind
            for kind in set(digests) | set(state.evidence)
            if digests.get(kind) != state.evidence.get(kind)
        )
        if not stale and not changed:
            continue
        named = ", ".join(changed) or "a waiver"
        yield Reaction(
            StreamRef(uuid.UUID(state.id), ev.REQUEST),
            state.stream_version,
            (
                ev.ApprovalVoided(
                    evidence_version=evidence_version,
                    previous_status=state.status,
                    voided_decisions=len(stale),
                    reason=f"the evidence changed after the request was made: {named}",
                    evidence=digests,
                    changed=changed,
                ),
            ),
            tuple(notify("voided", state.id, board_members(state.boards))),
        )


@subscriber(NON_COMPLIANT)
def suspend_approval_when_non_compliant(event: RecordedEvent) -> Iterator[Reaction]:
    """A periodic review overdue beyond its grace names the version's approval in force where
    the tier's policy says to suspend it; the approval is suspended in the same transaction."""
    request_id = event.data["suspended_request_id"]
    if not request_id:
        return
    state = load_request(request_id)
    # Only the named version's own approval: an event naming another version's request
    # suspends nothing.
    if state.suspended or state.version_id != event.data["version_id"]:
        return
    yield Reaction(
        StreamRef(uuid.UUID(state.id), ev.REQUEST),
        state.stream_version,
        (ev.ApprovalSuspended(reason=event.data["reason"]),),
        tuple(notify("suspended", state.id, [state.requester_id])),
    )


@subscriber(TIER_CONFIRMED)
def lapse_approvals_under_another_tier(event: RecordedEvent) -> Iterator[Reaction]:
    """A tier confirmed (or overridden) for the model: each version's latest request made
    under another tier lapses. A version in production keeps its request, suspended (the gate
    refuses it in any case, its tier no longer being the model's); any other request is voided
    and closed, and a new request is made under the new tier."""
    tier = event.data["tier"]
    model = load_model(event.data["model_id"])
    seen: set[tuple[str, str]] = set()
    rows = ApprovalRequest.objects.filter(model_id=model.id).order_by("-created_at")
    for row in rows.values("id", "version_id", "target"):
        key = (str(row["version_id"]), row["target"])
        if key in seen:
            continue
        seen.add(key)
        state = load_request(row["id"])
        if state.tier == tier or state.status in CLOSED:
            continue
        reason = f"the model's tier is now {tier}, not {state.tier} as the request was made under"
        version = load_version(state.version_id)
        in_production = (
            version.status == "deployed" or model.aliases.get("production") == state.version_number
        )
        if in_production and state.status == "approved":
            if state.suspended:
                continue
            events: tuple = (ev.ApprovalSuspended(reason=reason),)
            recipients = [state.requester_id]
            kind = "suspended"
        else:
            events = (
                ev.ApprovalRequestVoided(tier=tier, previous_status=state.status, reason=reason),
            )
            recipients = board_members(state.boards)
            kind = "voided"
        yield Reaction(
            StreamRef(uuid.UUID(state.id), ev.REQUEST),
            state.stream_version,
            events,
            tuple(notify(kind, state.id, recipients)),
        )


@subscriber(MODEL_CHANGED)
def void_open_requests_on_team_change(event: RecordedEvent) -> Iterator[Reaction]:
    """A model moved to another owning team: every open request of its versions is voided,
    its reviews having been asked of reviewers judged independent of the old owners. A new
    request is made by the new owners. A granted approval stays; the gate judges its
    reviewers' independence against the owners as of now, so one given by a member of the
    new team no longer counts."""
    team = event.data.get("changes", {}).get("team")
    if team is None:
        return
    reason = f"the model's owning team changed to {team} after the request was made"
    rows = ApprovalRequest.objects.filter(model_id=event.stream_id, status__in=ACTIVE)
    for request_id in rows.order_by("created_at").values_list("id", flat=True):
        state = load_request(request_id)
        if state.status not in ACTIVE:
            continue
        yield Reaction(
            StreamRef(uuid.UUID(state.id), ev.REQUEST),
            state.stream_version,
            (
                ev.ApprovalRequestVoided(
                    tier=state.tier, previous_status=state.status, reason=reason
                ),
            ),
            tuple(notify("voided", state.id, board_members(state.boards))),
        )
