"""The red-team suite's fixtures: the governance workflow's cast (boards with members, a risk
officer, the owner), a real evidence store, and the artifact stores of the registry tests (the
local filesystem and a real S3 server)."""

from tests.approvals.conftest import cast, evidence_store  # noqa: F401
from tests.registry.conftest import (  # noqa: F401
    http_put,
    local_store,
    s3_admin,
    s3_endpoint,
    s3_store,
    store,
    upload_server,
)
