"""API tokens: `Authorization: Bearer <key>` (what MLflow and OpenLineage clients send) and
DRF's `Authorization: Token <key>`, both backed by rest_framework.authtoken.

Both look the token and its user up with one prepared SQL statement instead of DRF's ORM
query (`select_related("user").get(key=...)`), whose compilation cost more CPU than the
lookup itself on every API request. The answer is the same: the token and its user as model
instances, refused when unknown or when the user is inactive."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token


def _columns(model: Any) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


@cache
def _lookup() -> tuple[str, list[str], list[str]]:
    user_model = get_user_model()
    token_fields, user_fields = _columns(Token), _columns(user_model)
    quote = connection.ops.quote_name
    selected = [f"t.{quote(Token._meta.get_field(f).column)}" for f in token_fields]
    selected += [f"u.{quote(user_model._meta.get_field(f).column)}" for f in user_fields]
    owner = quote(Token._meta.get_field("user").column)
    sql = (
        f"SELECT {', '.join(selected)} FROM {quote(Token._meta.db_table)} AS t"
        f" JOIN {quote(user_model._meta.db_table)} AS u"
        f" ON u.{quote(user_model._meta.pk.column)} = t.{owner}"
        f" WHERE t.{quote(Token._meta.pk.column)} = %s"
    )
    return sql, token_fields, user_fields


def token_and_user(key: str) -> tuple[Any, Any] | None:
    """The token with this key and its user (token.user set), or None."""
    sql, token_fields, user_fields = _lookup()
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    token = Token.from_db(connection.alias, token_fields, row[: len(token_fields)])
    token.user = get_user_model().from_db(connection.alias, user_fields, row[len(token_fields) :])
    return token, token.user


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        found = token_and_user(key)
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token, user = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, token


class BearerTokenAuthentication(TokenAuthentication):
    """`Authorization: Bearer <key>`."""

    keyword = "Bearer"
