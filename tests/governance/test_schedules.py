"""The periodic tasks the migrations seed in django-celery-beat: the right task names and
intervals, and every named task registered with the Celery app the worker runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_celery_beat.models import PeriodicTask

from config.celery import app

# serialized_rollback: tests that commit flush every table, seeded rows included; this
# restores what the migrations wrote.
pytestmark = pytest.mark.django_db(serialized_rollback=True)

PERIOD = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "microseconds": 1e-6}


def _every(task: PeriodicTask) -> timedelta:
    assert task.interval is not None, f"{task.name} runs on an interval"
    return timedelta(seconds=task.interval.every * PERIOD[task.interval.period])


def test_migrations_seed_the_review_scan_but_no_checkpoint_when_the_database_is_created():
    seeded = {task.task: task for task in PeriodicTask.objects.filter(enabled=True)}
    assert "governance.scan_reviews" in seeded
    # The scan also runs the bias audits that each tier's cadence makes due.
    assert _every(seeded["governance.scan_reviews"]) == timedelta(hours=1)
    # Workers hold no signing key: the signer process (manage.py run_signer) signs.
    assert not PeriodicTask.objects.filter(task="eventstore.write_checkpoint").exists()


def test_migrations_seed_the_incident_clock_scan_every_quarter_hour_when_the_database_is_created():
    (task,) = PeriodicTask.objects.filter(task="governance.scan_incidents", enabled=True)
    # The strictest Art. 73 window is two days: a reminder or an overdue mark is never an
    # hour late.
    assert _every(task) == timedelta(minutes=15)


def test_every_seeded_task_is_registered_with_the_celery_app_when_the_worker_loads():
    app.loader.import_default_modules()
    names = set(PeriodicTask.objects.values_list("task", flat=True))
    names.discard("celery.backend_cleanup")
    assert names, "the migrations seeded periodic tasks"
    assert names <= set(app.tasks), f"not registered: {sorted(names - set(app.tasks))}"
