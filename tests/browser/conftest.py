"""Browser tests reuse the governance personas and artifact store of tests/approvals."""

import pytest

from governance.management.demo import load_demo
from tests.approvals.conftest import cast, evidence_store  # noqa: F401
from tests.browser.pages import chromium


@pytest.fixture
def browser(monkeypatch):
    yield from chromium(monkeypatch)


@pytest.fixture
def demo(transactional_db, evidence_store):  # noqa: F811 - the imported fixture
    """The demo of `./ledger serve --demo` (governance/management/demo.py) recorded in the test
    database, committed so the live server sees it: `demo.users[role]` (roles of
    governance.management.demo.ROLES, and "admin"), all with the password `demo.password`;
    `demo.models[name]`, `demo.requests[name]`, `demo.finding_id`, `demo.review_id`."""
    return load_demo()
