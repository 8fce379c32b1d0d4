"""The trailer of a line-based export: a last line that a complete export always ends with and a
truncated one never has, because it is written only after every other byte was produced.

- JSON Lines (the audit trail): one object with the single key `trailer`, which no event line
  has (an event line starts with `position`):
  `{"trailer":{"format":"jsonl","records":N,"sha256":"<hex>","complete":true}}` and `\\n`.
- CSV (the audit trail, a lineage subgraph): a row whose first field is `#trailer`, which no
  data row has (there the first field is a position or a record kind), then the format, the
  count, the digest and `complete`, padded with empty fields to the header's width:
  `#trailer,csv,N,<hex>,complete,,,...` and `\\n`.

`records` counts the data records before the trailer (lines of JSON Lines; rows of CSV after
the header); `sha256` is the lowercase hex SHA-256 of every byte before the trailer line (the
CSV header included). Standard library only, so an auditor's own script can copy it."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator

KEY = "trailer"
CSV_MARK = "#trailer"
COMPLETE = "complete"
FORMATS = ("jsonl", "csv")


def trailer(fmt: str, records: int, sha256: str, width: int = 0) -> bytes:
    """The trailer line of `fmt` ("jsonl" or "csv"; `width` is the CSV header's field count)."""
    if fmt == "jsonl":
        body = {"format": fmt, "records": records, "sha256": sha256, "complete": True}
        return json.dumps({KEY: body}, separators=(",", ":")).encode() + b"\n"
    if fmt == "csv":
        fields = [CSV_MARK, fmt, str(records), sha256, COMPLETE]
        return ",".join(fields + [""] * (width - len(fields))).encode() + b"\n"
    raise ValueError(f"no trailer for {fmt!r}")


def trailed(
    chunks: Iterable[bytes], fmt: str, records: Callable[[], int], width: int = 0
) -> Iterator[bytes]:
    """Pass the chunks through, then the trailer: written only once the chunks ran out, so an
    exception raised while producing them leaves the export without one. `records` is asked
    for the count after the last chunk."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
        yield chunk
    yield trailer(fmt, records(), digest.hexdigest(), width)


def _split(body: bytes) -> tuple[bytes, bytes] | None:
    """The bytes before the last line, and the last line, or None if the body does not end
    with a whole line."""
    if not body.endswith(b"\n"):
        return None
    start = body.rfind(b"\n", 0, len(body) - 1) + 1
    return body[:start], body[start:-1]


def _counted(before: bytes, fmt: str) -> int | None:
    if fmt == "jsonl":
        return before.count(b"\n")
    try:
        rows = list(csv.reader(io.StringIO(before.decode(), newline="")))
    except (UnicodeDecodeError, csv.Error):
        return None
    return len(rows) - 1 if rows else None  # less the header, which a CSV export always has


def _declared(line: bytes, fmt: str) -> tuple[int, str] | None:
    """The count and digest the trailer line declares, or None if it is not a trailer."""
    if fmt == "jsonl":
        try:
            parsed = json.loads(line)
        except ValueError:
            return None
        if not isinstance(parsed, dict) or set(parsed) != {KEY}:
            return None
        fields = parsed[KEY]
        if (
            not isinstance(fields, dict)
            or fields.get("format") != fmt
            or fields.get("complete") is not True
            or type(fields.get("records")) is not int
            or not isinstance(fields.get("sha256"), str)
        ):
            return None
        return fields["records"], fields["sha256"]
    try:
        fields = line.decode("ascii").split(",")
    except UnicodeDecodeError:
        return None
    if fields[:2] != [CSV_MARK, fmt] or len(fields) < 5 or fields[4] != COMPLETE:
        return None
    if not fields[2].isdigit() or any(fields[5:]):
        return None
    return int(fields[2]), fields[3]


def without_trailer(body: bytes, fmt: str) -> bytes:
    """The export without its trailer line, if the trailer is there and its count and digest
    match what came before it; ValueError otherwise (a truncated or altered export)."""
    if fmt not in FORMATS:
        raise ValueError(f"no trailer for {fmt!r}")
    split = _split(body)
    if split is None:
        raise ValueError("the export does not end with a whole line: truncated")
    before, line = split
    declared = _declared(line, fmt)
    if declared is None:
        raise ValueError("the export's last line is not its trailer: truncated")
    records, sha256 = declared
    if hashlib.sha256(before).hexdigest() != sha256:
        raise ValueError("the trailer's sha256 is not the digest of what came before it")
    if _counted(before, fmt) != records:
        raise ValueError("the trailer's record count is not the number of records before it")
    return before


def trail_complete(body: bytes, fmt: str) -> bool:
    """Whether `body` is a whole export of `fmt`: it ends with its trailer, whose count and
    digest match everything before it."""
    try:
        without_trailer(body, fmt)
    except ValueError:
        return False
    return True
