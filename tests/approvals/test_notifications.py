"""Notifications leave through the outbox after commit and a real worker sends the e-mail:
board members hear of a new request, the requester of each decision."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

import approvals.tasks
from approvals import commands as approvals
from config.celery import app
from eventstore.models import OutboxMessage
from tests.approvals.conftest import MEMBERS, actor_of, approve, governed_version


@pytest.fixture
def worker(pristine_ledger):
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


def wait_for_mail(count: int, timeout: float = 20) -> list:
    deadline = time.monotonic() + timeout
    while len(mail.outbox) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return list(mail.outbox)


def test_board_members_and_requester_are_emailed_when_requests_and_decisions_happen(
    worker, cast, evidence_store
):
    model, _ = governed_version(cast, evidence_store, "low", "notified")
    mail.outbox.clear()
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    sent = wait_for_mail(len(MEMBERS["model-risk"]))
    assert sorted(m.to[0] for m in sent) == sorted(
        f"{n}@example.org" for n in MEMBERS["model-risk"]
    )
    assert all(request.id in m.body for m in sent)
    mail.outbox.clear()
    approve(cast, request.id, "model-risk", 1)
    sent = wait_for_mail(2)
    assert [m.to for m in sent] == [["olivia@example.org"], ["olivia@example.org"]]
    assert {m.subject for m in sent} == {
        "A reviewer approved your request",
        "Your approval request is approved",
    }
    rows = OutboxMessage.objects.filter(task="approvals.notify")
    assert rows.count() == 3
    deadline = time.monotonic() + 10
    while rows.filter(dispatched_at__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not rows.filter(dispatched_at__isnull=True).exists()
