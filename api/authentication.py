"""API tokens: `Authorization: Bearer <key>` (what MLflow and OpenLineage clients send) and
DRF's `Authorization: Token <key>`, both backed by rest_framework.authtoken."""

from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    keyword = "Bearer"
