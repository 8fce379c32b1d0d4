"""Metrics: from the confusion counts, selection rates, disparate impact, statistical parity
and equalized odds of every group against the reference, each with a significance test
(Fisher's exact or the two-proportion z test) and a verdict against the thresholds.
Pure: numpy and scipy, no Django."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
from scipy import stats

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
    MIN_EXPECTED_FOR_Z,
    SCORE_RULE,
    SIGN_CONVENTION,
    TN,
    TP,
    AuditSpec,
    ReferenceGroupMissing,
    Verdict,
    _exact,
    slice_name,
)


def _ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


def _float(value: Fraction | float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class _Rates:
    cells: tuple[int, int, int, int]  # TN, FP, FN, TP

    @property
    def n(self) -> int:
        return sum(self.cells)

    @property
    def selected(self) -> int:
        return self.cells[FP] + self.cells[TP]

    @property
    def positives(self) -> int:
        return self.cells[TP] + self.cells[FN]

    @property
    def negatives(self) -> int:
        return self.cells[FP] + self.cells[TN]

    @property
    def selection_rate(self) -> Fraction | None:
        return _ratio(self.selected, self.n)

    @property
    def tpr(self) -> Fraction | None:
        return _ratio(self.cells[TP], self.positives)

    @property
    def fpr(self) -> Fraction | None:
        return _ratio(self.cells[FP], self.negatives)

    def minus(self, other: _Rates) -> _Rates:
        return _Rates(tuple(a - b for a, b in zip(self.cells, other.cells, strict=True)))  # type: ignore[arg-type]

    def counts(self) -> Counts:
        tn, fp, fn, tp = self.cells
        return Counts(
            n=self.n,
            selected=self.selected,
            tp=tp,
            fp=fp,
            fn=fn,
            tn=tn,
            selection_rate=_float(self.selection_rate),
            true_positive_rate=_float(self.tpr),
            false_positive_rate=_float(self.fpr),
        )


def _rates(cells: np.ndarray | Sequence[int]) -> _Rates:
    return _Rates(tuple(int(c) for c in cells))  # type: ignore[arg-type]


def proportion_test(
    successes: int, trials: int, other_successes: int, other_trials: int, *, alpha: float
) -> SignificanceTest | None:
    """Are successes/trials and other_successes/other_trials different? None when either
    side has no trials."""
    if trials == 0 or other_trials == 0:
        return None
    table = [[successes, trials - successes], [other_successes, other_trials - other_successes]]
    total = trials + other_trials
    column_totals = (successes + other_successes, total - successes - other_successes)
    smallest_expected = min(
        row * col / total for row in (trials, other_trials) for col in column_totals
    )
    if smallest_expected < MIN_EXPECTED_FOR_Z:
        odds_ratio, p_value = stats.fisher_exact(table, alternative="two-sided")
        test: Literal["fisher_exact", "two_proportion_z"] = "fisher_exact"
        statistic = _float(float(odds_ratio))
    else:
        pooled = column_totals[0] / total
        error = math.sqrt(pooled * (1 - pooled) * (1 / trials + 1 / other_trials))
        z = (successes / trials - other_successes / other_trials) / error
        p_value = 2 * stats.norm.sf(abs(z))
        test = "two_proportion_z"
        statistic = _float(z)
    p = min(1.0, max(0.0, float(p_value)))
    return SignificanceTest(test=test, statistic=statistic, p_value=p, significant=p < alpha)


def _label(values: tuple[str, ...]) -> str:
    return INTERSECTION_SEPARATOR.join(values)


def _check(value: Fraction | None, limit: float, *, fails_below: bool) -> Verdict:
    if value is None:
        return "not_judged"
    bad = value < _exact(limit) if fails_below else value > _exact(limit)
    return "fail" if bad else "pass"


def _combine(verdicts: Iterable[Verdict]) -> Verdict:
    seen = set(verdicts)
    if "fail" in seen:
        return "fail"
    return "pass" if "pass" in seen else "not_judged"


def _spread(values: list[Fraction | None]) -> Fraction | None:
    defined = [v for v in values if v is not None]
    return max(defined) - min(defined) if defined else None


def _pick_reference(
    spec: AuditSpec, combo: tuple[str, ...], groups: dict[tuple[str, ...], _Rates]
) -> tuple[str, ...] | None:
    kind = spec.reference.kind
    if kind == "overall":
        return None
    if kind == "privileged":
        values = spec.privileged_values(combo)
        if values is None or groups.get(values, _Rates((0, 0, 0, 0))).n == 0:
            raise ReferenceGroupMissing(
                f"the privileged group {_label(values or ())!r} of {slice_name(combo)!r} "
                "has no rows",
                slice=slice_name(combo),
            )
        return values
    minimum = spec.thresholds.min_group_size
    candidates = [key for key, rates in groups.items() if rates.n >= max(1, minimum)]
    if not candidates:
        candidates = [key for key, rates in groups.items() if rates.n > 0]
    if not candidates:
        return None
    # Highest selection rate; ties go to the first group in sorted order, so reruns agree.
    return min(candidates, key=lambda key: (-groups[key].selection_rate, key))  # type: ignore[operator]


def _judge_slice(
    spec: AuditSpec,
    combo: tuple[str, ...],
    table: dict[tuple[str, ...], np.ndarray],
    overall: _Rates,
) -> SliceResult:
    thresholds = spec.thresholds
    groups = {key: _rates(cells) for key, cells in table.items()}
    if len(combo) == 1 and combo[0] in spec.groups:
        for value in spec.groups[combo[0]]:
            groups.setdefault((value,), _Rates((0, 0, 0, 0)))
    reference_key = _pick_reference(spec, combo, groups)
    reference = overall if reference_key is None else groups[reference_key]
    minimum = thresholds.min_group_size
    results = []
    judged_rates = []
    for key in sorted(groups):
        rates = groups[key]
        is_reference = key == reference_key
        # Under the overall rule each group is tested against everyone else, so the two
        # samples of the test are independent.
        against = overall.minus(rates) if reference_key is None else reference
        reason = None
        if rates.n < max(1, minimum):
            reason = "small_group"
        elif reference.n < max(1, minimum):
            reason = "small_reference"
        judged = reason is None
        if judged:
            judged_rates.append(rates)
        sr_g, sr_r = rates.selection_rate, reference.selection_rate
        dir_ = sr_g / sr_r if sr_g is not None and sr_r else None
        spd = sr_g - sr_r if sr_g is not None and sr_r is not None else None
        tpr_diff = (
            rates.tpr - reference.tpr
            if rates.tpr is not None and reference.tpr is not None
            else None
        )
        fpr_diff = (
            rates.fpr - reference.fpr
            if rates.fpr is not None and reference.fpr is not None
            else None
        )
        parts = [abs(d) for d in (tpr_diff, fpr_diff) if d is not None]
        eod = max(parts) if parts else None
        if judged:
            checks: dict[str, Verdict] = {
                "disparate_impact_ratio": _check(
                    dir_, thresholds.min_disparate_impact_ratio, fails_below=True
                ),
                "statistical_parity_difference": _check(
                    spd, thresholds.min_statistical_parity_difference, fails_below=True
                ),
                "equalized_odds_difference": _check(
                    eod, thresholds.max_equalized_odds_difference, fails_below=False
                ),
            }
        else:
            checks = dict.fromkeys(
                (
                    "disparate_impact_ratio",
                    "statistical_parity_difference",
                    "equalized_odds_difference",
                ),
                "not_judged",
            )
        alpha = thresholds.significance_level
        tests = (None, None, None)
        if not is_reference:
            tests = (
                proportion_test(rates.selected, rates.n, against.selected, against.n, alpha=alpha),
                proportion_test(
                    rates.cells[TP],
                    rates.positives,
                    against.cells[TP],
                    against.positives,
                    alpha=alpha,
                ),
                proportion_test(
                    rates.cells[FP],
                    rates.negatives,
                    against.cells[FP],
                    against.negatives,
                    alpha=alpha,
                ),
            )
        results.append(
            GroupResult(
                group=_label(key),
                values=dict(zip(combo, key, strict=True)),
                counts=rates.counts(),
                is_reference=is_reference,
                judged=judged,
                not_judged_reason=reason,
                disparate_impact_ratio=_float(dir_),
                statistical_parity_difference=_float(spd),
                equalized_odds_difference=_float(eod),
                true_positive_rate_difference=_float(tpr_diff),
                false_positive_rate_difference=_float(fpr_diff),
                selection_rate_test=tests[0],
                true_positive_rate_test=tests[1],
                false_positive_rate_test=tests[2],
                checks=checks,
                verdict=_combine(checks.values()),
            )
        )
    selection = [r.selection_rate for r in judged_rates]
    defined = [s for s in selection if s is not None]
    tpr_spread = _spread([r.tpr for r in judged_rates])
    fpr_spread = _spread([r.fpr for r in judged_rates])
    spreads = [s for s in (tpr_spread, fpr_spread) if s is not None]
    return SliceResult(
        name=slice_name(combo),
        attributes=list(combo),
        reference_group=None if reference_key is None else _label(reference_key),
        reference=reference.counts(),
        groups=results,
        demographic_parity_ratio=_float(min(defined) / max(defined))
        if defined and max(defined)
        else None,
        demographic_parity_difference=_float(max(defined) - min(defined)) if defined else None,
        equalized_odds_difference=_float(max(spreads)) if spreads else None,
        verdict=_combine(result.verdict for result in results),
    )


def build_result(
    spec: AuditSpec,
    overall_cells: np.ndarray,
    counts: Mapping[tuple[str, ...], Mapping[tuple[str, ...], np.ndarray]],
) -> AuditResult:
    overall = _rates(overall_cells)
    slices = [_judge_slice(spec, combo, dict(counts[combo]), overall) for combo in spec.slices]
    return AuditResult(
        spec=spec,
        rows=overall.n,
        overall=overall.counts(),
        slices=slices,
        sign_convention=SIGN_CONVENTION,
        decision_rule="prediction == 1" if spec.score is None else SCORE_RULE,
        verdict=_combine(item.verdict for item in slices),
    )
