"""Write-once storage, from the attacker's side: an owner who kept an upload URL, or who can
write to the artifact store behind the server's back, tries to change bytes that were
verified, attached, approved or deployed. Every attempt is refused: a reused URL cannot
change stored bytes (the local store's token is single use; S3 refuses it by checksum and by
`If-None-Match`), and where the store itself was written to, the server's re-hash refuses the
bias audit and the promotion with a 409 and opens a finding, committed before the answer."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from django.db import connection

from eventstore import store as event_store
from eventstore.models import OutboxMessage
from governance import tasks as governance_tasks
from governance.models import Evidence
from registry import artifacts, streams
from tests.api.conftest import client_for
from tests.approvals.conftest import governed_version, model_card, problem, unique_name
from tests.governance.helpers import SPEC, approved_version, as_csv, attach_evaluation_data, rows

pytestmark = pytest.mark.django_db

WEIGHTS = b"verified model weights \x00\x01" * 500
SWAPPED = b"swapped model weights! \x00\x01" * 500  # same size, other bytes
assert len(WEIGHTS) == len(SWAPPED)


def sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# -- helpers: what the attacker does -----------------------------------------------------------


def _put(http_put, upload_server, granted: dict, body: bytes, **headers) -> tuple[int, bytes]:
    """PUT `body` to a URL the API handed out, with the headers it said to send."""
    url = granted["url"]
    if urlsplit(url).hostname == "testserver":
        url = upload_server + urlsplit(url).path
    sent = {**granted["headers"], **headers}
    upload = artifacts.PresignedUpload(url=url, method="PUT", headers=sent, expires_at=None)
    return http_put(upload, body)


def _key_of(store, uri: str) -> str:
    if uri.startswith("s3://"):
        return uri.split("/", 3)[3]
    return str(Path(unquote(urlsplit(uri).path)).relative_to(store.root))


def _write_behind_the_server(store, key: str, body: bytes, s3_admin=None, **extra) -> None:
    """Overwrite the stored object directly, as someone holding the store's credentials (or
    a shell on the volume) would: no URL, no event."""
    if isinstance(store, artifacts.S3ArtifactStore):
        s3_admin.put_object(Bucket=store.bucket, Key=key, Body=body, **extra)
    else:
        (store.root / key).write_bytes(body)


def _read(store, key: str) -> bytes:
    source = store.open(key)
    try:
        return source.read()
    finally:
        source.close()


def _artifact_url(api, name: str, body: bytes = WEIGHTS) -> dict:
    granted = api.post(
        f"/api/v1/models/{name}/versions/1/artifact/upload-url/",
        {"filename": "model.bin", "size": len(body), "sha256": sha(body)},
        format="json",
    )
    assert granted.status_code == 201, granted.content
    return granted.json()


def _verify(api, name: str):
    return api.post(f"/api/v1/models/{name}/versions/1/artifact/verify/", {}, format="json")


def _upload_weights(api, name: str, body: bytes = WEIGHTS):
    response = api.put(
        f"/api/v1/models/{name}/versions/1/artifact/content/model.bin?sha256={sha(body)}",
        data=body,
        content_type="application/octet-stream",
    )
    assert response.status_code in (200, 201), response.content
    return response.json()


def _findings(user, source: str) -> list[dict]:
    listed = client_for(user).get("/api/v1/findings/").json()["results"]
    return [f for f in listed if f.get("source") == source]


def _s3_refused(status: int, body: bytes, *codes: str) -> None:
    assert status in (400, 403, 409, 412), (status, body)
    assert any(code.encode() in body for code in codes), body


# -- artifacts: upload URLs --------------------------------------------------------------------


def test_artifact_upload_url_reused_after_verification_cannot_change_the_weights(
    cast, store, http_put, upload_server, s3_admin
):
    model, _ = governed_version(cast, store, "low", unique_name("weights"), artifact=False)
    owner = client_for(cast.owner)
    granted = _artifact_url(owner, model.name)
    status, _ = _put(http_put, upload_server, granted, WEIGHTS)
    assert status in (200, 201)
    verified = _verify(owner, model.name)
    assert verified.status_code == 200, verified.content
    key = _key_of(store, verified.json()["uri"])
    assert sha(WEIGHTS) in key.split("/")  # content addressed

    # The same URL, the same headers, other bytes of the same size.
    status, body = _put(http_put, upload_server, granted, SWAPPED)
    if isinstance(store, artifacts.S3ArtifactStore):
        # The store checks the condition or the checksum first; either refuses.
        _s3_refused(status, body, "PreconditionFailed", "BadDigest")
        # The declared bytes again: the object exists, the conditional write refuses it.
        status, body = _put(http_put, upload_server, granted, WEIGHTS)
        _s3_refused(status, body, "PreconditionFailed")
        # Dropping the checksum and the condition breaks the signature.
        status, body = _put(
            http_put, upload_server, {**granted, "headers": {"Content-Length": "1"}}, SWAPPED
        )
        _s3_refused(status, body, "SignatureDoesNotMatch")
    else:
        assert status == 409, body
        assert b"upload_already_used" in body
        status, body = _put(http_put, upload_server, granted, WEIGHTS)
        assert status == 409 and b"upload_already_used" in body
    assert _read(store, key) == WEIGHTS

    # Through the API: a new URL or a direct upload for the verified version is a 409.
    problem(
        owner.post(
            f"/api/v1/models/{model.name}/versions/1/artifact/upload-url/",
            {"filename": "model.bin", "size": len(SWAPPED), "sha256": sha(SWAPPED)},
            format="json",
        ),
        409,
        "artifact_already_stored",
    )
    problem(
        owner.put(
            f"/api/v1/models/{model.name}/versions/1/artifact/content/model.bin"
            f"?sha256={sha(SWAPPED)}",
            data=SWAPPED,
            content_type="application/octet-stream",
        ),
        409,
        "artifact_already_stored",
    )
    assert _read(store, key) == WEIGHTS
    version = streams.load_version_by_number(model.id, 1)
    assert version.artifact_sha256 == sha(WEIGHTS)


def test_a_put_of_other_bytes_than_declared_stores_nothing(
    cast, store, http_put, upload_server, s3_admin
):
    model, _ = governed_version(cast, store, "low", unique_name("weights"), artifact=False)
    owner = client_for(cast.owner)
    granted = _artifact_url(owner, model.name)
    status, body = _put(http_put, upload_server, granted, SWAPPED)
    if isinstance(store, artifacts.S3ArtifactStore):
        _s3_refused(status, body, "BadDigest")
    else:
        assert status == 422 and b"artifact_mismatch" in body, body
    problem(_verify(owner, model.name), 409, "artifact_missing")
    # The declared bytes still go through the same URL, once.
    status, _ = _put(http_put, upload_server, granted, WEIGHTS)
    assert status in (200, 201)
    assert _verify(owner, model.name).status_code == 200


def test_a_local_upload_token_carries_the_declared_sha256(local_store):
    token = local_store.upload_token(
        "models/x/1/" + sha(WEIGHTS) + "/model.bin",
        size=len(WEIGHTS),
        sha256=sha(WEIGHTS),
        expires_seconds=60,
    )
    assert local_store.read_upload_token(token)[2] == sha(WEIGHTS)


# -- evidence: upload URLs ---------------------------------------------------------------------


def test_evidence_upload_url_reused_after_attach_approve_and_deploy_is_refused(
    cast, store, http_put, upload_server, s3_admin
):
    card = b"model card, as reviewed"
    kept: dict = {}

    def through_the_api(model, version):
        owner = client_for(cast.owner)
        _upload_weights(owner, model.name)
        granted = owner.post(
            f"/api/v1/models/{model.name}/versions/1/evidence/uploads/",
            {"kind": "model_card", "filename": "card.pdf", "size": len(card), "sha256": sha(card)},
            format="json",
        )
        assert granted.status_code == 201, granted.content
        kept.update(granted.json())
        status, _ = _put(http_put, upload_server, kept, card)
        assert status in (200, 201)
        attached = owner.post(
            f"/api/v1/models/{model.name}/versions/1/evidence/",
            {
                "kind": "model_card",
                "filename": "card.pdf",
                "size": len(card),
                "sha256": sha(card),
                "summary": model_card(model.name, 1),
            },
            format="json",
        )
        assert attached.status_code == 201, attached.content

    model, version, _ = approved_version(
        cast, store, "low", before_request=through_the_api, artifact=False
    )
    owner = client_for(cast.owner)
    deployed = owner.patch(
        f"/api/v1/models/{model.name}/versions/1/", {"status": "deployed"}, format="json"
    )
    assert deployed.status_code == 200, deployed.content
    key = Evidence.objects.get(version_id=version.id, kind="model_card").artifact_key
    assert key == kept["key"] and sha(card) in key.split("/")

    forged = b"model card, rewritten"[: len(card)].ljust(len(card), b"!")
    for body in (forged, card):
        status, answer = _put(http_put, upload_server, kept, body)
        if isinstance(store, artifacts.S3ArtifactStore):
            assert status in (400, 412), answer
        else:
            assert status == 409 and b"upload_already_used" in answer, answer
    assert _read(store, key) == card
    gate = owner.get(f"/api/v1/models/{model.name}/versions/1/promotion/")
    assert gate.status_code == 200 and gate.json()["allowed"] is True


def test_an_evidence_upload_url_is_bound_to_a_declared_sha256(cast, evidence_store):
    model, _, _ = approved_version(cast, evidence_store, "low")
    refused = client_for(cast.owner).post(
        f"/api/v1/models/{model.name}/versions/1/evidence/uploads/",
        {"kind": "model_card", "filename": "card.pdf", "size": 3},
        format="json",
    )
    assert refused.status_code == 400, refused.content


# -- bias audits on swapped evaluation data ------------------------------------------------------


def test_bias_audit_after_the_evaluation_data_was_swapped_is_refused_and_opens_a_finding(
    cast, store, s3_admin
):
    model, version, _ = approved_version(cast, store, "low")
    attach_evaluation_data(cast, store, model, version, rows(0.5, 0.5))
    evidence = Evidence.objects.get(version_id=version.id, kind="evaluation_data")
    # Failing rows of the same length would be audited as failing; the recorded document
    # passes. The attacker wants the opposite: a passing verdict over failing data.
    _write_behind_the_server(store, evidence.artifact_key, as_csv(rows(0.9, 0.1)), s3_admin)

    url = f"/api/v1/models/{model.name}/versions/1/bias-audits/"
    answer = client_for(cast.reviewer("ethics")).post(
        url, {"spec": SPEC, "evidence": "evaluation_data"}, format="json"
    )
    body = problem(answer, 409, "evaluation_data_tampered")
    assert body["recorded_sha256"] == evidence.sha256
    assert client_for(cast.owner).get(url).json()["results"] == []
    (finding,) = _findings(cast.owner, "evidence_tampered")
    assert finding["version_number"] == 1 and finding["status"] == "open"


# -- promotion after the weights were swapped ----------------------------------------------------


def _deployable(cast, store):
    def weights(model, version):
        _upload_weights(client_for(cast.owner), model.name)

    model, version, _ = approved_version(cast, store, "low", before_request=weights, artifact=False)
    state = streams.load_version(version.id)
    return model, state


def _refused_on_promotion(cast, model, version) -> None:
    """Deploying and the production alias are refused as tampered, the version stays
    approved, and the detection and its finding are recorded."""
    owner = client_for(cast.owner)
    deploy = owner.patch(
        f"/api/v1/models/{model.name}/versions/1/", {"status": "deployed"}, format="json"
    )
    body = problem(deploy, 409, "artifact_tampered")
    assert body["recorded_sha256"] == sha(WEIGHTS)
    alias = owner.put(
        f"/api/v1/models/{model.name}/aliases/production/", {"version": 1}, format="json"
    )
    problem(alias, 409, "artifact_tampered")
    assert streams.load_version(version.id).status == "approved"
    recorded = [e.type for e in event_store.read_stream(version.id)]
    assert "registry.ArtifactTamperDetected" in recorded
    (finding,) = _findings(cast.owner, "artifact_tampered")
    assert finding["version_number"] == 1 and finding["status"] == "open"


def test_promotion_after_the_weights_were_swapped_is_refused_and_opens_a_finding(
    cast, store, s3_admin
):
    model, version = _deployable(cast, store)
    _write_behind_the_server(store, _key_of(store, version.artifact_uri), SWAPPED, s3_admin)
    _refused_on_promotion(cast, model, version)


def test_weights_swapped_with_their_own_s3_checksum_are_refused_on_promotion(
    cast, s3_store, s3_admin
):
    """The attacker writes the new bytes with a matching x-amz-checksum-sha256, so the store's
    own checksum agrees with the bytes: only the comparison with the verified digest catches
    it."""
    model, version = _deployable(cast, s3_store)
    key = _key_of(s3_store, version.artifact_uri)
    _write_behind_the_server(s3_store, key, SWAPPED, s3_admin, ChecksumSHA256=_b64(SWAPPED))
    _refused_on_promotion(cast, model, version)


def test_weights_swapped_after_deployment_are_caught_by_the_background_rehash(
    cast, store, s3_admin
):
    model, version = _deployable(cast, store)
    owner = client_for(cast.owner)
    deploy = owner.patch(
        f"/api/v1/models/{model.name}/versions/1/", {"status": "deployed"}, format="json"
    )
    assert deploy.status_code == 200, deploy.content
    from registry import tasks as registry_tasks

    (message,) = OutboxMessage.objects.filter(task=registry_tasks.REHASH_ARTIFACT)
    key = _key_of(store, version.artifact_uri)
    _write_behind_the_server(store, key, SWAPPED, s3_admin)

    registry_tasks.rehash_artifact.apply(kwargs=message.kwargs, task_id=str(message.id)).get()
    (finding,) = _findings(cast.owner, "artifact_tampered")
    assert finding["status"] == "open"
    # The production alias stays out of reach, and the restored bytes do not reopen it.
    _write_behind_the_server(store, key, WEIGHTS, s3_admin)
    alias = owner.put(
        f"/api/v1/models/{model.name}/aliases/production/", {"version": 1}, format="json"
    )
    problem(alias, 409, "artifact_tampered")


def test_an_intact_artifact_is_promoted_and_its_rehash_finds_nothing(cast, store):
    model, _ = _deployable(cast, store)
    owner = client_for(cast.owner)
    alias = owner.put(
        f"/api/v1/models/{model.name}/aliases/production/", {"version": 1}, format="json"
    )
    assert alias.status_code == 200, alias.content
    from registry import tasks as registry_tasks

    (message,) = OutboxMessage.objects.filter(task=registry_tasks.REHASH_ARTIFACT)
    registry_tasks.rehash_artifact.apply(kwargs=message.kwargs, task_id=str(message.id)).get()
    assert _findings(cast.owner, "artifact_tampered") == []


def _b64(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def test_the_detection_and_its_finding_are_committed_before_the_refusal(
    transactional_db, cast, local_store
):
    """No test transaction around the request: what the 409 left behind was committed."""
    model, version = _deployable(cast, local_store)
    _write_behind_the_server(local_store, _key_of(local_store, version.artifact_uri), SWAPPED)
    deploy = client_for(cast.owner).patch(
        f"/api/v1/models/{model.name}/versions/1/", {"status": "deployed"}, format="json"
    )
    problem(deploy, 409, "artifact_tampered")
    assert not connection.in_atomic_block
    (finding,) = _findings(cast.owner, "artifact_tampered")
    assert finding["status"] == "open"


def test_swapped_evaluation_data_is_refused_through_every_door_and_found_once(cast, evidence_store):
    """The owner's API call, a board member's, and the task that audits a new critical
    version all meet the re-hash; the same swapped bytes open one finding, not one per try."""
    model, version, _ = approved_version(cast, evidence_store, "critical")
    attach_evaluation_data(cast, evidence_store, model, version, rows(0.5, 0.5))
    evidence = Evidence.objects.get(version_id=version.id, kind="evaluation_data")
    _write_behind_the_server(evidence_store, evidence.artifact_key, as_csv(rows(0.9, 0.1)))

    (message,) = OutboxMessage.objects.filter(task=governance_tasks.AUDIT_NEW_VERSION)
    queued = governance_tasks.audit_new_version.apply(
        kwargs=message.kwargs, task_id=str(message.id)
    )
    assert queued.get() is None
    url = f"/api/v1/models/{model.name}/versions/1/bias-audits/"
    for user in (cast.owner, cast.reviewer("ethics")):
        answer = client_for(user).post(
            url, {"spec": SPEC, "evidence": "evaluation_data"}, format="json"
        )
        problem(answer, 409, "evaluation_data_tampered")
    audited = [a["evidence_sha256"] for a in client_for(cast.owner).get(url).json()["results"]]
    assert evidence.sha256 not in audited  # only the audit of the data approved before
    assert len(_findings(cast.owner, "evidence_tampered")) == 1
