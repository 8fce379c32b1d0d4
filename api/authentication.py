"""API tokens: `Authorization: Bearer <key>` (what MLflow and OpenLineage clients send) and
DRF's `Authorization: Token <key>`, both backed by rest_framework.authtoken.

Both look the token and its user up with one prepared SQL statement instead of DRF's ORM
query (`select_related("user").get(key=...)`), whose compilation cost more CPU than the
lookup itself on every API request. The answer is the same: the token and its user as model
instances, refused when unknown or when the user is inactive. The same statement counts the
request against the active user's rate (api.throttling), which then needs no query."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from api import throttling
from core import clock


def _columns(model: Any) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


@cache
def _lookup() -> tuple[str, str, list[str], list[str]]:
    """The lookup's SQL, alone and counting the request against the user rate (with the
    parameters key, throttle key prefix, window start, expiry)."""
    user_model = get_user_model()
    token_fields, user_fields = _columns(Token), _columns(user_model)
    quote = connection.ops.quote_name
    selected = [f"t.{quote(Token._meta.get_field(f).column)}" for f in token_fields]
    selected += [f"u.{quote(user_model._meta.get_field(f).column)}" for f in user_fields]
    owner = quote(Token._meta.get_field("user").column)
    user_pk = quote(user_model._meta.pk.column)
    found = (
        f"SELECT {', '.join(selected)} FROM {quote(Token._meta.db_table)} AS t"
        f" JOIN {quote(user_model._meta.db_table)} AS u ON u.{user_pk} = t.{owner}"
        f" WHERE t.{quote(Token._meta.pk.column)} = %s"
    )
    active = quote(user_model._meta.get_field("is_active").column)
    count = throttling.count_rows(
        f"SELECT %s::text || found.{user_pk}::text, %s, 1, %s FROM found WHERE found.{active}"
    )
    counting = (
        f"WITH found AS ({found}), counted AS ({count})"
        " SELECT found.*, (SELECT hits FROM counted) FROM found"
    )
    return found, counting, token_fields, user_fields


def token_and_user(key: str, *, count_request: bool = False) -> tuple[Any, Any] | None:
    """The token with this key and its user (token.user set), or None. With count_request, the
    request is counted against an active user's rate in the same statement, and the token
    carries `counted_request` = (throttle key, window start, hits) for the user throttle."""
    found, counting, token_fields, user_fields = _lookup()
    counted_in = throttling.user_rate_window(clock.now()) if count_request else None
    with connection.cursor() as cursor:
        if counted_in is None:
            cursor.execute(found, [key])
        else:
            prefix = throttling.user_key("")
            cursor.execute(counting, [key, prefix, counted_in[0], counted_in[1]])
        row = cursor.fetchone()
    if row is None:
        return None
    ends = len(token_fields) + len(user_fields)
    token = Token.from_db(connection.alias, token_fields, row[: len(token_fields)])
    token.user = get_user_model().from_db(
        connection.alias, user_fields, row[len(token_fields) : ends]
    )
    if counted_in is not None and row[ends] is not None:
        token.counted_request = (throttling.user_key(token.user.pk), counted_in[0], row[ends])
    return token, token.user


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        found = token_and_user(key, count_request=True)
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token, user = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, token


class BearerTokenAuthentication(TokenAuthentication):
    """`Authorization: Bearer <key>`."""

    keyword = "Bearer"
