"""The registry of event types: each stored type name maps to a class with a schema version,
and upcasters lift old stored schema versions to the current one when events are read.

A stored type is never renamed and a stored event is never rewritten; a change of shape gets a
new schema_version and an upcaster from the previous one."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, ClassVar, TypeVar

from eventstore.types import NewEvent, RecordedEvent

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_classes: dict[str, type[DomainEvent]] = {}
_upcasters: dict[tuple[str, int], Upcaster] = {}

E = TypeVar("E", bound="DomainEvent")


class DomainEvent:
    """Base of the typed, frozen event dataclasses each app declares in events.py."""

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    # The payload's fields (dotted paths into nested objects) that only those party to the
    # stream's subject may read: storage keys and paths, evidence summaries, the ids of the
    # streams of its governance record. A history read by anyone else shows them as null.
    sensitive: ClassVar[tuple[str, ...]] = ()

    def to_data(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def to_new(self) -> NewEvent:
        return NewEvent(
            type=self.event_type, data=self.to_data(), schema_version=self.schema_version
        )

    @classmethod
    def from_data(cls: type[E], data: dict[str, Any]) -> E:
        names = cls.__dict__.get("_field_names")
        if names is None:
            names = frozenset(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
            cls._field_names = names  # type: ignore[attr-defined]
        return cls(**{k: v for k, v in data.items() if k in names})


def event(type_name: str, *, schema_version: int = 1) -> Callable[[type[E]], type[E]]:
    """Class decorator: make a frozen dataclass event and register it under its stored type."""

    def register(cls: type[E]) -> type[E]:
        if type_name in _classes and _classes[type_name].__qualname__ != cls.__qualname__:
            raise ValueError(f"event type {type_name} is already registered")
        cls = dataclasses.dataclass(frozen=True)(cls)
        cls.event_type = type_name
        cls.schema_version = schema_version
        _classes[type_name] = cls
        return cls

    return register


def upcaster(type_name: str, *, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register a function that turns data of `from_version` into data of from_version + 1."""

    def register(fn: Upcaster) -> Upcaster:
        _upcasters[(type_name, from_version)] = fn
        return fn

    return register


def current_version(type_name: str) -> int | None:
    cls = _classes.get(type_name)
    return cls.schema_version if cls else None


def upcast(recorded: RecordedEvent) -> RecordedEvent:
    """The event with its data lifted to the current schema version of its type."""
    target = current_version(recorded.type)
    if target is None or recorded.schema_version >= target:
        return recorded
    data, version = recorded.data, recorded.schema_version
    while version < target:
        step = _upcasters.get((recorded.type, version))
        if step is None:
            raise LookupError(f"no upcaster for {recorded.type} from schema version {version}")
        data, version = step(dict(data)), version + 1
    return replace(recorded, data=data, schema_version=version)


def decode(recorded: RecordedEvent) -> DomainEvent:
    """The typed event for a recorded one (upcast first)."""
    lifted = upcast(recorded)
    cls = _classes.get(lifted.type)
    if cls is None:
        raise LookupError(f"unknown event type {lifted.type}")
    return cls.from_data(lifted.data)


def registered_types() -> dict[str, type[DomainEvent]]:
    return dict(_classes)


def _holds(data: Mapping[str, Any], path: str) -> bool:
    head, _, rest = path.partition(".")
    if not isinstance(data, Mapping) or head not in data:
        return False
    return not rest or _holds(data[head], rest)


# The metadata fields of any event that name other streams or a caller's secret: a reaction's
# cause ("<stream id>@<version>") and the reaction's or the client's idempotency key.
SENSITIVE_METADATA = ("causation_id", "idempotency_key")


def sensitive_paths(
    type_name: str, data: Mapping[str, Any], metadata: Mapping[str, Any]
) -> list[str]:
    """The sensitive paths of an event, as `data.<field>` (DomainEvent.sensitive of its type)
    and `metadata.<field>` (SENSITIVE_METADATA), that it holds as stored at any schema
    version: a path its shape does not have is left out."""
    cls = _classes.get(type_name)
    declared = [f"data.{path}" for path in (cls.sensitive if cls else ())]
    declared += [f"metadata.{field}" for field in SENSITIVE_METADATA]
    event = {"data": data, "metadata": metadata}
    return [path for path in declared if _holds(event, path)]


def redacted(data: Mapping[str, Any], paths: list[str]) -> dict[str, Any]:
    """A copy of `data` with the value at each path (held by it) replaced by None."""
    copy = dict(data)
    for path in paths:
        head, _, rest = path.partition(".")
        copy[head] = redacted(copy[head], [rest]) if rest else None
    return copy
