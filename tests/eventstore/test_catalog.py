"""Event types: typed events round-trip through the log, and upcasters lift old schemas."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest

from eventstore import catalog, store
from eventstore.types import NO_STREAM, NewEvent, RecordedEvent
from tests.conftest import new_stream


@catalog.event("tests.ThingRenamed", schema_version=2)
class ThingRenamed(catalog.DomainEvent):
    old_name: str
    new_name: str
    reason: str


@catalog.upcaster("tests.ThingRenamed", from_version=1)
def _reason_added(data: dict) -> dict:
    return {**data, "reason": data.get("why", "")}


def _recorded(data: dict, schema_version: int) -> RecordedEvent:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    return RecordedEvent(
        1, uuid.uuid4(), "tests.Thing", 1, "tests.ThingRenamed", schema_version, data, {},
        moment, moment, bytes(32), bytes(32),
    )  # fmt: skip


def test_typed_event_round_trips_when_appended_and_read(meta, db):
    stream = new_stream("tests.Thing")
    event = ThingRenamed(old_name="a", new_name="b", reason="typo")
    store.append(stream, NO_STREAM, [event], meta)
    (recorded,) = store.read_stream(stream.id)
    assert (recorded.type, recorded.schema_version) == ("tests.ThingRenamed", 2)
    assert catalog.decode(recorded) == event


def test_old_schema_is_upcast_when_read(meta, db):
    stream = new_stream("tests.Thing")
    old = NewEvent("tests.ThingRenamed", {"old_name": "a", "new_name": "b", "why": "x"}, 1)
    store.append(stream, NO_STREAM, [old], meta)
    (recorded,) = store.read_stream(stream.id)
    assert recorded.schema_version == 2
    assert catalog.decode(recorded) == ThingRenamed(old_name="a", new_name="b", reason="x")
    (raw,) = store.read_stream(stream.id, upcast=False)
    assert raw.schema_version == 1  # the stored event is never rewritten


def test_decode_refuses_when_a_schema_version_has_no_upcaster():
    @catalog.event("tests.Versioned", schema_version=3)
    class Versioned(catalog.DomainEvent):
        value: int

    stale = _recorded({"value": 1}, 1)
    stale = RecordedEvent(**{**stale.__dict__, "type": "tests.Versioned"})
    with pytest.raises(LookupError, match="no upcaster"):
        catalog.decode(stale)
    assert catalog.current_version("tests.Versioned") == 3


def test_registering_a_stored_type_twice_is_refused_when_classes_differ():
    with pytest.raises(ValueError, match="already registered"):

        @catalog.event("tests.ThingRenamed")
        class Other(catalog.DomainEvent):
            x: int


def test_upcast_leaves_current_events_alone_when_already_latest():
    recorded = _recorded({"old_name": "a", "new_name": "b", "reason": "r"}, 2)
    assert catalog.upcast(recorded) is recorded


@catalog.event("tests.ThingStored")
class ThingStored(catalog.DomainEvent):
    sensitive = ("key", "summary.owner")

    key: str
    size: int
    summary: dict


def test_sensitive_paths_name_only_what_the_stored_payload_holds():
    data = {"key": "things/1", "size": 3, "summary": {"owner": "x", "kind": "y"}}
    metadata = {"actor": "user:1", "causation_id": "abc@1"}
    paths = catalog.sensitive_paths("tests.ThingStored", data, metadata)
    assert paths == ["data.key", "data.summary.owner", "metadata.causation_id"]
    shown = catalog.redacted({"data": data, "metadata": metadata, "hash": "h"}, paths)
    assert shown == {
        "data": {"key": None, "size": 3, "summary": {"owner": None, "kind": "y"}},
        "metadata": {"actor": "user:1", "causation_id": None},
        "hash": "h",
    }
    assert data["key"] == "things/1" and metadata["causation_id"] == "abc@1"
    # An older shape without the field, or a summary that is not an object, withholds nothing.
    assert catalog.sensitive_paths("tests.ThingStored", {"summary": "text"}, {}) == []
    assert catalog.sensitive_paths("tests.Unknown", {"key": "k"}, {"idempotency_key": "i"}) == [
        "metadata.idempotency_key"
    ]


def test_every_declared_sensitive_field_is_a_field_of_its_event():
    """A misspelt path would withhold nothing: each declared path starts at a field."""
    declared = {
        name: cls.sensitive for name, cls in catalog.registered_types().items() if cls.sensitive
    }
    assert {"registry.StreamLinked", "registry.ArtifactVerified"} <= set(declared)
    for name, paths in declared.items():
        fields = {f.name for f in dataclasses.fields(catalog.registered_types()[name])}
        for path in paths:
            assert path.split(".")[0] in fields, (name, path)
