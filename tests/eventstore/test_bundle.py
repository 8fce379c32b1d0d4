"""The audit bundle of a set of streams: the standalone verifier passes on an untouched bundle
and fails after each kind of tampering. The verifier runs as auditors run it,
`python3 -I -S verify.py` on the files: the system Python where there is one, and without
site-packages, so it has only the standard library."""

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

from eventstore import checkpoints, store
from eventstore.audit import verifier
from eventstore.audit.bundle import audit_bundle
from eventstore.audit.trail import Counter
from eventstore.types import NO_STREAM
from tests.conftest import (
    events,
    ledger_public_key,
    new_stream,
    run_verifier,
    verifier_python,
)


def _unzipped(chunks) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def streams(pristine_ledger, meta) -> list:
    """Two streams of three events each, and one the bundle must leave out."""
    chosen = [new_stream(), new_stream()]
    for stream in chosen:
        store.append(stream, NO_STREAM, events("Made", "Changed", "Closed"), meta)
    store.append(new_stream(), NO_STREAM, events("Made", name="unrelated"), meta)
    return sorted(stream.id for stream in chosen)


@pytest.fixture
def bundle(streams) -> dict[str, bytes]:
    checkpoints.write_checkpoint()  # the signer's; an export signs nothing
    counter = Counter()
    files = _unzipped(audit_bundle(streams, "test:two-streams", counter))
    assert counter() == json.loads(files["manifest.json"])["events"]
    return files


def _run(files: dict[str, bytes], tmp_path, *args: str) -> subprocess.CompletedProcess:
    folder = tmp_path / "bundle"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for name, body in files.items():
        (folder / name).write_bytes(body)
    return run_verifier(folder, *args)


def _pinned(files: dict[str, bytes], tmp_path, *keys: str) -> subprocess.CompletedProcess:
    """verify.py as an auditor runs it: with the ledger's published key pinned."""
    pins = keys or (ledger_public_key(),)
    return _run(files, tmp_path, *[arg for key in pins for arg in ("--public-key", key)])


def _said_ok(result: subprocess.CompletedProcess) -> bool:
    return any(line.startswith("OK") for line in result.stdout.splitlines())


def _events(files) -> list[bytes]:
    return files["events.jsonl"].splitlines(keepends=True)


