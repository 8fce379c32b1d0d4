"""What several governance commands share: recognising a request sent again, and who the
model-risk officers are (they hear of overdue reviews and incidents)."""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model

from core.actors import Actor
from eventstore import store
from governance import events as ev

OFFICER_PERM = "governance.assign_risk_tier"


def repeated(stream_id: uuid.UUID, event_type: str, actor: Actor, key: str | None) -> bool:
    """The stream's last event is of `event_type` and was this very request, sent again by the
    same actor with its Idempotency-Key: the command returns the state instead of refusing a
    step already taken."""
    if key is None:
        return False
    last = store.read_stream(stream_id)[-1]
    return (
        last.type == event_type
        and last.metadata.get("idempotency_key") == key
        and last.metadata.get("actor") == actor.ref
    )


def risk_officers() -> list[int]:
    """Holders of the model-risk officer permission (directly or through a group)."""
    users = get_user_model().objects.with_perm(
        OFFICER_PERM, include_superusers=False, backend="django.contrib.auth.backends.ModelBackend"
    )
    return sorted(users.filter(is_active=True).values_list("pk", flat=True))


def already_detected(stream: uuid.UUID, recorded: str, found: str) -> bool:
    """Whether the evidence stream already recorded these bytes found in place of those
    recorded (a scan or a reviewer finding them again: one detection, one finding)."""
    return any(
        e.type == ev.EvidenceTamperDetected.event_type
        and (e.data["recorded_sha256"], e.data["found_sha256"]) == (recorded, found)
        for e in store.read_stream(stream)
    )
