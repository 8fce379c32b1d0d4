"""Who may export: members of the auditors group and superusers."""

from __future__ import annotations

from typing import Any

from lineage.errors import NotAnAuditor

AUDITORS = "auditors"


def is_auditor(user: Any) -> bool:
    return user is not None and (user.is_superuser or user.groups.filter(name=AUDITORS).exists())


def require_auditor(user: Any) -> None:
    if not is_auditor(user):
        raise NotAnAuditor("only members of the auditors group and administrators can export")
