"""Evaluation data for bias audits, read as a stream of validated chunks from CSV or Parquet
(a file object, e.g. from the artifact store) or from rows posted as JSON. Files are read a
chunk at a time (a Parquet batch, a 1 MiB CSV block plus the reader's read-ahead) and the
audit keeps counts per group, never rows. Parquet keeps its schema at the end of the file, so
a stream that cannot seek is first copied to a temporary file on disk."""

from __future__ import annotations

import contextlib
import csv
import io
import math
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from core.errors import InvalidInput
from governance.fairness import AuditResult, AuditSpec, Chunk, CountAccumulator, EncodedColumn
from registry.artifacts import get_store

FORMATS = ("csv", "parquet")
CHUNK_ROWS = 131_072  # Parquet batch size and JSON chunk size
# Arrow's CSV reader holds a few blocks in flight, each tokenised for every column: its memory
# grows with the block (about 50 MiB above the interpreter at 1 MiB, 150 MiB at 4 MiB, on a
# 1M-row file) while larger blocks read no faster.
CSV_BLOCK_BYTES = 1024 * 1024
MAX_HEADER_BYTES = 1024 * 1024
SPOOL_BYTES = 1024 * 1024
_SHOWN = 5  # offending values quoted in an error message

# Text spellings of a binary label or prediction (CSV cells, JSON strings).
BINARY_TEXT = {"0": 0, "1": 1, "0.0": 0, "1.0": 1, "false": 0, "true": 1, "False": 0, "True": 1}
BINARY_TEXT |= {"FALSE": 0, "TRUE": 1}


class EvaluationDataError(InvalidInput):
    code = "invalid_evaluation_data"
    status = 422
    title = "The evaluation data is not valid"


class UnsupportedFormat(EvaluationDataError):
    code = "unsupported_format"
    status = 400
    title = "The evaluation data format is not supported"


class UnreadableEvaluationData(EvaluationDataError):
    code = "unreadable_evaluation_data"
    title = "The evaluation data could not be read"


class MissingColumns(EvaluationDataError):
    code = "missing_columns"
    title = "The evaluation data lacks columns the audit needs"


class DuplicateColumns(EvaluationDataError):
    code = "duplicate_columns"
    title = "The evaluation data names a column the audit needs more than once"


class MissingValues(EvaluationDataError):
    code = "missing_values"
    title = "The evaluation data has empty cells where the audit needs values"


class NonBinaryValues(EvaluationDataError):
    code = "non_binary_values"
    title = "Labels and predictions must be 0 or 1"


class InvalidScores(EvaluationDataError):
    code = "invalid_scores"
    title = "Scores must be finite numbers"


class InvalidGroupValues(EvaluationDataError):
    code = "invalid_group_values"
    title = "Protected attribute values must be text, integers or booleans"


class UnknownGroupValues(EvaluationDataError):
    code = "unknown_group_values"
    title = "A protected attribute has values the audit does not declare"


class NoEvaluationRows(EvaluationDataError):
    code = "no_evaluation_rows"
    title = "The evaluation data has no rows"


class InvalidEvaluationRows(EvaluationDataError):
    code = "invalid_evaluation_rows"
    status = 400
    title = "Evaluation rows are a list of objects"


def _shown(values: Sequence[Any]) -> list[Any]:
    return sorted(values, key=repr)[:_SHOWN]


# -- entry points ---------------------------------------------------------------------------


def format_for(name: str) -> str:
    """The format a file name implies: .csv or .parquet (.pq)."""
    lowered = name.lower()
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith((".parquet", ".pq")):
        return "parquet"
    raise UnsupportedFormat(f"{name!r} is neither .csv nor .parquet", formats=list(FORMATS))


def read_chunks(
    source: BinaryIO, *, format: str, spec: AuditSpec, chunk_rows: int = CHUNK_ROWS
) -> Iterator[Chunk]:
    """Validated chunks from a CSV or Parquet file object (seekable or not)."""
    if format == "csv":
        batches = _csv_batches(source, spec)
    elif format == "parquet":
        batches = _parquet_batches(source, spec, chunk_rows)
    else:
        raise UnsupportedFormat(f"format must be one of {list(FORMATS)}", formats=list(FORMATS))
    for batch in batches:
        yield _chunk_from_batch(batch, spec)


def audit_file(
    source: BinaryIO, *, format: str, spec: AuditSpec, chunk_rows: int = CHUNK_ROWS
) -> AuditResult:
    return _audit(read_chunks(source, format=format, spec=spec, chunk_rows=chunk_rows), spec)


