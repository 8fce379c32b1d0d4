"""Celery tasks of governance: the periodic review scan, the Art. 73 incident clock scan, the
audit of a new version queued with its evaluation data, and notifications. Thin: each calls
one command or sends one notification. Delivered at least once (acks late, redone when a
worker dies); the scans and the audit are idempotent by construction and notifications are
sent once per message id and recipient through the database (governance/delivery.py), retried
with backoff while the mail server fails."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from core.actors import Actor
from governance.commands import audits, incidents, reviews
from governance.delivery import send_once
from registry.tasks import RETRY, STORE_FAILURES

# What a send may fail with and a later try may not: the mail server or the database away.
SEND_FAILURES = (SMTPException, OSError, OperationalError, InterfaceError)
# Reading evaluation data and recording its audit fail as reading an artifact does.
AUDIT_FAILURES = STORE_FAILURES
AUDIT_NEW_VERSION = "governance.audit_new_version"

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
    actor = Actor.system("governance.scan_reviews", causation_id=self.request.id)
    report = reviews.scan_reviews(actor=actor)
    audited = audits.scan_bias_audits(actor=actor)
    return {
        "opened": report.opened,
        "steps": report.steps,
        "skipped": report.skipped + audited.skipped,
        "audits": audited.ran,
    }


@shared_task(
    name="governance.scan_incidents",
    bind=True,
    autoretry_for=(OperationalError, InterfaceError),
    **RETRY,
)
def scan_incidents(self) -> dict[str, int]:
    """The Art. 73 clock scan: reminders ahead of each reporting deadline, overdue reports."""
    actor = Actor.system("governance.scan_incidents", causation_id=self.request.id)
    report = incidents.scan_incidents(actor=actor)
    return {"reminders": report.reminders, "overdue": report.overdue, "skipped": report.skipped}


@shared_task(name=AUDIT_NEW_VERSION, bind=True, autoretry_for=AUDIT_FAILURES, **RETRY)
def audit_new_version(self, version_id: str, evidence_sha256: str) -> str | None:
    """The bias audit of a version's newly attached evaluation data; the audit id is derived
    from the document's sha256, so a redelivered task records nothing twice."""
    actor = Actor.system(AUDIT_NEW_VERSION, causation_id=self.request.id)
    outcome = audits.audit_new_version(
        actor=actor, version_id=version_id, evidence_sha256=evidence_sha256
    )
    return str(outcome.audit.id) if outcome is not None else None


@shared_task(name="governance.notify_finding", bind=True, autoretry_for=SEND_FAILURES, **RETRY)
def notify_finding(self, event: str, finding_id: str, user_ids: list[int]) -> int:
    link = f"{settings.LEDGER_BASE_URL}/admin/governance/finding/{finding_id}/change/"
    body = f"Finding {finding_id}: {event}.\n\nOpen it: {link}\n"
    return send_once(self.request.id, f"A governance finding was {event}", body, user_ids)


INCIDENT_SUBJECTS = {
    "reported": "A serious incident was reported on a model of yours or your board",
    "reminder": "Reminder: an EU AI Act Art. 73 incident report is due soon",
    "overdue": "Overdue: an EU AI Act Art. 73 incident report missed its deadline",
}


@shared_task(name="governance.notify_incident", bind=True, autoretry_for=SEND_FAILURES, **RETRY)
def notify_incident(self, event: str, incident_id: str, user_ids: list[int]) -> int:
    link = f"{settings.LEDGER_BASE_URL}/admin/governance/incident/{incident_id}/change/"
    subject = INCIDENT_SUBJECTS.get(event, f"Serious incident update: {event}")
    body = f"Serious incident {incident_id}: {event}.\n\nOpen it: {link}\n"
    return send_once(self.request.id, subject, body, user_ids)


@shared_task(name="governance.notify_review", bind=True, autoretry_for=SEND_FAILURES, **RETRY)
def notify_review(self, event: str, review_id: str, user_ids: list[int]) -> int:
    link = f"{settings.LEDGER_BASE_URL}/admin/governance/periodicreview/{review_id}/change/"
    subject = SUBJECTS.get(event, f"Periodic review update: {event}")
    body = f"Periodic review {review_id}: {event}.\n\nOpen it: {link}\n"
    return send_once(self.request.id, subject, body, user_ids)
