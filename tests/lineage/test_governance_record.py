"""A model's audit trail and audit bundle carry its whole governance record: intake and tier,
evidence and waivers, approval requests with their decisions, suspensions, periodic reviews,
bias audits and findings, beside the registry and lineage events; the bundle still verifies."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from approvals import commands as approvals
from approvals.models import ApprovalRequest
from core import clock
from core.actors import Actor
from eventstore import checkpoints
from eventstore.audit.trailer import without_trailer
from eventstore.canonical import canonical_json
from governance import commands as governance
from governance.commands import audits, reviews
from governance.models import PeriodicReview
from tests.api.conftest import client_for
from tests.approvals.conftest import actor_of, cast, evidence_store  # noqa: F401
from tests.conftest import ledger_public_key, make_user, run_verifier
from tests.governance.helpers import approved_version

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SPEC = {"attributes": ["sex"], "label": "label", "prediction": "prediction"}
GOVERNANCE_TYPES = {
    "governance.IntakeRecorded",
    "governance.RiskTierAssigned",
    "governance.EvidenceAttached",
    "governance.EvidenceWaived",
    "governance.ModelSuspended",
    "governance.ModelReinstated",
    "governance.PeriodicReviewOpened",
    "governance.BiasAuditCompleted",
    "governance.FindingOpened",
    "approvals.ApprovalRequested",
    "approvals.ReviewDecisionRecorded",
    "approvals.ApprovalGranted",
    "approvals.ApprovalSuspended",
    "approvals.ApprovalReinstated",
}


def _rows(rate_a: float, rate_b: float, n: int = 100) -> list[dict]:
    return [
        {"sex": group, "label": i % 2, "prediction": 1 if i < rate * n else 0}
        for group, rate in (("a", rate_a), ("b", rate_b))
        for i in range(n)
    ]


@pytest.fixture
def governed(pristine_ledger, cast, evidence_store):  # noqa: F811
    """Two high-tier models taken through the whole workflow; only the first is exported."""
    officer = actor_of(cast.officer)

    def waive_monitoring_plan(model, version):
        # Before approval is asked for: a waiver is evidence, and a later one voids approvals.
        governance.grant_waiver(
            actor=officer,
            model_id=model.id,
            number=1,
            kind="monitoring_plan",
            reason="plan due next quarter",
            expires_at=T0 + 90 * DAY,
        )

    with clock.frozen(T0) as now:
        model, _, request = approved_version(
            cast, evidence_store, "high", before_request=waive_monitoring_plan
        )
        other, _, _ = approved_version(cast, evidence_store, "high")
        governance.suspend_model(actor=officer, model_id=model.id, reason="incident 7")
        # A suspension is lifted by someone other than the one who suspended.
        second = actor_of(make_user("omar-officer", perms=("governance.assign_risk_tier",)))
        governance.reinstate_model(actor=second, model_id=model.id, reason="incident closed")
        approvals.suspend_approval(actor=officer, request_id=request.id, reason="drift")
        approvals.reinstate_approval(
            actor=actor_of(cast.reviewer("model-risk", 2)), request_id=request.id, reason="retested"
        )
        outcome = audits.run_bias_audit(
            actor=actor_of(cast.owner), model_id=model.id, number=1, spec=SPEC, rows=_rows(0.8, 0.3)
        )
        assert outcome.finding_id is not None
        now.advance(16 * DAY)
        assert reviews.scan_reviews(actor=Actor.system("tests.scan")).opened == 2
    return model, other


def _auditor():
    from django.contrib.auth.models import Group

    from tests.conftest import make_user

    group, _ = Group.objects.get_or_create(name="auditors")
    return make_user("ada-auditor", group)


def test_audit_trail_holds_the_models_governance_record(governed):
    model, other = governed
    response = client_for(_auditor()).get("/api/v1/exports/audit-trail/", {"model": model.name})
    assert response.status_code == 200, response.content
    body = without_trailer(b"".join(response.streaming_content), "jsonl")
    events = [json.loads(line) for line in body.splitlines()]
    types = {e["type"] for e in events}
    assert types >= GOVERNANCE_TYPES, GOVERNANCE_TYPES - types
    assert {"registry.ModelRegistered", "registry.ModelVersionCreated"} <= types
    # Nothing of the other model's governance record comes along.
    assert all(e["data"].get("model_id") != other.id for e in events)
    assert not any(e["data"].get("name") == other.name for e in events)


def test_audit_bundle_holds_the_governance_record_and_verifies_offline(governed, tmp_path):
    model, other = governed
    api = client_for(_auditor())
    checkpoints.write_checkpoint()  # the signer's: an export signs nothing
    response = api.get("/api/v1/exports/audit-bundle/", {"model": model.name})
    assert response.status_code == 200, response.content
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        archive.extractall(tmp_path)
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    types = {e["type"] for e in events}
    assert types >= GOVERNANCE_TYPES, GOVERNANCE_TYPES - types
    assert all(e["data"].get("model_id") != other.id for e in events)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["not_yet_checkpointed"] == 0
    assert manifest["events"] == len(events)
    published = api.get("/api/v1/checkpoints/latest/").json()
    result = run_verifier(tmp_path, "--public-key", published["public_key"])
    assert result.returncode == 0, result.stdout + result.stderr


# -- a bundle must hold every stream its subject's events name -----------------------------
# The attack: leave out a whole stream about the model and rewrite the table of contents
# consistently (as a bundle built from a tampered read table would be; before this, the table
# of contents was signed with the ledger's key, which every web process held). Before streams
# were linked in the events (registry.StreamLinked), such a bundle verified.


def _bundle(model) -> dict[str, bytes]:
    checkpoints.write_checkpoint()
    response = client_for(_auditor()).get("/api/v1/exports/audit-bundle/", {"model": model.name})
    assert response.status_code == 200, response.content
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _without_stream(files: dict[str, bytes], stream: str) -> dict[str, bytes]:
    """The bundle with every event of `stream`, its proofs and its head proof taken out, and
    the table of contents rewritten to match."""
    events = [json.loads(line) for line in files["events.jsonl"].splitlines()]
    dropped = {e["position"] for e in events if e["stream_id"] == stream}
    assert dropped
    kept = [
        line
        for line in files["events.jsonl"].splitlines()
        if json.loads(line)["position"] not in dropped
    ]
    proofs = [
        line
        for line in files["proofs.jsonl"].splitlines()
        if json.loads(line)["position"] not in dropped
    ]
    out = dict(files)
    out["events.jsonl"] = b"".join(line + b"\n" for line in kept)
    out["proofs.jsonl"] = b"".join(line + b"\n" for line in proofs)
    out["heads.jsonl"] = b"".join(
        line + b"\n"
        for line in files["heads.jsonl"].splitlines()
        if json.loads(line).get("stream_id") != stream
    )
    manifest = json.loads(files["manifest.json"])
    manifest["streams"].pop(stream)
    manifest["events"] = len(kept)
    for name in ("events.jsonl", "proofs.jsonl", "heads.jsonl"):
        manifest["files"][name] = {
            "sha256": hashlib.sha256(out[name]).hexdigest(),
            "bytes": len(out[name]),
        }
    out["manifest.json"] = canonical_json(manifest)
    return out


def _verify(files: dict[str, bytes], tmp_path):
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    return run_verifier(tmp_path, "--public-key", ledger_public_key())


def test_a_bundle_without_a_linked_approval_request_fails_naming_it(governed, tmp_path):
    model, _ = governed
    files = _bundle(model)
    whole = tmp_path / "whole"
    whole.mkdir()
    assert _verify(files, whole).returncode == 0
    request = str(ApprovalRequest.objects.get(model_id=model.id).id)
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    result = _verify(_without_stream(files, request), tampered)
    assert result.returncode == 1, result.stdout
    assert f"FAIL stream {request}: the approval_request" in result.stdout
    assert "is missing from the bundle" in result.stdout


def test_a_bundle_without_a_linked_periodic_review_fails_naming_it(governed, tmp_path):
    model, _ = governed
    review = str(PeriodicReview.objects.filter(model_id=model.id).first().id)
    result = _verify(_without_stream(_bundle(model), review), tmp_path)
    assert result.returncode == 1, result.stdout
    assert f"FAIL stream {review}: the periodic_review" in result.stdout


# -- forgeries by a holder of the signing key ------------------------------------------------
# Before checkpoints signed every stream's head, the bundle's manifest said where each stream
# ended and the server's key signed it, so whoever held that key (every web process did) could
# drop events and re-sign. Now the manifest is a table of contents and nothing else is signed:
# the signed checkpoint's heads tree says where each stream ends.


def _forged(files: dict[str, bytes], stream: str, *, newest_only: bool) -> dict[str, bytes]:
    """The bundle without the newest event of `stream` (or without the whole stream), its
    table of contents rewritten to match, and, in the bundle format that had one, the
    manifest signed again with the server's key."""
    events = [json.loads(line) for line in files["events.jsonl"].splitlines()]
    mine = [e for e in events if e["stream_id"] == stream]
    dropped = {mine[-1]["position"]} if newest_only else {e["position"] for e in mine}
    out = dict(files)
    for name in ("events.jsonl", "proofs.jsonl"):
        out[name] = b"".join(
            line + b"\n"
            for line in files[name].splitlines()
            if json.loads(line)["position"] not in dropped
        )
    manifest = json.loads(files["manifest.json"])
    if newest_only:
        manifest["streams"][stream] = {"version": mine[-2]["version"], "hash": mine[-2]["hash"]}
    else:
        manifest["streams"].pop(stream)
    manifest["events"] = len(events) - len(dropped)
    for name in manifest["files"]:
        manifest["files"][name] = {
            "sha256": hashlib.sha256(out[name]).hexdigest(),
            "bytes": len(out[name]),
        }
    out["manifest.json"] = canonical_json(manifest)
    if "manifest.sig" in files:
        out["manifest.sig"] = base64.b64encode(checkpoints.signing_key().sign(out["manifest.json"]))
    return out


def test_a_key_holder_cannot_drop_the_newest_event_of_a_stream(governed, tmp_path):
    model, _ = governed
    request = str(ApprovalRequest.objects.get(model_id=model.id).id)
    files = _bundle(model)
    newest = [json.loads(line) for line in files["events.jsonl"].splitlines()]
    assert [e["type"] for e in newest if e["stream_id"] == request][-2:] == [
        "approvals.ApprovalSuspended",
        "approvals.ApprovalReinstated",
    ]
    result = _verify(_forged(files, request, newest_only=True), tmp_path)
    assert result.returncode == 1, result.stdout
    assert (
        f"FAIL stream {request}: the bundle ends at version" in result.stdout
        and "the signed checkpoint's head of the stream is version" in result.stdout
    )


def test_a_key_holder_cannot_leave_out_a_whole_stream_of_the_closure(governed, tmp_path):
    model, _ = governed
    request = str(ApprovalRequest.objects.get(model_id=model.id).id)
    result = _verify(_forged(_bundle(model), request, newest_only=False), tmp_path)
    assert result.returncode == 1, result.stdout
    assert f"FAIL stream {request}: the approval_request" in result.stdout
    assert f"FAIL stream {request}: the signed checkpoint holds" in result.stdout