def audit_artifact(key: str, *, spec: AuditSpec, format: str | None = None) -> AuditResult:
    """Audit evaluation data held in the artifact store under `key`."""
    chosen = format or format_for(key)
    if chosen not in FORMATS:
        raise UnsupportedFormat(f"format must be one of {list(FORMATS)}", formats=list(FORMATS))
    with contextlib.closing(get_store().open(key)) as source:
        return audit_file(source, format=chosen, spec=spec)


def audit_rows(rows: Any, *, spec: AuditSpec, chunk_rows: int = CHUNK_ROWS) -> AuditResult:
    """Audit rows posted as JSON: a list of objects with the spec's columns."""
    return _audit(chunks_from_rows(rows, spec=spec, chunk_rows=chunk_rows), spec)


def _audit(chunks: Iterator[Chunk], spec: AuditSpec) -> AuditResult:
    accumulator = CountAccumulator(spec)
    for chunk in chunks:
        accumulator.add(chunk)
    if accumulator.rows == 0:
        raise NoEvaluationRows("the evaluation data has no rows; there is nothing to audit")
    return accumulator.result()


# -- CSV ------------------------------------------------------------------------------------


class _Replay(io.RawIOBase):
    """The bytes already read to find the header, then the rest of the source."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head.nbytes:
            size = min(len(buffer), self._head.nbytes)
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _read_header(source: BinaryIO) -> tuple[list[str], bytes]:
    head = b""
    while b"\n" not in head:
        more = source.read(64 * 1024)
        if not more:
            break
        head += more
        if len(head) > MAX_HEADER_BYTES and b"\n" not in head:
            raise UnreadableEvaluationData("the CSV header line is longer than 1 MiB")
    line = head.split(b"\n", 1)[0]
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableEvaluationData("the CSV header is not UTF-8") from exc
    names = next(csv.reader([text.rstrip("\r")]), [])
    return names, head


def _csv_batches(source: BinaryIO, spec: AuditSpec) -> Iterator[pa.RecordBatch]:
    header, head = _read_header(source)
    _require_columns(header, spec)
    text = pa.dictionary(pa.int32(), pa.string())
    types = dict.fromkeys((spec.label, *spec.attributes), text)
    types[spec.decision_column] = pa.float64() if spec.score is not None else text
    convert = pacsv.ConvertOptions(
        include_columns=list(spec.columns),
        column_types=types,
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    try:
        reader = pacsv.open_csv(
            _Replay(head, source),
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
            convert_options=convert,
        )
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            yield batch
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError) as exc:
        raise UnreadableEvaluationData(f"the CSV could not be read: {exc}") from exc


# -- Parquet --------------------------------------------------------------------------------


def _seekable(source: BinaryIO) -> contextlib.AbstractContextManager[BinaryIO]:
    """Parquet keeps its schema at the end of the file: a stream that cannot seek (an S3
    body) is first copied to a temporary file, a megabyte at a time."""
    seekable = getattr(source, "seekable", None)
    if seekable is not None and seekable():
        return contextlib.nullcontext(source)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the returned context)
    shutil.copyfileobj(source, spool, SPOOL_BYTES)
    spool.seek(0)
    return contextlib.closing(spool)  # type: ignore[return-value]


def _parquet_batches(
    source: BinaryIO, spec: AuditSpec, chunk_rows: int
) -> Iterator[pa.RecordBatch]:
    with _seekable(source) as seekable:
        try:
            schema = pq.read_schema(seekable)
            seekable.seek(0)
            _require_columns(schema.names, spec)
            strings = [
                name
                for name in spec.columns
                if pa.types.is_string(schema.field(name).type)
                or pa.types.is_large_string(schema.field(name).type)
            ]
            parquet = pq.ParquetFile(seekable, read_dictionary=strings)
            yield from parquet.iter_batches(batch_size=chunk_rows, columns=list(spec.columns))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
            raise UnreadableEvaluationData(f"the Parquet file could not be read: {exc}") from exc


def _require_columns(names: Sequence[str], spec: AuditSpec) -> None:
    missing = [name for name in spec.columns if name not in set(names)]
    if missing:
        raise MissingColumns(
            f"the evaluation data has no column {', '.join(map(repr, missing))}",
            missing=missing,
        )
    repeated = [name for name in spec.columns if list(names).count(name) > 1]
    if repeated:
        raise DuplicateColumns(
            f"the evaluation data has more than one column {', '.join(map(repr, repeated))}",
            duplicated=repeated,
        )


# -- one batch to one chunk -----------------------------------------------------------------


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
