"""The Celery application: configured from Django settings, tasks found in every app."""

import os

from celery import Celery
from celery.signals import task_failure, task_success

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("model_ledger")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_success.connect
def _outbox_task_finished(sender=None, **kwargs) -> None:
    from eventstore import outbox

    outbox.task_finished(sender.request.id)


@task_failure.connect
def _outbox_task_failed(task_id=None, exception=None, **kwargs) -> None:
    from eventstore import outbox

    outbox.task_failed(task_id, exception)
