"""Artifact store fixtures: a real S3-protocol server for the session, a fresh bucket per test,
a local store under tmp_path, and this service's upload endpoint over real HTTP."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urljoin
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.core.wsgi import get_wsgi_application

from registry import artifacts
from tests import s3server


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[s3server.S3Endpoint]:
    with s3server.running_endpoint() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def s3_admin(s3_endpoint):
    """The tests' own client for buckets (set-up and clean-up, not the code under test)."""
    return s3server.s3_client(s3_endpoint)


@pytest.fixture
def s3_store(s3_endpoint, s3_admin, settings) -> Iterator[artifacts.S3ArtifactStore]:
    """The store get_store() builds from settings pointing at the server, on a new bucket."""
    bucket = f"ledger-test-{uuid.uuid4().hex[:16]}"
    admin = s3_admin
    s3server.create_bucket(admin, bucket, s3_endpoint.region)
    settings.S3_ENDPOINT_URL = s3_endpoint.url
    settings.S3_BUCKET = bucket
    settings.S3_REGION = s3_endpoint.region
    settings.S3_ADDRESSING_STYLE = "path"
    settings.AWS_ACCESS_KEY_ID = s3_endpoint.access_key
    settings.AWS_SECRET_ACCESS_KEY = s3_endpoint.secret_key
    store = artifacts.get_store()
    assert isinstance(store, artifacts.S3ArtifactStore)
    yield store
    s3server.delete_bucket(admin, bucket)


@pytest.fixture
def local_store(tmp_path, settings) -> artifacts.LocalArtifactStore:
    settings.S3_BUCKET = None
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    store = artifacts.get_store()
    assert isinstance(store, artifacts.LocalArtifactStore)
    return store


@pytest.fixture(params=["local", "s3"])
def store(request) -> artifacts.ArtifactStore:
    """Each test that takes `store` runs against both stores."""
    return request.getfixturevalue(f"{request.param}_store")


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # the test output is not an access log
        pass


@pytest.fixture(scope="session")
def upload_server() -> Iterator[str]:
    """This service (Django's WSGI application) on a real HTTP port, for the local store's
    upload URLs. It never touches the database."""
    server = make_server(
        "127.0.0.1", 0, get_wsgi_application(), server_class=WSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def http_put(request) -> Callable[..., tuple[int, bytes]]:
    """PUT bytes to a presigned upload over real HTTP; returns (status, body). Relative URLs
    (the local store's) go to this service, served with the upload endpoint mounted."""

    def put(upload: artifacts.PresignedUpload, body: bytes) -> tuple[int, bytes]:
        url = upload.url
        if url.startswith("/"):
            url = urljoin(request.getfixturevalue("upload_server"), url)
        # Only http(s): the URL is what a store handed out, and file: must never be opened.
        assert url.startswith(("http://", "https://")), url
        headers = {**upload.headers, "Content-Length": str(len(body))}
        outgoing = urllib.request.Request(  # noqa: S310 (scheme checked above)
            url, data=body, method=upload.method, headers=headers
        )
        try:
            with urllib.request.urlopen(outgoing, timeout=60) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    return put
