"""The audit bundle of models through the API: it covers each model's streams and lineage
closure and nothing unrelated, verifies offline against the key the API publishes, and the
export is recorded with its digest."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import pytest

from eventstore import checkpoints
from lineage import commands
from lineage.models import LineageEdge
from tests.api.conftest import client_for
from tests.conftest import run_verifier


@pytest.fixture
def bundle(pristine_ledger, ledger, auditor) -> dict[str, bytes]:
    ledger.dataset("transactions", 2)
    base, tuned = ledger.model("fraud", 2, training_datasets=("transactions@1",))
    commands.record_edge(actor=ledger.actor, source=base, target=tuned, edge_type="fine_tuned_from")
    ledger.model("unrelated")
    checkpoints.write_checkpoint()  # the signer's: an export signs nothing
    response = client_for(auditor).get("/api/v1/exports/audit-bundle/", {"model": "fraud"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/zip"
    body = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _run(files: dict[str, bytes], tmp_path, *args: str):
    folder = tmp_path / "bundle"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for name, body in files.items():
        (folder / name).write_bytes(body)
    return run_verifier(folder, *args)


def test_bundle_holds_the_models_lineage_and_nothing_unrelated(bundle):
    manifest = json.loads(bundle["manifest.json"])
    assert manifest["subject"] == "model:fraud"
    events = [json.loads(line) for line in bundle["events.jsonl"].splitlines()]
    assert manifest["events"] == len(events) > 0
    types = {e["type"] for e in events}
    assert "lineage.EdgeRecorded" in types and "registry.DatasetVersionCreated" in types
    assert "unrelated" not in {e["data"].get("name") for e in events}


def test_bundle_verifies_against_the_key_published_by_the_api(bundle, auditor, tmp_path):
    published = client_for(auditor).get("/api/v1/checkpoints/latest/").json()
    checkpoint = json.loads(bundle["checkpoint.json"])
    assert published["tree_size"] >= checkpoint["tree_size"]
    assert published["public_key"] == checkpoint["public_key"]
    result = _run(bundle, tmp_path, "--public-key", published["public_key"])
    assert result.returncode == 0, result.stdout + result.stderr
    other = base64.b64encode(bytes(32)).decode()
    assert _run(bundle, tmp_path, "--public-key", other).returncode == 1


def test_each_export_is_recorded_with_its_digest(bundle):
    from eventstore.models import Event

    completed = Event.objects.filter(type="lineage.ExportCompleted").get()
    started = Event.objects.get(stream_id=completed.stream_id, version=1)
    assert started.data["kind"] == "audit-bundle" and started.data["subject"] == "model:fraud"
    assert completed.data["events"] == json.loads(bundle["manifest.json"])["events"]
    assert LineageEdge.objects.filter(edge_type="fine_tuned_from").exists()
