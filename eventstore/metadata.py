"""The metadata a command's append carries: who did it (as references, see core.actors), how
they authenticated, the request, and the Idempotency-Key when the client sent one."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from core.actors import Actor


def command_metadata(actor: Actor, idempotency_key: str | None = None) -> dict[str, Any]:
    meta = actor.metadata(pseudonym_key=settings.LEDGER_PSEUDONYM_KEY)
    if idempotency_key is not None:
        meta["idempotency_key"] = idempotency_key
    return meta
