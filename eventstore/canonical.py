"""Canonical JSON encoding (RFC 8785, JSON Canonicalization Scheme).

The bytes produced here are what the event log hashes. Event data is hashed *before* it is
written to a PostgreSQL ``jsonb`` column and hashed again *after* it has been read back through
``json.loads``. ``jsonb`` stores numbers as ``numeric`` and so normalises them: a float ``1e22``
comes back as the int ``10000000000000000000000``, ``1.0`` comes back as ``1.0``, ``-0.0`` may
come back as ``0``. Because RFC 8785 serialises *every* number as the IEEE-754 double it denotes,
all of these spellings canonicalise to the same bytes, so the hash survives the round trip.

Two entry points:

* :func:`check_json_value` decides whether a value may be stored at all. On top of the
  encoder's own rules it rejects integers outside +-(2**53 - 1), which cannot round-trip through
  a double exactly.
* :func:`canonical_json` returns the canonical UTF-8 bytes. With ``strict=True`` (the default,
  used when an event is first written) it applies every rule of :func:`check_json_value`. With
  ``strict=False`` (used when re-hashing stored events) it skips only the integer range rule, so
  the large integers ``jsonb`` hands back for large floats are accepted and encoded as the double
  they stand for: ``canonical_json(10**22, strict=False) == canonical_json(1e22) == b"1e+22"``.

This module uses the standard library only: it is copied verbatim into the offline verifier.
"""

from __future__ import annotations

import json
import math
import re
from typing import Final

__all__ = [
    "MAX_DEPTH",
    "MAX_SAFE_INTEGER",
    "CanonicalizationError",
    "canonical_json",
    "check_json_value",
]

#: Largest integer n such that every integer in [-n, n] is exactly representable as a double.
MAX_SAFE_INTEGER: Final[int] = 2**53 - 1

#: Deepest container nesting accepted. A scalar has depth 0, ``[]`` and ``{}`` have depth 1.
MAX_DEPTH: Final[int] = 64

# Characters that may not appear in any string (key or value): U+0000 cannot be stored in
# PostgreSQL jsonb, lone surrogates cannot be encoded as UTF-8.
_FORBIDDEN_CHARS: Final = re.compile("[\x00\ud800-\udfff]")

# RFC 8785 3.2.2.2: escape only '"', '\' and U+0000..U+001F; the five with a short form use it,
# the rest use \u00xx with lowercase hex. Everything else is emitted literally.
_STRING_ESCAPES: Final[dict[int, str]] = {code: f"\\u{code:04x}" for code in range(0x20)}
_STRING_ESCAPES.update(
    {
        0x08: "\\b",
        0x09: "\\t",
        0x0A: "\\n",
        0x0C: "\\f",
        0x0D: "\\r",
        0x22: '\\"',
        0x5C: "\\\\",
    }
)

_REPR_PREVIEW_CHARS: Final = 40

# Characters shown as \uXXXX in error paths, so messages stay printable and encodable.
_UNPRINTABLE_CHARS: Final = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


class CanonicalizationError(ValueError):
    """A value cannot be canonicalised (or must not be stored).

    ``reason`` says what is wrong, ``path`` says where, as a JSON pointer (RFC 6901) into the
    value; the root is ``""``. For display, control characters and surrogates in the path are
    written as ``\\uXXXX`` and key segments longer than 40 characters are shortened.
    """

    def __init__(self, reason: str, path: str = "") -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{reason} at {path or '(root)'}")


def check_json_value(value: object) -> None:
    """Raise :class:`CanonicalizationError` unless ``value`` may be stored as event data.

    Accepted: ``dict`` with ``str`` keys, ``list``, ``tuple``, ``str``, ``bool``, ``None``,
    ``int`` within +-MAX_SAFE_INTEGER and finite ``float``, nested at most ``MAX_DEPTH`` deep.
    Strings (keys included) must not contain U+0000 or lone surrogates.
    """
    if _plain_json(value) is None:
        _Encoder(strict=True).encode(value)


def canonical_json(value: object, *, strict: bool = True) -> bytes:
    """Return the RFC 8785 canonical form of ``value`` as UTF-8 bytes.

    ``strict=True`` enforces every rule of :func:`check_json_value`. ``strict=False`` skips only
    the integer range rule: an integer is then encoded as ``float(n)`` (which is how RFC 8785
    reads every JSON number) and rejected only if it overflows a double.
    """
    plain = _plain_json(value)
    if plain is not None:
        return plain
    return _Encoder(strict=strict).encode(value).encode("utf-8")


