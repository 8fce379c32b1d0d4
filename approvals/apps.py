"""Django app configuration for approvals: review boards, approval requests, the gate."""

from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals"
