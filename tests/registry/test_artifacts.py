"""Artifact storage against a real S3-protocol server and the local filesystem: presigned and
direct uploads, size + sha256 verification, key safety, and the local upload endpoint."""

from __future__ import annotations

import hashlib
import json
import os
import time
import tracemalloc
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from django.core import signing
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.errors import InvalidInput
from registry import artifacts
from registry.artifacts import (
    ArtifactMismatch,
    ArtifactMissing,
    ArtifactTooLarge,
    InvalidArtifactKey,
    LocalArtifactStore,
    S3ArtifactStore,
    artifact_key,
)
from tests import s3server

PROBLEM_JSON = "application/problem+json"
fixture_hypothesis = hypothesis_settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)


ANY_SHA = "0" * 64  # the digest segment of keys the store-level tests write under


def _key(filename: str = "model.pkl", number: int = 1) -> str:
    return artifact_key(
        kind="model", owner_id=uuid.uuid4(), number=number, sha256=ANY_SHA, filename=filename
    )


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if not path.is_dir()]


def _stored_keys(store: artifacts.ArtifactStore) -> list[str]:
    if isinstance(store, S3ArtifactStore):
        listing = store.client.list_objects_v2(Bucket=store.bucket)
        return [item["Key"] for item in listing.get("Contents", [])]
    assert isinstance(store, LocalArtifactStore)
    return [str(path.relative_to(store.root)) for path in _files_under(store.root)]


# -- keys -----------------------------------------------------------------------------------


def test_key_names_the_owner_version_digest_and_file_when_the_name_is_ordinary():
    owner = uuid.uuid4()
    digest = _sha(b"weights")
    key = artifact_key(
        kind="model", owner_id=owner, number=7, sha256=digest.upper(), filename="model.safetensors"
    )
    assert key == f"models/{owner}/7/{digest}/model.safetensors"


def test_key_holds_the_nfc_form_when_the_name_is_decomposed_unicode():
    key = _key("mode\u0301le-\u00fcber.onnx")  # "e" + combining acute
    assert key.endswith("/mod\u00e9le-\u00fcber.onnx")
    assert unicodedata.is_normalized("NFC", key)


NASTY_NAMES = [
    "",
    ".",
    "..",
    "a/../b",
    "../../etc/passwd",
    "/etc/passwd",
    "a/b",
    "..\\..\\windows\\system32",
    "a\\b",
    "\x00",
    "model\x00.pkl",
    "line\nbreak",
    "tab\there",
    "bell\x07",
    "del\x7f",
    "-rf",
    "--help",
    "\u202egnp.exe",  # RIGHT-TO-LEFT OVERRIDE: displays as "exe.png"
    "\u2066isolate\u2069",
    "zero\u200bwidth",
    "\ufeffbom",
    "line\u2028separator",
    "private\ue000use",
    "unassigned\u0378",
    "lone\ud800surrogate",
    " leading-space",
    "trailing-space ",
    "x" * 201,
    "\u00e9" * 128,  # 128 characters, but 256 bytes in UTF-8: too long for a filesystem
    "\U0001f600" * 64,  # 64 characters, 256 bytes
]
_FORBIDDEN = ["/", "\\", "\x00", "\x01", "\x1f", "\x7f", "\x85", "\u202e", "\u200d", "\u2028"]
nasty_names = st.one_of(
    st.sampled_from(NASTY_NAMES),
    st.builds(
        lambda before, bad, after: before + bad + after,
        st.text(max_size=8),
        st.sampled_from(_FORBIDDEN),
        st.text(max_size=8),
    ),
    st.text(alphabet="abcxyz.-_", min_size=201, max_size=400),
    st.text(max_size=8).map(lambda rest: "-" + rest),
)


@pytest.mark.parametrize("name", NASTY_NAMES)
def test_key_is_refused_when_the_name_is_nasty(name):
    with pytest.raises(InvalidArtifactKey) as refused:
        _key(name)
    assert refused.value.code == "invalid_artifact_name"
    assert refused.value.status == 400


