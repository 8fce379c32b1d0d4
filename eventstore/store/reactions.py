"""Subscribers' reactions: after an append's projection writes are sent, the subscribers of
its events run in the same transaction and their reactions are appended there too."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar

from django.db import connection, transaction

from eventstore import subscribers
from eventstore.projection import ProjectionWriter
from eventstore.store import appends
from eventstore.types import AppendResult, Reaction, RecordedEvent


def flush_and_react(
    writer: ProjectionWriter, recorded: Sequence[RecordedEvent], owns_transaction: bool
) -> None:
    """Send the queued projection writes, then run the subscribers of the recorded events,
    which see the projections and append in the same transaction. Without subscribers the
    COMMIT goes with the writes when the append owns the transaction (one round trip, see
    appends.py "Transactions"); with them, the transaction ends when the caller's atomic
    block does."""
    if not subscribers.has_subscribers(e.type for e in recorded):
        writer.flush(commit=owns_transaction)
        return
    writer.flush()
    react(recorded)


# The reactions that led to the append running now: (subscriber, stream it appended to).
_reaction_chain: ContextVar[tuple[tuple[str, uuid.UUID], ...]] = ContextVar(
    "reaction_chain", default=()
)


def react(recorded: Sequence[RecordedEvent]) -> list[AppendResult]:
    """Inside the transaction that recorded `recorded`: run their subscribers and append what
    they return. Each reaction's append carries the trigger's actor, its causation (the
    triggering event) and an idempotency key derived from the trigger, the subscriber and the
    target stream, so reacting to the same event again appends nothing. Reactions may trigger
    reactions up to MAX_REACTION_DEPTH links; a subscriber appending again to a stream it
    already appended to in the chain is a loop. Either raises ReactionChainError."""
    if not connection.in_atomic_block:
        raise RuntimeError("reactions run inside the transaction of their cause")
    chain = _reaction_chain.get()
    results: list[AppendResult] = []
    for event in recorded:
        for fn in subscribers.subscribers_for(event.type):
            name = subscribers.name_of(fn)
            for reaction in fn(event) or ():
                results.append(_append_reaction(chain, name, event, reaction))
    return results


def catch_up(fn: Callable, recorded: Iterable[RecordedEvent]) -> list[AppendResult]:
    """Run one subscriber, added after `recorded` were, over them, each in a transaction of
    its own: what it would have appended then, it appends now, under the same keys, so an
    event it already reacted to appends nothing again. Only this subscriber runs: the others
    reacted when the events were recorded."""
    name = subscribers.name_of(fn)
    results: list[AppendResult] = []
    for event in recorded:
        with transaction.atomic():
            for reaction in fn(event) or ():
                results.append(_append_reaction((), name, event, reaction))
    return results


def _append_reaction(
    chain: tuple[tuple[str, uuid.UUID], ...], name: str, cause: RecordedEvent, reaction: Reaction
) -> AppendResult:
    link = (name, reaction.stream.id)
    if link in chain:
        raise subscribers.ReactionChainError(
            f"{name} would append to stream {reaction.stream.id} again in one chain of"
            f" reactions (a loop), reacting to {cause.type}"
        )
    if len(chain) >= subscribers.MAX_REACTION_DEPTH:
        raise subscribers.ReactionChainError(
            f"reactions nest deeper than {subscribers.MAX_REACTION_DEPTH} links"
            f" ({' -> '.join(n for n, _ in (*chain, link))})"
        )
    key = f"reaction:{cause.stream_id}:{cause.version}:{reaction.stream.id}:"
    # Keys are at most 200 characters: a long subscriber name is kept as its digest.
    key += name if len(key) + len(name) <= 200 else hashlib.sha256(name.encode()).hexdigest()
    meta = {k: v for k, v in cause.metadata.items() if k != "idempotency_key"}
    meta["causation_id"] = f"{cause.stream_id}@{cause.version}"
    meta["idempotency_key"] = key
    token = _reaction_chain.set((*chain, link))
    try:
        return appends.append(
            reaction.stream,
            reaction.expected_version,
            reaction.events,
            meta,
            side_effects=reaction.side_effects,
            # A repeat is the same reaction whatever its data (a due date, say), not a reuse.
            request_fingerprint=hashlib.sha256(key.encode()).digest(),
        )
    finally:
        _reaction_chain.reset(token)
