"""A version's artifact over the API: presigned upload then verify, or a small direct upload;
the artifact counts as stored only once the server has checked its size and sha256."""

from __future__ import annotations

import contextlib
import hashlib
from urllib.parse import urlsplit

import pytest

from eventstore import store
from registry import streams
from registry.artifacts import PresignedUpload, S3ArtifactStore, get_store
from tests.api.conftest import client_for

BYTES = b"model weights \x00\x01\x02" * 1000
SHA256 = hashlib.sha256(BYTES).hexdigest()
VERSION = "/api/v1/models/fraud-detector/versions/1/"
ARTIFACT = VERSION + "artifact/"


@pytest.fixture
def api(owner):
    return client_for(owner)


@pytest.fixture
def version(api):
    created = api.post(
        "/api/v1/models/", {"name": "fraud-detector", "team": "fraud-ml"}, format="json"
    )
    assert created.status_code == 201, created.content
    response = api.post("/api/v1/models/fraud-detector/versions/", {}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _events(version_id: str) -> list[str]:
    return [event.type for event in store.read_stream(version_id)]


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code, body
    return body


def _upload_url(api, **overrides):
    body = {"filename": "model.pkl", "size": len(BYTES), "sha256": SHA256, **overrides}
    return api.post(ARTIFACT + "upload-url/", body, format="json")


def _send(http_put, upload_server, granted: dict, body: bytes) -> int:
    """PUT the bytes where the API said, over real HTTP. The local store's URL names this
    service; the test serves it on upload_server's port."""
    url = granted["url"]
    if urlsplit(url).hostname == "testserver":
        url = upload_server + urlsplit(url).path
    upload = PresignedUpload(
        url=url, method=granted["method"], headers=granted["headers"], expires_at=None
    )
    status, _ = http_put(upload, body)
    return status


def test_artifact_is_recorded_only_after_presigned_upload_and_verify(
    api, version, store, http_put, upload_server
):
    granted = _upload_url(api)
    assert granted.status_code == 201, granted.content
    body = granted.json()
    assert body["method"] == "PUT"
    assert body["artifact"]["verified"] is False
    assert body["artifact"]["pending"]["sha256"] == SHA256
    assert api.get(VERSION).json()["artifact_verified"] is False

    assert _send(http_put, upload_server, body, BYTES) in (200, 201)
    verified = api.post(ARTIFACT + "verify/")
    assert verified.status_code == 200, verified.content
    assert verified.json()["verified"] is True
    assert verified.json()["sha256"] == SHA256
    assert verified.json()["size"] == len(BYTES)
    assert verified.json()["pending"] is None
    assert verified.json()["uri"].endswith(f"/1/{SHA256}/model.pkl")
    assert api.get(VERSION).json()["artifact_verified"] is True
    assert _events(version["id"])[-2:] == [
        "registry.ArtifactUploadAuthorized",
        "registry.ArtifactVerified",
    ]


def test_verify_refuses_and_appends_nothing_when_nothing_was_uploaded(api, version, local_store):
    assert _upload_url(api).status_code == 201
    before = _events(version["id"])
    _problem(api.post(ARTIFACT + "verify/"), 409, "artifact_missing")
    assert _events(version["id"]) == before
    assert api.get(ARTIFACT).json()["verified"] is False


def test_verify_refuses_when_the_uploaded_bytes_differ_by_one_byte(
    api, version, store, http_put, upload_server, s3_admin
):
    granted = _upload_url(api).json()
    tampered = bytes([BYTES[0] ^ 1]) + BYTES[1:]
    # The upload URL is bound to the declared sha256: the store refuses the body (the local
    # endpoint 422, S3 400 BadDigest) and verify finds nothing.
    assert _send(http_put, upload_server, granted, tampered) in (400, 422)
    before = _events(version["id"])
    _problem(api.post(ARTIFACT + "verify/"), 409, "artifact_missing")
    # Where a store let other bytes in all the same (written behind the server's back, or an
    # endpoint that ignores the checksum), verify's own re-hash refuses them.
    key = granted["artifact"]["pending"]["key"]
    if isinstance(store, S3ArtifactStore):
        s3_admin.put_object(Bucket=store.bucket, Key=key, Body=tampered)
    else:
        (store.root / key).parent.mkdir(parents=True, exist_ok=True)
        (store.root / key).write_bytes(tampered)
    problem = _problem(api.post(ARTIFACT + "verify/"), 422, "artifact_mismatch")
    assert problem["found_sha256"] == hashlib.sha256(tampered).hexdigest()
    assert _events(version["id"]) == before


def test_verify_without_any_upload_url_is_a_conflict(api, version, local_store):
    _problem(api.post(ARTIFACT + "verify/"), 409, "artifact_missing")


@pytest.mark.parametrize(
    "filename", ["..", "../model.pkl", "a/b", "a\\b", "-rf", " model", "a\u202eb", "x" * 201, ""]
)
def test_upload_url_refuses_unsafe_file_names_and_appends_nothing(
    api, version, local_store, filename
):
    before = _events(version["id"])
    response = _upload_url(api, filename=filename)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert _events(version["id"]) == before


@pytest.mark.parametrize(
    "overrides",
    [
        {"sha256": "z" * 64},
        {"sha256": SHA256[:-1]},
        {"size": -1},
        {"size": "12"},
        {"size": 12.5},
        {"size": True},
        {"expires_in": 0},
        {"colour": "red"},
    ],
)
def test_upload_url_refuses_bad_declarations(api, version, local_store, overrides):
    before = _events(version["id"])
    _problem(_upload_url(api, **overrides), 400, "validation_error")
    assert _events(version["id"]) == before


def test_upload_must_match_what_the_version_declared_when_it_was_created(api, local_store):
    api.post("/api/v1/models/", {"name": "fraud-detector", "team": "fraud-ml"}, format="json")
    declared = {"artifact_sha256": "0" * 64, "artifact_size": len(BYTES)}
    api.post("/api/v1/models/fraud-detector/versions/", declared, format="json")
    problem = _problem(_upload_url(api), 422, "artifact_mismatch")
    assert problem["declared_sha256"] == "0" * 64


def test_direct_upload_stores_checks_and_records_at_once(api, version, store):
    response = api.put(
        ARTIFACT + f"content/model.pkl?sha256={SHA256}",
        BYTES,
        content_type="application/octet-stream",
    )
    assert response.status_code == 201, response.content
    assert response.json()["verified"] is True
    assert _events(version["id"])[-2:] == [
        "registry.ArtifactUploadAuthorized",
        "registry.ArtifactVerified",
    ]
    key = f"models/{version['model_id']}/1/{SHA256}/model.pkl"
    assert response.json()["uri"].endswith(key)
    with contextlib.closing(get_store().open(key)) as stored:
        assert stored.read() == BYTES


def test_direct_upload_with_a_wrong_sha256_records_nothing(api, version, local_store):
    before = _events(version["id"])
    response = api.put(
        ARTIFACT + f"content/model.pkl?sha256={'0' * 64}",
        BYTES,
        content_type="application/octet-stream",
    )
    _problem(response, 422, "artifact_mismatch")
    assert _events(version["id"]) == before
    assert api.get(ARTIFACT).json()["verified"] is False


def test_direct_upload_larger_than_the_limit_is_refused(api, version, local_store, settings):
    settings.ARTIFACT_MAX_DIRECT_UPLOAD = 100
    response = api.put(
        ARTIFACT + f"content/model.pkl?sha256={SHA256}",
        BYTES,
        content_type="application/octet-stream",
    )
    _problem(response, 413, "artifact_too_large")


@pytest.mark.parametrize("query", ["", "?sha256=abc", "?sha256=" + "g" * 64])
def test_direct_upload_needs_the_body_sha256(api, version, local_store, query):
    response = api.put(
        ARTIFACT + "content/model.pkl" + query, BYTES, content_type="application/octet-stream"
    )
    _problem(response, 400, "validation_error")


def test_direct_upload_of_an_empty_body_is_an_empty_artifact(api, version, local_store):
    empty = hashlib.sha256(b"").hexdigest()
    response = api.put(
        ARTIFACT + f"content/empty.txt?sha256={empty}", b"", content_type="application/octet-stream"
    )
    assert response.status_code == 201, response.content
    assert (response.json()["size"], response.json()["verified"]) == (0, True)


def test_direct_upload_of_json_is_an_unsupported_media_type(api, version, local_store):
    response = api.put(ARTIFACT + f"content/model.pkl?sha256={SHA256}", {"a": 1}, format="json")
    _problem(response, 415, "unsupported_media_type")


def test_a_stored_artifact_never_changes(api, version, local_store):
    api.put(
        ARTIFACT + f"content/model.pkl?sha256={SHA256}",
        BYTES,
        content_type="application/octet-stream",
    )
    _problem(_upload_url(api), 409, "artifact_already_stored")
    again = api.put(
        ARTIFACT + f"content/other.pkl?sha256={SHA256}",
        BYTES,
        content_type="application/octet-stream",
    )
    _problem(again, 409, "artifact_already_stored")
    # Verifying again is harmless: the artifact is already recorded.
    assert api.post(ARTIFACT + "verify/").status_code == 200


def test_only_the_owning_team_uploads(version, outsider, local_store):
    stranger = client_for(outsider)
    _problem(_upload_url(stranger), 403, "not_owner")
    _problem(stranger.post(ARTIFACT + "verify/"), 403, "not_owner")
    assert stranger.get(ARTIFACT).status_code == 404  # storage paths are the team's


def test_the_same_idempotency_key_authorizes_once(api, version, local_store):
    first = api.post(
        ARTIFACT + "upload-url/",
        {"filename": "model.pkl", "size": len(BYTES), "sha256": SHA256},
        format="json",
        HTTP_IDEMPOTENCY_KEY="upload-1",
    )
    again = api.post(
        ARTIFACT + "upload-url/",
        {"filename": "model.pkl", "size": len(BYTES), "sha256": SHA256},
        format="json",
        HTTP_IDEMPOTENCY_KEY="upload-1",
    )
    assert (first.status_code, again.status_code) == (201, 201)
    authorized = [e for e in _events(version["id"]) if e.endswith("ArtifactUploadAuthorized")]
    assert len(authorized) == 1


def test_artifact_reads_as_it_was(api, version, local_store):
    api.put(
        ARTIFACT + f"content/model.pkl?sha256={SHA256}",
        BYTES,
        content_type="application/octet-stream",
    )
    first = store.read_stream(version["id"])[0].position
    then = api.get(ARTIFACT + f"?as_of={first}")
    assert then.status_code == 200
    assert then.json()["verified"] is False
    assert streams.load_version(version["id"]).artifact_verified is True
