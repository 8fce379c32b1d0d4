"""Snapshot tables: read tables whose row is the folded state of one stream, written by one
generic projector from the fold itself, so a field is mapped once (state field name = column
name) instead of once in the fold and again in a projector.

    snapshot(ModelVersion, fold_version)

registers a projector for every event class the fold handles: the fold's opening event inserts
the row (every column the state has, the stamped ones included); any other event updates the
columns its handler changes, with updated_at and stream_version. A state field with no column of
the same name (a dict of version numbers, a set of members) stays in the fold; a column with no
state field (a count another projector keeps) is not touched.

Handlers are called with the fold's initial state here, not the previous one: a handler that
derives a column from the previous state would write a wrong row, which
each app's `test_projectors.py` catches by comparing every snapshot table with the fold of
each stream."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, fields, replace
from typing import Any

from django.db import models

from eventstore.folds import STAMPED, Fold, stamp
from eventstore.projection import ProjectionWriter, projection_tables, projector
from eventstore.types import RecordedEvent


@dataclass(frozen=True)
class Snapshot:
    model: type[models.Model]
    fold: Fold[Any]
    columns: tuple[str, ...]

    def row_of(self, state: Any) -> dict[str, Any]:
        """The row `state` maps to: its fields that are columns, JSON values made plain."""
        return {name: plain(getattr(state, name)) for name in self.columns}


_snapshots: list[Snapshot] = []


def snapshot(model: type[models.Model], fold: Fold[Any]) -> Snapshot:
    """Make `model` the snapshot table of `fold`'s aggregate and register its projector."""
    state_fields = {f.name for f in fields(fold.initial)}
    concrete = {f.name for f in model._meta.concrete_fields}
    columns = tuple(sorted(state_fields & concrete))
    stamped = STAMPED & set(columns) - {"id"}
    spec = Snapshot(model, fold, columns)
    projection_tables(model)
    _snapshots.append(spec)

    def project(e: Any, recorded: RecordedEvent, out: ProjectionWriter) -> None:
        initial = fold.initial()
        changes = fold.changes_of(initial, e, recorded)
        if fold.opens(recorded.type):
            state = replace(initial, **stamp(initial, recorded), **changes)
            values = {name: getattr(state, name) for name in columns}
            values["id"] = recorded.stream_id
            out.insert(model, **values)
            return
        values = {name: value for name, value in changes.items() if name in columns}
        if "updated_at" in stamped:
            values["updated_at"] = recorded.recorded_at
        values["stream_version"] = recorded.version
        out.update(model, {"id": recorded.stream_id}, **values)

    project.__name__ = f"project_{model._meta.model_name}_snapshot"
    projector(*fold.handles())(project)
    return spec


def registered_snapshots() -> list[Snapshot]:
    return list(_snapshots)


def plain(value: Any) -> Any:
    """A value as a JSON column reads it back (tuples as lists, keys as strings), a UUID as
    its string: how a row and a state are compared."""
    if isinstance(value, tuple | list | dict):
        return json.loads(json.dumps(value, default=str))
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
