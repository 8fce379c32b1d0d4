"""Tests for eventstore.canonical (RFC 8785 canonical JSON)."""

from __future__ import annotations

import json
import math
import struct
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstore import canonical as canonical_module
from eventstore.canonical import (
    MAX_SAFE_INTEGER,
    CanonicalizationError,
    canonical_json,
    check_json_value,
)

# ---------------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------------

# RFC 8785 Appendix B (IEEE-754 bit pattern -> canonical number), finite values. Data taken
# from the fixture vendored at lattice-substrate/json-canon,
# conformance/official/rfc8785/appendix_b.csv.
RFC8785_APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]

# ECMAScript Number.prototype.toString samples: the ES6 edge cases cited for RFC 8785
# (boundaries 1e21 and 1e-7, max safe integer, smallest/largest double, -0), plus the numbers of
# cyberphone/json-canonicalization testdata/input/values.json and README.md.
ES6_NUMBER_SAMPLES = [
    (333333333.3333333, "333333333.3333333"),
    (1e-7, "1e-7"),
    (9007199254740991, "9007199254740991"),
    (0.000001, "0.000001"),
    (1e21, "1e+21"),
    (5e-324, "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
    (-0.0, "0"),
    (1e20, "100000000000000000000"),
    (1.5e-7, "1.5e-7"),
    (123e-20, "1.23e-18"),
    (0.1, "0.1"),
    (-1.5, "-1.5"),
    (1.0, "1"),
    (4.5, "4.5"),
    (0.002, "0.002"),
    (1e30, "1e+30"),
    (1e-27, "1e-27"),
]

# (input JSON text, expected canonical output) from cyberphone/json-canonicalization,
# testdata/input/<name>.json and testdata/output/<name>.json. Inputs are the file text as-is;
# non-ASCII output characters are written as escapes so editors cannot normalise them.
# (arrays.json: the output is derived from its input per RFC 8785; no output file was at hand.)
CYBERPHONE_TESTDATA = {
    "values": (
        r"""{
  "numbers": [1E30, 4.50, 333333333.33333329, 2e-3, 0.000000000000000000000000001],
  "escaping": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}""",
        '{"escaping":"\u20ac'  # the Euro sign is written literally in the output file
        r"""$\u000f\nA'B\"\\\\\"/","literals":[null,true,false],"""
        r""""numbers":[1e+30,4.5,333333333.3333333,0.002,1e-27]}""",
    ),
    "weird": (
        r"""{
  "\u20ac": "Euro Sign",
  "1": "One",
  "\u0080": "Control\u007f",
  "\ud83d\ude02": "Smiley",
  "\u00f6": "Latin Small Letter O With Diaeresis",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "</script>": "Browser Challenge"
}
""",
        '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f602":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    ),
    "structures": (
        r"""{
  "1": {"f": {"f": "hi","F": 5} ,"\n": 56.0},
  "10": { },
  "": "empty",
  "a": { },
  "111": [ { } ],
  "A": { }
}""",
        r"""{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}""",
    ),
    "french": (
        """{
  "peach": "This sorting order",
  "p\u00e9ch\u00e9": "is wrong according to French",
  "p\u00eache": "but canonicalization MUST",
  "sin":   "ingnore locale"
}
""",
        '{"peach":"This sorting order","p\u00e9ch\u00e9":"is wrong according to French",'
        '"p\u00eache":"but canonicalization MUST","sin":"ingnore locale"}',
    ),
    "unicode": (
        r"""{
  "Unnormalized Unicode":"\u1e0d\u0307"
}
""",
        '{"Unnormalized Unicode":"\u1e0d\u0307"}',
    ),
    "arrays": (
        r"""[
  56,
  {
    "d": true,
    "10": null,
    "1": [ ]
  }
]""",
        r"""[56,{"1":[],"10":null,"d":true}]""",
    ),
}


def _double_from_hex(bits: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(bits))[0]
    return value


# ---------------------------------------------------------------------------------------------
# Reference vectors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("bits", "expected"), RFC8785_APPENDIX_B)
def test_number_matches_rfc8785_appendix_b_when_given_ieee754_bits(bits: str, expected: str):
    assert canonical_json(_double_from_hex(bits)) == expected.encode()


@pytest.mark.parametrize(("number", "expected"), ES6_NUMBER_SAMPLES)
def test_number_uses_es6_tostring_form_when_serialised(number: float, expected: str):
    assert canonical_json(number) == expected.encode()
    assert canonical_json([number]) == f"[{expected}]".encode()


@pytest.mark.parametrize("name", sorted(CYBERPHONE_TESTDATA))
def test_output_matches_cyberphone_testdata_when_input_is_parsed(name: str):
    source, expected = CYBERPHONE_TESTDATA[name]
    assert canonical_json(json.loads(source)) == expected.encode("utf-8")


def test_keys_sort_by_utf16_code_units_when_astral_and_private_use_keys_mix():
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+E000 / U+FB33 / U+FFFD,
    # although its code point is larger.
    value = {"\ufffd": 1, "\U0001f600": 2, "\ue000": 3, "\ufb33": 4, "z": 5}
    expected = '{"z":5,"\U0001f600":2,"\ue000":3,"\ufb33":4,"\ufffd":1}'
    assert canonical_json(value) == expected.encode("utf-8")


def test_key_sorting_matches_rfc8785_example_when_keys_span_planes():
    # RFC 8785 section 3.2.3 example (same data as weird.json, with "\r" and U+1F600).
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    )
    assert canonical_json(value) == expected.encode("utf-8")


def test_strings_escape_only_quote_backslash_and_controls_when_serialised():
    text = "".join(chr(c) for c in range(1, 0x20)) + '"\\/\x7f\u2028é😀'
    expected = (
        '"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r'
        "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018"
        '\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\"\\\\/\x7f\u2028é😀"'
    )
    assert canonical_json(text) == expected.encode("utf-8")


def test_literals_and_empty_containers_when_serialised():
    assert canonical_json(None) == b"null"
    assert canonical_json(True) == b"true"
    assert canonical_json(False) == b"false"
    assert canonical_json([True, 1, 1.0]) == b"[true,1,1]"
    assert canonical_json({}) == b"{}"
    assert canonical_json([]) == b"[]"
    assert canonical_json(()) == b"[]"
    assert canonical_json({"a": (1, [2, ()])}) == b'{"a":[1,[2,[]]]}'


def test_subclasses_encode_as_base_type_when_given_enum_or_ordered_dict():
    class Colour(StrEnum):
        RED = "red"

    class Level(IntEnum):
        HIGH = 3

    value = OrderedDict([("b", Level.HIGH), ("a", Colour.RED)])
    assert canonical_json(value) == b'{"a":"red","b":3}'


# ---------------------------------------------------------------------------------------------
# JSONB number normalisation (PostgreSQL numeric) must not change the bytes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "read_back", "expected"),
    [
        (1e22, 10**22, b"1e+22"),
        (1e300, int("1" + "0" * 300), b"1e+300"),
        (1.0, 1, b"1"),
        (-0.0, 0, b"0"),
        (-0.0, -0.0, b"0"),
        (1e21, 10**21, b"1e+21"),
        (1e20, 10**20, b"100000000000000000000"),
        (1.5e300, int("15" + "0" * 299), b"1.5e+300"),
        (2.0**60, 2**60, b"1152921504606847000"),
    ],
)
def test_hash_input_is_identical_when_jsonb_turns_float_into_int(
    written: float, read_back: int | float, expected: bytes
):
    assert canonical_json(written) == expected
    assert canonical_json(read_back, strict=False) == expected
    assert canonical_json({"m": [read_back]}, strict=False) == b'{"m":[' + expected + b"]}"


