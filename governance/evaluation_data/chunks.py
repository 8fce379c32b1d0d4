"""Validated chunks for the audit: one Arrow batch (a CSV block or a Parquet batch) or a run
of rows posted as JSON becomes a Chunk of 0/1 labels, 0/1 predictions or scores, and the
dictionary-encoded protected attributes; errors name the column (or the first bad row) and
quote a few offending values."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from governance.evaluation_data.errors import (
    _SHOWN,
    InvalidEvaluationRows,
    InvalidGroupValues,
    InvalidScores,
    MissingColumns,
    MissingValues,
    NonBinaryValues,
    UnknownGroupValues,
    _shown,
)
from governance.fairness import AuditSpec, Chunk, EncodedColumn

CHUNK_ROWS = 131_072  # Parquet batch size and JSON chunk size
# Text spellings of a binary label or prediction (CSV cells, JSON strings).
BINARY_TEXT = {"0": 0, "1": 1, "0.0": 0, "1.0": 1, "false": 0, "true": 1, "False": 0, "True": 1}
BINARY_TEXT |= {"FALSE": 0, "TRUE": 1}


def _column(batch: pa.RecordBatch, name: str) -> pa.Array:
    array = batch.column(batch.schema.get_field_index(name))
    if array.null_count:
        raise MissingValues(f"column {name!r} has {array.null_count} empty cells", column=name)
    return array


def _chunk_from_batch(batch: pa.RecordBatch, spec: AuditSpec) -> Chunk:
    labels = _binary(_column(batch, spec.label), spec.label)
    attributes = {name: _encoded(_column(batch, name), name, spec) for name in spec.attributes}
    decision = _column(batch, spec.decision_column)
    if spec.score is not None:
        return Chunk(labels=labels, scores=_scores(decision, spec.score), attributes=attributes)
    return Chunk(
        labels=labels, predictions=_binary(decision, spec.decision_column), attributes=attributes
    )


def _binary(array: pa.Array, name: str) -> np.ndarray:
    kind = array.type
    if pa.types.is_boolean(kind):
        return array.to_numpy(zero_copy_only=False).astype(np.uint8)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        values = array.to_numpy(zero_copy_only=False)
        bad = (values != 0) & (values != 1)
        if bad.any():
            raise NonBinaryValues(
                f"column {name!r} holds values other than 0 and 1",
                column=name,
                values=[_json_number(v) for v in _shown(np.unique(values[bad]).tolist())],
            )
        return values.astype(np.uint8)
    if pa.types.is_dictionary(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind):
        encoded = array if pa.types.is_dictionary(kind) else pc.dictionary_encode(array)
        words = encoded.dictionary.cast(pa.string()).to_pylist()
        used = _used(encoded.indices, len(words))
        unknown = [words[i] for i in used if words[i] not in BINARY_TEXT]
        if unknown:
            raise NonBinaryValues(
                f"column {name!r} holds values other than 0 and 1",
                column=name,
                values=_shown(unknown),
            )
        table = np.array([BINARY_TEXT.get(word, 0) for word in words] or [0], dtype=np.uint8)
        return table[encoded.indices.to_numpy(zero_copy_only=False)]
    raise NonBinaryValues(f"column {name!r} has type {kind}; expected 0/1", column=name)


def _json_number(value: float | int) -> float | int | None:
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() else value
    return value


def _scores(array: pa.Array, name: str) -> np.ndarray:
    if not (pa.types.is_integer(array.type) or pa.types.is_floating(array.type)):
        raise InvalidScores(f"column {name!r} has type {array.type}; expected numbers", column=name)
    values = array.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    finite = np.isfinite(values)
    if not finite.all():
        raise InvalidScores(
            f"column {name!r} has {int((~finite).sum())} values that are not finite", column=name
        )
    return values


def _used(indices: pa.Array, size: int) -> list[int]:
    codes = indices.to_numpy(zero_copy_only=False)
    return np.flatnonzero(np.bincount(codes, minlength=size)).tolist()


def _encoded(array: pa.Array, name: str, spec: AuditSpec) -> EncodedColumn:
    if not pa.types.is_dictionary(array.type):
        kind = array.type
        if not (
            pa.types.is_string(kind)
            or pa.types.is_large_string(kind)
            or pa.types.is_integer(kind)
            or pa.types.is_boolean(kind)
        ):
            raise InvalidGroupValues(
                f"column {name!r} has type {kind}; protected attributes are text, integers or "
                "booleans",
                column=name,
            )
        array = pc.dictionary_encode(array)
    categories = tuple(array.dictionary.cast(pa.string()).to_pylist())
    codes = array.indices.to_numpy(zero_copy_only=False)
    _check_declared(name, [categories[i] for i in _used(array.indices, len(categories))], spec)
    return EncodedColumn(codes=codes, categories=categories)


def _check_declared(name: str, used: Sequence[str | None], spec: AuditSpec) -> None:
    if None in used:
        raise MissingValues(f"column {name!r} has empty cells", column=name)
    declared = spec.groups.get(name)
    if declared is None:
        return
    unknown = sorted(set(used) - set(declared))  # type: ignore[arg-type]
    if unknown:
        raise UnknownGroupValues(
            f"column {name!r} has values {unknown[:_SHOWN]} outside its declared groups",
            column=name,
            values=unknown[:_SHOWN],
            declared=list(declared),
        )


# -- JSON rows ------------------------------------------------------------------------------


def chunks_from_rows(
    rows: Any, *, spec: AuditSpec, chunk_rows: int = CHUNK_ROWS
) -> Iterator[Chunk]:
    """Validated chunks from a list of JSON objects; errors name the first bad row."""
    if not isinstance(rows, list):
        raise InvalidEvaluationRows("evaluation rows are a list of objects")
    for start in range(0, len(rows), chunk_rows):
        yield _chunk_from_rows(rows[start : start + chunk_rows], start, spec)


def _chunk_from_rows(rows: list[Any], offset: int, spec: AuditSpec) -> Chunk:
    labels = np.empty(len(rows), dtype=np.uint8)
    decisions = np.empty(len(rows), dtype=np.float64 if spec.score is not None else np.uint8)
    indexes: dict[str, dict[str, int]] = {name: {} for name in spec.attributes}
    codes = {name: np.empty(len(rows), dtype=np.int64) for name in spec.attributes}
    for position, row in enumerate(rows):
        number = offset + position
        if not isinstance(row, Mapping):
            raise InvalidEvaluationRows(f"row {number} is not an object", row=number)
        missing = [name for name in spec.columns if name not in row]
        if missing:
            raise MissingColumns(
                f"row {number} has no {', '.join(map(repr, missing))}", missing=missing, row=number
            )
        labels[position] = _binary_value(row[spec.label], spec.label, number)
        if spec.score is not None:
            decisions[position] = _score_value(row[spec.score], spec.score, number)
        else:
            decisions[position] = _binary_value(
                row[spec.decision_column], spec.decision_column, number
            )
        for name in spec.attributes:
            value = _group_value(row[name], name, number)
            codes[name][position] = indexes[name].setdefault(value, len(indexes[name]))
    attributes = {}
    for name in spec.attributes:
        categories = tuple(indexes[name])
        _check_declared(name, categories, spec)
        attributes[name] = EncodedColumn(codes=codes[name], categories=categories)
    if spec.score is not None:
        return Chunk(labels=labels, scores=decisions, attributes=attributes)
    return Chunk(labels=labels, predictions=decisions, attributes=attributes)


def _binary_value(value: Any, name: str, row: int) -> int:
    if value is None:
        raise MissingValues(f"row {row}: {name!r} is empty", column=name, row=row)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value in BINARY_TEXT:
        return BINARY_TEXT[value]
    raise NonBinaryValues(
        f"row {row}: {name!r} must be 0 or 1, not {value!r}"[:300], column=name, row=row
    )


def _score_value(value: Any, name: str, row: int) -> float:
    if value is None:
        raise MissingValues(f"row {row}: {name!r} is empty", column=name, row=row)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidScores(
            f"row {row}: {name!r} must be a finite number"[:300], column=name, row=row
        )
    return float(value)


def _group_value(value: Any, name: str, row: int) -> str:
    if value is None:
        raise MissingValues(f"row {row}: {name!r} is empty", column=name, row=row)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int):
        return str(value)
    raise InvalidGroupValues(
        f"row {row}: {name!r} must be text, an integer or a boolean", column=name, row=row
    )
