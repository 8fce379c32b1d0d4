"""Browser tests reuse the governance personas and artifact store of tests/approvals."""

from tests.approvals.conftest import cast, evidence_store  # noqa: F401
