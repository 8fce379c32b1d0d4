"""Django app configuration for the event store; loads every app's projectors and connects
the outbox to the Celery worker's signals."""

from importlib import import_module

from django.apps import AppConfig, apps

from eventstore import outbox


class EventStoreConfig(AppConfig):
    name = "eventstore"
    verbose_name = "Event store"

    def ready(self) -> None:
        outbox.connect_worker_signals()
        # Projectors register themselves on import; every app keeps them in projectors.py.
        for config in apps.get_app_configs():
            try:
                import_module(f"{config.name}.projectors")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.projectors":
                    raise
