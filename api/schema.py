"""OpenAPI extensions: describe the Bearer token scheme the way clients send it, and make the
schema state what the server refuses in every input (unknown fields, inexact JSON, NUL)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from api.params import IDEMPOTENCY_KEY


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token: `Authorization: Bearer <key>`.",
        }


SAFE_INTEGER = 2**53 - 1
# Text without U+0000, in the ECMA-262 spelling OpenAPI uses (Python's re reads it the same).
NUL_FREE = "^[^\\u0000]*$"
JSON_VALUE = {
    "description": "Any JSON value whose numbers are exact as IEEE-754 doubles.",
    "anyOf": [
        {"type": "null"},
        {"type": "boolean"},
        {"type": "string"},
        {"type": "number", "minimum": -SAFE_INTEGER, "maximum": SAFE_INTEGER},
        {"type": "array", "items": {"$ref": "#/components/schemas/JsonValue"}},
        {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/JsonValue"}},
    ],
}
JSON_OBJECT = {
    "type": "object",
    "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
}
_PARAMETER_PLACES = ("path", "query")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMAS = ("items", "additionalProperties", "propertyNames")
# A string with one of these is already closed: an enum or a pattern names what it takes, and a
# format (date-time, uuid, binary) either cannot hold NUL or, for binary, may hold any byte.
_CLOSED_STRING = ("pattern", "enum", "const", "format")


def strict_inputs(result, generator, request, public):
    """Postprocessing hook: request bodies refuse unknown fields, free-form JSON fields accept
    only what the ledger hashes exactly, and no input string holds NUL; the schema says all
    three, so that a client (or a fuzzer) generating from it meets no undocumented 400."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, component in schemas.items():
        if name.endswith("InputRequest") and component.get("type") == "object":
            component["additionalProperties"] = False
    schemas["JsonValue"] = JSON_VALUE
    schemas["JsonObject"] = JSON_OBJECT
    refuse_nul_in_inputs(result)
    document_idempotency(result)
    return result


_COMMAND_METHODS = ("post", "put", "patch", "delete")
_KEY_REUSED = {
    "description": "Idempotency key reused for a different request",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def document_idempotency(result: dict[str, Any]) -> None:
    """Every command takes an Idempotency-Key (api.idempotency, one layer for all of them):
    the schema says so on every POST, PUT, PATCH and DELETE."""
    header = {
        "in": "header",
        "name": IDEMPOTENCY_KEY.name,
        "schema": IDEMPOTENCY_KEY.type,
        "description": IDEMPOTENCY_KEY.description,
    }
    for item in result.get("paths", {}).values():
        for method in _COMMAND_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == IDEMPOTENCY_KEY.name for p in parameters):
                parameters.append(dict(header))
            responses = operation.setdefault("responses", {})
            if "422" not in responses:
                responses["422"] = {
                    "description": "Idempotency key reused for a different request",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                }


def refuse_nul_in_inputs(result: dict[str, Any]) -> None:
    """Give every open string of a request body, and of path and query parameters, a pattern
    that excludes U+0000, and likewise the keys of every map whose values the schema describes.

    PostgreSQL text and jsonb cannot hold NUL, so the server answers 400 (`nul_character` for a
    URL, `null_characters_not_allowed` or `invalid_json_value` for a body) wherever one
    appears. Done here, once, rather than field by field, so that no new field can forget it;
    strings that already have a pattern, an enum or a format are left as they are. Headers
    are left out: HTTP field values may not hold NUL (RFC 9110), and every header the API
    reads has a pattern already."""
    schemas = result.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in _PARAMETER_PLACES:
                    _close_strings(parameter.get("schema"), schemas, seen)
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _close_strings(media.get("schema"), schemas, seen)


def _close_strings(schema: Any, schemas: dict[str, Any], seen: set[str]) -> None:
    """Walk one input schema in place, following $refs into the shared components once."""
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[-1]
        if name not in seen:  # components are shared (and JsonValue refers to itself)
            seen.add(name)
            _close_strings(schemas.get(name), schemas, seen)
        return
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if "string" in types and not any(key in schema for key in _CLOSED_STRING):
        schema["pattern"] = NUL_FREE
    values = schema.get("additionalProperties")
    if "object" in types and isinstance(values, dict) and values:
        # A map whose values are described (tags, JSON the ledger hashes) is stored, keys and
        # all. One whose values may be anything (OpenLineage facets) is passed over unread, and
        # the server takes NUL in its keys, so the schema does not claim otherwise.
        names = schema.setdefault("propertyNames", {})
        if not any(key in names for key in _CLOSED_STRING):
            names["pattern"] = NUL_FREE
    for key in _SUBSCHEMAS:
        _close_strings(schema.get(key), schemas, seen)
    for key in _SUBSCHEMA_LISTS:
        for subschema in schema.get(key, []):
            _close_strings(subschema, schemas, seen)
    for subschema in schema.get("properties", {}).values():
        _close_strings(subschema, schemas, seen)
