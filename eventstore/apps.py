"""Django app configuration for the event store; loads every app's projectors."""

from importlib import import_module

from django.apps import AppConfig, apps


class EventStoreConfig(AppConfig):
    name = "eventstore"
    verbose_name = "Event store"

    def ready(self) -> None:
        # Projectors register themselves on import; every app keeps them in projectors.py.
        for config in apps.get_app_configs():
            try:
                import_module(f"{config.name}.projectors")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.projectors":
                    raise
