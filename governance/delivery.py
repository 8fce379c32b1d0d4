"""Once-only delivery of notification e-mails, recorded in the database.

Notification tasks arrive at least once: the outbox may publish a message again, and the
broker hands an unacknowledged task to another worker. Each e-mail is sent inside a
transaction that first claims `(message id, user:<id>)` in `governance_delivery`: a second
delivery of the same message, in any worker process, waits on that unique key until the first
commits and then sends nothing; a send that fails rolls the claim back, so the task's retry
sends it. One window is left: a process that dies after the mail server took the e-mail and
before the commit sends it again on redelivery (the mail server has no transaction to join),
so delivery to the mail server is at least once, and exactly once otherwise."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection, transaction

from core import clock


def send_once(message_id: str | None, subject: str, body: str, user_ids: list[int]) -> int:
    """E-mail each active recipient with an address that this message has not reached yet;
    returns how many were sent now. Without a message id (a direct call) it just sends."""
    sent = 0
    users = get_user_model().objects.filter(pk__in=user_ids, is_active=True).exclude(email="")
    for user in users.order_by("pk"):
        if not message_id:
            sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
            continue
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO governance_delivery (message_id, recipient, delivered_at)"
                " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (message_id, f"user:{user.pk}", clock.now()),
            )
            if cursor.rowcount == 0:
                continue  # delivered before (or just now, by the delivery we waited for)
            sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return sent
