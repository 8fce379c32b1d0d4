"""Browser journeys of several people in one Chromium: signing in by session cookie (no login
form), and the documentation's screenshots, kept only when LEDGER_SCREENSHOTS names a folder
(relative to the repository), e.g. LEDGER_SCREENSHOTS=docs/screenshots."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.test import Client

DOC_SCREENSHOTS = os.environ.get("LEDGER_SCREENSHOTS", "")


def sign_in(context, live_server, user):
    """A new page of `context` signed in as `user`; the context's cookies are replaced, so one
    browser context serves person after person."""
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    context.clear_cookies()
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context.new_page()


def keep(page, name: str) -> Path | None:
    """A full-page screenshot for the documentation, when LEDGER_SCREENSHOTS is set."""
    if not DOC_SCREENSHOTS:
        return None
    folder = Path(settings.BASE_DIR) / DOC_SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, "an empty page was captured"
    return path