# The standard library's C encoder, set up to write what RFC 8785 writes for plain values.
_dumps = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False, check_circular=False
).encode


def _plain_json(value: object) -> bytes | None:
    """The canonical bytes of a value the standard library's C encoder writes exactly as RFC
    8785 does, or None to leave it to _Encoder (which also explains what is wrong).

    Plain means: only exact dicts with str keys, lists, str, bool, None, ints within
    +-MAX_SAFE_INTEGER and floats whose repr is their ECMAScript form, at most MAX_DEPTH deep.
    Keys must stay in the Basic Multilingual Plane, where code point order (what sort_keys
    uses) is UTF-16 order. Both write strings with the same escapes; a U+0000 shows up as an
    escape in the output and a lone surrogate fails the UTF-8 encoding, and either sends the
    value to _Encoder, as does anything else (tuples, subclasses, -0.0, 1e16, ...)."""
    pending: list[tuple[object, int]] = [(value, 1)]
    pop, push = pending.pop, pending.append
    while pending:
        item, depth = pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:  # type: ignore[operator]
                continue
            return None
        if kind is float:
            if math.isfinite(item) and float.__repr__(item) == _format_double(item):  # type: ignore[arg-type]
                continue
            return None
        if depth > MAX_DEPTH:
            return None
        if kind is dict:
            for key, member in item.items():  # type: ignore[attr-defined]
                if type(key) is not str or (not key.isascii() and max(key) > "\uffff"):
                    return None
                push((member, depth + 1))
        elif kind is list:
            for member in item:  # type: ignore[attr-defined]
                push((member, depth + 1))
        else:
            return None
    text = _dumps(value)
    if "\\u0000" in text:
        return None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None


