"""A bundle's checkpoint in the log's history: it ships the proof that it extends the
checkpoint before it, verify.py --since proves it one history with a checkpoint the auditor
kept, and what a holder of the signing key can and cannot forge. A bundle cut short fails."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import zipfile

import pytest

from eventstore import checkpoints, merkle, store
from eventstore.audit import verifier
from eventstore.audit.bundle import audit_bundle
from eventstore.heads import HeadProof, head_leaf_hash
from eventstore.types import NO_STREAM
from tests.conftest import events, ledger_public_key, new_stream, run_verifier, verifier_python


def _unzipped(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _served(checkpoint) -> dict:
    """A checkpoint as GET /api/v1/checkpoints/latest/ serves it and an auditor keeps it."""
    return {
        "origin": checkpoint.origin,
        "tree_size": checkpoint.tree_size,
        "root": bytes(checkpoint.root_hash).hex(),
        "note": checkpoint.note,
        "signature": base64.b64encode(bytes(checkpoint.signature)).decode(),
        "key_id": checkpoint.key_id,
    }


def _pins() -> list[bytes]:
    return [base64.b64decode(ledger_public_key())]


@pytest.fixture
def history(pristine_ledger, meta):
    """Three checkpoints of one stream's growing history, and a bundle made at the last."""
    stream = new_stream()
    store.append(stream, NO_STREAM, events("Made"), meta)
    kept = checkpoints.write_checkpoint()
    store.append(stream, 1, events("Changed"), meta)
    middle = checkpoints.write_checkpoint()
    store.append(stream, 2, events("Closed"), meta)
    newest = checkpoints.write_checkpoint()
    files = _unzipped(b"".join(audit_bundle([stream.id], "test:history")))
    return stream, kept, middle, newest, files


def test_the_bundle_proves_its_checkpoint_extends_the_previous_one(history):
    _, _, middle, newest, files = history
    shipped = json.loads(files["consistency.json"])
    assert shipped["from"] == {"tree_size": middle.tree_size, "root": middle.root_hash.hex()}
    assert shipped["to"]["tree_size"] == newest.tree_size
    report = verifier.check(files, _pins())
    assert report.problems == []
    assert report.consistency == [
        f"consistency: the signed tree of size {newest.tree_size} extends the previous"
        f" checkpoint's tree of size {middle.tree_size} (root {middle.root_hash.hex()[:16]})"
    ]
    forged = dict(shipped, proof=[bytes(32).hex(), *shipped["proof"][1:]])
    problems = verifier.verify({**files, "consistency.json": json.dumps(forged).encode()}, _pins())
    assert f"consistency: the checkpoint does not extend its previous one ({middle.tree_size})" in (
        problems
    )
    without = {name: body for name, body in files.items() if name != "consistency.json"}
    assert "consistency.json: not listed" not in " ".join(verifier.verify(without, _pins()))
    assert any(
        p.startswith("consistency.json is missing") for p in verifier.verify(without, _pins())
    )


def test_since_a_kept_checkpoint_needs_the_ledgers_proof_and_checks_it(history, tmp_path):
    _, kept, middle, newest, files = history
    # The checkpoint before the bundle's: the shipped proof covers it.
    assert verifier.verify(files, _pins(), since=_served(middle)) == []
    # An older one: the ledger's consistency proof between the two sizes is needed.
    problems = verifier.verify(files, _pins(), since=_served(kept))
    assert problems == [
        f"--since: no consistency proof between sizes {kept.tree_size} and {newest.tree_size};"
        " fetch it from the ledger (GET /api/v1/checkpoints/consistency/"
        f"?first={kept.tree_size}&second={newest.tree_size}) and pass it with"
        " --consistency-proof"
    ]
    proof = {
        "proof": [n.hex() for n in checkpoints.consistency_proof(kept.tree_size, newest.tree_size)]
    }
    assert verifier.verify(files, _pins(), since=_served(kept), since_proof=proof) == []
    wrong = {
        "proof": [n.hex() for n in checkpoints.consistency_proof(kept.tree_size, middle.tree_size)]
    }
    assert verifier.verify(files, _pins(), since=_served(kept), since_proof=wrong) == [
        f"--since: the trees of size {kept.tree_size} and {newest.tree_size} are not one history"
        " (a rewritten log, or a proof for other checkpoints)"
    ]
    # From the command line, as an auditor runs it.
    folder = tmp_path / "bundle"
    folder.mkdir()
    for name, body in files.items():
        (folder / name).write_bytes(body)
    (tmp_path / "kept.json").write_text(json.dumps(_served(kept)))
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    args = ["--public-key", ledger_public_key(), "--since", str(tmp_path / "kept.json")]
    result = run_verifier(folder, *args, "--consistency-proof", str(tmp_path / "proof.json"))
    assert result.returncode == 0, result.stdout
    assert (
        f"consistency: the checkpoint you kept (size {kept.tree_size}) and the bundle's"
        f" (size {newest.tree_size}) are one history" in result.stdout
    )
    assert run_verifier(folder, *args).returncode == 1