def test_untouched_bundle_verifies_offline(bundle, tmp_path):
    result = _pinned(bundle, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _said_ok(result)
    manifest = json.loads(bundle["manifest.json"])
    assert manifest["subject"] == "test:two-streams"
    bundled = [json.loads(line) for line in _events(bundle)]
    assert manifest["events"] == len(bundled) == 6
    assert {e["type"] for e in bundled} == {"test.Made", "test.Changed", "test.Closed"}
    assert "unrelated" not in {e["data"].get("name") for e in bundled}
    assert "--public-key KEY" in bundle["README.txt"].decode()


def test_the_verifier_says_what_it_proved_and_what_not(bundle, tmp_path):
    lines = _pinned(bundle, tmp_path).stdout.splitlines()
    kid = json.loads(bundle["checkpoint.json"])["key_id"]
    size = json.loads(bundle["checkpoint.json"])["tree_size"]
    assert kid == checkpoints.key_id(base64.b64decode(ledger_public_key()))
    said = {line.split(":", 1)[0]: line for line in lines}
    signatures = [line for line in lines if line.startswith("signature:")]
    assert len(signatures) == 1  # the checkpoint's: the bundle carries no other signature
    assert signatures[0].startswith("signature: checkpoint ")
    assert f"tree size {size} " in signatures[0] and " signed at 20" in signatures[0]
    assert signatures[0].endswith(f"verified with pinned key {kid}")
    chains = [line for line in lines if line.startswith("chain:")]
    streams = json.loads(bundle["manifest.json"])["streams"]
    assert len(chains) == len(streams) == 2
    for line, (stream, head) in zip(chains, sorted(streams.items()), strict=True):
        assert line.startswith(f"chain: stream {stream}: versions 1..{head['version']} ")
        assert head["hash"][:16] in line
    assert said["inclusion"] == (
        f"inclusion: all 6 events are leaves of the signed tree of size {size}"
    )
    assert said["completeness"].startswith("completeness: each of the 2 streams ends at the")
    assert said["closure"].startswith("closure: every one of the 0 streams the events name")
    # The pristine ledger's first checkpoint has no previous one to be consistent with.
    assert said["NOT PROVEN consistency"].startswith("NOT PROVEN consistency: the checkpoint")
    assert lines[-1].startswith("OK")


def test_without_a_key_the_verifier_refuses(bundle, tmp_path):
    result = _run(bundle, tmp_path)
    assert result.returncode == 2
    assert not _said_ok(result)
    assert "--public-key KEY" in result.stderr and "--trust-bundle-key" in result.stderr
    malformed = _run(bundle, tmp_path, "--public-key", "not-a-key")
    assert malformed.returncode == 2 and not _said_ok(malformed)
    both = _run(bundle, tmp_path, "--public-key", ledger_public_key(), "--trust-bundle-key")
    assert both.returncode == 2 and not _said_ok(both)
    with pytest.raises(ValueError, match="pin the ledger's public key"):
        verifier.verify(bundle)


def test_trusting_the_bundle_key_warns_that_the_signer_is_not_proven(bundle, tmp_path):
    result = _run(bundle, tmp_path, "--trust-bundle-key")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" in result.stderr and "Nothing is proven about who signed" in result.stderr
    assert result.stdout.startswith("WARNING")
    assert "verified with UNPINNED bundle key" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("OK, UNPINNED")


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
    return verifier.verify(files, [base64.b64decode(ledger_public_key())])


def _has(problems: list[str], start: str) -> bool:
    return any(problem.startswith(start) for problem in problems)


def test_a_changed_byte_in_an_event_fails(bundle, tmp_path):
    lines = _events(bundle)
    lines[1] = lines[1].replace(b'"test.', b'"tesu.', 1)  # one byte of the type
    tampered = {**bundle, "events.jsonl": b"".join(lines)}
    result = _pinned(tampered, tmp_path)
    assert result.returncode == 1
    assert "events.jsonl: SHA-256 or size differs from the table of contents" in result.stdout
    assert "content does not match its hash" in result.stdout
    resealed = _problems(_reseal(tampered))
    assert any("content does not match its hash" in p for p in resealed)


def test_a_missing_event_fails(bundle, tmp_path):
    lines = _events(bundle)
    tampered = {**bundle, "events.jsonl": b"".join(lines[:3] + lines[4:])}
    result = _pinned(tampered, tmp_path)
    assert result.returncode == 1
    problems = _problems(_reseal(tampered))
    assert any("expected version" in p for p in problems)
    # The newest event of a stream, left out with the table of contents rewritten to match:
    # the chain still links, but the signed heads tree says where the stream ends.
    last_removed = _reseal({**bundle, "events.jsonl": b"".join(lines[:-1])})
    stream = json.loads(lines[-1])["stream_id"]
    assert _problems(last_removed) == [
        f"stream {stream}: the bundle ends at version 2; the signed checkpoint's head of the"
        " stream is version 3 (events left out, or a different history)"
    ]


def test_reordered_events_fail(bundle, tmp_path):
    lines = _events(bundle)
    lines[2], lines[3] = lines[3], lines[2]
    tampered = {**bundle, "events.jsonl": b"".join(lines)}
    assert _pinned(tampered, tmp_path).returncode == 1
    assert any("out of log order" in p for p in _problems(_reseal(tampered)))


def test_a_changed_checkpoint_fails(bundle, tmp_path):
    checkpoint = json.loads(bundle["checkpoint.json"])
    root = bytearray(bytes.fromhex(checkpoint["root"]))
    root[0] ^= 1
    checkpoint["root"] = root.hex()
    tampered = {**bundle, "checkpoint.json": json.dumps(checkpoint).encode()}
    assert _pinned(tampered, tmp_path).returncode == 1
    assert _problems(_reseal(tampered)) == [
        "checkpoint.json: the note does not state this origin, size and root"
    ]
    # The signed note is what the proofs are checked against: changing it breaks the signature.
    note = checkpoint["note"].split("\n")
    note[2] = base64.b64encode(bytes(root)).decode()
    checkpoint["note"] = "\n".join(note)
    problems = _problems(_reseal({**bundle, "checkpoint.json": json.dumps(checkpoint).encode()}))
    assert _has(problems, "checkpoint.json: the checkpoint signature does not verify")
    assert any("not included in the signed checkpoint" in p for p in problems)


def test_a_bundle_signed_with_another_key_fails_against_the_pinned_key(bundle):
    forged = _forged_with_a_fresh_key(bundle)
    # Self-consistent, so trusting the bundle's own key passes it: the key must be pinned.
    assert verifier.verify(forged, trust_bundle_key=True) == []
    problems = _problems(forged)
    assert problems == [
        "checkpoint.json: the checkpoint signature does not verify with any pinned key"
    ]


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
    for package in ("django", "cryptography", "eventstore"):
        probe = subprocess.run(
            [*verifier_python(), "-c", f"import {package}"],
            capture_output=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert probe.returncode != 0, package


def test_bundle_verifies_with_the_new_key_when_the_signing_key_was_rotated(
    pristine_ledger, meta, tmp_path, settings
):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("Made"), meta)
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
    # An event after the rotation makes the signer's next checkpoint a new one, signed with
    # the new key.
    store.append(stream, 1, events("Exported"), meta)
    checkpoints.write_checkpoint()
    files = _unzipped(audit_bundle([stream.id], "test:rotated"))
    result = _pinned(files, tmp_path, new_public)
    assert result.returncode == 0, result.stdout + result.stderr
    checkpoint = json.loads(files["checkpoint.json"])
    assert checkpoint["tree_size"] > first.tree_size
    assert checkpoint["public_key"] == new_public


def _forged_with_a_fresh_key(bundle: dict[str, bytes]) -> dict[str, bytes]:
    """What an attacker holding only their own key does: sign the same checkpoint note and a
    resealed manifest with it, and name their key in the bundle."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    checkpoint = json.loads(bundle["checkpoint.json"])
    checkpoint["public_key"] = base64.b64encode(public).decode()
    checkpoint["key_id"] = checkpoints.key_id(public)
    checkpoint["signature"] = base64.b64encode(key.sign(checkpoint["note"].encode())).decode()
    return _reseal({**bundle, "checkpoint.json": json.dumps(checkpoint).encode()})


def test_a_bundle_resigned_with_an_attackers_key_is_not_reported_ok(bundle, tmp_path):
    forged = _forged_with_a_fresh_key(bundle)
    unpinned = _run(forged, tmp_path)
    assert unpinned.returncode != 0, unpinned.stdout
    assert not _said_ok(unpinned)
    assert "--public-key" in unpinned.stdout + unpinned.stderr
    pinned = _pinned(forged, tmp_path)
    assert pinned.returncode == 1, pinned.stdout
    assert not _said_ok(pinned)
    assert "FAIL checkpoint.json: the checkpoint signature does not verify" in pinned.stdout
    warned = _run(forged, tmp_path, "--trust-bundle-key")
    assert "Nothing is proven about who signed" in warned.stderr


def test_a_bundle_made_right_after_a_rotation_verifies_with_both_keys_pinned(
    pristine_ledger, meta, tmp_path, settings
):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("Made"), meta)
    first = checkpoints.write_checkpoint()
    old_public = ledger_public_key()
    settings.LEDGER_SIGNING_KEY = base64.b64encode(bytes(range(32))).decode()
    settings.LEDGER_TRUSTED_KEYS = [old_public]
    new_public = ledger_public_key()
    # No event since the retired key signed the last checkpoint: the bundle carries that one.
    files = _unzipped(audit_bundle([stream.id], "test:rotated"))
    checkpoint = json.loads(files["checkpoint.json"])
    assert (checkpoint["tree_size"], checkpoint["key_id"]) == (first.tree_size, first.key_id)
    assert checkpoint["public_key"] == old_public
    old_id = checkpoints.key_id(base64.b64decode(old_public))
    result = _pinned(files, tmp_path, new_public, old_public)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    signed = next(line for line in lines if line.startswith("signature: checkpoint"))
    assert signed.endswith(f"verified with pinned key {old_id}")
    only_new = _pinned(files, tmp_path, new_public)
    assert only_new.returncode == 1
    assert "FAIL checkpoint.json: the checkpoint signature does not verify" in only_new.stdout
    assert _pinned(files, tmp_path, old_public).returncode == 0
    assert _run(files, tmp_path, "--trust-bundle-key").returncode == 0


# A checkpoint as every ledger version has written it: the three-line note
# "<origin>\n<tree size>\n<base64 root>\n" signed with the key of seed bytes 0..31.
THREE_LINE_CHECKPOINT = {
    "origin": "ledger.example/prod",
    "tree_size": 5,
    "root": "1400f0a9fcddaf5481a43cbf4de86d19ecdef3f5ad5bc8651604397e48379589",
    "key_id": "56475aa75463474c",
    "public_key": "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
    "signature": (
        "xW6MZlzzL8tKW1RJS6y14HGii4JOSiOnkrSas13GVwTjKtHMQVE5FBBKHLfc+vudVyoohmf9h3VQ+F1scicqAg=="
    ),
    "note": "ledger.example/prod\n5\nFADwqfzdr1SBpDy/TehtGeze8/WtW8hlFgQ5fkg3lYk=\n",
}


def test_an_old_three_line_checkpoint_still_verifies_with_the_pinned_key():
    doc = THREE_LINE_CHECKPOINT
    assert len(doc["note"].splitlines()) == 3
    root = bytes.fromhex(doc["root"])
    assert checkpoints.note_text(doc["origin"], doc["tree_size"], root) == doc["note"]
    pinned = verifier.decode_key(doc["public_key"])
    problems, key, note = verifier.check_checkpoint(doc, [pinned])
    assert (problems, key) == ([], pinned)
    assert (note.tree_size, note.root, note.heads, note.previous) == (5, root, None, None)
    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert verifier.check_checkpoint(doc, [other])[:2] == ([], None)
    assert verifier.check_checkpoint(doc, [other, pinned])[:2] == ([], pinned)
    # A line added to a signed note is no longer what was signed.
    extended = {**doc, "note": doc["note"] + "heads 1 " + doc["note"].split("\n")[2] + "\n"}
    assert verifier.check_checkpoint(extended, [pinned])[:2] == ([], None)
    moved = {**doc, "tree_size": 6}
    assert verifier.check_checkpoint(moved, [pinned])[0] == [
        "checkpoint.json: the note does not state this origin, size and root"
    ]
