"""The admin in a real headless Chromium: starting the browser, logging in, keeping
screenshots (under .ledger/screenshots, or LEDGER_SCREENSHOT_DIR)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from django.conf import settings
from django.db import connections

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
SCREENSHOTS = Path(
    os.environ.get("LEDGER_SCREENSHOT_DIR", Path(settings.BASE_DIR) / ".ledger" / "screenshots")
)


def chromium(monkeypatch):
    """A page context in headless Chromium, for the `browser` fixture."""
    assert CHROMIUM, "the browser tests need Chromium; ./ledger test installs Debian's"
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls around it are
    # ordinary synchronous test code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = instance.new_context(viewport={"width": 1280, "height": 900})
        yield context
        # Closing the browser ends its keep-alive connections before the live server stops.
        context.close()
        instance.close()
        # With Playwright's loop running, the ORM keyed its connections to that context; close
        # them here, where they are visible, so none outlives the test database.
        connections.close_all()


def log_in(browser, live_server, user, next_path: str):
    user.is_staff = True
    user.save()
    page = browser.new_page()
    page.goto(f"{live_server.url}/admin/login/?next={next_path}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", f"{user.username}-password-1")
    page.click("input[type=submit]")
    return page


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, "an empty page was captured"
    return path


def keep_screenshot(page, name: str, *, full_page: bool = True) -> Path | None:
    """Save a full-page screenshot under $LEDGER_SCREENSHOTS (e.g. docs/screenshots), only
    where that variable is set: the pictures for the docs are made on purpose, not by every
    run."""
    folder = os.environ.get("LEDGER_SCREENSHOTS")
    if not folder:
        return None
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path
