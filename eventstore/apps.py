"""Django app configuration for the event store: loads every app's event types, projectors and
subscribers, and connects the outbox to the Celery worker's signals."""

from importlib import import_module

from django.apps import AppConfig, apps

from eventstore import outbox


class EventStoreConfig(AppConfig):
    name = "eventstore"
    verbose_name = "Event store"

    def ready(self) -> None:
        outbox.connect_worker_signals()
        # Event types, projectors and subscribers register themselves on import; every app
        # keeps them in events.py, projectors.py and policies.py.
        for config in apps.get_app_configs():
            for module in ("events", "projectors", "policies"):
                try:
                    import_module(f"{config.name}.{module}")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{config.name}.{module}":
                        raise
