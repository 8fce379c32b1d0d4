"""Pure checks of registry input that every entry point shares (API, admin, tasks)."""

from __future__ import annotations

import re
from typing import Any

from core.errors import InvalidInput
from core.shapes import INTEGER, JSON, LIST, PATTERN, TAGS, TEXT, UUID, Shape, shaped_fields
from core.text import clean_text
from eventstore.canonical import CanonicalizationError, check_json_value
from registry.errors import InvalidName

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
ALIAS_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
COMMIT = re.compile(r"^[0-9a-f]{7,64}$")
# Characters a dataset name cannot hold: '@' (it separates the version), whitespace and controls.
_NAME_CHAR = (
    "[^@ \\t\\n\\r\\f\\v\\u0000-\\u001f\\u007f-\\u009f\\u00a0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]"
)
DATASET_NAME = re.compile(f"^{_NAME_CHAR}{{1,500}}$")
DATASET_REF = re.compile(
    f"^(?:dataset:)?(?P<name>{_NAME_CHAR}{{1,500}})@(?P<version>[1-9][0-9]{{0,9}})$"
)
# The same rule without named groups, which ECMA-262 (OpenAPI's regex dialect) spells differently.
DATASET_REF_PATTERN = f"^(?:dataset:)?{_NAME_CHAR}{{1,500}}@[1-9][0-9]{{0,9}}$"
MAX_TAGS = 50
TEXT_LIMIT = 10_000
MAX_SAFE_INTEGER = 2**53 - 1  # the largest integer every JSON reader keeps exact

# The shapes of the registry's event fields (core.shapes): declared on the event classes,
# read by the states, the commands' inputs and the API's serializers.
ID = Shape(UUID)
NUMBER = Shape(INTEGER, min_value=1)
MODEL_NAME = Shape(PATTERN, pattern=NAME_PATTERN.pattern, max_length=200, required=True)
DATASET_NAME_SHAPE = Shape(PATTERN, pattern=DATASET_NAME.pattern, max_length=500, required=True)
TEAM = Shape(TEXT, max_length=150, required=True)
LONG_TEXT = Shape(TEXT, max_length=TEXT_LIMIT, blank=True)
TAG_MAP = Shape(TAGS)
JSON_OBJECT = Shape(JSON)
ARTIFACT_URI = Shape(TEXT, max_length=2000, blank=True)
ARTIFACT_SHA256 = Shape(
    PATTERN,
    pattern=SHA256.pattern,
    blank=True,
    message="artifact_sha256 must be 64 lowercase hexadecimal characters",
)
ARTIFACT_SIZE = Shape(INTEGER, min_value=0, max_value=MAX_SAFE_INTEGER, null=True)
FRAMEWORK = Shape(TEXT, max_length=100, blank=True)
CODE_REPO = Shape(TEXT, max_length=500, blank=True)
CODE_COMMIT = Shape(
    PATTERN,
    pattern=COMMIT.pattern,
    blank=True,
    message="a code commit is 7-64 lowercase hexadecimal characters",
)
RUN_ID = Shape(TEXT, max_length=200, blank=True)
DATASET_REFS = Shape(
    LIST, item=Shape(PATTERN, pattern=DATASET_REF_PATTERN, max_length=520), max_items=100
)
DATASET_URI = Shape(TEXT, max_length=2000, required=True)
CHECKSUM = Shape(TEXT, max_length=200, blank=True)
ROW_COUNT = Shape(INTEGER, min_value=0, max_value=MAX_SAFE_INTEGER, null=True)
PII_CATEGORIES = Shape(
    LIST,
    item=Shape(TEXT, max_length=100, message="pii category must be text of at most 100 characters"),
    max_items=50,
)
LEGAL_BASIS = Shape(TEXT, max_length=100, blank=True)
OWNER = Shape(TEXT, max_length=150, blank=True)
RETENTION_DAYS = Shape(INTEGER, min_value=0, max_value=100_000, null=True)


def check_name(name: str, what: str = "name") -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InvalidName(
            f"{what} must be 1-200 characters of letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    return name


def check_dataset_name(name: str) -> str:
    # Dataset names may be URIs (OpenLineage namespace/name), so they allow more characters.
    if not isinstance(name, str) or not DATASET_NAME.match(name):
        raise InvalidName("a dataset name is 1-500 characters without '@', whitespace or controls")
    return name


def check_alias(alias: str) -> str:
    if not isinstance(alias, str) or not ALIAS_PATTERN.match(alias):
        raise InvalidInput(
            "an alias is 1-63 lowercase letters, digits, '_' or '-', starting with a letter"
        )
    return alias


def check_tags(tags: Any) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, dict) or len(tags) > MAX_TAGS:
        raise InvalidInput(f"tags are an object of at most {MAX_TAGS} string values")
    for key, value in tags.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 100:
            raise InvalidInput("a tag key is 1-100 characters")
        if not isinstance(value, str) or len(value) > 500:
            raise InvalidInput(f"tag {key!r} must be a string of at most 500 characters")
    return dict(tags)