class _Encoder:
    """One canonicalisation pass; validates while it writes."""

    __slots__ = ("_out", "_path", "_strict")

    def __init__(self, *, strict: bool) -> None:
        self._strict = strict
        self._out: list[str] = []
        # Path segments of the value being visited; only joined when an error is raised.
        self._path: list[str | int] = []

    def encode(self, value: object) -> str:
        self._value(value, 0)
        return "".join(self._out)

    # -- errors ----------------------------------------------------------------------------

    def _error(self, reason: str) -> CanonicalizationError:
        return CanonicalizationError(reason, _json_pointer(self._path))

    # -- dispatch --------------------------------------------------------------------------

    def _value(self, value: object, depth: int) -> None:
        # Subclasses (OrderedDict, IntEnum, StrEnum, named tuples, ...) are treated as their
        # base type, always through the base type's own methods so overrides cannot change
        # the output. bool is tested before int because it is an int subclass.
        if value is None:
            self._out.append("null")
        elif value is True:
            self._out.append("true")
        elif value is False:
            self._out.append("false")
        elif isinstance(value, str):
            self._string(str.__str__(value), what="string")
        elif isinstance(value, int):
            self._integer(int.__int__(value))
        elif isinstance(value, float):
            self._out.append(self._number(float.__float__(value)))
        elif isinstance(value, dict):
            self._object(value, depth + 1)
        elif isinstance(value, list | tuple):
            self._array(value, depth + 1)
        else:
            raise self._error(f"unsupported type {type(value).__qualname__}")

    # -- containers ------------------------------------------------------------------------

    def _check_depth(self, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise self._error(f"nesting deeper than {MAX_DEPTH} levels")

    def _object(self, value: dict[object, object], depth: int) -> None:
        self._check_depth(depth)
        entries: list[tuple[bytes, str, object]] = []
        for raw_key, item in dict.items(value):
            if not isinstance(raw_key, str):
                raise self._error(f"object key of type {type(raw_key).__qualname__} (must be str)")
            key = str.__str__(raw_key)
            self._path.append(key)  # the error points at the member whose key is bad
            self._check_string(key, what="object key")
            self._path.pop()
            # RFC 8785 3.2.3: sort by UTF-16 code units. Big-endian UTF-16 bytes compare in
            # exactly that order (unlike code points, which put U+10000.. after U+E000..).
            entries.append((key.encode("utf-16-be"), key, item))
        entries.sort(key=_sort_key)

        out = self._out
        path = self._path
        out.append("{")
        for index, (_, key, item) in enumerate(entries):
            if index:
                out.append(",")
            self._string(key, what="object key", checked=True)
            out.append(":")
            path.append(key)
            self._value(item, depth)
            path.pop()
        out.append("}")

    def _array(self, value: list[object] | tuple[object, ...], depth: int) -> None:
        self._check_depth(depth)
        items = list.copy(value) if isinstance(value, list) else list(tuple.__iter__(value))
        out = self._out
        path = self._path
        out.append("[")
        for index, item in enumerate(items):
            if index:
                out.append(",")
            path.append(index)
            self._value(item, depth)
            path.pop()
        out.append("]")

    # -- strings ---------------------------------------------------------------------------

    def _check_string(self, text: str, *, what: str) -> None:
        match = _FORBIDDEN_CHARS.search(text)
        if match is None:
            return
        char = match.group()
        problem = "U+0000" if char == "\x00" else f"lone surrogate U+{ord(char):04X}"
        raise self._error(f"{what} contains {problem} (character {match.start()})")

    def _string(self, text: str, *, what: str, checked: bool = False) -> None:
        if not checked:
            self._check_string(text, what=what)
        self._out.append('"' + text.translate(_STRING_ESCAPES) + '"')

    # -- numbers ---------------------------------------------------------------------------

    def _integer(self, number: int) -> None:
        if -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER:
            # Exact as a double, and below 1e21, so the ES form is the plain decimal.
            self._out.append(str(number))
            return
        if self._strict:
            raise self._error(
                f"integer {_preview(number)} outside +-{MAX_SAFE_INTEGER} "
                "(not exactly representable as an IEEE-754 double)"
            )
        try:
            as_double = float(number)
        except OverflowError:
            raise self._error(
                f"integer {_preview(number)} too large for an IEEE-754 double"
            ) from None
        self._out.append(self._number(as_double))

    def _number(self, number: float) -> str:
        if math.isnan(number):
            raise self._error("NaN is not valid JSON")
        if math.isinf(number):
            raise self._error("Infinity is not valid JSON")
        return _format_double(number)


def _sort_key(entry: tuple[bytes, str, object]) -> bytes:
    return entry[0]


def _json_pointer(segments: list[str | int]) -> str:
    """RFC 6901 pointer for ``segments`` (``~`` -> ``~0``, ``/`` -> ``~1``)."""
    parts = []
    for segment in segments:
        if isinstance(segment, int):
            parts.append(str(segment))
        else:
            text = segment.replace("~", "~0").replace("/", "~1")
            if len(text) > _REPR_PREVIEW_CHARS:
                text = text[:_REPR_PREVIEW_CHARS] + "..."
            parts.append(_UNPRINTABLE_CHARS.sub(_escape_unprintable, text))
    return "".join("/" + part for part in parts)


def _escape_unprintable(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _preview(number: int) -> str:
    text = str(number)
    if len(text) > _REPR_PREVIEW_CHARS:
        return f"{text[:20]}...({len(text)} digits)"
    return text


def _format_double(number: float) -> str:
    """Format a finite double as ECMAScript ``Number.prototype.toString`` does (RFC 8785 3.2.2.3).

    ``repr`` yields the shortest digit string that round-trips (and, among those, the one
    closest to the exact value), which is what ECMA-262 Number::toString requires; only the
    layout differs, so the digits are re-laid-out here.
    """
    if number == 0:
        return "0"  # both +0 and -0
    text = float.__repr__(number)
    sign = ""
    if text[0] == "-":
        sign = "-"
        text = text[1:]

    mantissa, _, exponent_text = text.partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = int_part + frac_part
    # value = 0.<digits> * 10**point
    point = len(int_part) + (int(exponent_text) if exponent_text else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)  # number of significant digits, s in ECMA-262
    n = point  # n in ECMA-262: value = s * 10**(n - k)

    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * -n + digits
    else:
        exponent = n - 1
        exponent_sign = "+" if exponent >= 0 else "-"
        head = digits[0] if k == 1 else digits[0] + "." + digits[1:]
        body = f"{head}e{exponent_sign}{abs(exponent)}"
    return sign + body
