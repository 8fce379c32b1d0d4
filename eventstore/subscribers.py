"""Subscribers: an app's reactions to events of other aggregates (a policy, or process manager,
kept inline). A subscriber is registered for stored event type names, is handed each recorded
event of those types after the projectors ran, and returns the appends it wants (Reaction).

The store runs them in the same transaction as the append that recorded the event, so a
reaction is committed with its cause or not at all; a failing subscriber rolls the whole
command back. Replaying the log (rebuild_projections) never runs them: their appends are
already in the log. Apps keep their subscribers in `<app>/policies.py`, loaded at start-up
next to the projectors; a lower layer reacts to a higher one by its stored names alone."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from eventstore.types import Reaction, RecordedEvent

Subscriber = Callable[[RecordedEvent], Iterable[Reaction]]

# Reactions may cause reactions, at most this many links deep; the deepest chain today is
# evidence changed -> approval voided -> version status / finding (two links).
MAX_REACTION_DEPTH = 4

_subscribers: dict[str, list[Subscriber]] = defaultdict(list)


class ReactionChainError(RuntimeError):
    """Reactions that do not end: a chain deeper than MAX_REACTION_DEPTH, or a subscriber that
    would append again to a stream it already appended to in the same chain (a loop). A
    programming error: the command is rolled back."""


def subscriber(*event_types: str) -> Callable[[Subscriber], Subscriber]:
    """Register a function as a subscriber of the given stored event types."""

    def register(fn: Subscriber) -> Subscriber:
        for event_type in event_types:
            if fn not in _subscribers[event_type]:
                _subscribers[event_type].append(fn)
        return fn

    return register


def subscribers_for(event_type: str) -> list[Subscriber]:
    return _subscribers.get(event_type, [])


def has_subscribers(event_types: Iterable[str]) -> bool:
    return any(event_type in _subscribers for event_type in event_types)


def name_of(fn: Subscriber) -> str:
    """A subscriber's stable name: it goes into the idempotency keys of its appends."""
    return f"{fn.__module__}.{fn.__qualname__}"


def unsubscribe(fn: Subscriber) -> None:
    """Remove a subscriber from every type (tests register throwaway ones)."""
    for handlers in _subscribers.values():
        while fn in handlers:
            handlers.remove(fn)
