"""The red-team tests share the approvals cast: boards with members, a risk officer, evidence."""

from tests.approvals.conftest import cast, evidence_store  # noqa: F401
