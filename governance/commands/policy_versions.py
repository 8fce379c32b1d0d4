"""Policy versions: the seeded default and every recorded change, each a whole new version of
the policy document, checked whole. Load -> decide -> append."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from django.db import IntegrityError, transaction

from core.actors import Actor
from core.text import shaped_text
from eventstore import store
from eventstore.metadata import command_metadata
from eventstore.types import NO_STREAM, ConcurrencyConflict, StreamRef
from governance import events as ev
from governance import policy, rules
from governance.errors import NotPolicyAdmin
from governance.models import PolicyVersion
from governance.queries import current_policy

DEFAULT_REASON = "defaults shipped with Model Ledger (docs/governance-policy.md)"


def ensure_default_policy() -> PolicyVersion:
    """Seed policy version 1 from the shipped defaults unless a policy exists (the migrations and
    `manage.py seed_governance` call this; nothing else does). Idempotent and safe under races:
    the projection's primary key on the number lets only one seed win."""
    current = PolicyVersion.objects.order_by("-number").first()
    if current is not None:
        return current
    try:
        with transaction.atomic():
            store.append(
                StreamRef(uuid.uuid4(), ev.POLICY),
                NO_STREAM,
                [
                    ev.PolicyVersionRecorded(
                        number=1, tiers=policy.default_tiers(), reason=DEFAULT_REASON
                    )
                ],
                command_metadata(Actor.system("governance.seed")),
            )
    except (IntegrityError, psycopg.errors.UniqueViolation):
        pass
    return PolicyVersion.objects.order_by("-number").first()


def record_policy_version(
    *,
    actor: Actor,
    changes: dict[str, Any],
    reason: str,
    expected_number: int | None = None,
    idempotency_key: str | None = None,
) -> PolicyVersion:
    """A new policy version: the current one with `changes` applied, checked whole."""
    user = actor.account
    if user is None or not (user.is_superuser or user.has_perm("governance.record_policy")):
        raise NotPolicyAdmin("recording a policy version needs governance.record_policy")
    reason = shaped_text(reason, "reason", rules.REASON)
    current = current_policy()
    if expected_number is not None and expected_number != current.number:
        raise ConcurrencyConflict(current.stream_id, expected_number, current.number)
    tiers = policy.merge_tiers(current.document, changes)
    try:
        with transaction.atomic():
            result = store.append(
                StreamRef(current.stream_id, ev.POLICY),
                current.number,
                [ev.PolicyVersionRecorded(number=current.number + 1, tiers=tiers, reason=reason)],
                command_metadata(actor, idempotency_key),
            )
    except (IntegrityError, psycopg.errors.UniqueViolation):
        raise ConcurrencyConflict(current.stream_id, current.number, None) from None
    return PolicyVersion.objects.get(number=result.last_version)
