"""The e-mail notices of approval requests, as outbox side effects: who is told of what."""

from __future__ import annotations

from collections.abc import Iterable

from eventstore.types import SideEffect

NOTIFY_TASK = "approvals.notify"


def notify(event: str, request_id: str, user_ids: Iterable[int]) -> list[SideEffect]:
    """The notice of `event` on the request to these people (none when nobody is to be told)."""
    recipients = sorted(set(user_ids))
    if not recipients:
        return []
    return [
        SideEffect(NOTIFY_TASK, {"event": event, "request_id": request_id, "user_ids": recipients})
    ]
