"""Counting: evaluation rows arrive in chunks (labels, a 0/1 prediction or a score, and the
dictionary-encoded protected attributes), and per-group confusion counts of every slice are
added one chunk at a time, so memory grows with the number of groups, never with the rows.
Pure: numpy, no Django."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from governance.fairness.metrics import build_result
from governance.fairness.results import AuditResult
from governance.fairness.spec import (
    MAX_COMBINED_CODE,
    MAX_GROUPS_PER_SLICE,
    AuditSpec,
    TooManyGroups,
    slice_name,
)


@dataclass(frozen=True)
class EncodedColumn:
    """A dictionary-encoded protected attribute: row i belongs to categories[codes[i]]."""

    codes: np.ndarray
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Chunk:
    """A slice of evaluation rows, already validated: labels and predictions are 0/1 arrays
    (or scores, thresholded by the spec), attributes dictionary-encoded."""

    labels: np.ndarray
    attributes: Mapping[str, EncodedColumn]
    predictions: np.ndarray | None = None
    scores: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)


class CountAccumulator:
    """Confusion counts per group of every slice, added one chunk at a time: memory grows
    with the number of groups, never with the number of rows."""

    def __init__(self, spec: AuditSpec) -> None:
        self.spec = spec
        self.overall = np.zeros(4, dtype=np.int64)
        self.counts: dict[tuple[str, ...], dict[tuple[str, ...], np.ndarray]] = {
            combo: {} for combo in spec.slices
        }

    @property
    def rows(self) -> int:
        return int(self.overall.sum())

    def add(self, chunk: Chunk) -> None:
        rows = len(chunk)
        outcome = self._outcome(chunk)
        if rows == 0:
            return
        self.overall += np.bincount(outcome, minlength=4)
        for combo, table in self.counts.items():
            self._add_slice(combo, table, chunk, outcome, rows)

    def _outcome(self, chunk: Chunk) -> np.ndarray:
        labels = np.asarray(chunk.labels)
        if chunk.scores is not None:
            if self.spec.score_threshold is None:
                raise ValueError("scores given to an audit without a score threshold")
            predicted = np.asarray(chunk.scores) >= self.spec.score_threshold
        elif chunk.predictions is not None:
            predicted = np.asarray(chunk.predictions)
        else:
            raise ValueError("a chunk carries predictions or scores")
        if predicted.shape != labels.shape:
            raise ValueError("labels and decisions differ in length")
        outcome = labels.astype(np.intp) * 2 + predicted.astype(np.intp)
        if outcome.size and (outcome.min() < 0 or outcome.max() > 3):
            raise ValueError("labels and predictions must be 0 or 1")
        return outcome

    def _add_slice(
        self,
        combo: tuple[str, ...],
        table: dict[tuple[str, ...], np.ndarray],
        chunk: Chunk,
        outcome: np.ndarray,
        rows: int,
    ) -> None:
        columns = [chunk.attributes[name] for name in combo]
        sizes = [max(1, len(column.categories)) for column in columns]
        combined = np.zeros(rows, dtype=np.int64)
        for column, size in zip(columns, sizes, strict=True):
            if len(column.codes) != rows:
                raise ValueError("an attribute differs in length from the labels")
            combined = combined * size + column.codes
        space = math.prod(sizes)
        if max(sizes) > MAX_GROUPS_PER_SLICE or space > MAX_COMBINED_CODE:
            raise TooManyGroups(
                f"{slice_name(combo)!r} has more than {MAX_GROUPS_PER_SLICE} groups",
                slice=slice_name(combo),
            )
        if space <= 4 * rows + 1024:
            cells = np.bincount(combined * 4 + outcome, minlength=space * 4).reshape(space, 4)
            present = np.flatnonzero(cells.any(axis=1))
            found = present
            counted = cells[present]
        else:  # sparse combinations of large dictionaries: count only what occurs
            found, inverse = np.unique(combined, return_inverse=True)
            counted = np.bincount(inverse * 4 + outcome, minlength=len(found) * 4).reshape(-1, 4)
        for code, cells_of_group in zip(found.tolist(), counted, strict=True):
            key = []
            for column, size in zip(reversed(columns), reversed(sizes), strict=True):
                code, index = divmod(code, size)
                key.append(column.categories[index])
            group = tuple(reversed(key))
            if group in table:
                table[group] += cells_of_group
            else:
                if len(table) >= MAX_GROUPS_PER_SLICE:
                    raise TooManyGroups(
                        f"{slice_name(combo)!r} has more than {MAX_GROUPS_PER_SLICE} groups",
                        slice=slice_name(combo),
                    )
                table[group] = cells_of_group.astype(np.int64)

    def result(self) -> AuditResult:
        return build_result(self.spec, self.overall, self.counts)


def run_audit(chunks: Iterable[Chunk], spec: AuditSpec) -> AuditResult:
    """Aggregate the chunks, then judge every group of every slice."""
    accumulator = CountAccumulator(spec)
    for chunk in chunks:
        accumulator.add(chunk)
    return accumulator.result()


def encode(values: Sequence[Any]) -> EncodedColumn:
    """Dictionary-encode a small in-memory column of text values (for callers holding rows)."""
    categories: dict[str, int] = {}
    codes = np.fromiter(
        (categories.setdefault(str(value), len(categories)) for value in values),
        dtype=np.int64,
        count=len(values),
    )
    return EncodedColumn(codes=codes, categories=tuple(categories))
