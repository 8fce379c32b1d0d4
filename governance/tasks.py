"""Celery tasks of governance: the periodic review scan and review notifications. Thin: each
calls one command or sends one e-mail. Delivered at least once (acks late, redone when a
worker dies); the scan is idempotent by construction and notifications skip a message id
they have already sent."""

from __future__ import annotations

from smtplib import SMTPException
from typing import Any

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import InterfaceError, OperationalError

from core.actors import Actor

RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 10,
    "ignore_result": True,
}

SUBJECTS = {
    "opened": "A periodic model review is open for your board",
    "remind": "Reminder: a periodic model review is due soon",
    "escalate_chair": "Escalation: a periodic model review of your board is overdue",
    "escalate_officer": "Escalation: a periodic model review is overdue",
    "overdue": "A periodic model review ran out of grace",
}


@shared_task(
    name="governance.scan_reviews",
    bind=True,
    autoretry_for=(OperationalError, InterfaceError),
    **RETRY,
)
def scan_reviews(self) -> dict[str, int]:
    """The periodic scan: review cadences, then bias audits on each tier's cadence."""
    from governance import audits, reviews

    actor = Actor.system("governance.scan_reviews", causation_id=self.request.id)
    report = reviews.scan_reviews(actor=actor)
    audited = audits.scan_bias_audits(actor=actor)
    return {
        "opened": report.opened,
        "steps": report.steps,
        "skipped": report.skipped + audited.skipped,
        "audits": audited.ran,
    }


def _send(task: Any, subject: str, body: str, user_ids: list[int]) -> int:
    """E-mail each active recipient with an address, once per message id: marked done only
    once sent, so a retry after an SMTP failure still sends."""
    key = f"governance.notify:{task.request.id}"
    if task.request.id and cache.get(key):
        return 0
    sent = 0
    users = get_user_model().objects.filter(pk__in=user_ids, is_active=True).exclude(email="")
    for user in users:
        sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    if task.request.id:
        cache.set(key, 1, 86_400)
    return sent


@shared_task(
    name="governance.notify_finding",
    bind=True,
    autoretry_for=(SMTPException, ConnectionError),
    **RETRY,
)
def notify_finding(self, event: str, finding_id: str, user_ids: list[int]) -> int:
    link = f"{settings.LEDGER_BASE_URL}/admin/governance/finding/{finding_id}/change/"
    body = f"Finding {finding_id}: {event}.\n\nOpen it: {link}\n"
    return _send(self, f"A governance finding was {event}", body, user_ids)


@shared_task(
    name="governance.notify_review",
    bind=True,
    autoretry_for=(SMTPException, ConnectionError),
    **RETRY,
)
def notify_review(self, event: str, review_id: str, user_ids: list[int]) -> int:
    link = f"{settings.LEDGER_BASE_URL}/admin/governance/periodicreview/{review_id}/change/"
    subject = SUBJECTS.get(event, f"Periodic review update: {event}")
    return _send(
        self, subject, f"Periodic review {review_id}: {event}.\n\nOpen it: {link}\n", user_ids
    )