@fixture_hypothesis
@given(name=nasty_names)
def test_nothing_is_written_when_a_nasty_name_is_uploaded(local_store, tmp_path, name):
    with pytest.raises(InvalidArtifactKey):
        local_store.put(_key(name), b"payload", size=7, sha256=_sha(b"payload"))
    assert _files_under(tmp_path) == []


@fixture_hypothesis
@given(name=st.text(min_size=1, max_size=60))
@example(name="r\u00e9sum\u00e9 v2 (final).tar.gz")
@example(name="\u6a21\u578b.bin")
@example(name="...")
def test_an_accepted_name_stays_one_file_inside_the_root_when_it_is_any_text(local_store, name):
    try:
        key = _key(name)
    except InvalidArtifactKey:
        return
    prefix, _owner, number, digest, filename = key.split("/")
    assert (prefix, number, digest) == ("models", "1", ANY_SHA)
    assert filename == unicodedata.normalize("NFC", name)
    assert local_store._path(key).parent.parent.parent.parent.parent == local_store.root


def test_key_is_refused_when_kind_number_or_digest_is_wrong():
    with pytest.raises(InvalidArtifactKey):
        artifact_key(
            kind="../models", owner_id=uuid.uuid4(), number=1, sha256=ANY_SHA, filename="m"
        )
    with pytest.raises(InvalidArtifactKey):
        artifact_key(kind="model", owner_id=uuid.uuid4(), number=0, sha256=ANY_SHA, filename="m")
    with pytest.raises(InvalidArtifactKey):
        artifact_key(kind="model", owner_id="not-a-uuid", number=1, sha256=ANY_SHA, filename="m")
    with pytest.raises(InvalidInput):
        artifact_key(kind="model", owner_id=uuid.uuid4(), number=1, sha256="../..", filename="m")


RAW_TRAVERSALS = [
    "../escape",
    "models/../../escape",
    "/etc/passwd",
    "models/x/1/..",
    "models/x/./1/m",
    "models//x/1/m",
    "models/x/1/..\\..\\escape",
    "models/x/1/m\x00",
    "models/x/1/\u202em",
    "",
]


def test_stores_refuse_the_key_and_write_nothing_when_it_would_leave_the_prefix(store, tmp_path):
    for key in RAW_TRAVERSALS:
        for attempt in (
            lambda key=key: store.put(key, b"x", size=1, sha256=_sha(b"x")),
            lambda key=key: store.presigned_upload(key, size=1, sha256=_sha(b"x")),
            lambda key=key: store.verify(key, size=1, sha256=_sha(b"x")),
            lambda key=key: store.open(key),
        ):
            with pytest.raises(InvalidArtifactKey):
                attempt()
    assert _stored_keys(store) == []
    assert _files_under(tmp_path) == []


