"""Celery tasks of approvals: e-mail board members about new requests and requesters about
decisions. Sent from the outbox after commit (at least once); each e-mail is sent once per
message id and recipient through the database (governance/delivery.py), and retried with
backoff while the mail server fails."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from governance.delivery import send_once
from governance.tasks import RETRY, SEND_FAILURES

SUBJECTS = {
    "requested": "Approval requested: your review is needed",
    "approve": "A reviewer approved your request",
    "reject": "A reviewer rejected your request",
    "request_changes": "A reviewer asked for changes",
    "approved": "Your approval request is approved",
    "suspended": "Your approval was suspended",
    "voided": "Evidence changed: your review is needed again",
}


@shared_task(name="approvals.notify", bind=True, autoretry_for=SEND_FAILURES, **RETRY)
def notify(self, event: str, request_id: str, user_ids: list[int]) -> int:
    """E-mail each active recipient with an address; returns how many were sent now."""
    link = f"{settings.LEDGER_BASE_URL}/admin/approvals/approvalrequest/{request_id}/change/"
    subject = SUBJECTS.get(event, f"Approval request update: {event}")
    body = f"Approval request {request_id}: {event}.\n\nOpen it: {link}\n"
    return send_once(self.request.id, subject, body, user_ids)
