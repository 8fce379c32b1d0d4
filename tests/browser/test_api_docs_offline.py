"""/api/docs/ in a real headless Chromium that can reach nothing but this machine: the login
page first, then Swagger UI rendered from the service's own static files."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.browser.pages import log_in
from tests.conftest import make_user

LOCAL = {"127.0.0.1", "localhost"}


def test_swagger_ui_renders_with_every_other_host_blocked(live_server, browser):
    blocked: list[str] = []

    def only_local(route):
        if urlsplit(route.request.url).hostname in LOCAL:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    browser.route("**/*", only_local)
    page = browser.new_page()
    page.goto(f"{live_server.url}/api/docs/")
    assert urlsplit(page.url).path == "/admin/login/"  # no session: log in first

    user = make_user("paula-person")
    page = log_in(browser, live_server, user, "/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "Model Ledger API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock", timeout=20_000)  # the operations, from the schema
    assert page.locator(".opblock").count() > 20
    assert "Authorization: Bearer TOKEN" in page.inner_text("#api-token-help")
    assert blocked == []
