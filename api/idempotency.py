"""The Idempotency-Key header: the same key from the same actor repeats the first result.

One mechanism for every command of the API (`IdempotentCommands`, a base of every view with a
POST, PUT, PATCH or DELETE): before the command runs, the key is looked up by actor and key.
A key used before answers with the first request's status, body and headers (ETag, Location,
Content-Type), whatever happened since (a decision whose request moved on is not refused as a
transition that is no longer valid); the same key for a different request (another method,
path, query or body) is refused, 422 `idempotency_key_reused`, as the event store refuses it
for appends. A request with a key runs in one transaction with the record of its answer
(`core_api_idempotency`), so an answer is kept exactly when the command's events are: only
successful (2xx) answers are kept, since a refused request recorded nothing and may be sent
again. Two identical requests racing meet on the row's primary key: the one that commits
second rolls its work back and returns the first one's answer. Commands still pass the key to
the event store, which keeps refusing a repeated append on its own."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import connection, transaction
from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from api.errors import problem
from core import clock
from eventstore.canonical import canonical_json
from eventstore.types import IdempotencyKeyReused

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
COMMANDS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEPT_HEADERS = ("ETag", "Location", "Content-Type")

_LOOKUP = (
    "SELECT fingerprint, status, body, headers FROM core_api_idempotency"
    " WHERE actor = %s AND key = %s"
)
_KEEP = (
    "INSERT INTO core_api_idempotency"
    " (actor, key, fingerprint, status, body, headers, created_at)"
    " VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s) ON CONFLICT (actor, key) DO NOTHING RETURNING 1"
)


def idempotency_key(request: Request) -> str | None:
    value = request.headers.get(HEADER)
    if value is None:
        return None
    if not 1 <= len(value) <= 200 or not value.isprintable() or not value.isascii():
        raise ValidationError({HEADER: "must be 1-200 printable ASCII characters"})
    return value


def fingerprint(request: Request) -> bytes:
    """What makes a repeat the same request: method, path, query and body. A JSON body counts
    by its parsed value (key order and spacing aside); any other body by its type and length,
    the query naming its content (an artifact's sha256)."""
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    query = sorted((k, sorted(v)) for k, v in request.query_params.lists())
    parts: list[Any] = [request.method, request.path, query]
    if content_type == "application/json" or content_type.endswith("+json"):
        parts.append(request.data)
    else:
        parts += [content_type, request.headers.get("Content-Length", "")]
    return hashlib.sha256(canonical_json(parts)).digest()


class _Replay(Exception):
    def __init__(self, response: HttpResponse) -> None:
        super().__init__()
        self.response = response


def _kept(actor: str, key: str) -> tuple[bytes, int, bytes, dict[str, str]] | None:
    with connection.cursor() as cursor:
        cursor.execute(_LOOKUP, (actor, key))
        row = cursor.fetchone()
    if row is None:
        return None
    stored, status, body, headers = row
    if isinstance(headers, str):
        headers = json.loads(headers)
    return bytes(stored), status, bytes(body), headers


def _answer(kept: tuple[bytes, int, bytes, dict[str, str]], fingerprint: bytes, key: str):
    stored, status, body, headers = kept
    if stored != fingerprint:
        raise IdempotencyKeyReused(f"{HEADER} {key!r} was used before for a different request")
    response = HttpResponse(body, status=status, content_type=headers.get("Content-Type"))
    for name, value in headers.items():
        response[name] = value
    response[REPLAYED] = "true"
    return response


def _keep(claim: tuple[str, str, bytes], response: Any) -> bool:
    """Record a successful answer; False when a concurrent repeat recorded its own first."""
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    actor, key, fp = claim
    with connection.cursor() as cursor:
        cursor.execute(
            _KEEP,
            (
                actor,
                key,
                fp,
                response.status_code,
                response.content,
                json.dumps(headers),
                clock.now(),
            ),
        )
        return cursor.fetchone() is not None


class IdempotentCommands:
    """Base of every API view with a command: a repeated Idempotency-Key returns the first
    answer (see the module's docstring)."""

    _claim: tuple[str, str, bytes] | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self._claim = None
        # A method the view does not have is a 405, whatever key it carries.
        if request.method not in COMMANDS or not hasattr(self, request.method.lower()):
            return
        key = idempotency_key(request)
        if key is None:
            return
        actor = f"user:{request.user.pk}"
        fp = fingerprint(request)
        kept = _kept(actor, key)
        if kept is not None:
            raise _Replay(_answer(kept, fp, key))
        self._claim = (actor, key, fp)

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)  # type: ignore[misc]

    _authenticated: Request | None = None

    def initialize_request(self, request: Any, *args: Any, **kwargs: Any) -> Request:
        early = self._authenticated
        if early is not None and early._request is request:
            return early
        return super().initialize_request(request, *args, **kwargs)  # type: ignore[misc]

    def _authenticate_first(self, request: Any, args: Any, kwargs: Any) -> None:
        """Authenticate before the command's transaction opens. Looking a token up counts the
        user's throttle window (api.authentication), and that row's lock, taken inside the
        transaction, would queue every keyed request of the user behind the one running.
        A failure is left to the dispatch that follows, which answers it."""
        self._authenticated = None
        self.args, self.kwargs = args, kwargs
        early = self.initialize_request(request, *args, **kwargs)
        try:
            early.user  # noqa: B018
        except exceptions.APIException:
            return
        self._authenticated = early

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.method not in COMMANDS or HEADER not in request.headers:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        self._authenticate_first(request, args, kwargs)
        raced = False
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
            claim = self._claim
            ok = 200 <= response.status_code < 300
            if claim is not None and ok and not transaction.get_rollback():
                raced = not _keep(claim, response)
                if raced:
                    transaction.set_rollback(True)
        if claim is not None and (raced or not ok):
            # A repeat that ran beside the first: the first one's answer, once it is kept.
            kept = _kept(claim[0], claim[1])
            if kept is not None:
                try:
                    return _answer(kept, claim[2], claim[1])
                except IdempotencyKeyReused as exc:
                    return problem(422, exc.code, exc.title, exc.detail, instance=request.path)
        return response
