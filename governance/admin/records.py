"""Admin of governance's records: policy versions, read-only (risk records are in
tiering.py with the risk officer's workspace, evidence in chair.py with the chair's)."""

import json

from django.contrib import admin
from django.utils.html import format_html

from eventstore.admin import ReadOnlyAdmin
from governance.models import (
    PolicyVersion,
)


def pretty(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ("number", "reason", "recorded_at", "recorded_by")
    fields = ("number", "reason", "recorded_at", "recorded_by", "tiers_pretty")
    readonly_fields = fields

    @admin.display(description="tiers")
    def tiers_pretty(self, obj):
        return pretty(obj.tiers)
