"""The `auditors` group: every view permission except those that expose secrets, nothing
else. Created idempotently (another app may create it too), by the migrations and wherever it
has to exist again."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

AUDITORS = "auditors"

# Apps whose rows are credentials: API tokens (reading one is acting as its owner) and
# sessions (a session key is a logged-in browser). Auditors never read them.
SECRET_APPS = ("authtoken", "sessions")


def _models(group_model: Any, permission_model: Any) -> tuple[Any, Any]:
    if group_model is None or permission_model is None:
        return Group, Permission
    return group_model, permission_model


def secret_permissions(permission_model: Any) -> Any:
    """Every permission on a model that holds credentials."""
    return permission_model.objects.filter(content_type__app_label__in=SECRET_APPS)


def ensure_auditors_group(group_model: Any = None, permission_model: Any = None) -> Any:
    """get_or_create the group, give it every view_* permission but the secret ones, and take
    away any secret one it holds. The migrations pass their historical models; other callers
    use the live ones."""
    group_model, permission_model = _models(group_model, permission_model)
    group, _ = group_model.objects.get_or_create(name=AUDITORS)
    views = permission_model.objects.filter(codename__startswith="view_").exclude(
        content_type__app_label__in=SECRET_APPS
    )
    group.permissions.add(*views)
    group.permissions.remove(*secret_permissions(permission_model))
    return group
