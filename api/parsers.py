"""The JSON parser of every API body: DRF's, with a bound on nesting.

Python's json module recurses once per level, so a body nested a few thousand levels deep
raises RecursionError (a 500) inside the parser, and anything that walks the parsed value
afterwards (validation, canonical JSON, hashing) would recurse as deep. The depth is measured
first, without recursion, and a body over the bound is a 400 `too_deep`."""

from __future__ import annotations

import re
from typing import Any

from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json

from eventstore import canonical

# Arrays and objects inside one another, the outermost counting 1. Twice the depth of a value
# the ledger records (eventstore.canonical.MAX_DEPTH), so a too-deep value inside a body
# still meets that check and its more specific `invalid_input`; far below the recursion limit
# of anything that reads the parsed body.
MAX_JSON_DEPTH = 2 * canonical.MAX_DEPTH


class TooDeep(APIException):
    """400 `too_deep` (api.errors gives it its title; imported from there, not the reverse:
    DRF's settings import this module while api.errors is loading)."""

    status_code = 400
    default_detail = "The JSON body nests arrays and objects too deep."
    default_code = "too_deep"


# A JSON string (escapes included); what brackets it holds are text, not structure.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_OPENING = frozenset("[{")


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects in `text` nest deeper than `limit`, counted without parsing
    (and so without recursion). Malformed text is judged by its brackets; the parser then
    refuses it anyway."""
    level = 0
    for bracket in _BRACKET.findall(_STRING.sub('""', text)):
        level += 1 if bracket in _OPENING else -1
        if level > limit:
            return True
    return False


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSONParser (strict: no NaN or Infinity), refusing a body nested deeper than
    MAX_JSON_DEPTH before Python's recursive decoder sees it."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        encoding = get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if json_depth_exceeds(text):
            raise TooDeep(
                f"the JSON body nests arrays and objects more than {MAX_JSON_DEPTH} levels deep"
            )
        parse_constant = json.strict_constant if self.strict else None
        try:
            return json.loads(text, parse_constant=parse_constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
