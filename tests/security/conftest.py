"""The red-team suite's personas: the governance workflow's cast (boards with members, a risk
officer) and a real evidence store."""

from tests.approvals.conftest import cast, evidence_store  # noqa: F401
