"""Evaluation data for bias audits, read as a stream of validated chunks from CSV or Parquet
(a file object, e.g. from the artifact store) or from rows posted as JSON. Files are read a
chunk at a time (a Parquet batch, a 1 MiB CSV block plus the reader's read-ahead) and the
audit keeps counts per group, never rows. Parquet keeps its schema at the end of the file, so
a stream that cannot seek is first copied to a temporary file on disk.

Here the entry points and the reading of files (CSV blocks, Parquet batches); a batch or a
run of JSON rows becomes a chunk in `chunks`, the errors are in `errors` (re-exported here)."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from governance.evaluation_data.chunks import CHUNK_ROWS, _chunk_from_batch, chunks_from_rows
from governance.evaluation_data.errors import (
    DuplicateColumns,
    EvaluationDataError,
    EvaluationDataTampered,
    InvalidEvaluationRows,
    InvalidGroupValues,
    InvalidScores,
    MissingColumns,
    MissingValues,
    NoEvaluationRows,
    NonBinaryValues,
    UnknownGroupValues,
    UnreadableEvaluationData,
    UnsupportedFormat,
)
from governance.fairness import AuditResult, AuditSpec, Chunk, CountAccumulator
from registry.artifacts import get_store

FORMATS = ("csv", "parquet")
# Arrow's CSV reader holds a few blocks in flight, each tokenised for every column: its memory
# grows with the block (about 50 MiB above the interpreter at 1 MiB, 150 MiB at 4 MiB, on a
# 1M-row file) while larger blocks read no faster.
CSV_BLOCK_BYTES = 1024 * 1024
MAX_HEADER_BYTES = 1024 * 1024
SPOOL_BYTES = 1024 * 1024

__all__ = [
    "CHUNK_ROWS",
    "CSV_BLOCK_BYTES",
    "FORMATS",
    "MAX_HEADER_BYTES",
    "SPOOL_BYTES",
    "DuplicateColumns",
    "EvaluationDataError",
    "EvaluationDataTampered",
    "InvalidEvaluationRows",
    "InvalidGroupValues",
    "InvalidScores",
    "MissingColumns",
    "MissingValues",
    "NoEvaluationRows",
    "NonBinaryValues",
    "UnknownGroupValues",
    "UnreadableEvaluationData",
    "UnsupportedFormat",
    "audit_artifact",
    "audit_file",
    "audit_rows",
    "chunks_from_rows",
    "format_for",
    "read_chunks",
]


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


def audit_artifact(
    key: str,
    *,
    spec: AuditSpec,
    format: str | None = None,
    sha256: str | None = None,
    size: int | None = None,
) -> AuditResult:
    """Audit evaluation data held in the artifact store under `key`. With `sha256` (and
    `size`), the stored bytes are first copied to a temporary file and hashed on the way: the
    verdict is computed on exactly those bytes, and on none unless they are the recorded
    ones (EvaluationDataTampered)."""
    chosen = format or format_for(key)
    if chosen not in FORMATS:
        raise UnsupportedFormat(f"format must be one of {list(FORMATS)}", formats=list(FORMATS))
    with contextlib.closing(get_store().open(key)) as source:
        if sha256 is None:
            return audit_file(source, format=chosen, spec=spec)
        with tempfile.TemporaryFile() as copy:
            _copy_checked(source, copy, key=key, sha256=sha256, size=size)
            return audit_file(copy, format=chosen, spec=spec)


def _copy_checked(
    source: BinaryIO, copy: BinaryIO, *, key: str, sha256: str, size: int | None
) -> None:
    digest, copied = hashlib.sha256(), 0
    # One byte past the recorded size tells a longer object without reading all of it.
    limit = None if size is None else size + 1
    while limit is None or copied < limit:
        chunk = source.read(SPOOL_BYTES if limit is None else min(SPOOL_BYTES, limit - copied))
        if not chunk:
            break
        digest.update(chunk)
        copy.write(chunk)
        copied += len(chunk)
    found = digest.hexdigest()
    if found != sha256 or (size is not None and copied != size):
        raise EvaluationDataTampered(
            f"the stored evaluation data {key} is not the attached document: recorded sha256"
            f" {sha256}, found {found if limit is None or copied < limit else 'a longer object'}",
            recorded_sha256=sha256,
            found_sha256=found,
            found_size=copied,
        )
    copy.seek(0)


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