def test_a_key_holder_who_rewrites_history_is_caught_by_a_kept_checkpoint(history, settings):
    """With the signing key, a forger can sign a checkpoint of a history without the stream's
    newest event, and the bundle of that history verifies on its own. A checkpoint the auditor
    (or a witness) kept from the real history exposes it: no consistency proof joins them."""
    _stream, _, middle, newest, files = history
    events_lines = files["events.jsonl"].splitlines(keepends=True)
    dropped = json.loads(events_lines[-1])
    leaves = [
        leaf
        for leaf in checkpoints.leaf_hashes(0, newest.tree_size)
        if leaf != merkle.leaf_hash(bytes.fromhex(dropped["hash"]))
    ]
    forged_root = merkle.root_from_leaf_hashes(leaves)
    head = json.loads(events_lines[-2])
    heads_root = head_leaf_hash(head["stream_id"], head["version"], bytes.fromhex(head["hash"]))
    note = checkpoints.note_text(
        newest.origin,
        len(leaves),
        forged_root,
        time=newest.created_at,
        previous=(middle.tree_size, bytes(middle.root_hash)),
        heads=(1, heads_root),
    )
    key = checkpoints.signing_key()
    forged_checkpoint = {
        **json.loads(files["checkpoint.json"]),
        "tree_size": len(leaves),
        "root": forged_root.hex(),
        "note": note,
        "signature": base64.b64encode(key.sign(note.encode())).decode(),
    }
    proofs = []
    for index, line in enumerate(events_lines[:-1]):
        event = json.loads(line)
        leaf = merkle.leaf_hash(bytes.fromhex(event["hash"]))
        at = leaves.index(leaf)
        path = merkle.inclusion_proof(leaves, at, len(leaves))
        proofs.append(
            {"position": event["position"], "leaf_index": at, "path": [p.hex() for p in path]}
        )
        assert index == at
    proof = HeadProof(head["stream_id"], head["version"], bytes.fromhex(head["hash"]), 0, 1, ())
    forged = {
        **files,
        "events.jsonl": b"".join(events_lines[:-1]),
        "proofs.jsonl": "".join(json.dumps(p) + "\n" for p in proofs).encode(),
        "heads.jsonl": (json.dumps(proof.as_json()) + "\n").encode(),
        "checkpoint.json": json.dumps(forged_checkpoint).encode(),
        "consistency.json": json.dumps(
            {
                "from": {"tree_size": middle.tree_size, "root": middle.root_hash.hex()},
                "to": {"tree_size": len(leaves), "root": forged_root.hex()},
                "proof": [
                    n.hex() for n in merkle.consistency_proof(leaves, middle.tree_size, len(leaves))
                ],
            }
        ).encode(),
    }
    manifest = json.loads(files["manifest.json"])
    manifest["files"] = {
        name: {"sha256": hashlib.sha256(forged[name]).hexdigest(), "bytes": len(forged[name])}
        for name in manifest["files"]
    }
    forged["manifest.json"] = json.dumps(manifest).encode()
    assert verifier.verify(forged, _pins()) == []  # the key signs anything
    problems = verifier.verify(forged, _pins(), since=_served(newest))
    assert problems and problems[0].startswith("--since: ")


def test_a_bundle_cut_short_fails(history, tmp_path):
    *_, files = history
    stream_only = {name: files[name] for name in ("README.txt", "verify.py", "events.jsonl")}
    problems = verifier.verify(stream_only, _pins())
    assert problems == [
        f"{name} is missing (a bundle cut short, or one taken apart)"
        for name in ("manifest.json", "checkpoint.json", "proofs.jsonl")
    ]
    body = io.BytesIO()
    with zipfile.ZipFile(body, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    cut = tmp_path / "cut.zip"
    cut.write_bytes(body.getvalue()[: len(body.getvalue()) * 3 // 4])
    (tmp_path / "verify.py").write_bytes(files["verify.py"])
    result = subprocess.run(
        [
            *verifier_python(),
            str(tmp_path / "verify.py"),
            str(cut),
            "--public-key",
            ledger_public_key(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "not a whole bundle" in result.stdout and "Traceback" not in result.stderr