def _jsonb_number(text: str) -> int | float:
    # Models PostgreSQL numeric: keeps the decimal value and its display scale, prints it in
    # plain positional notation ("1e+22" -> "10000000000000000000000", "1e-07" -> "0.0000001"),
    # which psycopg then parses with json.loads.
    parsed: int | float = json.loads(format(Decimal(text), "f"))
    return parsed


def _simulate_jsonb_round_trip(value: Any) -> Any:
    return json.loads(json.dumps(value), parse_float=_jsonb_number, parse_int=_jsonb_number)


# ---------------------------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------------------------

_SPECIAL_KEY_CHARS = "a\u00e9\u20ac\ue000\uf8ff\ufb33\ufffd\U0001f600\U00010000\U0010fffd"
_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
_keys = st.one_of(_text, st.text(st.sampled_from(_SPECIAL_KEY_CHARS), max_size=4))
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER),
    st.floats(allow_nan=False, allow_infinity=False),
    _text,
)
_json_values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(_keys, children, max_size=5),
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_output_matches_rfc8785_package_when_value_is_generated(value: Any):
    assert canonical_json(value) == rfc8785.dumps(value)


@settings(max_examples=200, deadline=None)
@given(_json_values)
def test_output_is_stable_when_value_round_trips_through_jsonb_numbers(value: Any):
    check_json_value(value)
    assert canonical_json(_simulate_jsonb_round_trip(value), strict=False) == canonical_json(value)


