"""Django app configuration for the shared kernel."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Model Ledger core"
