"""Celery tasks of approvals: e-mail board members about new requests and requesters about
decisions. Sent from the outbox after commit (at least once); a worker process that sees the
same message id again skips it, through the configured cache."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.mail import send_mail

SUBJECTS = {
    "requested": "Approval requested: your review is needed",
    "approve": "A reviewer approved your request",
    "reject": "A reviewer rejected your request",
    "request_changes": "A reviewer asked for changes",
    "approved": "Your approval request is approved",
    "suspended": "Your approval was suspended",
    "voided": "Evidence changed: your review is needed again",
}


@shared_task(name="approvals.notify", bind=True, acks_late=True, ignore_result=True)
def notify(self, event: str, request_id: str, user_ids: list[int]) -> int:
    """E-mail each active recipient with an address; returns how many were sent."""
    if self.request.id and not cache.add(f"approvals.notify:{self.request.id}", 1, 86_400):
        return 0
    link = f"{settings.LEDGER_BASE_URL}/admin/approvals/approvalrequest/{request_id}/change/"
    subject = SUBJECTS.get(event, f"Approval request update: {event}")
    sent = 0
    users = get_user_model().objects.filter(pk__in=user_ids, is_active=True).exclude(email="")
    for user in users:
        sent += send_mail(
            subject,
            f"Approval request {request_id}: {event}.\n\nOpen it: {link}\n",
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
    return sent
