"""Bias-audit metrics: per-group confusion counts aggregated chunk by chunk, then selection
rates, disparate impact, statistical parity and equalized odds against a reference group,
each with a significance test and a pass/fail verdict. Pure: numpy and scipy, no Django.

Sign convention: every difference is group minus reference and every ratio is group over
reference, so a negative statistical parity difference or a ratio below 1 means the group
is selected less often than the reference group.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from fractions import Fraction
from typing import Any, Literal

import numpy as np
from scipy import stats

from core.errors import InvalidInput

SIGN_CONVENTION = (
    "differences are group minus reference and ratios are group over reference: a negative "
    "statistical parity difference or a disparate impact ratio below 1 means the group is "
    "selected less often than the reference; equalized odds difference is "
    "max(|TPR(g) - TPR(r)|, |FPR(g) - FPR(r)|) over the rates defined for both"
)
# A prediction counts as positive (selected) when score >= score_threshold.
SCORE_RULE = "selected when score >= score_threshold"
INTERSECTION_SEPARATOR = " & "
# The z approximation holds when every expected cell of the 2x2 table is at least this
# (Cochran's rule); below it the Fisher exact test is used.
MIN_EXPECTED_FOR_Z = 5
MAX_GROUPS_PER_SLICE = 10_000
# Group codes of an intersection are combined into one int64 per row.
MAX_COMBINED_CODE = 2**62

ReferenceKind = Literal["highest_selection_rate", "privileged", "overall"]
Verdict = Literal["pass", "fail", "not_judged"]

# Outcome cells, indexed by 2 * label + prediction.
TN, FP, FN, TP = 0, 1, 2, 3


class InvalidAuditSpec(InvalidInput):
    code = "invalid_audit_spec"
    title = "The bias-audit specification is not valid"


class TooManyGroups(InvalidInput):
    code = "too_many_groups"
    status = 422
    title = "A protected attribute has too many distinct values to audit"


class ReferenceGroupMissing(InvalidInput):
    code = "reference_group_missing"
    status = 422
    title = "The named privileged group has no rows in the evaluation data"


# -- the specification --------------------------------------------------------------------


def _exact(value: float) -> Fraction:
    # Through the shortest decimal repr, so 0.8 means 4/5 and a rate of exactly 4/5 passes.
    return Fraction(repr(float(value)))


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidAuditSpec(f"{name} must be a finite number")
    return float(value)


@dataclass(frozen=True)
class Thresholds:
    """Defaults from the governance policy: DIR < 0.8, SPD < -0.10 and EOD > 0.10 fail;
    groups smaller than min_group_size are reported, not judged."""

    min_disparate_impact_ratio: float = 0.8
    min_statistical_parity_difference: float = -0.10
    max_equalized_odds_difference: float = 0.10
    min_group_size: int = 30
    significance_level: float = 0.05

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "min_group_size":
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise InvalidAuditSpec("min_group_size must be a non-negative integer")
            else:
                object.__setattr__(self, item.name, _number(value, item.name))
        if not 0 < self.significance_level < 1:
            raise InvalidAuditSpec("significance_level must be between 0 and 1")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Thresholds:
        _refuse_unknown(data, cls, "thresholds")
        return cls(**data)

    def as_dict(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


@dataclass(frozen=True)
class ReferenceRule:
    """How each slice picks the group others are compared with: the judged group with the
    highest selection rate, a named privileged group per slice, or the whole population."""

    kind: ReferenceKind = "highest_selection_rate"
    # slice name ("sex", or "sex & ethnicity" for an intersection) -> the group's values
    privileged: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ("highest_selection_rate", "privileged", "overall"):
            raise InvalidAuditSpec(
                "reference kind must be highest_selection_rate, privileged or overall"
            )
        if not isinstance(self.privileged, Mapping):
            raise InvalidAuditSpec("privileged maps each attribute to its privileged group")
        privileged = {}
        for name, values in self.privileged.items():
            values = (values,) if isinstance(values, str) else values
            if (
                not isinstance(name, str)
                or not isinstance(values, Sequence)
                or not values
                or not all(isinstance(v, str) for v in values)
            ):
                raise InvalidAuditSpec(
                    "privileged maps an attribute (or intersection) name to its group's values"
                )
            privileged[name] = tuple(values)
        if self.kind == "privileged" and not privileged:
            raise InvalidAuditSpec("the privileged rule needs the privileged group of each slice")
        if self.kind != "privileged" and privileged:
            raise InvalidAuditSpec("privileged groups are only given with the privileged rule")
        object.__setattr__(self, "privileged", dict(sorted(privileged.items())))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReferenceRule:
        _refuse_unknown(data, cls, "reference")
        return cls(**data)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "privileged": {k: list(v) for k, v in self.privileged.items()}}


@dataclass(frozen=True)
class AuditSpec:
    """What to audit: column names, the protected attributes and their intersections, how a
    positive decision is read (a 0/1 prediction column, or a score and a threshold), the
    reference rule and the thresholds. `groups` optionally declares each attribute's values:
    others are refused, and declared values without rows are reported as empty groups."""

    attributes: tuple[str, ...]
    intersections: tuple[tuple[str, ...], ...] = ()
    label: str = "label"
    prediction: str | None = "prediction"
    score: str | None = None
    score_threshold: float | None = None
    reference: ReferenceRule = field(default_factory=ReferenceRule)
    thresholds: Thresholds = field(default_factory=Thresholds)
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        attributes = _names(self.attributes, "attributes")
        if not attributes:
            raise InvalidAuditSpec("name at least one protected attribute")
        intersections = []
        for combo in self.intersections:
            combo = _names(combo, "an intersection")
            if len(combo) < 2 or not set(combo) <= set(attributes):
                raise InvalidAuditSpec(
                    "an intersection names two or more of the protected attributes"
                )
            if combo in intersections:
                raise InvalidAuditSpec("an intersection is listed twice")
            intersections.append(combo)
        object.__setattr__(self, "attributes", attributes)
        object.__setattr__(self, "intersections", tuple(intersections))
        if (self.prediction is None) == (self.score is None):
            raise InvalidAuditSpec("name either a prediction column or a score column")
        if self.score is not None:
            if self.score_threshold is None:
                raise InvalidAuditSpec("a score column needs a score_threshold")
            object.__setattr__(
                self, "score_threshold", _number(self.score_threshold, "score_threshold")
            )
        elif self.score_threshold is not None:
            raise InvalidAuditSpec("score_threshold only applies with a score column")
        outcome = [self.label, self.prediction or self.score]
        if not all(isinstance(name, str) and name for name in outcome):
            raise InvalidAuditSpec("column names are non-empty text")
        if len(set(outcome + list(attributes))) != len(outcome) + len(attributes):
            raise InvalidAuditSpec("the label, decision and attribute columns must differ")
        if not isinstance(self.reference, ReferenceRule) or not isinstance(
            self.thresholds, Thresholds
        ):
            raise InvalidAuditSpec(
                "reference and thresholds must be a ReferenceRule and Thresholds"
            )
        groups = {}
        for name, values in dict(self.groups).items():
            if name not in attributes:
                raise InvalidAuditSpec(f"groups are declared for {name!r}, not an attribute")
            values = _names(values, f"the groups of {name!r}")
            if not values:
                raise InvalidAuditSpec(f"declare at least one group of {name!r}")
            groups[name] = tuple(sorted(values))
        object.__setattr__(self, "groups", groups)
        self._check_privileged()

    def _check_privileged(self) -> None:
        if self.reference.kind != "privileged":
            return
        names = {slice_name(combo) for combo in self.slices}
        unknown = set(self.reference.privileged) - names
        if unknown:
            raise InvalidAuditSpec(
                f"privileged groups are given for unknown slices {sorted(unknown)}"
            )
        for combo in self.slices:
            values = self.privileged_values(combo)
            if values is None:
                raise InvalidAuditSpec(f"name the privileged group of {slice_name(combo)!r}")
            if len(values) != len(combo):
                raise InvalidAuditSpec(
                    f"the privileged group of {slice_name(combo)!r} needs {len(combo)} values"
                )
            for attribute, value in zip(combo, values, strict=True):
                declared = self.groups.get(attribute)
                if declared is not None and value not in declared:
                    raise InvalidAuditSpec(
                        f"privileged value {value!r} is not a declared group of {attribute!r}"
                    )

    @property
    def decision_column(self) -> str:
        return self.prediction if self.prediction is not None else str(self.score)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the audit reads."""
        return (self.label, self.decision_column, *self.attributes)

    @property
    def slices(self) -> tuple[tuple[str, ...], ...]:
        return tuple((name,) for name in self.attributes) + self.intersections

    def privileged_values(self, combo: tuple[str, ...]) -> tuple[str, ...] | None:
        """The named privileged group of a slice; an intersection not named explicitly takes
        the privileged value of each of its attributes."""
        named = self.reference.privileged
        explicit = named.get(slice_name(combo))
        if explicit is not None:
            return explicit
        if len(combo) > 1 and all(name in named for name in combo):
            parts = [named[name] for name in combo]
            if all(len(part) == 1 for part in parts):
                return tuple(part[0] for part in parts)
        return None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditSpec:
        """From plain data (a policy document or a request body)."""
        if not isinstance(data, Mapping):
            raise InvalidAuditSpec("an audit specification is an object")
        _refuse_unknown(data, cls, "the audit specification")
        values = dict(data)
        if "attributes" not in values:
            raise InvalidAuditSpec("name at least one protected attribute")
        if isinstance(values.get("reference"), Mapping):
            values["reference"] = ReferenceRule.from_dict(values["reference"])
        if isinstance(values.get("thresholds"), Mapping):
            values["thresholds"] = Thresholds.from_dict(values["thresholds"])
        values["attributes"] = _names(values["attributes"], "attributes")
        values["intersections"] = tuple(
            _names(combo, "an intersection") for combo in _sequence(values.get("intersections", ()))
        )
        if not isinstance(values.get("groups", {}), Mapping):
            raise InvalidAuditSpec("groups maps attribute names to lists of values")
        try:
            return cls(**values)
        except TypeError as exc:
            raise InvalidAuditSpec(f"the audit specification is not valid: {exc}") from exc

    def as_dict(self) -> dict[str, Any]:
        return {
            "attributes": list(self.attributes),
            "intersections": [list(combo) for combo in self.intersections],
            "label": self.label,
            "prediction": self.prediction,
            "score": self.score,
            "score_threshold": self.score_threshold,
            "reference": self.reference.as_dict(),
            "thresholds": self.thresholds.as_dict(),
            "groups": {name: list(values) for name, values in self.groups.items()},
        }


