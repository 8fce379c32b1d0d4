"""An audit bundle must hold every stream its subject's events name. The attack: leave out a
whole stream about the model (an approval request) and rewrite the manifest consistently,
signed by the ledger's key (as a bundle built from a tampered read table would be); before
streams were linked in the events, such a bundle verified."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile

from approvals.models import ApprovalRequest
from eventstore import checkpoints
from eventstore.canonical import canonical_json
from governance.models import PeriodicReview
from tests.api.conftest import client_for
from tests.approvals.conftest import cast, evidence_store  # noqa: F401
from tests.conftest import run_verifier
from tests.lineage.test_governance_record import _auditor, governed  # noqa: F401


def _bundle(model) -> dict[str, bytes]:
    response = client_for(_auditor()).get("/api/v1/exports/audit-bundle/", {"model": model.name})
    assert response.status_code == 200, response.content
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _without_stream(files: dict[str, bytes], stream: str) -> dict[str, bytes]:
    """The bundle with every event of `stream` and its proofs taken out, and the manifest
    rewritten to match and signed again with the ledger's key."""
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
    manifest = json.loads(files["manifest.json"])
    manifest["streams"].pop(stream)
    manifest["events"] = len(kept)
    for name in ("events.jsonl", "proofs.jsonl"):
        manifest["files"][name] = {
            "sha256": hashlib.sha256(out[name]).hexdigest(),
            "bytes": len(out[name]),
        }
    out["manifest.json"] = canonical_json(manifest)
    out["manifest.sig"] = base64.b64encode(checkpoints.signing_key().sign(out["manifest.json"]))
    return out


def _verify(files: dict[str, bytes], tmp_path):
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    return run_verifier(tmp_path)


def test_a_bundle_without_a_linked_approval_request_fails_naming_it(governed, tmp_path):  # noqa: F811
    model, _ = governed
    files = _bundle(model)
    assert (
        _verify(
            files, tmp_path / "whole" if (tmp_path / "whole").mkdir() is None else None
        ).returncode
        == 0
    )
    request = str(ApprovalRequest.objects.get(model_id=model.id).id)
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    result = _verify(_without_stream(files, request), tampered)
    assert result.returncode == 1, result.stdout
    assert f"FAIL stream {request}: the approval_request" in result.stdout
    assert "is missing from the bundle" in result.stdout


def test_a_bundle_without_a_linked_periodic_review_fails_naming_it(governed, tmp_path):  # noqa: F811
    model, _ = governed
    review = str(PeriodicReview.objects.filter(model_id=model.id).first().id)
    result = _verify(_without_stream(_bundle(model), review), tmp_path)
    assert result.returncode == 1, result.stdout
    assert f"FAIL stream {review}: the periodic_review" in result.stdout
