"""The `auditors` group: every view permission, nothing else. Created idempotently (another
app may create it too), by the migration and wherever it has to exist again."""

from __future__ import annotations

from typing import Any

AUDITORS = "auditors"


def ensure_auditors_group(group_model: Any = None, permission_model: Any = None) -> Any:
    """get_or_create the group and give it every view_* permission. The migration passes its
    historical models; other callers use the live ones."""
    if group_model is None or permission_model is None:
        from django.contrib.auth.models import Group, Permission

        group_model, permission_model = Group, Permission
    group, _ = group_model.objects.get_or_create(name=AUDITORS)
    group.permissions.add(*permission_model.objects.filter(codename__startswith="view_"))
    return group
