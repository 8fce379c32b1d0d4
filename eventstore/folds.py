"""Folds: an aggregate's current state, built from its stream's events, dispatched on the typed
event classes of the catalog.

A fold is declared once per aggregate:

    fold_version = Fold(VersionState)

    @fold_version.on(ev.ModelVersionStatusChanged)
    def _(state: VersionState, e: ev.ModelVersionStatusChanged, rec: RecordedEvent) -> Changes:
        return {"status": e.to_status}

A handler returns the fields its event changes; the fold stamps what every event sets (the
stream's id, created_at/created_by at its first event, updated_at and stream_version at each)
through `AggregateState`, so no handler repeats it. Handlers are registered by class, so a
misspelled event name is a NameError at import, and an event class handled twice by one fold is
a ValueError at import. Events the fold does not handle only stamp the state.

Because a handler returns changes rather than a whole state, the same handler writes a read
table whose row is the folded state (`eventstore.snapshots`). A handler that reads the previous
state must do so only for fields that are not read-table columns (a dict of versions, a set of
members); each app's `test_projectors.py` checks its snapshot tables against the fold.

Pure: nothing here imports Django."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from eventstore import catalog
from eventstore.catalog import DomainEvent
from eventstore.types import RecordedEvent

Changes = dict[str, Any]


@dataclass(frozen=True)
class AggregateState:
    """What every aggregate's state carries, stamped by its fold: never set by a handler."""

    id: str = ""
    created_at: datetime | None = None
    created_by: str = ""
    updated_at: datetime | None = None
    stream_version: int = 0


STAMPED = frozenset(f.name for f in fields(AggregateState))

S = TypeVar("S", bound=AggregateState)
Handler = Callable[[Any, Any, RecordedEvent], Changes]


def stamp(state: S, recorded: RecordedEvent) -> Changes:
    """The stamped fields an event sets on `state`."""
    stamped: Changes = {"updated_at": recorded.recorded_at, "stream_version": recorded.version}
    if not state.id:
        stamped["id"] = str(recorded.stream_id)
        stamped["created_at"] = recorded.recorded_at
        stamped["created_by"] = recorded.metadata.get("actor", "")
    return stamped


class Fold(Generic[S]):
    """The fold of one aggregate type: `fold(state, recorded) -> state`, the signature
    `store.load` takes, dispatching to the handler registered for the event's class."""

    def __init__(self, initial: type[S]) -> None:
        if not (isinstance(initial, type) and issubclass(initial, AggregateState)):
            raise TypeError(f"{initial!r} is not an AggregateState")
        self.initial = initial
        self._handlers: dict[str, tuple[type[DomainEvent], Handler]] = {}
        self._opening: set[str] = set()
        self._state_fields = frozenset(f.name for f in fields(initial))

    def on(self, *classes: type[DomainEvent], opens: bool = False) -> Callable[[Handler], Handler]:
        """Register a handler for events of `classes`; `opens` marks the event that starts
        the aggregate (a snapshot table inserts its row there)."""
        if not classes:
            raise TypeError("on() needs at least one event class")
        for cls in classes:
            if not (isinstance(cls, type) and issubclass(cls, DomainEvent)):
                raise TypeError(f"{cls!r} is not an event class")

        def register(handler: Handler) -> Handler:
            for cls in classes:
                if cls.event_type in self._handlers:
                    raise ValueError(f"{cls.event_type} is handled twice by this fold")
                self._handlers[cls.event_type] = (cls, handler)
                if opens:
                    self._opening.add(cls.event_type)
            return handler

        return register

    def handles(self) -> tuple[type[DomainEvent], ...]:
        return tuple(cls for cls, _ in self._handlers.values())

    def opens(self, event_type: str) -> bool:
        return event_type in self._opening

    def changes(self, state: S, recorded: RecordedEvent) -> Changes | None:
        """What the event changes in `state` (stamped fields excluded), or None where this fold
        does not handle the event."""
        entry = self._handlers.get(recorded.type)
        if entry is None:
            return None
        cls, _ = entry
        return self.changes_of(state, cls.from_data(catalog.upcast(recorded).data), recorded)

    def changes_of(self, state: S, event: DomainEvent, recorded: RecordedEvent) -> Changes:
        """What the already decoded `event` changes in `state` (a projector of the event's class
        has it decoded: it is not decoded again)."""
        _, handler = self._handlers[recorded.type]
        changes = handler(state, event, recorded)
        if not isinstance(changes, dict):
            raise TypeError(f"the handler of {recorded.type} returned {type(changes).__name__}")
        unknown = changes.keys() - self._state_fields
        if unknown:
            raise TypeError(f"the handler of {recorded.type} sets unknown fields {unknown}")
        if changes.keys() & STAMPED:
            raise TypeError(f"the handler of {recorded.type} sets stamped fields")
        return changes

    def __call__(self, state: S, recorded: RecordedEvent) -> S:
        changes = self.changes(state, recorded)
        return replace(state, **stamp(state, recorded), **(changes or {}))

    def run(self, events: Iterable[RecordedEvent], state: S | None = None) -> S:
        """Fold `events` from `state` (or the initial state)."""
        current = self.initial() if state is None else state
        for recorded in events:
            current = self(current, recorded)
        return current


def copied(event: DomainEvent, state_type: type[AggregateState], *skip: str) -> Changes:
    """The fields of `event` that the state has under the same name: what an opening handler
    takes over (the event class is the one place those fields are written); lists become
    tuples, as a state holds them."""
    names = {f.name for f in fields(state_type)} - STAMPED - set(skip)
    return {
        f.name: _own(getattr(event, f.name))
        for f in fields(event)  # type: ignore[arg-type]
        if f.name in names
    }


def _own(value: Any) -> Any:
    """A value the state owns: a dict copied (the event's may be shared with a cached recorded
    event), a list as a tuple."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return tuple(value)
    return value
