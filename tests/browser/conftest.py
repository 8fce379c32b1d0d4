"""Browser tests reuse the governance personas and artifact store of tests/approvals."""

import pytest

from tests.approvals.conftest import cast, evidence_store  # noqa: F401
from tests.browser.pages import chromium


@pytest.fixture
def browser(monkeypatch):
    yield from chromium(monkeypatch)