@settings(max_examples=200, deadline=None)
@given(_json_values)
def test_output_reparses_to_same_bytes_when_fed_back(value: Any):
    encoded = canonical_json(value)
    assert canonical_json(json.loads(encoded), strict=False) == encoded


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_round_trips_to_same_double_when_any_finite_float(number: float):
    encoded = canonical_json(number)
    assert encoded == rfc8785.dumps(number)
    assert float(encoded) == number


# ---------------------------------------------------------------------------------------------
# Rejections
# ---------------------------------------------------------------------------------------------


def _nested_lists(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "path", "reason"),
    [
        ({"a": ["ok", "x\x00y"]}, "/a/1", r"U\+0000"),
        ({"a": {"b\x00": 1}}, "/a/b\\u0000", r"U\+0000"),
        ({"s": "x\ud800"}, "/s", "surrogate"),
        ({"s\udfff": 1}, "/s\\udfff", "surrogate"),
        ({"n": [1, math.nan]}, "/n/1", "NaN"),
        ({"n": math.inf}, "/n", "Infinity"),
        ({"n": -math.inf}, "/n", "Infinity"),
        ({"d": Decimal("1.5")}, "/d", "Decimal"),
        ({"b": b"bytes"}, "/b", "bytes"),
        ({"s": {1, 2}}, "/s", "set"),
        ({"t": datetime(2024, 1, 1, tzinfo=UTC)}, "/t", "datetime"),
        ({"u": uuid.UUID(int=0)}, "/u", "UUID"),
        ({"o": object()}, "/o", "object"),
        ({"k": {1: "one"}}, "/k", "key of type int"),
        ({"a/b": {"~": [math.nan]}}, "/a~1b/~0/0", "NaN"),
        ({"big": 2**53}, "/big", "outside"),
        ({"big": -(2**53)}, "/big", "outside"),
    ],
)
def test_value_is_rejected_with_path_when_not_storable(value: object, path: str, reason: str):
    with pytest.raises(CanonicalizationError, match=reason) as check_error:
        check_json_value(value)
    assert check_error.value.path == path
    assert path in str(check_error.value)
    with pytest.raises(CanonicalizationError, match=reason):
        canonical_json(value)


@pytest.mark.parametrize(
    "value",
    [
        "nul\x00",
        {"nul\x00": 1},
        "\udc00",
        math.nan,
        math.inf,
        Decimal(1),
        b"",
        {1},
        {None: 1},
        _nested_lists(65),
        10**400,
    ],
)
def test_value_is_rejected_when_not_strict_and_still_invalid(value: object):
    with pytest.raises(CanonicalizationError):
        canonical_json(value, strict=False)


def test_error_is_a_value_error_when_raised():
    with pytest.raises(ValueError, match="unsupported type"):
        canonical_json(object())


