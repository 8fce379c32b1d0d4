"""The bias-audit specification: what is audited (label, prediction or score, protected
attributes and their intersections), against which reference group and thresholds, checked
when given; with the vocabulary the counting and the metrics share (verdicts, outcome cells,
limits) and the errors an audit refuses with. Pure: no Django."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from fractions import Fraction
from typing import Any, Literal

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
