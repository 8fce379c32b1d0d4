"""Bias-audit metrics checked against fairlearn on generated data, the edge cases the
governance policy cares about, and evaluation data read from CSV, Parquet and JSON rows,
including through the local and S3 artifact stores."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import math
import random
import uuid

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from core.errors import InvalidInput
from governance import evaluation_data
from governance.evaluation_data import (
    DuplicateColumns,
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
    audit_artifact,
    audit_file,
    audit_rows,
    format_for,
)
from governance.fairness import (
    AuditSpec,
    Chunk,
    InvalidAuditSpec,
    ReferenceGroupMissing,
    ReferenceRule,
    Thresholds,
    TooManyGroups,
    encode,
    proportion_test,
    run_audit,
)

# The artifact store fixtures, shared with the registry tests.
from tests.registry.conftest import local_store, s3_admin, s3_endpoint, s3_store, store  # noqa: F401

ATTRIBUTES = ("sex", "ethnicity", "age_band")
VALUES = {"sex": ("f", "m"), "ethnicity": ("a", "b", "c"), "age_band": ("young", "old")}
TOLERANCE = 1e-12


def frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["label", "prediction", *ATTRIBUTES])


def chunk_of(df: pd.DataFrame, *, scores: bool = False) -> Chunk:
    attributes = {name: encode(df[name].tolist()) for name in ATTRIBUTES}
    labels = df["label"].to_numpy(dtype=np.uint8)
    if scores:
        return Chunk(labels=labels, scores=df["score"].to_numpy(dtype=float), attributes=attributes)
    return Chunk(labels=labels, predictions=df["prediction"].to_numpy(), attributes=attributes)


def audit(df: pd.DataFrame, **spec) -> dict:
    spec.setdefault("attributes", ATTRIBUTES)
    return run_audit([chunk_of(df)], AuditSpec(**spec)).as_dict()


def slice_of(result: dict, name: str) -> dict:
    return next(item for item in result["slices"] if item["name"] == name)


def group_of(result: dict, slice_name: str, group: str) -> dict:
    return next(g for g in slice_of(result, slice_name)["groups"] if g["group"] == group)


def close(ours: float | None, theirs: float) -> bool:
    return ours is not None and math.isclose(ours, float(theirs), abs_tol=TOLERANCE)


rows_strategy = st.lists(
    st.tuples(
        st.integers(0, 1),
        st.integers(0, 1),
        st.sampled_from(VALUES["sex"]),
        st.sampled_from(VALUES["ethnicity"]),
        st.sampled_from(VALUES["age_band"]),
    ),
    min_size=1,
    max_size=300,
)


# -- against fairlearn ----------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(rows=rows_strategy)
def test_group_rates_match_fairlearn_for_every_attribute_and_intersection(rows):
    df = frame(rows)
    result = audit(
        df,
        intersections=(("sex", "ethnicity"),),
        thresholds=Thresholds(min_group_size=0),
    )
    metrics = {
        "sr": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
        "n": count,
    }
    for slice_name, columns in [
        ("sex", ["sex"]),
        ("ethnicity", ["ethnicity"]),
        ("age_band", ["age_band"]),
        ("sex & ethnicity", ["sex", "ethnicity"]),
    ]:
        reference = MetricFrame(
            metrics=metrics,
            y_true=df["label"],
            y_pred=df["prediction"],
            sensitive_features=df[columns],
        ).by_group.dropna()
        ours = {g["group"]: g for g in slice_of(result, slice_name)["groups"]}
        assert len(ours) == len(reference)
        top = reference["sr"].max()
        for key, expected in reference.iterrows():
            label = " & ".join(key) if isinstance(key, tuple) else key
            group = ours[label]
            counts = group["counts"]
            assert counts["n"] == expected["n"]
            assert close(counts["selection_rate"], expected["sr"])
            values = key if isinstance(key, tuple) else (key,)
            mask = np.logical_and.reduce([df[c] == v for c, v in zip(columns, values, strict=True)])
            sub = df[mask]
            positives, negatives = int(sub["label"].sum()), int((1 - sub["label"]).sum())
            assert counts["tp"] + counts["fn"] == positives
            assert counts["fp"] + counts["tn"] == negatives
            if positives:
                assert close(counts["true_positive_rate"], expected["tpr"])
            else:
                assert counts["true_positive_rate"] is None
            if negatives:
                assert close(counts["false_positive_rate"], expected["fpr"])
            else:
                assert counts["false_positive_rate"] is None
            # The reference is the group with the highest selection rate.
            if top > 0:
                assert close(group["disparate_impact_ratio"], expected["sr"] / top)
            else:
                assert group["disparate_impact_ratio"] is None
            assert close(group["statistical_parity_difference"], expected["sr"] - top)


@settings(max_examples=150, deadline=None)
@given(rows=rows_strategy)
def test_slice_spreads_match_fairlearn_aggregates(rows):
    df = frame(rows)
    result = audit(df, thresholds=Thresholds(min_group_size=0))
    for name in ATTRIBUTES:
        summary = slice_of(result, name)
        features = df[name]
        top = df.groupby(name)["prediction"].mean().max()
        if top > 0:
            assert close(
                summary["demographic_parity_ratio"],
                demographic_parity_ratio(
                    df["label"], df["prediction"], sensitive_features=features
                ),
            )
        assert close(
            summary["demographic_parity_difference"],
            demographic_parity_difference(
                df["label"], df["prediction"], sensitive_features=features
            ),
        )
        # fairlearn reads an undefined TPR or FPR as 0; compare where every group has both.
        both = df.groupby(name)["label"].agg(["min", "max"])
        if (both["min"] == 0).all() and (both["max"] == 1).all():
            assert close(
                summary["equalized_odds_difference"],
                equalized_odds_difference(
                    df["label"], df["prediction"], sensitive_features=features
                ),
            )


@settings(max_examples=60, deadline=None)
@given(rows=rows_strategy, cuts=st.lists(st.integers(0, 300), max_size=6), seed=st.integers())
def test_result_is_the_same_however_rows_are_chunked_or_ordered(rows, cuts, seed):
    df = frame(rows)
    spec = AuditSpec(attributes=ATTRIBUTES, intersections=(("sex", "ethnicity", "age_band"),))
    whole = run_audit([chunk_of(df)], spec).as_dict()
    shuffled = df.sample(frac=1, random_state=seed % 2**32).reset_index(drop=True)
    bounds = sorted({0, len(df), *(c for c in cuts if c < len(df))})
    pieces = [chunk_of(shuffled.iloc[a:b]) for a, b in itertools.pairwise(bounds)]
    assert run_audit(pieces, spec).as_dict() == whole
    assert json.loads(json.dumps(whole, allow_nan=False)) == whole


# -- rules and edge cases -------------------------------------------------------------------


def rows_with(groups: dict[str, tuple[int, int, int, int]], attribute: str = "sex") -> list[tuple]:
    """Rows from per-group cells (tp, fp, fn, tn); other attributes fixed."""
    rows = []
    for value, (tp, fp, fn, tn) in groups.items():
        for label, prediction, times in ((1, 1, tp), (0, 1, fp), (1, 0, fn), (0, 0, tn)):
            row = {"sex": "f", "ethnicity": "a", "age_band": "young", attribute: value}
            rows += [(label, prediction, row["sex"], row["ethnicity"], row["age_band"])] * times
    return rows


def test_four_fifths_rule_passes_at_exactly_four_fifths_when_reference_is_highest_rate():
    # f: 40 of 100 selected; m: 50 of 100 -> DIR = 0.8 exactly, SPD = -0.10 exactly.
    df = frame(rows_with({"f": (20, 20, 30, 30), "m": (25, 25, 25, 25)}))
    result = audit(df)
    female = group_of(result, "sex", "f")
    assert slice_of(result, "sex")["reference_group"] == "m"
    assert female["disparate_impact_ratio"] == 0.8
    assert female["statistical_parity_difference"] == pytest.approx(-0.1)
    assert female["checks"]["disparate_impact_ratio"] == "pass"
    assert female["checks"]["statistical_parity_difference"] == "pass"
    # TPR 20/50 vs 25/50 and FPR 20/50 vs 25/50: EOD = 0.1, not above the threshold.
    assert female["equalized_odds_difference"] == pytest.approx(0.1)
    assert female["checks"]["equalized_odds_difference"] == "pass"


def test_each_threshold_fails_on_its_own_side():
    # f: 39 of 100 selected against 50 of 100; TPR 16/30 vs 30/50, FPR 23/70 vs 20/50.
    df = frame(rows_with({"f": (16, 23, 14, 47), "m": (30, 20, 20, 30)}))
    female = group_of(audit(df), "sex", "f")
    assert female["disparate_impact_ratio"] == pytest.approx(0.78)
    assert female["checks"] == {
        "disparate_impact_ratio": "fail",
        "statistical_parity_difference": "fail",
        "equalized_odds_difference": "pass",
    }
    assert female["verdict"] == "fail"
    strict = audit(
        df,
        thresholds=Thresholds(
            min_disparate_impact_ratio=0.7,
            min_statistical_parity_difference=-0.2,
            max_equalized_odds_difference=0.05,
        ),
    )
    assert group_of(strict, "sex", "f")["checks"] == {
        "disparate_impact_ratio": "pass",
        "statistical_parity_difference": "pass",
        "equalized_odds_difference": "fail",
    }
    assert slice_of(strict, "sex")["verdict"] == "fail"
    assert strict["verdict"] == "fail"


def test_small_groups_are_reported_but_not_judged():
    df = frame(rows_with({"f": (0, 1, 10, 18), "m": (25, 25, 25, 25)}))
    result = audit(df)
    female = group_of(result, "sex", "f")
    assert female["counts"]["n"] == 29
    assert female["judged"] is False
    assert female["not_judged_reason"] == "small_group"
    assert set(female["checks"].values()) == {"not_judged"}
    assert female["disparate_impact_ratio"] is not None  # reported all the same
    assert slice_of(result, "sex")["verdict"] == "pass"
    # Judged once the minimum is lowered.
    lowered = audit(df, thresholds=Thresholds(min_group_size=29))
    assert group_of(lowered, "sex", "f")["verdict"] == "fail"


def test_highest_rate_reference_ignores_small_groups():
    df = frame(rows_with({"f": (5, 5, 0, 0), "m": (25, 25, 25, 25), "x": (10, 10, 20, 20)}))
    assert slice_of(audit(df), "sex")["reference_group"] == "m"


def test_small_named_reference_leaves_groups_unjudged():
    df = frame(rows_with({"f": (5, 5, 0, 0), "m": (25, 25, 25, 25)}))
    result = audit(
        df,
        attributes=("sex",),
        reference=ReferenceRule(kind="privileged", privileged={"sex": "f"}),
    )
    male = group_of(result, "sex", "m")
    assert male["not_judged_reason"] == "small_reference"
    assert result["verdict"] == "not_judged"


def test_declared_group_without_rows_is_reported_with_null_rates():
    df = frame(rows_with({"f": (25, 25, 25, 25), "m": (25, 25, 25, 25)}))
    result = audit(df, groups={"sex": ("f", "m", "x")})
    empty = group_of(result, "sex", "x")
    assert empty["counts"] == {
        "n": 0,
        "selected": 0,
        "tp": 0,
        "fp": 0,
        "fn": 0,
        "tn": 0,
        "selection_rate": None,
        "true_positive_rate": None,
        "false_positive_rate": None,
    }
    assert empty["disparate_impact_ratio"] is None
    assert empty["selection_rate_test"] is None
    assert empty["verdict"] == "not_judged"


def test_all_positive_predictions_and_labels_leave_false_positive_rate_undefined():
    df = frame(rows_with({"f": (40, 0, 0, 0), "m": (60, 0, 0, 0)}))
    result = audit(df)
    female = group_of(result, "sex", "f")
    assert female["counts"]["selection_rate"] == 1.0
    assert female["counts"]["false_positive_rate"] is None
    assert female["disparate_impact_ratio"] == 1.0
    assert female["false_positive_rate_difference"] is None
    assert female["equalized_odds_difference"] == 0.0  # from the TPR alone
    assert female["false_positive_rate_test"] is None
    assert female["verdict"] == "pass"
    json.dumps(result, allow_nan=False)


def test_nobody_selected_makes_ratios_undefined_not_infinite():
    df = frame(rows_with({"f": (0, 0, 20, 20), "m": (0, 0, 30, 30)}))
    result = audit(df)
    assert slice_of(result, "sex")["reference_group"] == "f"  # a tie goes to the first
    male = group_of(result, "sex", "m")
    assert male["disparate_impact_ratio"] is None
    assert male["statistical_parity_difference"] == 0.0
    assert male["checks"]["disparate_impact_ratio"] == "not_judged"
    assert male["selection_rate_test"]["test"] == "fisher_exact"
    assert male["selection_rate_test"]["p_value"] == 1.0
    assert slice_of(result, "sex")["demographic_parity_ratio"] is None


def test_single_group_is_its_own_reference():
    df = frame(rows_with({"f": (10, 10, 10, 10)}))
    sex = slice_of(audit(df), "sex")
    assert sex["reference_group"] == "f"
    (only,) = sex["groups"]
    assert only["is_reference"] is True
    assert only["disparate_impact_ratio"] == 1.0
    assert sex["demographic_parity_ratio"] == 1.0
    assert sex["demographic_parity_difference"] == 0.0


def test_overall_reference_compares_each_group_with_everyone_else():
    df = frame(rows_with({"f": (20, 20, 30, 30), "m": (30, 30, 20, 20)}))
    result = audit(df, reference=ReferenceRule(kind="overall"))
    sex = slice_of(result, "sex")
    assert sex["reference_group"] is None
    assert sex["reference"]["n"] == 200
    assert sex["reference"]["selection_rate"] == 0.5
    female = group_of(result, "sex", "f")
    assert female["disparate_impact_ratio"] == 0.8
    # The test sets f (40/100) against the rest (60/100), not against a population holding f.
    expected = proportion_test(40, 100, 60, 100, alpha=0.05)
    assert female["selection_rate_test"] == expected.as_dict()


def test_named_privileged_group_and_derived_intersection_reference():
    df = frame(
        rows_with({"f": (30, 30, 20, 20), "m": (20, 20, 30, 30)})
        + rows_with({"b": (20, 20, 20, 20)}, attribute="ethnicity")
    )
    result = audit(
        df,
        attributes=("sex", "ethnicity"),
        intersections=(("sex", "ethnicity"),),
        reference=ReferenceRule(kind="privileged", privileged={"sex": "m", "ethnicity": "a"}),
    )
    assert slice_of(result, "sex")["reference_group"] == "m"
    assert slice_of(result, "sex & ethnicity")["reference_group"] == "m & a"
    assert group_of(result, "sex & ethnicity", "f & b")["values"] == {
        "sex": "f",
        "ethnicity": "b",
    }
    assert group_of(result, "sex", "f")["disparate_impact_ratio"] > 1


def test_privileged_group_without_rows_is_refused():
    df = frame(rows_with({"f": (10, 10, 10, 10)}))
    with pytest.raises(ReferenceGroupMissing) as caught:
        audit(
            df,
            attributes=("sex",),
            reference=ReferenceRule(kind="privileged", privileged={"sex": "m"}),
        )
    assert caught.value.code == "reference_group_missing"


def test_intersection_groups_partition_the_rows():
    rng = np.random.default_rng(7)
    df = frame(
        [
            (
                int(rng.integers(2)),
                int(rng.integers(2)),
                *(rng.choice(VALUES[a]) for a in ATTRIBUTES),
            )
            for _ in range(500)
        ]
    )
    result = audit(df, intersections=(("sex", "ethnicity"), ("sex", "ethnicity", "age_band")))
    for name in ("sex & ethnicity", "sex & ethnicity & age_band"):
        groups = slice_of(result, name)["groups"]
        assert sum(g["counts"]["n"] for g in groups) == 500
        assert sum(g["counts"]["tp"] for g in groups) == result["overall"]["tp"]
    triple = group_of(result, "sex & ethnicity & age_band", "m & c & old")
    expected = df[(df.sex == "m") & (df.ethnicity == "c") & (df.age_band == "old")]
    assert triple["counts"]["n"] == len(expected)
    assert triple["counts"]["selected"] == int(expected.prediction.sum())


@settings(max_examples=50, deadline=None)
@given(rows=rows_strategy, scores=st.lists(st.floats(0, 1), min_size=300, max_size=300))
def test_scores_are_thresholded_at_or_above_the_threshold(rows, scores):
    df = frame(rows)
    df["score"] = scores[: len(df)]
    df.loc[df.index[0], "score"] = 0.5  # the boundary counts as selected
    spec = AuditSpec(attributes=ATTRIBUTES, prediction=None, score="score", score_threshold=0.5)
    scored = run_audit([chunk_of(df, scores=True)], spec).as_dict()
    df["prediction"] = (df["score"] >= 0.5).astype(int)
    predicted = audit(df)
    assert scored["slices"] == predicted["slices"]
    assert scored["decision_rule"] == "selected when score >= score_threshold"


def test_result_records_rule_thresholds_and_sign_convention():
    df = frame(rows_with({"f": (20, 20, 30, 30), "m": (25, 25, 25, 25)}))
    result = audit(df, thresholds=Thresholds(min_group_size=10))
    assert result["spec"]["reference"] == {"kind": "highest_selection_rate", "privileged": {}}
    assert result["spec"]["thresholds"] == {
        "min_disparate_impact_ratio": 0.8,
        "min_statistical_parity_difference": -0.1,
        "max_equalized_odds_difference": 0.1,
        "min_group_size": 10,
        "significance_level": 0.05,
    }
    assert "group minus reference" in result["sign_convention"]
    assert AuditSpec.from_dict(result["spec"]).as_dict() == result["spec"]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"attributes": []},
        {"attributes": "sex"},
        {"attributes": ["sex", "sex"]},
        {"attributes": ["sex"], "intersections": [["sex"]]},
        {"attributes": ["sex"], "intersections": [["sex", "age"]]},
        {"attributes": ["sex"], "prediction": None},
        {"attributes": ["sex"], "score": "score"},
        {"attributes": ["sex"], "score_threshold": 0.5},
        {"attributes": ["sex"], "score": "s", "prediction": None, "score_threshold": math.nan},
        {"attributes": ["label"]},
        {"attributes": ["sex"], "surprise": 1},
        {"attributes": ["sex"], "thresholds": {"min_group_size": -1}},
        {"attributes": ["sex"], "thresholds": {"significance_level": 1}},
        {"attributes": ["sex"], "thresholds": {"min_disparate_impact_ratio": "high"}},
        {"attributes": ["sex"], "reference": {"kind": "lowest"}},
        {"attributes": ["sex"], "reference": {"kind": "privileged"}},
        {"attributes": ["sex"], "reference": {"kind": "privileged", "privileged": {"age": "x"}}},
        {"attributes": ["sex"], "reference": {"kind": "overall", "privileged": {"sex": "m"}}},
        {
            "attributes": ["sex"],
            "groups": {"sex": ["f"]},
            "reference": {"kind": "privileged", "privileged": {"sex": "m"}},
        },
        {"attributes": ["sex"], "groups": {"age": ["x"]}},
        {"attributes": ["sex"], "groups": {"sex": []}},
        {"attributes": ["sex"], "groups": ["sex"]},
        {
            "attributes": ["sex", "eth"],
            "intersections": [["sex", "eth"]],
            "reference": {"kind": "privileged", "privileged": {"sex": "m"}},
        },
    ],
)
def test_invalid_specifications_are_refused_with_a_stable_code(data):
    with pytest.raises(InvalidAuditSpec) as caught:
        AuditSpec.from_dict(data)
    assert caught.value.code == "invalid_audit_spec"
    assert caught.value.status == 400


# -- significance tests ---------------------------------------------------------------------


def test_fisher_exact_is_used_for_small_counts():
    # Fisher's tea-tasting table: 3 of 4 against 1 of 4, two-sided p = 34/70.
    result = proportion_test(3, 4, 1, 4, alpha=0.05)
    assert result.test == "fisher_exact"
    assert result.p_value == pytest.approx(34 / 70)
    assert result.statistic == pytest.approx(9.0)
    assert result.significant is False


def test_fisher_odds_ratio_is_null_when_infinite():
    result = proportion_test(4, 4, 0, 4, alpha=0.05)
    assert result.test == "fisher_exact"
    assert result.statistic is None
    assert 0 < result.p_value < 0.05


@pytest.mark.parametrize(("a", "n", "b", "m"), [(40, 100, 50, 100), (300, 1000, 360, 1000)])
def test_two_proportion_z_agrees_with_the_uncorrected_chi_square_test(a, n, b, m):
    result = proportion_test(a, n, b, m, alpha=0.05)
    chi2, p_value, _, _ = stats.chi2_contingency([[a, n - a], [b, m - b]], correction=False)
    assert result.test == "two_proportion_z"
    assert result.statistic**2 == pytest.approx(chi2)
    assert result.statistic < 0  # group below the reference
    assert result.p_value == pytest.approx(p_value)
    assert result.significant is bool(p_value < 0.05)


# -- evaluation data ------------------------------------------------------------------------


def evaluation_table(rows: int, seed: int = 3) -> pa.Table:
    rng = np.random.default_rng(seed)
    sex = rng.choice(VALUES["sex"], rows)
    return pa.table(
        {
            "id": np.arange(rows),
            "label": rng.integers(0, 2, rows),
            "prediction": (rng.random(rows) < np.where(sex == "f", 0.35, 0.5)).astype(int),
            "score": rng.random(rows),
            "sex": sex,
            "ethnicity": rng.choice(VALUES["ethnicity"], rows),
            "age_band": rng.choice(VALUES["age_band"], rows),
        }
    )


def csv_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pacsv.write_csv(table, sink)
    return sink.getvalue()


def parquet_bytes(table: pa.Table, **options) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)
    return sink.getvalue()


SPEC = AuditSpec(attributes=ATTRIBUTES, intersections=(("sex", "ethnicity"),))


def test_csv_parquet_and_json_rows_give_the_same_audit():
    table = evaluation_table(5000)
    from_rows = audit_rows(table.to_pylist(), spec=SPEC, chunk_rows=700).as_dict()
    from_csv = audit_file(io.BytesIO(csv_bytes(table)), format="csv", spec=SPEC).as_dict()
    from_parquet = audit_file(
        io.BytesIO(parquet_bytes(table, row_group_size=999)),
        format="parquet",
        spec=SPEC,
        chunk_rows=512,
    ).as_dict()
    assert from_csv == from_rows
    assert from_parquet == from_rows
    df = table.to_pandas()
    assert from_rows["rows"] == 5000
    assert group_of(from_rows, "sex", "f")["counts"]["selected"] == int(
        df[df.sex == "f"].prediction.sum()
    )
    assert group_of(from_rows, "sex", "f")["verdict"] == "fail"


def test_parquet_with_dictionary_integer_and_boolean_columns():
    table = pa.table(
        {
            "label": pa.array([True, False] * 50),
            "prediction": pa.array([1.0, 0.0, 0.0, 1.0] * 25),
            "sex": pa.array(["f", "m"] * 50).dictionary_encode(),
            "ethnicity": pa.array([1, 2, 3, 4] * 25, type=pa.int16()),
            "age_band": pa.array([True, False, False, True] * 25),
        }
    )
    result = audit_file(io.BytesIO(parquet_bytes(table)), format="parquet", spec=SPEC).as_dict()
    assert [g["group"] for g in slice_of(result, "ethnicity")["groups"]] == ["1", "2", "3", "4"]
    assert [g["group"] for g in slice_of(result, "age_band")["groups"]] == ["false", "true"]
    rows = table.to_pylist()
    assert audit_rows(rows, spec=SPEC).as_dict() == result


def test_csv_reads_text_spellings_of_binary_values_and_a_byte_order_mark():
    text = "\ufefflabel,prediction,sex,ethnicity,age_band\n" + "".join(
        f"{lab},{pred},f,a,young\n"
        for lab, pred in [("true", "1"), ("False", "0"), ("1.0", "TRUE"), ("0", "false")] * 10
    )
    result = audit_file(io.BytesIO(text.encode()), format="csv", spec=SPEC).as_dict()
    assert result["overall"] == {
        "n": 40,
        "selected": 20,
        "tp": 20,
        "fp": 0,
        "fn": 0,
        "tn": 20,
        "selection_rate": 0.5,
        "true_positive_rate": 1.0,
        "false_positive_rate": 0.0,
    }


def test_score_column_from_csv():
    table = evaluation_table(2000)
    spec = AuditSpec(attributes=ATTRIBUTES, prediction=None, score="score", score_threshold=0.7)
    result = audit_file(io.BytesIO(csv_bytes(table)), format="csv", spec=spec).as_dict()
    assert result["overall"]["selected"] == int((table.to_pandas().score >= 0.7).sum())


CSV_HEADER = "label,prediction,sex,ethnicity,age_band\n"


@pytest.mark.parametrize(
    ("body", "error", "code"),
    [
        ("label,sex,ethnicity\n1,f,a\n", MissingColumns, "missing_columns"),
        (CSV_HEADER + "2,1,f,a,young\n", NonBinaryValues, "non_binary_values"),
        (CSV_HEADER + "yes,1,f,a,young\n", NonBinaryValues, "non_binary_values"),
        (CSV_HEADER + "1,0.5,f,a,young\n", NonBinaryValues, "non_binary_values"),
        (CSV_HEADER + "1,1,,a,young\n", MissingValues, "missing_values"),
        (CSV_HEADER + ",1,f,a,young\n", MissingValues, "missing_values"),
        (CSV_HEADER + "1,1,f,a\n", UnreadableEvaluationData, "unreadable_evaluation_data"),
        ("", MissingColumns, "missing_columns"),
        (CSV_HEADER.strip() + ",sex\n1,1,f,a,young,m\n", DuplicateColumns, "duplicate_columns"),
        (CSV_HEADER, NoEvaluationRows, "no_evaluation_rows"),
        (b"\xff\xfe" + b"x" * 10, UnreadableEvaluationData, "unreadable_evaluation_data"),
    ],
)
def test_bad_csv_is_refused_with_a_stable_code(body, error, code):
    data = body if isinstance(body, bytes) else body.encode()
    with pytest.raises(error) as caught:
        audit_file(io.BytesIO(data), format="csv", spec=SPEC)
    assert caught.value.code == code
    assert isinstance(caught.value, InvalidInput)
    assert 400 <= caught.value.status < 500


def test_missing_columns_are_named():
    with pytest.raises(MissingColumns) as caught:
        audit_file(io.BytesIO(b"label,sex\n1,f\n"), format="csv", spec=SPEC)
    assert caught.value.extra["missing"] == ["prediction", "ethnicity", "age_band"]
    table = evaluation_table(10).drop_columns(["age_band"])
    with pytest.raises(MissingColumns) as caught:
        audit_file(io.BytesIO(parquet_bytes(table)), format="parquet", spec=SPEC)
    assert caught.value.extra["missing"] == ["age_band"]


def test_values_outside_the_declared_groups_are_refused():
    spec = AuditSpec(attributes=ATTRIBUTES, groups={"ethnicity": ("a", "b")})
    with pytest.raises(UnknownGroupValues) as caught:
        audit_file(io.BytesIO(csv_bytes(evaluation_table(100))), format="csv", spec=spec)
    assert caught.value.extra["values"] == ["c"]
    assert caught.value.code == "unknown_group_values"


def test_bad_scores_and_bad_parquet_are_refused():
    spec = AuditSpec(attributes=ATTRIBUTES, prediction=None, score="score", score_threshold=0.5)
    table = evaluation_table(10).set_column(3, "score", pa.array([math.inf] + [0.1] * 9))
    with pytest.raises(InvalidScores):
        audit_file(io.BytesIO(parquet_bytes(table)), format="parquet", spec=spec)
    table = evaluation_table(10).set_column(3, "score", pa.array(["x"] * 10))
    with pytest.raises(InvalidScores):
        audit_file(io.BytesIO(parquet_bytes(table)), format="parquet", spec=spec)
    with pytest.raises(UnreadableEvaluationData):
        audit_file(io.BytesIO(b"PAR1 not really"), format="parquet", spec=SPEC)
    table = evaluation_table(10).set_column(4, "sex", pa.array([1.5] * 10))
    with pytest.raises(InvalidGroupValues):
        audit_file(io.BytesIO(parquet_bytes(table)), format="parquet", spec=SPEC)
    with pytest.raises(UnsupportedFormat):
        audit_file(io.BytesIO(b""), format="xlsx", spec=SPEC)
    with pytest.raises(UnsupportedFormat):
        format_for("evaluation.json")
    assert format_for("a/B.PARQUET") == "parquet"


ROW = {"label": 1, "prediction": 0, "sex": "f", "ethnicity": "a", "age_band": "young"}


@pytest.mark.parametrize(
    ("rows", "error", "row"),
    [
        ({"label": 1}, InvalidEvaluationRows, None),
        ([], NoEvaluationRows, None),
        ([ROW, "row"], InvalidEvaluationRows, 1),
        ([ROW, {**ROW, "sex": None}], MissingValues, 1),
        ([{k: v for k, v in ROW.items() if k != "sex"}], MissingColumns, 0),
        ([ROW, ROW, {**ROW, "label": 2}], NonBinaryValues, 2),
        ([{**ROW, "prediction": "maybe"}], NonBinaryValues, 0),
        ([{**ROW, "sex": 1.5}], InvalidGroupValues, 0),
        ([{**ROW, "sex": ["f"]}], InvalidGroupValues, 0),
    ],
)
def test_bad_json_rows_are_refused_naming_the_row(rows, error, row):
    with pytest.raises(error) as caught:
        audit_rows(rows, spec=SPEC)
    assert caught.value.extra.get("row") == row


def test_json_scores_must_be_finite_numbers():
    spec = AuditSpec(attributes=ATTRIBUTES, prediction=None, score="s", score_threshold=0.5)
    base = {k: v for k, v in ROW.items() if k != "prediction"}
    for bad in (None, "0.5", True, math.nan):
        with pytest.raises((InvalidScores, MissingValues)):
            audit_rows([{**base, "s": bad}], spec=spec)
    result = audit_rows([{**base, "s": 0.5}, {**base, "s": 0.49}], spec=spec)
    assert result.overall.selected == 1


def test_memory_stays_bounded_while_streaming_a_large_csv(monkeypatch):
    monkeypatch.setattr(evaluation_data, "CSV_BLOCK_BYTES", 256 * 1024)
    data = csv_bytes(evaluation_table(400_000))
    peak = 0
    chunks = 0

    def watched():
        nonlocal peak, chunks
        for chunk in evaluation_data.read_chunks(io.BytesIO(data), format="csv", spec=SPEC):
            peak = max(peak, pa.total_allocated_bytes())
            chunks += 1
            yield chunk

    result = run_audit(watched(), SPEC)
    assert result.rows == 400_000
    assert chunks > 20
    assert len(data) > 15 * 1024 * 1024
    # Arrow holds about one block of decoded columns, never the whole file.
    assert peak < len(data) / 4


# -- through the artifact stores ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_round_trip_through_the_artifact_store(store, kind):  # noqa: F811
    table = evaluation_table(3000, seed=11)
    data = csv_bytes(table) if kind == "csv" else parquet_bytes(table, row_group_size=500)
    digest = hashlib.sha256(data).hexdigest()
    key = f"datasets/{uuid.uuid4()}/1/{digest}/evaluation.{kind}"
    store.put(key, data, size=len(data), sha256=digest)
    result = audit_artifact(key, spec=SPEC).as_dict()
    assert result == audit_rows(table.to_pylist(), spec=SPEC).as_dict()
    # Re-hashed on the way: the same verdict, computed on exactly the recorded bytes.
    checked = audit_artifact(key, spec=SPEC, sha256=digest, size=len(data)).as_dict()
    assert checked == result


def test_audit_of_other_bytes_than_recorded_is_refused(local_store):  # noqa: F811
    data = csv_bytes(evaluation_table(100))
    digest = hashlib.sha256(data).hexdigest()
    key = f"datasets/{uuid.uuid4()}/1/{digest}/evaluation.csv"
    local_store.put(key, data, size=len(data), sha256=digest)
    (local_store.root / key).write_bytes(csv_bytes(evaluation_table(100, seed=5)))
    with pytest.raises(EvaluationDataTampered) as refused:
        audit_artifact(key, spec=SPEC, sha256=digest, size=len(data))
    assert refused.value.status == 409 and refused.value.extra["recorded_sha256"] == digest


def test_artifact_with_an_unknown_suffix_needs_a_format(local_store):  # noqa: F811
    data = csv_bytes(evaluation_table(100))
    digest = hashlib.sha256(data).hexdigest()
    key = f"datasets/{uuid.uuid4()}/1/{digest}/evaluation.txt"
    local_store.put(key, data, size=len(data), sha256=digest)
    with pytest.raises(UnsupportedFormat):
        audit_artifact(key, spec=SPEC)
    assert audit_artifact(key, spec=SPEC, format="csv").rows == 100


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, seed=st.integers(0, 1000))
def test_files_and_rows_agree_on_generated_data(rows, seed):
    df = frame(rows)
    assume(len(df) > 0)
    table = pa.Table.from_pandas(df, preserve_index=False)
    from_rows = audit_rows(
        df.to_dict("records"), spec=SPEC, chunk_rows=random.Random(seed).randint(1, 50)
    )
    assert audit_file(io.BytesIO(csv_bytes(table)), format="csv", spec=SPEC) == from_rows
    assert (
        audit_file(io.BytesIO(parquet_bytes(table, row_group_size=37)), format="parquet", spec=SPEC)
        == from_rows
    )


def json_containers(inner):
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    json_containers,
    max_leaves=12,
)
names = st.sampled_from(["sex", "ethnicity", "label", ""]) | json_values
name_lists = st.lists(names, max_size=3) | json_values
spec_strategy = st.fixed_dictionaries(
    {
        "attributes": st.lists(
            st.sampled_from(["sex", "ethnicity", "age"]), min_size=1, max_size=3, unique=True
        )
        | name_lists
    },
    optional={
        "intersections": st.lists(name_lists, max_size=2) | json_values,
        "prediction": names,
        "score": names,
        "score_threshold": json_values,
        "reference": st.fixed_dictionaries(
            {},
            optional={
                "kind": st.sampled_from(["privileged", "overall", "highest_selection_rate"])
                | json_values,
                "privileged": st.dictionaries(names.filter(lambda x: isinstance(x, str)), names)
                | json_values,
            },
        )
        | json_values,
        "thresholds": st.dictionaries(
            st.sampled_from(["min_group_size", "significance_level", "other"]), json_values
        )
        | json_values,
        "groups": st.dictionaries(st.sampled_from(["sex", "age"]), name_lists) | json_values,
    },
)


@settings(max_examples=400, deadline=None)
@given(data=spec_strategy)
def test_any_json_specification_is_accepted_or_refused_cleanly(data):
    try:
        spec = AuditSpec.from_dict(data)
    except InvalidAuditSpec:
        return
    assert AuditSpec.from_dict(spec.as_dict()) == spec


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                name: st.sampled_from([0, 1, True, "1", "f", "a"]) | json_values
                for name in ("label", "prediction", *ATTRIBUTES)
            },
        )
        | json_values,
        max_size=4,
    )
    | json_values
)
def test_any_posted_rows_are_audited_or_refused_cleanly(rows):
    try:
        result = audit_rows(rows, spec=SPEC)
    except evaluation_data.EvaluationDataError as error:
        assert 400 <= error.status < 500
        return
    json.dumps(result.as_dict(), allow_nan=False)


def test_an_attribute_with_too_many_values_is_refused():
    rows = [{**ROW, "sex": f"person-{i}"} for i in range(10_001)]
    with pytest.raises(TooManyGroups) as caught:
        audit_rows(rows, spec=SPEC)
    assert caught.value.code == "too_many_groups"
    assert caught.value.extra == {"slice": "sex"}


def test_chunks_with_values_other_than_zero_and_one_are_a_programming_error():
    chunk = Chunk(labels=np.array([2]), predictions=np.array([1]), attributes={})
    with pytest.raises(ValueError, match="0 or 1"):
        run_audit([chunk], SPEC)
