"""Field shapes: the rule a field's value follows, declared once on the event class that records
it and read by everything else that handles the field (the command's input, the aggregate's
state, the API's input and output serializers).

    @event("registry.ModelVersionCreated")
    class ModelVersionCreated(DomainEvent):
        code_commit: str = rules.CODE_COMMIT.field()

A shape names its kind and limits; the patterns themselves live once in the app's rules.py.
Pure: nothing here imports Django."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass
from typing import Any

TEXT, PATTERN, INTEGER, JSON, TAGS, LIST, UUID, BOOLEAN, DATETIME, CHOICE = (
    "text",
    "pattern",
    "integer",
    "json",
    "tags",
    "list",
    "uuid",
    "boolean",
    "datetime",  # a moment with its time zone; an event records it as ISO 8601 text
    "choice",  # one of `choices`
)
KINDS = frozenset({TEXT, PATTERN, INTEGER, JSON, TAGS, LIST, UUID, BOOLEAN, DATETIME, CHOICE})


@dataclass(frozen=True)
class Shape:
    """How one field's values look: `kind` (one of KINDS) and its limits. Text is at least
    `min_length` and at most `max_length` characters; `blank` admits the empty string (a
    pattern's value may then also be ""); `null` admits None (stored, never sent); `required`
    fields must be sent on create; a CHOICE is one of `choices`; a LIST holds values of shape
    `item`, at least `min_items` and at most `max_items` of them."""

    kind: str
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    blank: bool = False
    null: bool = False
    required: bool = False
    min_value: int | None = None
    max_value: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    item: Shape | None = None
    choices: tuple[str, ...] | None = None
    help_text: str | None = None
    message: str | None = None  # what a value that does not match is told

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown shape kind {self.kind!r}")
        if self.kind == PATTERN and not self.pattern:
            raise ValueError("a pattern shape needs a pattern")
        if (self.kind == LIST) != (self.item is not None):
            raise ValueError("a list shape, and only a list shape, has an item shape")
        if (self.kind == CHOICE) != bool(self.choices):
            raise ValueError("a choice shape, and only a choice shape, has choices")

    def field(self) -> Any:
        """A dataclass field carrying this shape (no default: events have every field)."""
        return dataclasses.field(metadata={"shape": self})

    @property
    def empty(self) -> Any:
        """The value a state holds before an event sets a scalar field."""
        if self.null:
            return None
        return {INTEGER: 0, BOOLEAN: False}.get(self.kind, "")


def shape_of(field: dataclasses.Field[Any]) -> Shape | None:
    return field.metadata.get("shape")


def shaped_fields(cls: type, *, exclude: tuple[str, ...] = ()) -> list[tuple[str, Shape]]:
    """The (name, shape) of each shaped field of a dataclass, in declaration order."""
    found = []
    for f in dataclasses.fields(cls):
        shape = shape_of(f)
        if shape is not None and f.name not in exclude:
            found.append((f.name, shape))
    return found


def default_of(shape: Shape) -> dataclasses.Field[Any]:
    """A dataclass field defaulting to the shape's empty value (a fresh dict, or an empty
    tuple for a list), keeping the shape in its metadata."""
    if shape.kind == LIST:
        return dataclasses.field(default=(), metadata={"shape": shape})
    factory = {JSON: dict, TAGS: dict}.get(shape.kind)
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata={"shape": shape})
    return dataclasses.field(default=shape.empty, metadata={"shape": shape})


def with_fields_of(source: type, *, exclude: tuple[str, ...] = ()) -> Any:
    """Class decorator, applied before @dataclass: give the class the shaped fields of
    `source` (an event class), each defaulting to its shape's empty value, ahead of the
    fields the class declares itself. A state or a command input is then written as what it
    adds to the event, not as a second copy of the event's fields."""

    def add(cls: type) -> type:
        own = dict(inspect.get_annotations(cls))
        annotations: dict[str, Any] = {}
        source_hints = {f.name: f.type for f in dataclasses.fields(source)}
        for name, shape in shaped_fields(source, exclude=exclude):
            if name in own:
                continue
            hint = source_hints[name]
            if shape.kind == LIST and isinstance(hint, str) and hint.startswith("list["):
                hint = f"tuple[{hint[5:-1]}, ...]"  # a state holds its lists as tuples
            annotations[name] = hint
            setattr(cls, name, default_of(shape))
        annotations.update(own)
        cls.__annotations__ = annotations
        return cls

    return add
