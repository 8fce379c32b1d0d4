"""What every MLflow-compatible view shares: DRF's authentication (the client's
`Authorization: Bearer <MLFLOW_TRACKING_TOKEN>`), permissions and throttles as on /api/v1/,
MLflow's error shape, no place in the OpenAPI schema, the actor with the client's User-Agent,
and the parameters read from the query (GET, keys repeated for lists) or the JSON body."""

from __future__ import annotations

import dataclasses
from typing import Any

from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from api.idempotency import IdempotentCommands
from api.mlflow import errors
from api.mlflow.errors import MlflowError, invalid
from core.actors import Actor
from registry import queries
from registry.errors import ModelVersionNotFound
from registry.models import ModelVersion, RegisteredModel

MAX_TEXT = 5000
LEDGER_TAG_PREFIX = "ledger."
MAX_USER_AGENT = 200


class MlflowApi(IdempotentCommands, APIView):
    """Base of the MLflow-compatible views (see the module's docstring)."""

    schema = None  # not part of /api/schema/: these paths are MLflow's contract, not ours
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self):
        return errors.exception_handler


def actor(request: Request) -> Actor:
    agent = request.headers.get("User-Agent", "")[:MAX_USER_AGENT]
    return dataclasses.replace(Actor.from_request(request), user_agent=agent or None)


class Params:
    """The request's parameters: the query string for GET, the JSON object body otherwise."""

    def __init__(self, request: Request) -> None:
        if request.method == "GET":
            self._query = request.query_params
            self._body: dict[str, Any] | None = None
        else:
            data = request.data
            if data is None or data == {}:
                data = {}
            if not isinstance(data, dict):
                raise invalid("the request body must be a JSON object")
            self._query, self._body = None, data

    def raw(self, name: str) -> Any:
        if self._body is not None:
            return self._body.get(name)
        return self._query.get(name)

    def text(self, name: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
        value = self.raw(name)
        if value is None or value == "":
            if required:
                raise invalid(f"missing value for required parameter '{name}'")
            return ""
        if not isinstance(value, str):
            raise invalid(f"parameter '{name}' must be a string")
        if len(value) > limit:
            raise invalid(f"parameter '{name}' is at most {limit} characters")
        if "\x00" in value:
            raise invalid(f"parameter '{name}' holds a NUL character")
        return value

    def texts(self, name: str) -> list[str]:
        if self._body is not None:
            value = self._body.get(name) or []
            if isinstance(value, str):
                value = [value]
        else:
            value = self._query.getlist(name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise invalid(f"parameter '{name}' must be a list of strings")
        if len(value) > 100:
            raise invalid(f"parameter '{name}' takes at most 100 values")
        return value

    def flag(self, name: str) -> bool:
        value = self.raw(name)
        if value in (None, "", False, "false", "False"):
            return False
        if value in (True, "true", "True"):
            return True
        raise invalid(f"parameter '{name}' must be true or false")

    def version(self) -> int:
        value = self.raw("version")
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 9:
            raise invalid("parameter 'version' must be a version number")
        return int(text)

    def tags(self) -> dict[str, str]:
        """`tags: [{"key", "value"}]` as a dict. The ledger's own tags are computed, never
        stored: where a client sends them back (copy_model_version copies a version's tags),
        they are left out."""
        value = self.raw("tags") or []
        if not isinstance(value, list) or len(value) > 100:
            raise invalid("tags are a list of at most 100 {key, value} objects")
        found: dict[str, str] = {}
        for item in value:
            if not isinstance(item, dict) or not isinstance(item.get("key"), str):
                raise invalid("each tag is an object with a string key")
            tag_value = item.get("value", "")
            if not isinstance(tag_value, str):
                raise invalid(f"the value of tag {item['key']!r} must be a string")
            if not item["key"].startswith(LEDGER_TAG_PREFIX):
                found[item["key"]] = tag_value
        return found


def tag_key(key: str) -> str:
    if key.startswith(LEDGER_TAG_PREFIX):
        raise invalid("tags beginning with 'ledger.' are the ledger's own and read-only")
    return key


def model_row(name: str) -> RegisteredModel:
    return RegisteredModel.objects.get(id=queries.model_id_for(name))


def version_row(name: str, number: int) -> tuple[RegisteredModel, ModelVersion]:
    model = model_row(name)
    row = ModelVersion.objects.filter(model_id=model.id, number=number).first()
    if row is None:
        raise ModelVersionNotFound(f"model {model.name!r} has no version {number}")
    return model, row


__all__ = ["MlflowApi", "MlflowError", "Params", "actor", "model_row", "tag_key", "version_row"]
