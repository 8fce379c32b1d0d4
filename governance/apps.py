"""Django app configuration for governance: risk-tier policies, intake and evidence."""

from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"
