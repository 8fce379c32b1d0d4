"""Lineage's validation patterns are written once in lineage.rules: the node pattern the API
documents accepts exactly the names parse_node accepts, and the API's serializers and query
parameters use the rules' patterns rather than copies."""

from __future__ import annotations

import re

import pytest
from django.core.validators import RegexValidator

from lineage import rules
from lineage.errors import InvalidNode
from registry import rules as registry_rules

NAMES = [
    "model:fraud@1",
    "model:Fraud.v2_x-1@4294967295",
    "model:fraud@0",
    "model:fraud",
    "model:-fraud@1",
    "model:" + "f" * 200 + "@1",
    "model:" + "f" * 201 + "@1",
    "model:fraud@01",
    "model:fraud@12345678901",
    "dataset:s3://lake/t",
    "dataset:s3://lake/t@3",
    "dataset:s3://lake/t@0",
    "dataset:",
    "dataset:" + "d" * 500,
    "dataset:" + "d" * 501,
    "run:r-1",
    "run:" + "r" * 200,
    "run:" + "r" * 201,
    "run:has space",
    "run:",
    "job:x",
    "",
]


def _parses(name: str) -> bool:
    try:
        rules.parse_node(name)
    except InvalidNode:
        return False
    return True


@pytest.mark.parametrize("name", NAMES)
def test_the_documented_node_pattern_accepts_what_parse_node_accepts(name):
    assert bool(re.fullmatch(rules.NODE_PATTERN, name)) == _parses(name)


def test_node_names_are_built_from_the_registrys_model_and_dataset_names():
    model = registry_rules.NAME_PATTERN.pattern.strip("^$")
    assert f"model:{model}@" in rules.NODE_PATTERN
    assert f"dataset:{rules.DATASET_CHAR}" in rules.NODE_PATTERN
    assert rules.RUN_ID.pattern.strip("^$") in rules.NODE_PATTERN


def _regex(field) -> str:
    (validator,) = [v for v in field.validators if isinstance(v, RegexValidator)]
    return validator.regex.pattern


def test_the_api_uses_the_rules_patterns():
    from api.lineage import serializers, views

    assert _regex(serializers.RunBody().fields["runId"]) == rules.RUN_ID.pattern
    assert _regex(serializers.EdgeCreateInput().fields["source"]) == rules.NODE_PATTERN
    assert registry_rules.NAME_PATTERN.pattern == views.MODEL_NAME_PATTERN
    assert views.NODE.type["pattern"] == rules.NODE_PATTERN


@pytest.mark.parametrize(
    ("text", "ok"), [("0", True), ("100", True), ("1000", False), ("12\n", False), ("", False)]
)
def test_the_depth_parameter_is_up_to_three_digits(text, ok):
    assert bool(rules.DEPTH_TEXT.fullmatch(text)) == ok
