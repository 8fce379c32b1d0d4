"""Who did it: the actor recorded on every event, as references rather than personal data."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest


def pseudonym(value: str, *, key: str) -> str:
    """A keyed hash of a personal value (an IP address, an e-mail): stable, not reversible."""
    digest = hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()
    return f"hmac-sha256:{digest[:32]}"


@dataclass(frozen=True)
class Actor:
    """The subject of an action. `ref` is what events store (user:<id> or system:<name>)."""

    ref: str
    auth_method: str
    user_id: int | None = None
    display_name: str = ""
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    client_ip: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    # The client program as it names itself (User-Agent), where an adapter records it (MLflow).
    user_agent: str | None = None
    # The Django user, for permission checks; never part of event metadata.
    account: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def user(cls, user: Any, *, auth_method: str, **context: Any) -> Actor:
        return cls(
            ref=f"user:{user.pk}",
            auth_method=auth_method,
            user_id=user.pk,
            display_name=user.get_username(),
            account=user,
            **context,
        )

    @classmethod
    def system(cls, name: str, **context: Any) -> Actor:
        return cls(ref=f"system:{name}", auth_method="system", display_name=name, **context)

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        auth = getattr(request, "successful_authenticator", None)
        method = type(auth).__name__.removesuffix("Authentication").lower() if auth else "session"
        forwarded = request.META.get("HTTP_X_REQUEST_ID", "")
        return cls.user(
            request.user,
            auth_method=method,
            request_id=forwarded[:64] or uuid.uuid4().hex,
            client_ip=request.META.get("REMOTE_ADDR"),
            correlation_id=request.META.get("HTTP_X_CORRELATION_ID", "")[:64] or None,
        )

    @property
    def is_system(self) -> bool:
        return self.ref.startswith("system:")

    def metadata(self, *, pseudonym_key: str) -> dict[str, Any]:
        """Event metadata for this actor. Names and addresses stay out: they are personal data."""
        meta: dict[str, Any] = {
            "actor": self.ref,
            "auth_method": self.auth_method,
            "request_id": self.request_id,
        }
        if self.correlation_id:
            meta["correlation_id"] = self.correlation_id
        if self.causation_id:
            meta["causation_id"] = self.causation_id
        if self.user_agent:
            meta["user_agent"] = self.user_agent
        if self.client_ip:
            meta["client_ip"] = pseudonym(self.client_ip, key=pseudonym_key)
        return meta
