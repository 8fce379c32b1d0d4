"""Folds dispatch on event classes and stamp the aggregate's common fields once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from eventstore.catalog import DomainEvent, event
from eventstore.folds import AggregateState, Fold, copied
from eventstore.types import RecordedEvent
from tests.helpers.events import recorded as helper_recorded


@event("tests.FoldOpened")
class Opened(DomainEvent):
    name: str
    size: int


@event("tests.FoldRenamed")
class Renamed(DomainEvent):
    name: str


@event("tests.FoldIgnored")
class Ignored(DomainEvent):
    note: str


@dataclass(frozen=True)
class Thing(AggregateState):
    name: str = ""
    size: int = 0
    renames: int = 0


fold_thing = Fold(Thing)


@fold_thing.on(Opened, opens=True)
def _opened(state: Thing, e: Opened, rec: RecordedEvent) -> dict:
    return copied(e, Thing)


@fold_thing.on(Renamed)
def _renamed(state: Thing, e: Renamed, rec: RecordedEvent) -> dict:
    return {"name": e.name, "renames": state.renames + 1}


STREAM = uuid.uuid4()
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def recorded(version: int, e: DomainEvent, actor: str = "user:1") -> RecordedEvent:
    return helper_recorded(STREAM, version, e, actor, stream_type="tests.Thing", t0=T0)


def test_a_fold_stamps_id_creation_update_and_version_once():
    events = [
        recorded(1, Opened(name="a", size=3)),
        recorded(2, Renamed(name="b"), actor="user:2"),
        recorded(3, Ignored(note="x")),
    ]
    state = fold_thing.run(events)
    assert state == Thing(
        id=str(STREAM),
        created_at=T0 + timedelta(minutes=1),
        created_by="user:1",
        updated_at=T0 + timedelta(minutes=3),
        stream_version=3,
        name="b",
        size=3,
        renames=1,
    )


def test_an_event_class_handled_twice_is_refused_at_registration():
    with pytest.raises(ValueError, match="handled twice"):
        fold_thing.on(Renamed)(lambda state, e, rec: {})


def test_a_type_name_instead_of_a_class_is_refused():
    with pytest.raises(TypeError):
        fold_thing.on("tests.FoldIgnored")  # type: ignore[arg-type]


def test_a_handler_may_not_set_stamped_or_unknown_fields():
    bad = Fold(Thing)

    @bad.on(Opened)
    def _(state, e, rec):
        return {"stream_version": 9}

    with pytest.raises(TypeError, match="stamped"):
        bad(Thing(), recorded(1, Opened(name="a", size=1)))

    worse = Fold(Thing)

    @worse.on(Opened)
    def _(state, e, rec):
        return {"colour": "red"}

    with pytest.raises(TypeError, match="unknown fields"):
        worse(Thing(), recorded(1, Opened(name="a", size=1)))


def test_every_projector_named_by_a_stored_type_names_a_registered_event_class():
    # Projectors register by class; the few that name a type (a layer below the app that
    # declares it) must name one the catalog knows, or they would project nothing.
    from eventstore import catalog, projection

    known = set(catalog.registered_types())
    named = {name for name in projection._projectors if name != projection.ALL_EVENTS}
    assert named - known == set()