def test_nesting_is_rejected_when_deeper_than_64():
    assert canonical_json(_nested_lists(64)) == b"[" * 64 + b"]" * 64
    with pytest.raises(CanonicalizationError, match="deeper than 64"):
        check_json_value(_nested_lists(65))
    deep_object: dict[str, Any] = {}
    for _ in range(64):
        deep_object = {"k": deep_object}
    with pytest.raises(CanonicalizationError, match="deeper than 64"):
        canonical_json(deep_object)


def test_nesting_is_rejected_when_value_is_self_referential():
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(CanonicalizationError, match="deeper than 64"):
        canonical_json(cycle)


def test_integer_outside_safe_range_is_rejected_when_strict_and_accepted_when_not():
    with pytest.raises(CanonicalizationError, match="outside"):
        check_json_value(2**53)
    with pytest.raises(CanonicalizationError, match="outside"):
        canonical_json(2**53)
    assert canonical_json(2**53, strict=False) == b"9007199254740992"
    assert canonical_json(2**53 + 1, strict=False) == b"9007199254740992"  # float(2**53 + 1)
    assert canonical_json(MAX_SAFE_INTEGER) == b"9007199254740991"
    assert canonical_json(-MAX_SAFE_INTEGER) == b"-9007199254740991"
    check_json_value(MAX_SAFE_INTEGER)


def test_integer_is_rejected_when_float_conversion_overflows():
    with pytest.raises(CanonicalizationError, match="too large"):
        canonical_json(10**309, strict=False)


# ---------------------------------------------------------------------------------------------
# The standard library's C encoder for plain values
# ---------------------------------------------------------------------------------------------

_control_text = st.text(st.characters(codec="utf-8", max_codepoint=0x7F), max_size=8)
_plain_candidates = st.recursive(
    st.one_of(_scalars, _control_text),
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(_keys, _control_text), children, max_size=5),
    ),
    max_leaves=25,
)


@settings(max_examples=500, deadline=None)
@given(_plain_candidates)
def test_c_encoder_path_writes_what_the_full_encoder_writes_when_it_takes_a_value(value: Any):
    taken = canonical_module._plain_json(value)
    try:
        full = canonical_module._Encoder(strict=True).encode(value).encode("utf-8")
    except CanonicalizationError:
        assert taken is None  # refusals always come from the full encoder, with their reason
        return
    assert taken is None or taken == full


def test_c_encoder_path_takes_typical_event_data():
    data = {
        "model_id": str(uuid.uuid4()),
        "number": 12,
        "description": 'nightly retrain \u00e9\n\t"quoted"',
        "parameters": {"max_depth": 6, "eta": 0.05, "seed": -3},
        "metrics": {"auc": 0.91, "logloss": 0.2741, "rmse": 1234.5678},
        "tags": {"owner": "ml", "": ""},
        "datasets": ["dataset:customers@3"],
        "signature": None,
        "approved": False,
    }
    assert canonical_module._plain_json(data) == rfc8785.dumps(data)


@pytest.mark.parametrize(
    "value",
    [
        {"x": 1e16},  # 10000000000000000 in RFC 8785, 1e+16 from repr
        {"x": 1e-05},  # 0.00001 in RFC 8785
        {"x": 100.0},
        {"x": -0.0},
        {"x": 2**53},
        {"x": (1, 2)},
        {"x": OrderedDict(a=1)},
        {"\U0001f600": 1, "\ue000": 2},  # UTF-16 order differs from code point order
        {"x": "\x00"},
        {"x": "\ud800"},
        {1: "not a str key"},
    ],
)
def test_c_encoder_path_leaves_the_rest_to_the_full_encoder(value: Any):
    assert canonical_module._plain_json(value) is None


def test_c_encoder_path_declines_values_nested_too_deep():
    value: Any = []
    for _ in range(70):
        value = [value]
    assert canonical_module._plain_json(value) is None
    with pytest.raises(CanonicalizationError, match="nesting"):
        canonical_json(value)
