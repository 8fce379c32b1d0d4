"""E-mail backends for worker processes under test: the file backend, made to fail chosen sends
the way an SMTP server that drops the connection does, or to take its time.

Chosen through the worker's environment: `TEST_MAIL_FAIL_SENDS` lists the sends (counted
from 1 in this process) that fail, `TEST_MAIL_DELAY` holds each send that many seconds."""

from __future__ import annotations

import os
import time
from smtplib import SMTPServerDisconnected

from django.core.mail.backends.filebased import EmailBackend


class FlakyFileBackend(EmailBackend):
    sends = 0

    def send_messages(self, email_messages):
        FlakyFileBackend.sends += 1
        failing = {int(n) for n in os.environ.get("TEST_MAIL_FAIL_SENDS", "").split(",") if n}
        if FlakyFileBackend.sends in failing:
            raise SMTPServerDisconnected(f"send {FlakyFileBackend.sends} refused")
        time.sleep(float(os.environ.get("TEST_MAIL_DELAY", "0")))
        return super().send_messages(email_messages)
