"""Serious incidents and their EU AI Act Art. 73 reporting clocks: commands that report an
incident, record its report to the market surveillance authority, close it, and the scan that
reminds ahead of each deadline and marks an overdue report (opening a finding). Load ->
decide -> append; the clock math is governance.art73's, the checks governance.rules'.

Who may do what: the model's owners, members of the model-risk board and model-risk officers
report incidents (whoever learns of one must be able to start the clock); members of the
model-risk and legal boards and model-risk officers record the report to the authority and
close incidents, and never for a model they own or a version they wrote.

The scan is safe to run twice at once or to redo: every step is appended at the incident's
version it was decided on, so a step another scan already took conflicts and is skipped; the
overdue finding's id is derived from the incident, so it is never opened twice."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db import IntegrityError

from boards import queries as board_queries
from core import clock
from core.actors import Actor
from core.text import shaped_text
from eventstore import store
from eventstore.canonical import canonical_json
from eventstore.metadata import command_metadata
from eventstore.types import NO_STREAM, ConcurrencyConflict, SideEffect, StreamRef
from governance import art73, rules
from governance import events as ev
from governance.commands.common import OFFICER_PERM, repeated, risk_officers
from governance.commands.findings import require_independent
from governance.errors import (
    AlreadyReportedToAuthority,
    IncidentClosed,
    NotIncidentReporter,
    NotIncidentReviewer,
)
from governance.models import Incident
from governance.queries import current_policy
from governance.rules import INCIDENT_BOARDS
from governance.state import IncidentState
from governance.streams import finding_stream_id, load_incident, load_risk
from registry.streams import load_model

NOTIFY_TASK = "governance.notify_incident"


# -- who hears about it and who may act --------------------------------------------------


def _recipients(model_id: str, *, officers: bool = False) -> list[int]:
    """The model's owners (its team, by the group holding its change grant) and the incident
    boards; the model-risk officers too when overdue."""
    ids = set(board_queries.owner_ids(model_id)) | set(board_queries.board_members(INCIDENT_BOARDS))
    if officers:
        ids |= set(risk_officers())
    return sorted(ids)


def _notify(step: str, incident_id: uuid.UUID | str, user_ids: list[int]) -> list[SideEffect]:
    if not user_ids:
        return []
    return [
        SideEffect(
            NOTIFY_TASK,
            {"event": step, "incident_id": str(incident_id), "user_ids": sorted(user_ids)},
        )
    ]


def _on_boards(user: Any, boards: list[str]) -> bool:
    return board_queries.is_member(user, boards)


def _require_reporter(actor: Actor, model: Any) -> None:
    user = actor.account
    if user is not None and (
        user.is_superuser
        or user.pk in board_queries.owner_ids(model.id)
        or user.has_perm(OFFICER_PERM)
        or _on_boards(user, ["model-risk"])
    ):
        return
    raise NotIncidentReporter(
        "incidents are reported by the model's owners, the model-risk board or a risk officer"
    )


def _require_reviewer(actor: Actor, state: IncidentState) -> Any:
    user = actor.account
    if user is None or not (
        user.is_superuser or user.has_perm(OFFICER_PERM) or _on_boards(user, INCIDENT_BOARDS)
    ):
        raise NotIncidentReviewer(
            f"only members of the {' and '.join(INCIDENT_BOARDS)} boards or a risk officer"
            " may do this"
        )
    require_independent(
        user, state.model_id, state.version_id, "the model's owners and authors cannot do this"
    )
    return user


def _expected(
    state: IncidentState,
    expected_version: int | None,
    expected_versions: Mapping[uuid.UUID | str, int] | None = None,
) -> None:
    """ConcurrencyConflict unless the incident is at `expected_version` and every stream the
    person was shown is still at its version in `expected_versions` (stream id -> version)."""
    if expected_version is not None and expected_version != state.stream_version:
        raise ConcurrencyConflict(uuid.UUID(state.id), expected_version, state.stream_version)
    store.require_versions(expected_versions)


# -- reporting an incident ---------------------------------------------------------------


def report_incident(
    *,
    actor: Actor,
    model_id: str,
    title: str,
    description: str,
    occurred_at: datetime,
    became_aware_at: datetime,
    classes: list[str],
    version_number: int | None = None,
    idempotency_key: str | None = None,
) -> IncidentState:
    """Record a serious incident. On a model whose tier's policy starts the Art. 73 clock
    (high and critical by default) it carries its reporting deadline and reminder times; on
    any other model it is recorded with no clock. The model's team and the incident boards
    are notified."""
    model = load_model(model_id)
    _require_reporter(actor, model)
    title = shaped_text(title, "title", rules.INCIDENT_TITLE)
    description = shaped_text(description, "description", rules.INCIDENT_DESCRIPTION)
    classes = art73.check_classes(classes)
    occurred_at = rules.moment(occurred_at, "occurred_at")
    became_aware_at = rules.moment(became_aware_at, "became_aware_at")
    art73.check_times(occurred_at=occurred_at, became_aware_at=became_aware_at, now=clock.now())
    version_id = ""
    if version_number is not None:
        rules.require_version_number(version_number, model.versions, model.name)
        version_id = model.versions[version_number]
    tier = load_risk(model.id).tier
    policy_in_force = current_policy()
    spec = policy_in_force.document[tier] if tier else None
    clock_applies = bool(spec and spec["incident_reporting_clock"])
    deadline_at = reminders = None
    if clock_applies:
        assert spec is not None
        deadline_at = art73.deadline(became_aware_at, classes)
        reminders = art73.reminder_times(
            became_aware_at,
            deadline_at,
            fractions=spec["incident_reminder_fractions"],
            hours_before=spec["incident_reminder_hours_before"],
        )
    recipients = _recipients(model.id)
    reported = ev.IncidentReported(
        model_id=model.id,
        version_id=version_id,
        version_number=version_number or 0,
        title=title,
        description=description,
        occurred_at=occurred_at.isoformat(),
        became_aware_at=became_aware_at.isoformat(),
        classes=classes,
        tier=tier,
        policy_version=policy_in_force.number,
        clock_applies=clock_applies,
        deadline_at=deadline_at.isoformat() if deadline_at else "",
        reminder_times=[t.isoformat() for t in reminders or []],
        owner_team=model.team,
        reporter_id=actor.account.pk,
        recipient_ids=recipients,
    )
    # A new stream each time: a repeat is recognised by what was asked, not by what the
    # policy or the boards made of it.
    asked = {
        key: reported.to_data()[key]
        for key in ("model_id", "version_number", "title", "description", "classes")
    }
    asked.update(occurred_at=occurred_at.isoformat(), became_aware_at=became_aware_at.isoformat())
    incident_id = uuid.uuid4()
    result = store.append(
        StreamRef(incident_id, ev.INCIDENT),
        NO_STREAM,
        [reported],
        command_metadata(actor, idempotency_key),
        side_effects=_notify("reported", incident_id, recipients),
        request_fingerprint=hashlib.sha256(canonical_json(asked)).digest(),
    )
    return load_incident(result.stream_id)


# -- the report to the authority and closure ---------------------------------------------


def record_authority_report(
    *,
    actor: Actor,
    incident_id: str,
    authority: str,
    reference: str,
    reported_at: datetime | None = None,
    expected_version: int | None = None,
    expected_versions: Mapping[uuid.UUID | str, int] | None = None,
    idempotency_key: str | None = None,
) -> IncidentState:
    """Record that the incident was reported to the market surveillance authority (Art. 73),
    when, to whom and under which reference; `late` says whether it missed the deadline."""
    authority = shaped_text(authority, "authority", rules.AUTHORITY)
    reference = shaped_text(reference, "reference", rules.AUTHORITY_REFERENCE)
    now = clock.now()
    reported_at = now if reported_at is None else rules.moment(reported_at, "reported_at")
    state = load_incident(incident_id)
    event_type = "governance.IncidentReportedToAuthority"
    if state.reported_to_authority and repeated(
        uuid.UUID(state.id), event_type, actor, idempotency_key
    ):
        return state
    _require_reviewer(actor, state)
    if state.status != "open":
        raise IncidentClosed(f"incident {state.id} is already closed")
    if state.reported_to_authority:
        raise AlreadyReportedToAuthority(f"incident {state.id} was already reported")
    assert state.became_aware_at is not None
    rules.check_authority_report_time(reported_at, state.became_aware_at, now)
    _expected(state, expected_version, expected_versions)
    store.append(
        StreamRef(uuid.UUID(state.id), ev.INCIDENT),
        state.stream_version,
        [
            ev.IncidentReportedToAuthority(
                recorded_by=actor.account.pk,
                reported_at=reported_at.isoformat(),
                authority=authority,
                reference=reference,
                late=rules.reported_late(state.deadline_at, reported_at),
            )
        ],
        command_metadata(actor, idempotency_key),
    )
    return load_incident(state.id)


def close_incident(
    *,
    actor: Actor,
    incident_id: str,
    resolution: str,
    no_report_reason: str = "",
    expected_version: int | None = None,
    expected_versions: Mapping[uuid.UUID | str, int] | None = None,
    idempotency_key: str | None = None,
) -> IncidentState:
    """Close an incident with its resolution. Where the Art. 73 clock applied, the report to
    the authority must have been recorded, or a reason given why none was due (for example,
    the incident was assessed not to be serious after all)."""
    resolution = shaped_text(resolution, "resolution", rules.INCIDENT_RESOLUTION)
    no_report_reason = shaped_text(no_report_reason, "no_report_reason", rules.NO_REPORT_REASON)
    state = load_incident(incident_id)
    if state.status != "open" and repeated(
        uuid.UUID(state.id), "governance.IncidentClosed", actor, idempotency_key
    ):
        return state
    _require_reviewer(actor, state)
    if state.status != "open":
        raise IncidentClosed(f"incident {state.id} is already closed")
    rules.check_closure(state.clock_applies, state.reported_to_authority, no_report_reason)
    _expected(state, expected_version, expected_versions)
    store.append(
        StreamRef(uuid.UUID(state.id), ev.INCIDENT),
        state.stream_version,
        [
            ev.IncidentClosed(
                closed_by=actor.account.pk,
                resolution=resolution,
                no_report_reason=no_report_reason,
            )
        ],
        command_metadata(actor, idempotency_key),
    )
    return load_incident(state.id)


# -- the scan ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentScanReport:
    reminders: int
    overdue: int
    skipped: int


def running_clocks():
    """Open incidents whose Art. 73 report is neither filed nor marked overdue, the earliest
    deadline first (the partial index governance_incident_open_clock serves this)."""
    return Incident.objects.filter(
        status="open", clock_applies=True, authority_reported_at__isnull=True, overdue=False
    ).order_by("deadline_at")


def scan_incidents(*, actor: Actor, now: datetime | None = None) -> IncidentScanReport:
    """Send the reminders that have come due and mark the reports whose deadline has passed,
    each incident in its own transaction."""
    now = now or clock.now()
    reminders = overdue = skipped = 0
    for incident_id in running_clocks().values_list("id", flat=True):
        try:
            step = advance_incident(actor=actor, incident_id=incident_id, now=now)
        except (ConcurrencyConflict, IntegrityError):
            skipped += 1
            continue
        reminders += step == "reminder"
        overdue += step == "overdue"
    return IncidentScanReport(reminders, overdue, skipped)


def advance_incident(
    *, actor: Actor, incident_id: uuid.UUID | str, now: datetime | None = None
) -> str | None:
    """Take the step of a running clock that has come due: the latest reminder, or once the
    deadline has passed the overdue mark with its finding. Returns the step taken, if any."""
    now = now or clock.now()
    state = load_incident(incident_id)
    if (
        state.status != "open"
        or not state.clock_applies
        or state.reported_to_authority
        or state.overdue
    ):
        return None
    assert state.deadline_at is not None
    stream = StreamRef(uuid.UUID(state.id), ev.INCIDENT)
    if art73.is_overdue(state.deadline_at, False, now):
        recipients = _recipients(state.model_id, officers=True)
        # Recorded as of `now` (the scan's moment): the finding it opens is due from then.
        overdue = ev.IncidentReportOverdue(
            deadline_at=state.deadline_at.isoformat(),
            finding_id=str(finding_stream_id(state.id)),
            recipient_ids=recipients,
        )
        store.append(
            stream,
            state.stream_version,
            [replace(overdue.to_new(), occurred_at=now)],
            command_metadata(actor),
            side_effects=_notify("overdue", state.id, recipients),
        )
        return "overdue"
    reminder = art73.due_reminder(
        list(state.reminder_times), state.reminders_sent, state.deadline_at, now
    )
    if reminder is None:
        return None
    recipients = _recipients(state.model_id)
    store.append(
        stream,
        state.stream_version,
        [
            ev.IncidentReportDeadlineReminderSent(
                reminder=reminder,
                deadline_at=state.deadline_at.isoformat(),
                recipient_ids=recipients,
            )
        ],
        command_metadata(actor),
        side_effects=_notify("reminder", state.id, recipients),
    )
    return "reminder"
