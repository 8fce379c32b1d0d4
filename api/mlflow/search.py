"""Searches as MLflow's client sends them: the filter grammar, `order_by`, `max_results` and
page tokens, read into ORM lookups on the registry's read tables.

The grammar is the small one the client sends, parsed by hand and refusing anything else
(INVALID_PARAMETER_VALUE): comparisons joined by AND, each `<key> <op> <value>`, where key is
`name`, `run_id`, `source_path`, `version_number` or `tags.<key>` (or `tag.<key>`, as the client
spells its own prompt filter; a backquoted key may hold
any character but a backquote), op is `=`, `!=`, `LIKE`, `ILIKE` or `IN`, and value a quoted
string, a whole number, or a parenthesised list of quoted strings (IN). A key or a value is
data, never part of a lookup: tags are matched by containment, LIKE patterns become anchored
regular expressions whose literal characters are escaped, so a `%` or `_` escaped with a
backslash matches itself.

Page tokens are signed offsets bound to the search they continue (its filter and order), so a
forged, altered or foreign token is refused."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.lookups import IRegex, Regex

from api.mlflow.errors import invalid

MAX_FILTER = 2000
MAX_PATTERN = 500
MAX_IN = 100
MAX_ORDER_CLAUSES = 10
_SALT = "api.mlflow.page-token"
_DIGITS = re.compile(r"[0-9]{1,9}")

_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
    | (?P<number>[0-9]+)
    | (?P<op>!=|=|\(|\)|,)
    | (?P<tagkey>tags?\.(?:`[^`]{1,250}`|[A-Za-z0-9_.\-]{1,250}))
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE | re.ASCII,
)


@dataclass(frozen=True)
class Field:
    """A filterable key: its column (or tags), and whether its values are text or numbers."""

    column: str
    numeric: bool = False


def _tokens(text: str) -> list[tuple[str, str]]:
    if len(text) > MAX_FILTER:
        raise invalid(f"a filter is at most {MAX_FILTER} characters")
    found, at = [], 0
    while at < len(text):
        if not text[at:].strip():
            break
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise invalid(
                f"the filter cannot be read at character {at + 1}: {text[at : at + 20]!r}"
            )
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        at = match.end()
    return found


def _unquote(literal: str) -> str:
    quote = literal[0]
    return literal[1:-1].replace(quote * 2, quote)


def like_regex(pattern: str) -> str:
    """A LIKE pattern as an anchored regular expression: `%` any run, `_` one character,
    a backslash makes the next character literal; everything else is matched as written."""
    if len(pattern) > MAX_PATTERN:
        raise invalid(f"a LIKE pattern is at most {MAX_PATTERN} characters")
    out, escaped = ["^"], False
    for char in pattern:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    if escaped:
        out.append(re.escape("\\"))
    out.append("$")
    return "".join(out)


def _value(tokens: list[tuple[str, str]], at: int, field: Field) -> Any:
    if at >= len(tokens):
        raise invalid("the filter ends where a value was expected")
    kind, text = tokens[at]
    if kind == "string":
        value = _unquote(text)
        if field.numeric:
            if not _DIGITS.fullmatch(value):
                raise invalid(f"{value!r} is not a whole number")
            return int(value)
        return value
    if kind == "number" and (field.numeric or field.column == "run_id"):
        if len(text) > 9 and field.numeric:
            raise invalid(f"{text!r} is too large")
        return int(text) if field.numeric else text
    raise invalid(f"expected a quoted value, found {text!r}")


def _comparison(key: str, op: str, value: Any, field: Field) -> Q:
    if field.column == "tags":
        tag = key.split(".", 1)[1].strip("`")
        if op == "=":
            return Q(tags__contains={tag: value})
        if op == "!=":
            # As MLflow's own stores: a model without the tag is not equal to the value.
            return ~Q(tags__contains={tag: value})
        if op in ("LIKE", "ILIKE"):
            # A lookup object, not a keyword: the tag's key stays data whatever it spells.
            lookup = Regex if op == "LIKE" else IRegex
            return Q(tags__has_key=tag) & Q(lookup(KeyTextTransform(tag, "tags"), value))
    column = field.column
    if op == "=":
        return Q(**{column: value})
    if op == "!=":
        return ~Q(**{column: value})
    if op in ("LIKE", "ILIKE") and not field.numeric:
        return Q(**{f"{column}__{'regex' if op == 'LIKE' else 'iregex'}": like_regex(value)})
    if op == "IN":
        return Q(**{f"{column}__in": value})
    raise invalid(f"{op} does not apply to {key}")


def parse_filter(text: str, fields: dict[str, Field]) -> Q:
    """The filter as a Q over the read table; empty text is everything."""
    tokens = _tokens(text or "")
    query, at = Q(), 0
    while at < len(tokens):
        kind, key = tokens[at]
        field = fields.get("tags" if kind == "tagkey" else key)
        if kind not in ("word", "tagkey") or field is None:
            names = ", ".join(sorted(f for f in fields if f != "tags"))
            raise invalid(f"the filter may name {names} or tags.<key>, not {key!r}")
        if at + 1 >= len(tokens):
            raise invalid("the filter ends after a key")
        op = tokens[at + 1][1].upper()
        if op == "IN":
            values, at = _list(tokens, at + 2, field)
            query &= _comparison(key, op, values, field)
        elif op in ("=", "!=", "LIKE", "ILIKE"):
            value = _value(tokens, at + 2, field)
            if op in ("LIKE", "ILIKE") and field.column == "tags":
                value = like_regex(value)
            query &= _comparison(key, op, value, field)
            at += 3
        else:
            raise invalid(f"unsupported comparison {tokens[at + 1][1]!r}")
        if at < len(tokens):
            if tokens[at] != ("word", tokens[at][1]) or tokens[at][1].upper() != "AND":
                raise invalid(f"comparisons are joined with AND, not {tokens[at][1]!r}")
            at += 1
            if at >= len(tokens):
                raise invalid("the filter ends after AND")
    return query


def _list(tokens: list[tuple[str, str]], at: int, field: Field) -> tuple[list[Any], int]:
    if at >= len(tokens) or tokens[at] != ("op", "("):
        raise invalid("IN takes a parenthesised list of values")
    values: list[Any] = []
    at += 1
    while True:
        values.append(_value(tokens, at, field))
        if len(values) > MAX_IN:
            raise invalid(f"IN takes at most {MAX_IN} values")
        at += 1
        if at < len(tokens) and tokens[at] == ("op", ","):
            at += 1
            continue
        if at < len(tokens) and tokens[at] == ("op", ")"):
            return values, at + 1
        raise invalid("an IN list ends with ')'")


_ORDER = re.compile(r"\s*([A-Za-z_]+)\s*(?:\s(ASC|DESC))?\s*", re.IGNORECASE | re.ASCII)


def parse_order(clauses: list[str], columns: dict[str, str], tiebreak: list[str]) -> list[str]:
    """`order_by` clauses (`name`, `last_updated_timestamp DESC`, ...) as ORM orderings."""
    if len(clauses) > MAX_ORDER_CLAUSES:
        raise invalid(f"order_by takes at most {MAX_ORDER_CLAUSES} clauses")
    ordering: list[str] = []
    for clause in clauses:
        match = _ORDER.fullmatch(clause or "")
        if match is None or match.group(1) not in columns:
            raise invalid(f"order_by may name {', '.join(sorted(columns))}, not {clause!r}")
        descending = (match.group(2) or "ASC").upper() == "DESC"
        ordering.append(("-" if descending else "") + columns[match.group(1)])
    named = {o.lstrip("-") for o in ordering}
    return ordering + [t for t in tiebreak if t.lstrip("-") not in named]


def max_results(raw: Any, *, default: int, limit: int) -> int:
    """ASCII digits only (`²` or ` 5` are refused, not read as numbers), 1 to `limit`."""
    if raw is None or raw == "":
        return default
    text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
    if not isinstance(text, str) or not _DIGITS.fullmatch(text):
        raise invalid(f"max_results must be a whole number from 1 to {limit}")
    value = int(text)
    if not 1 <= value <= limit:
        raise invalid(f"max_results must be between 1 and {limit}, got {value}")
    return value


def _search_key(kind: str, text: str, order: list[str]) -> str:
    return hashlib.sha256(repr((kind, text, order)).encode()).hexdigest()[:32]


def page_offset(token: Any, *, kind: str, text: str, order: list[str]) -> int:
    if token in (None, ""):
        return 0
    if not isinstance(token, str) or len(token) > 500:
        raise invalid("the page token is not one this server issued")
    try:
        data = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        raise invalid("the page token is not one this server issued") from None
    if not isinstance(data, dict) or data.get("s") != _search_key(kind, text, order):
        raise invalid("the page token belongs to another search (its filter or order differ)")
    offset = data.get("o")
    if not isinstance(offset, int) or offset < 0:
        raise invalid("the page token is not one this server issued")
    return offset


def next_token(offset: int, *, kind: str, text: str, order: list[str]) -> str:
    return signing.dumps({"o": offset, "s": _search_key(kind, text, order)}, salt=_SALT)


def page(
    queryset: Any,
    *,
    kind: str,
    text: str,
    order: list[str],
    token: Any,
    size: int,
    render: Callable[[list[Any]], list[dict[str, Any]]],
) -> dict[str, Any]:
    """One page of `queryset` (already filtered and ordered) and the token of the next."""
    start = page_offset(token, kind=kind, text=text, order=order)
    rows = list(queryset[start : start + size + 1])
    body: dict[str, Any] = {}
    if len(rows) > size:
        rows = rows[:size]
        body["next_page_token"] = next_token(start + size, kind=kind, text=text, order=order)
    return {"items": render(rows), **body}
