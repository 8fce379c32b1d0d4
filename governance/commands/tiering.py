"""Intake and risk tier: the owners' intake answers propose a tier, a model-risk officer
confirms or overrides it, and suspends or reinstates the model. Load -> decide -> append.

The officer is independent of the model (governance.permissions.model_parties): not one of its
owners (by the group holding its change grant), nor an author of its intake answers or of any
of its versions; a suspension is lifted by another officer than the one who suspended."""

from __future__ import annotations

import uuid
from typing import Any

from boards.permissions import require_independent, require_lift
from boards.queries import last_actor
from boards.rules import SOD_DETAILS
from core.actors import Actor
from core.text import shaped_text
from eventstore import store
from eventstore.metadata import command_metadata
from eventstore.types import ConcurrencyConflict, StreamRef
from governance import events as ev
from governance import policy, rules
from governance.commands.common import OFFICER_PERM
from governance.errors import (
    AlreadySuspended,
    IntakeMissing,
    NotRiskOfficer,
    NotSuspended,
)
from governance.permissions import model_parties
from governance.queries import current_policy
from governance.state import RiskState
from governance.streams import load_risk, risk_stream_id
from registry import permissions
from registry.state import ModelState
from registry.streams import load_model


def _expected(state_version: int, expected: int | None, stream_id: uuid.UUID) -> int:
    if expected is not None and expected != state_version:
        raise ConcurrencyConflict(stream_id, expected, state_version)
    return state_version


def record_intake(
    *,
    actor: Actor,
    model_id: str,
    answers: dict[str, Any],
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> RiskState:
    """The owners' answers to the intake questionnaire; they propose a tier, nothing more.
    Answers other than those a confirmed tier stands on put the tier back to proposed
    (governance.RiskTierReopened): a model-risk officer confirms it again."""
    model = load_model(model_id)
    permissions.require_change_model(actor.account, model.id)
    answers = policy.check_answers(answers)
    state = load_risk(model.id)
    stream = risk_stream_id(model.id)
    version = _expected(state.stream_version, expected_version, stream)
    recorded: list[Any] = [
        ev.IntakeRecorded(
            model_id=model.id,
            answers=answers,
            proposed_tier=policy.propose_tier(answers),
            policy_version=current_policy().number,
        )
    ]
    if state.tier and answers != state.tier_answers:
        # The confirmed tier stood on other answers: it is proposed again until an officer
        # confirms it on these (approvals under another tier lapse at that confirmation).
        recorded.append(ev.RiskTierReopened(model_id=model.id, previous_tier=state.tier))
    store.append(
        StreamRef(stream, ev.MODEL_RISK),
        version,
        recorded,
        command_metadata(actor, idempotency_key),
    )
    return load_risk(model.id)


RISK_DETAILS = {
    **SOD_DETAILS,
    "sod_owner": "the model's owners cannot decide on its risk",
    "sod_author": "the authors of the model's intake answers or versions cannot decide on its risk",
    "sod_requester": "the requesters of the model's approvals cannot decide on its risk",
}


def _require_risk_officer(actor: Actor, model: ModelState, *, lifting: bool = False) -> None:
    """A model-risk officer independent of the model; when `lifting` a suspension, not the
    officer who suspended it either."""
    user = actor.account
    if user is None or not (user.is_superuser or user.has_perm(OFFICER_PERM)):
        raise NotRiskOfficer("this needs a model-risk officer (governance.assign_risk_tier)")
    parties = model_parties(model.id, model.versions.values())
    if lifting:
        require_lift(
            user, parties, last_actor(risk_stream_id(model.id), ev.ModelSuspended.event_type)
        )
        return
    violated = parties.violation(user.pk)
    if violated is not None:
        require_independent(user, parties, RISK_DETAILS[violated])


def assign_risk_tier(
    *,
    actor: Actor,
    model_id: str,
    tier: str | None = None,
    reason: str = "",
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> RiskState:
    """A model-risk officer confirms the proposed tier, or overrides it with a reason."""
    model = load_model(model_id)
    rules.check_tier(tier)
    reason = shaped_text(reason, "reason", rules.OVERRIDE_REASON)
    _require_risk_officer(actor, model)
    state = load_risk(model.id)
    if not state.proposed_tier:
        raise IntakeMissing(f"model {model.name!r} has no intake answers to confirm")
    chosen, overridden = rules.chosen_tier(state.proposed_tier, tier, reason)
    stream = risk_stream_id(model.id)
    version = _expected(state.stream_version, expected_version, stream)
    store.append(
        StreamRef(stream, ev.MODEL_RISK),
        version,
        [
            ev.RiskTierAssigned(
                model_id=model.id,
                tier=chosen,
                previous_tier=state.tier,
                proposed_tier=state.proposed_tier,
                overridden=overridden,
                reason=reason,
                policy_version=current_policy().number,
                answers=dict(state.answers),
            )
        ],
        command_metadata(actor, idempotency_key),
    )
    return load_risk(model.id)


def suspend_model(
    *, actor: Actor, model_id: str, reason: str, idempotency_key: str | None = None
) -> RiskState:
    """Stop a model's use at once: the promotion gate refuses it until it is reinstated."""
    model = load_model(model_id)
    reason = shaped_text(reason, "reason", rules.REASON)
    _require_risk_officer(actor, model)
    state = load_risk(model.id)
    if state.suspended:
        raise AlreadySuspended(f"model {model.name!r} is already suspended")
    store.append(
        StreamRef(risk_stream_id(model.id), ev.MODEL_RISK),
        state.stream_version,
        [ev.ModelSuspended(model_id=model.id, reason=reason)],
        command_metadata(actor, idempotency_key),
    )
    return load_risk(model.id)


def reinstate_model(
    *, actor: Actor, model_id: str, reason: str, idempotency_key: str | None = None
) -> RiskState:
    model = load_model(model_id)
    reason = shaped_text(reason, "reason", rules.REASON)
    _require_risk_officer(actor, model, lifting=True)
    state = load_risk(model.id)
    if not state.suspended:
        raise NotSuspended(f"model {model.name!r} is not suspended")
    store.append(
        StreamRef(risk_stream_id(model.id), ev.MODEL_RISK),
        state.stream_version,
        [ev.ModelReinstated(model_id=model.id, reason=reason)],
        command_metadata(actor, idempotency_key),
    )
    return load_risk(model.id)