def test_local_store_refuses_the_key_when_a_symlink_points_outside_the_root(local_store, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    owner = uuid.uuid4()
    (local_store.root / "models").mkdir(parents=True)
    (local_store.root / "models" / str(owner)).symlink_to(outside)
    key = artifact_key(kind="model", owner_id=owner, number=1, sha256=ANY_SHA, filename="m.bin")
    with pytest.raises(InvalidArtifactKey):
        local_store.put(key, b"x", size=1, sha256=_sha(b"x"))
    assert list(outside.iterdir()) == []


# -- presigned uploads and verification ------------------------------------------------------


def test_presigned_put_then_verify_returns_size_and_sha256_when_the_bytes_match(store, http_put):
    data = os.urandom(100_000)
    key = _key("weights.bin")
    upload = store.presigned_upload(key, size=len(data), sha256=_sha(data), expires_seconds=300)
    assert upload.method == "PUT"
    assert upload.headers["Content-Length"] == str(len(data))
    now = datetime.now(UTC)
    assert now + timedelta(seconds=290) < upload.expires_at <= now + timedelta(seconds=301)

    status, _ = http_put(upload, data)

    assert status in {200, 201}
    stored = store.verify(key, size=len(data), sha256=_sha(data).upper())
    assert stored == artifacts.StoredArtifact(uri=store.uri(key), size=len(data), sha256=_sha(data))
    with store.open(key) as reopened:
        assert reopened.read() == data


def test_presigned_put_is_refused_when_the_body_is_longer_than_signed(store, http_put):
    key = _key()
    upload = store.presigned_upload(key, size=10, sha256=_sha(b"x" * 10))
    status, _ = http_put(upload, b"x" * 11)
    # The local endpoint says 413; S3 stores refuse the signed Content-Length (403).
    assert status in {403, 413}
    with pytest.raises(ArtifactMissing):
        store.verify(key, size=10, sha256=_sha(b"x" * 10))
    assert _stored_keys(store) == []


def test_presigned_put_is_refused_when_the_url_signature_is_tampered_with(s3_store, http_put):
    key = _key()
    upload = s3_store.presigned_upload(key, size=3, sha256=_sha(b"abc"))
    forged = upload.url.replace(key, _key(), 1)
    status, _ = http_put(
        artifacts.PresignedUpload(forged, "PUT", upload.headers, upload.expires_at), b"abc"
    )
    assert status == 403
    assert _stored_keys(s3_store) == []


def test_verify_raises_missing_when_nothing_was_uploaded(store):
    key = _key()
    with pytest.raises(ArtifactMissing) as missing:
        store.verify(key, size=3, sha256=_sha(b"abc"))
    assert (missing.value.code, missing.value.status) == ("artifact_missing", 409)


def test_verify_raises_mismatch_when_the_size_differs(store, http_put):
    data = b"model bytes"
    key = _key()
    status, _ = http_put(store.presigned_upload(key, size=len(data), sha256=_sha(data)), data)
    assert status in {200, 201}
    with pytest.raises(ArtifactMismatch) as mismatch:
        store.verify(key, size=len(data) + 1, sha256=_sha(data))
    error = mismatch.value
    assert (error.code, error.status) == ("artifact_mismatch", 422)
    assert f"declared size {len(data) + 1} bytes, found size {len(data)} bytes" in error.detail
    assert error.as_problem()["found_size"] == len(data)


def test_verify_raises_mismatch_when_one_byte_differs(store, http_put):
    declared = os.urandom(4096)
    uploaded = bytearray(declared)
    uploaded[2048] ^= 0x01
    key = _key()
    # The URL is signed for the bytes that were sent (the store refuses others, see
    # tests/security/test_storage.py); verify then holds them to another declaration.
    upload = store.presigned_upload(key, size=len(declared), sha256=_sha(bytes(uploaded)))
    status, _ = http_put(upload, bytes(uploaded))
    assert status in {200, 201}
    with pytest.raises(ArtifactMismatch) as mismatch:
        store.verify(key, size=len(declared), sha256=_sha(declared))
    assert f"declared sha256 {_sha(declared)}" in mismatch.value.detail
    assert f"found sha256 {_sha(bytes(uploaded))}" in mismatch.value.detail


def test_verify_is_refused_when_the_declared_sha256_is_not_hex(store):
    with pytest.raises(InvalidInput):
        store.verify(_key(), size=1, sha256="not-a-digest")


def test_verify_reads_in_chunks_when_the_artifact_is_many_megabytes(store, http_put):
    data = os.urandom(24 * 1024 * 1024)
    key = _key("large.bin")
    expected = _sha(data)
    status, _ = http_put(store.presigned_upload(key, size=len(data), sha256=expected), data)
    assert status in {200, 201}
    del data

    tracemalloc.start()
    try:
        stored = store.verify(key, size=24 * 1024 * 1024, sha256=expected)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert stored.sha256 == expected
    assert peak < 8 * 1024 * 1024, f"verify held {peak} bytes at once"


# -- direct uploads --------------------------------------------------------------------------


def test_direct_put_then_verify_succeeds_when_within_the_limit(store):
    data = b"small model"
    key = _key()
    store.put(key, data, size=len(data), sha256=_sha(data))
    assert store.verify(key, size=len(data), sha256=_sha(data)).size == len(data)


def test_direct_put_accepts_a_stream_when_given_a_file(store, tmp_path):
    source = tmp_path / "upload.bin"
    source.write_bytes(b"streamed bytes")
    key = _key()
    with source.open("rb") as stream:
        store.put(key, stream, size=14, sha256=_sha(b"streamed bytes"))
    assert store.verify(key, size=14, sha256=_sha(b"streamed bytes")).size == 14


def test_direct_put_is_refused_when_larger_than_the_limit(store, settings):
    settings.ARTIFACT_MAX_DIRECT_UPLOAD = 1024
    limited = artifacts.get_store()
    assert limited is not store and type(limited) is type(store)
    key = _key()
    with pytest.raises(ArtifactTooLarge) as refused:
        limited.put(key, b"x" * 1025, size=1025, sha256=_sha(b"x" * 1025))
    assert (refused.value.code, refused.value.status) == ("artifact_too_large", 413)
    assert _stored_keys(limited) == []


def test_direct_put_is_refused_when_the_body_is_longer_than_declared(store):
    key = _key()
    with pytest.raises(ArtifactTooLarge):
        store.put(key, b"abcdef", size=3, sha256=_sha(b"abc"))
    assert _stored_keys(store) == []


def test_direct_put_is_refused_when_the_body_is_shorter_than_declared(store):
    key = _key()
    with pytest.raises(ArtifactMismatch):
        store.put(key, b"ab", size=3, sha256=_sha(b"abc"))
    assert _stored_keys(store) == []


def test_direct_put_keeps_the_first_object_when_the_key_is_written_again(store):
    key = _key()
    store.put(key, b"first", size=5, sha256=_sha(b"first"))
    store.put(key, b"second", size=6, sha256=_sha(b"second"))
    assert store.verify(key, size=5, sha256=_sha(b"first")).size == 5
    assert len(_stored_keys(store)) == 1


def test_direct_put_stores_nothing_when_the_bytes_are_not_the_declared_ones(store):
    key = _key()
    with pytest.raises(ArtifactMismatch):
        store.put(key, b"other", size=5, sha256=_sha(b"first"))
    assert _stored_keys(store) == []


def test_stored_digest_is_the_size_and_the_checksum_the_store_keeps(store):
    key = _key()
    store.put(key, b"first", size=5, sha256=_sha(b"first"))
    digest = store.stored_digest(key)
    assert digest.size == 5
    # S3 keeps the SHA-256 it checked at the write; a file keeps none.
    expected = _sha(b"first") if isinstance(store, S3ArtifactStore) else None
    assert digest.sha256 == expected
    with pytest.raises(ArtifactMissing):
        store.stored_digest(_key())


# -- choosing the store ----------------------------------------------------------------------


def test_get_store_is_s3_when_a_bucket_is_set(s3_store, settings):
    assert artifacts.get_store() is s3_store
    assert s3_store.bucket == settings.S3_BUCKET
    assert s3_store.uri("models/a/1/m") == f"s3://{settings.S3_BUCKET}/models/a/1/m"


def test_get_store_is_the_local_filesystem_when_no_bucket_is_set(local_store, tmp_path):
    assert artifacts.get_store() is local_store
    assert local_store.root == (tmp_path / "artifacts").resolve()
    assert local_store.uri("models/a/1/m") == (tmp_path / "artifacts/models/a/1/m").as_uri()


# -- the local upload endpoint ---------------------------------------------------------------


@pytest.fixture
def upload_client(client, local_store):
    return client


def _put(client, url, body: bytes):
    return client.put(url, data=body, content_type="application/octet-stream")


def _assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM_JSON
    body = json.loads(response.content)
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert (body["status"], body["code"]) == (status, code)
    return body


def test_upload_endpoint_stores_the_body_when_the_token_is_valid(upload_client, local_store):
    key = _key()
    upload = local_store.presigned_upload(key, size=5, sha256=_sha(b"hello"))
    response = _put(upload_client, upload.url, b"hello")
    assert response.status_code == 201
    assert json.loads(response.content) == {"key": key, "size": 5}
    assert local_store.verify(key, size=5, sha256=_sha(b"hello")).size == 5


def test_upload_endpoint_refuses_the_token_when_it_was_tampered_with(
    upload_client, local_store, tmp_path
):
    upload = local_store.presigned_upload(_key(), size=5, sha256=_sha(b"hello"))
    token = upload.url.rsplit("/", 1)[1]
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_purpose = signing.dumps({"k": _key(), "s": 5, "e": 3600}, compress=True)
    for bad in (flipped, other_purpose, "not-a-token", token.split(":", 1)[0]):
        response = _put(upload_client, artifacts.UPLOAD_PATH + bad, b"hello")
        _assert_problem(response, 403, "invalid_upload_token")
    assert _files_under(tmp_path) == []


def test_upload_endpoint_refuses_the_token_when_it_has_expired(
    upload_client, local_store, tmp_path
):
    token = local_store.upload_token(
        _key(), size=5, sha256=_sha(b"hello"), expires_seconds=60, signed_at=time.time() - 3600
    )
    response = _put(upload_client, artifacts.UPLOAD_PATH + token, b"hello")
    body = _assert_problem(response, 403, "invalid_upload_token")
    assert "expired" in body["detail"]
    assert _files_under(tmp_path) == []


def test_upload_endpoint_refuses_the_body_when_it_is_larger_than_signed(
    upload_client, local_store, tmp_path
):
    upload = local_store.presigned_upload(_key(), size=5, sha256=_sha(b"hello"))
    response = _put(upload_client, upload.url, b"hello, world")
    _assert_problem(response, 413, "artifact_too_large")
    assert _files_under(tmp_path) == []


def test_upload_endpoint_refuses_the_body_when_it_is_shorter_than_signed(
    upload_client, local_store, tmp_path
):
    upload = local_store.presigned_upload(_key(), size=5, sha256=_sha(b"hello"))
    response = _put(upload_client, upload.url, b"hel")
    body = _assert_problem(response, 422, "artifact_mismatch")
    assert "declared size 5 bytes, found size 3 bytes" in body["detail"]
    assert _files_under(tmp_path) == []


def test_upload_endpoint_refuses_the_method_when_it_is_not_put(upload_client, local_store):
    upload = local_store.presigned_upload(_key(), size=5, sha256=_sha(b"hello"))
    response = upload_client.post(upload.url, data=b"hello", content_type="text/plain")
    _assert_problem(response, 405, "method_not_allowed")
    assert response["Allow"] == "PUT"


def test_upload_endpoint_is_not_found_when_the_service_stores_in_s3(client, s3_store):
    response = _put(client, artifacts.UPLOAD_PATH + "anything", b"hello")
    _assert_problem(response, 404, "not_found")


def test_s3_server_checks_signatures_when_the_secret_is_wrong(s3_endpoint, s3_admin):
    assert "Buckets" in s3_admin.list_buckets()
    # A configured endpoint may take boto3's own credentials: then forge with a made-up key.
    forged = s3server.S3Endpoint(
        url=s3_endpoint.url,
        region=s3_endpoint.region,
        access_key=s3_endpoint.access_key or "LEDGERFORGEDKEY0000",
        secret_key="not-the-secret",
        started_here=False,
    )
    with pytest.raises(ClientError) as refused:
        s3server.s3_client(forged, attempts=1).list_buckets()
    assert refused.value.response["Error"]["Code"] in {
        "SignatureDoesNotMatch",
        "AccessDenied",
        "InvalidAccessKeyId",
    }
