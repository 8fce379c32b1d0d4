"""The audit bundle: the standalone verifier passes on an untouched bundle and fails after each
kind of tampering. The verifier runs as auditors run it, `python3 -I -S verify.py` on the files:
the system Python where there is one, and without site-packages, so it has only the standard
library."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import zipfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstore import checkpoints
from lineage import commands, verifier
from lineage.models import LineageEdge
from tests.api.conftest import client_for
from tests.lineage.conftest import run_verifier


@pytest.fixture
def bundle(pristine_ledger, ledger, auditor, tmp_path) -> dict[str, bytes]:
    ledger.dataset("transactions", 2)
    base, tuned = ledger.model("fraud", 2, training_datasets=("transactions@1",))
    commands.record_edge(actor=ledger.actor, source=base, target=tuned, edge_type="fine_tuned_from")
    ledger.model("unrelated")
    response = client_for(auditor).get("/api/v1/exports/audit-bundle/", {"model": "fraud"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/zip"
    body = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _run(files: dict[str, bytes], tmp_path, *args: str) -> subprocess.CompletedProcess:
    folder = tmp_path / "bundle"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for name, body in files.items():
        (folder / name).write_bytes(body)
    return run_verifier(folder, *args)


def _events(files) -> list[bytes]:
    return files["events.jsonl"].splitlines(keepends=True)


def test_untouched_bundle_verifies_offline(bundle, tmp_path):
    result = _run(bundle, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout
    manifest = json.loads(bundle["manifest.json"])
    events = [json.loads(line) for line in _events(bundle)]
    assert manifest["events"] == len(events) > 0
    types = {e["type"] for e in events}
    assert "lineage.EdgeRecorded" in types and "registry.DatasetVersionCreated" in types
    unrelated = {e["data"].get("name") for e in events}
    assert "unrelated" not in unrelated
    public = base64.b64encode(
        checkpoints.public_key_bytes(checkpoints.signing_key().public_key())
    ).decode()
    assert _run(bundle, tmp_path, "--public-key", public).returncode == 0


def test_bundle_verifies_against_the_key_published_by_the_api(bundle, auditor, tmp_path):
    published = client_for(auditor).get("/api/v1/checkpoints/latest/").json()
    checkpoint = json.loads(bundle["checkpoint.json"])
    assert published["tree_size"] >= checkpoint["tree_size"]
    assert published["public_key"] == checkpoint["public_key"]
    result = _run(bundle, tmp_path, "--public-key", published["public_key"])
    assert result.returncode == 0, result.stdout + result.stderr
    other = base64.b64encode(bytes(32)).decode()
    assert _run(bundle, tmp_path, "--public-key", other).returncode == 1


def test_bundle_proofs_equal_proofs_over_the_whole_leaf_list(bundle):
    from eventstore import merkle

    size = json.loads(bundle["checkpoint.json"])["tree_size"]
    leaves = checkpoints.leaf_hashes(0, size)
    proofs = [json.loads(line) for line in bundle["proofs.jsonl"].splitlines()]
    assert len(proofs) == len(_events(bundle)) > 0
    for proof in proofs:
        expected = merkle.inclusion_proof(leaves, proof["leaf_index"], size)
        assert proof["path"] == [node.hex() for node in expected]


def _reseal(files: dict[str, bytes]) -> dict[str, bytes]:
    """What a forger without the key can do: make every digest in the manifest match again."""
    manifest = json.loads(files["manifest.json"])
    for name in manifest["files"]:
        manifest["files"][name] = {
            "sha256": hashlib.sha256(files[name]).hexdigest(),
            "bytes": len(files[name]),
        }
    return {**files, "manifest.json": json.dumps(manifest).encode()}


def _problems(files: dict[str, bytes]) -> list[str]:
    return verifier.verify(files)


def test_a_changed_byte_in_an_event_fails(bundle, tmp_path):
    lines = _events(bundle)
    lines[1] = lines[1].replace(b"registry.", b"registrx.", 1)  # one byte of the type
    tampered = {**bundle, "events.jsonl": b"".join(lines)}
    result = _run(tampered, tmp_path)
    assert result.returncode == 1
    assert "events.jsonl: SHA-256 or size differs from the manifest" in result.stdout
    assert "content does not match its hash" in result.stdout
    resealed = _problems(_reseal(tampered))
    assert "manifest.json: the signature does not verify" in resealed
    assert any("content does not match its hash" in p for p in resealed)


def test_a_missing_event_fails(bundle, tmp_path):
    lines = _events(bundle)
    tampered = {**bundle, "events.jsonl": b"".join(lines[:3] + lines[4:])}
    result = _run(tampered, tmp_path)
    assert result.returncode == 1
    problems = _problems(_reseal(tampered))
    assert any("events.jsonl holds" in p for p in problems)
    last_removed = {**bundle, "events.jsonl": b"".join(lines[:-1])}
    assert any("the manifest says" in p for p in _problems(_reseal(last_removed)))


def test_reordered_events_fail(bundle, tmp_path):
    lines = _events(bundle)
    lines[2], lines[3] = lines[3], lines[2]
    tampered = {**bundle, "events.jsonl": b"".join(lines)}
    assert _run(tampered, tmp_path).returncode == 1
    assert any("out of log order" in p for p in _problems(_reseal(tampered)))


def test_a_changed_checkpoint_fails(bundle, tmp_path):
    checkpoint = json.loads(bundle["checkpoint.json"])
    root = bytearray(bytes.fromhex(checkpoint["root"]))
    root[0] ^= 1
    checkpoint["root"] = root.hex()
    tampered = {**bundle, "checkpoint.json": json.dumps(checkpoint).encode()}
    assert _run(tampered, tmp_path).returncode == 1
    problems = _problems(_reseal(tampered))
    assert "checkpoint.json: the checkpoint signature does not verify" in problems
    assert any("not included in the signed checkpoint" in p for p in problems)


def test_a_bundle_signed_with_another_key_fails_against_the_pinned_key(bundle, tmp_path):
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    checkpoint = json.loads(bundle["checkpoint.json"])
    checkpoint["public_key"] = base64.b64encode(public).decode()
    checkpoint["signature"] = base64.b64encode(key.sign(checkpoint["note"].encode())).decode()
    forged = _reseal({**bundle, "checkpoint.json": json.dumps(checkpoint).encode()})
    forged["manifest.sig"] = base64.b64encode(key.sign(forged["manifest.json"]))
    assert verifier.verify(forged) == []  # self-consistent, so the key must be pinned:
    genuine = checkpoints.public_key_bytes(checkpoints.signing_key().public_key())
    assert "the bundle is signed with a key other than the one given" in verifier.verify(
        forged, genuine
    )


def test_each_export_is_recorded_with_its_digest(bundle):
    from eventstore.models import Event

    completed = Event.objects.filter(type="lineage.ExportCompleted").get()
    started = Event.objects.get(stream_id=completed.stream_id, version=1)
    assert started.data["kind"] == "audit-bundle" and started.data["subject"] == "model:fraud"
    assert completed.data["events"] == json.loads(bundle["manifest.json"])["events"]
    assert LineageEdge.objects.filter(edge_type="fine_tuned_from").exists()


@settings(max_examples=25, deadline=None)
@given(message=st.binary(max_size=200), flip=st.integers(min_value=0, max_value=511))
def test_pure_python_ed25519_agrees_with_the_cryptography_library(message, flip):
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    signature = key.sign(message)
    assert verifier.ed25519_verify(public, message, signature)
    broken = bytearray(signature)
    broken[flip // 8] ^= 1 << (flip % 8)
    assert not verifier.ed25519_verify(public, message, bytes(broken))


def test_the_verifier_runs_where_only_the_standard_library_is_importable(tmp_path):
    from tests.lineage.conftest import verifier_python

    for package in ("django", "cryptography", "eventstore"):
        probe = subprocess.run(
            [*verifier_python(), "-c", f"import {package}"],
            capture_output=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert probe.returncode != 0, package


def test_bundle_verifies_with_the_new_key_when_the_signing_key_was_rotated(
    pristine_ledger, ledger, auditor, tmp_path, settings
):
    ledger.model("rotated")
    first = checkpoints.write_checkpoint()
    old_public = base64.b64encode(
        checkpoints.public_key_bytes(checkpoints.signing_key().public_key())
    ).decode()
    settings.LEDGER_SIGNING_KEY = base64.b64encode(bytes(range(32))).decode()
    settings.LEDGER_TRUSTED_KEYS = [old_public]
    new_public = base64.b64encode(
        checkpoints.public_key_bytes(checkpoints.signing_key().public_key())
    ).decode()
    # No event since the last checkpoint, which the retired key signed.
    assert checkpoints.write_checkpoint().id == first.id
    response = client_for(auditor).get("/api/v1/exports/audit-bundle/", {"model": "rotated"})
    body = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    result = _run(files, tmp_path, "--public-key", new_public)
    assert result.returncode == 0, result.stdout + result.stderr
    checkpoint = json.loads(files["checkpoint.json"])
    assert checkpoint["tree_size"] > first.tree_size
    assert checkpoint["public_key"] == new_public
