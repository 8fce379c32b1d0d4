"""OpenAPI extensions: describe the Bearer token scheme the way clients send it."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


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


def strict_inputs(result, generator, request, public):
    """Postprocessing hook: request bodies refuse unknown fields, and free-form JSON fields
    accept only what the ledger hashes exactly; the schema says both."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, component in schemas.items():
        if name.endswith("InputRequest") and component.get("type") == "object":
            component["additionalProperties"] = False
    schemas["JsonValue"] = JSON_VALUE
    schemas["JsonObject"] = JSON_OBJECT
    return result
