"""Bias-audit metrics: per-group confusion counts aggregated chunk by chunk, then selection
rates, disparate impact, statistical parity and equalized odds against a reference group,
each with a significance test and a pass/fail verdict. Pure: numpy and scipy, no Django.

Sign convention: every difference is group minus reference and every ratio is group over
reference, so a negative statistical parity difference or a ratio below 1 means the group
is selected less often than the reference group.

The specification and its vocabulary are in `spec`, the chunked counting in `counting`, the
metrics and verdicts in `metrics` and the result types in `results`; everything public is
re-exported here."""

from governance.fairness.counting import (
    Chunk,
    CountAccumulator,
    EncodedColumn,
    encode,
    run_audit,
)
from governance.fairness.metrics import (
    build_result,
    proportion_test,
)
from governance.fairness.results import (
    AuditResult,
    Counts,
    GroupResult,
    SignificanceTest,
    SliceResult,
)
from governance.fairness.spec import (
    FN,
    FP,
    INTERSECTION_SEPARATOR,
    MAX_COMBINED_CODE,
    MAX_GROUPS_PER_SLICE,
    MIN_EXPECTED_FOR_Z,
    SCORE_RULE,
    SIGN_CONVENTION,
    TN,
    TP,
    AuditSpec,
    InvalidAuditSpec,
    ReferenceGroupMissing,
    ReferenceKind,
    ReferenceRule,
    Thresholds,
    TooManyGroups,
    Verdict,
    slice_name,
    spec_with_thresholds,
)

__all__ = [
    "FN",
    "FP",
    "INTERSECTION_SEPARATOR",
    "MAX_COMBINED_CODE",
    "MAX_GROUPS_PER_SLICE",
    "MIN_EXPECTED_FOR_Z",
    "SCORE_RULE",
    "SIGN_CONVENTION",
    "TN",
    "TP",
    "AuditResult",
    "AuditSpec",
    "Chunk",
    "CountAccumulator",
    "Counts",
    "EncodedColumn",
    "GroupResult",
    "InvalidAuditSpec",
    "ReferenceGroupMissing",
    "ReferenceKind",
    "ReferenceRule",
    "SignificanceTest",
    "SliceResult",
    "Thresholds",
    "TooManyGroups",
    "Verdict",
    "build_result",
    "encode",
    "proportion_test",
    "run_audit",
    "slice_name",
    "spec_with_thresholds",
]