def check_text(value: Any, what: str, limit: int = TEXT_LIMIT) -> str:
    return clean_text(value, what, limit)


def check_sha256(value: Any, what: str = "sha256") -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not SHA256.match(value):
        raise InvalidInput(f"{what} must be 64 lowercase hexadecimal characters")
    return value


def check_commit(value: Any) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not COMMIT.match(value):
        raise InvalidInput("a code commit is 7-64 lowercase hexadecimal characters")
    return value


def check_json(value: Any, what: str) -> dict[str, Any]:
    """A JSON object that the ledger can hash exactly (no NaN, no huge integers, no NUL)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    try:
        check_json_value(value)
    except CanonicalizationError as exc:
        raise InvalidInput(f"{what}: {exc}") from exc
    return dict(value)


def parse_dataset_ref(ref: Any) -> tuple[str, int]:
    match = DATASET_REF.match(ref) if isinstance(ref, str) else None
    if not match:
        raise InvalidInput(f"dataset references look like 'name@version', not {ref!r}")
    return match["name"], int(match["version"])


def check_field(shape: Shape, value: Any, what: str) -> Any:
    """`value` checked against its shape, as a command's input (None where the shape admits
    nothing is the field's empty value); the API's serializers check the same shape first."""
    match shape.kind:
        case "text":
            try:
                return check_text(value, what, shape.max_length or TEXT_LIMIT)
            except InvalidInput:
                if shape.message:
                    raise InvalidInput(shape.message) from None
                raise
        case "pattern":
            if value in (None, "") and shape.blank:
                return ""
            if not isinstance(value, str) or not re.match(shape.pattern or "", value):
                raise InvalidInput(shape.message or f"{what} does not match {shape.pattern}")
            return value
        case "integer":
            if value is None and shape.null:
                return None
            low, high = shape.min_value, shape.max_value
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or (low is not None and value < low)
                or (high is not None and value > high)
            ):
                raise InvalidInput(
                    f"{what} is a non-negative integer"
                    if low == 0
                    else f"{what} is an integer from {low} to {high}"
                )
            return value
        case "json":
            return check_json(value, what)
        case "tags":
            return check_tags(value)
        case "list":
            items = list(value or ())
            if shape.max_items is not None and len(items) > shape.max_items:
                raise InvalidInput(f"{what} holds at most {shape.max_items} values")
            assert shape.item is not None
            return [check_field(shape.item, item, what) for item in items]
    raise InvalidInput(f"{what} cannot be given")


def checked(data: Any, source: type, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The shaped fields of event class `source`, taken from the command input `data` and
    checked against their shapes: the event's fields, written once on the event."""
    return {
        name: check_field(shape, getattr(data, name), name)
        for name, shape in shaped_fields(source, exclude=exclude)
    }


# -- teams and claimed dataset name prefixes ------------------------------------------------

# A dataset name prefix a team claims: a dataset name's characters, at least three of them.
DATASET_PREFIX = re.compile(f"^{_NAME_CHAR}{{3,500}}$")
DATASET_PREFIX_SHAPE = Shape(PATTERN, pattern=DATASET_PREFIX.pattern, max_length=500, required=True)
# Groups that hold a role rather than own models and datasets: the boards' member groups
# (boards.queries.board_group_name), the auditors, and any group granted a permission on a whole
# kind of object (risk officers, board administrators: teams hold object permissions only).
ROLE_GROUP_PREFIX = "board:"
ROLE_GROUP_NAMES = frozenset({"auditors"})


def is_role_group_name(name: str) -> bool:
    return name.startswith(ROLE_GROUP_PREFIX) or name in ROLE_GROUP_NAMES


def prefix_covers(prefix: str, name: str) -> bool:
    """Whether a claimed prefix covers a dataset name (case-insensitive, as PostgreSQL's
    lower() compares dataset names)."""
    return name.lower().startswith(prefix.lower())


def prefixes_overlap(first: str, second: str) -> bool:
    """Two claims overlap when either covers the other: one name would fall under both."""
    return prefix_covers(first, second) or prefix_covers(second, first)
