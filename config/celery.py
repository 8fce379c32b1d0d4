"""The Celery application: configured from Django settings, tasks found in every app.

It imports no app: the outbox (eventstore) publishes through Celery's current app and connects
the worker signals it needs itself, so this module stays at the bottom of the import graph."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("model_ledger")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The current app is per thread: threads other than the one that imported this module (a
# threaded server's request threads) fall back to the default app, which the outbox relies on
# being this one. Celery's Django fix-up makes the first app the default; say it outright.
app.set_default()
