"""The red-team suite's fixtures: the artifact stores (the local filesystem and a real S3
server) of the registry tests, and the approvals cast of boards, officer and owner."""

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
