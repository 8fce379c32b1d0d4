"""Audit results: the counts, metrics, significance tests and verdicts of every group and
slice, as frozen dataclasses that render to plain JSON (`as_dict`). Pure: no Django."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

from governance.fairness.spec import (
    AuditSpec,
    Verdict,
)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if hasattr(value, "as_dict"):
        return value.as_dict()
    return value


class _AsDict:
    def as_dict(self) -> dict[str, Any]:
        return {item.name: _plain(getattr(self, item.name)) for item in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class SignificanceTest(_AsDict):
    """Two-sided test that the group's rate equals the reference's: Fisher's exact test when
    an expected cell count is under 5, otherwise the pooled two-proportion z test. The
    statistic is the sample odds ratio (Fisher, null when infinite) or z."""

    test: Literal["fisher_exact", "two_proportion_z"]
    statistic: float | None
    p_value: float
    significant: bool


@dataclass(frozen=True)
class Counts(_AsDict):
    n: int
    selected: int
    tp: int
    fp: int
    fn: int
    tn: int
    selection_rate: float | None
    true_positive_rate: float | None
    false_positive_rate: float | None


@dataclass(frozen=True)
class GroupResult(_AsDict):
    group: str
    values: dict[str, str]
    counts: Counts
    is_reference: bool
    judged: bool
    # why the group was not judged: small_group, small_reference, or None
    not_judged_reason: str | None
    disparate_impact_ratio: float | None
    statistical_parity_difference: float | None
    equalized_odds_difference: float | None
    true_positive_rate_difference: float | None
    false_positive_rate_difference: float | None
    selection_rate_test: SignificanceTest | None
    true_positive_rate_test: SignificanceTest | None
    false_positive_rate_test: SignificanceTest | None
    # metric name -> pass / fail / not_judged
    checks: dict[str, Verdict]
    verdict: Verdict


@dataclass(frozen=True)
class SliceResult(_AsDict):
    name: str
    attributes: list[str]
    reference_group: str | None
    reference: Counts
    groups: list[GroupResult]
    # fairlearn-style spreads over the judged groups (max - min, min / max)
    demographic_parity_ratio: float | None
    demographic_parity_difference: float | None
    equalized_odds_difference: float | None
    verdict: Verdict


@dataclass(frozen=True)
class AuditResult(_AsDict):
    spec: AuditSpec
    rows: int
    overall: Counts
    slices: list[SliceResult]
    sign_convention: str
    decision_rule: str
    verdict: Verdict
