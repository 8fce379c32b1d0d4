"""The errors evaluation data is refused with: each an InvalidInput with a stable code that
names the column, row or values at fault (a few of them quoted)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.errors import Conflict, InvalidInput

_SHOWN = 5  # offending values quoted in an error message


class EvaluationDataError(InvalidInput):
    code = "invalid_evaluation_data"
    status = 422
    title = "The evaluation data is not valid"


class EvaluationDataTampered(Conflict):
    """The store holds other bytes than the attached document's: no verdict is computed."""

    code = "evaluation_data_tampered"
    title = "The stored evaluation data is not the attached document"


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
