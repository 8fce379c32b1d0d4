"""The promotion gate as the registry sees it: before a version is deployed or given the
`production` alias, every check registered here must pass. The approvals app registers its
check at start-up (the registry sits below approvals and imports nothing of it). A check
raises a DomainError to refuse; it sees facts a projection cannot (bytes in storage, group
membership), which is why it is a call and not a subscriber."""

from __future__ import annotations

from collections.abc import Callable

PromotionCheck = Callable[..., None]

_checks: list[PromotionCheck] = []


class GateNotConfigured(RuntimeError):
    """No check is registered: promotion would go through unguarded, so nothing is promoted."""


def register_promotion_check(check: PromotionCheck) -> None:
    """Add `check(model_id=..., number=..., target=...)` to the gate (once)."""
    if check not in _checks:
        _checks.append(check)


def require_promotion(*, model_id: str, number: int, target: str = "production") -> None:
    """Refuse the promotion unless every registered check allows it; with none registered the
    gate is closed, never open."""
    if not _checks:
        raise GateNotConfigured("no promotion check is registered")
    for check in _checks:
        check(model_id=model_id, number=number, target=target)