def spec_with_thresholds(spec: Any, thresholds: Mapping[str, Any]) -> AuditSpec:
    """An audit specification as a client gives it (no thresholds: those come from the policy
    in force for the model's tier), completed with `thresholds`."""
    if not isinstance(spec, dict):
        raise InvalidInput("spec is an audit specification object")
    if "thresholds" in spec:
        raise InvalidInput("thresholds come from the policy in force, not the request")
    return AuditSpec.from_dict({**spec, "thresholds": thresholds})


def _refuse_unknown(data: Mapping[str, Any], cls: type, what: str) -> None:
    unknown = set(data) - {item.name for item in fields(cls)}
    if unknown:
        raise InvalidAuditSpec(f"{what} has unknown fields {sorted(map(str, unknown))}")


def _sequence(value: Any) -> Sequence[Any]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidAuditSpec("expected a list")
    return value


def _names(value: Any, what: str) -> tuple[str, ...]:
    names = tuple(_sequence(value))
    if not all(isinstance(name, str) and name for name in names):
        raise InvalidAuditSpec(f"{what} must be a list of non-empty text")
    if len(set(names)) != len(names):
        raise InvalidAuditSpec(f"{what} lists a name twice")
    return names


def slice_name(combo: Sequence[str]) -> str:
    return INTERSECTION_SEPARATOR.join(combo)


# -- counting -----------------------------------------------------------------------------


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


# -- results ------------------------------------------------------------------------------


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


def encode(values: Sequence[Any]) -> EncodedColumn:
    """Dictionary-encode a small in-memory column of text values (for callers holding rows)."""
    categories: dict[str, int] = {}
    codes = np.fromiter(
        (categories.setdefault(str(value), len(categories)) for value in values),
        dtype=np.int64,
        count=len(values),
    )
    return EncodedColumn(codes=codes, categories=tuple(categories))
