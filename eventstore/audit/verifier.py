"""Offline verifier of a Model Ledger audit bundle. Python standard library only.

Run it inside the unpacked bundle (or give the bundle's zip file), with the ledger's key:

    python3 verify.py [BUNDLE.zip | DIRECTORY] --public-key BASE64 [--public-key BASE64 ...]

The key comes from the ledger (GET /api/v1/checkpoints/latest/, or `manage.py ledger_public_key
--all`), never from the bundle: a bundle names its own key, and anyone can sign a bundle with a
key of their own. Give --public-key once per key when the signing key was rotated. Without a
key it refuses (exit status 2); --trust-bundle-key checks against the key the bundle names and
warns that nothing is then proven about who signed it.

It checks, independently of the service that produced the bundle:
  1. manifest.json is signed (Ed25519, verified here in pure Python, RFC 8032) by a pinned key;
  2. every file's SHA-256 and size match the manifest;
  3. checkpoint.json is the signed note "<origin>\\n<size>\\n<base64 root>\\n" of a pinned key;
  4. every event's hash is SHA-256(prev_hash || RFC 8785 JSON of its content), versions of each
     stream run 1, 2, 3 ... with each prev_hash the previous event's hash, events appear in log
     order, and each stream ends where the manifest says it ends;
  5. every event is leaf `leaf_index` of the checkpoint's RFC 6962 Merkle tree (inclusion proof);
  6. the subject is whole: every stream the subject's own events name is in the bundle (the
     versions its model streams number, and every stream linked to the model or to those
     versions by a registry.StreamLinked event), so a left-out stream is named.
On success it prints what it proved, one line each (which key verified which signature, each
stream's chain, inclusion, the subject's closure), and what the bundle does not prove
(consistency with other checkpoints, stream completeness), and exits 0. Any failure prints the
problems and exits 1.

In the bundle this file follows the ledger's own canonical JSON encoder and Merkle code, which
are copied into it verbatim; in the service's source tree it imports them."""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from eventstore.audit.ed25519 import ed25519_verify, is_public_key  # bundled
from eventstore.canonical import canonical_json  # bundled
from eventstore.merkle import leaf_hash, verify_inclusion  # bundled

GENESIS_HEX = "00" * 32
BUNDLE_FORMAT = "model-ledger-audit-bundle/1"
SIGNED_FILES = ("manifest.json", "manifest.sig")

# -- the bundle --------------------------------------------------------------------------


def timestamp_ok(text: object) -> bool:
    return isinstance(text, str) and len(text) == 27 and text.endswith("Z")


def event_hash(event: dict) -> bytes:
    """The ledger's chain hash of an event (eventstore/hashing.py), recomputed here."""
    content = {
        "stream_id": event["stream_id"],
        "stream_type": event["stream_type"],
        "version": event["version"],
        "type": event["type"],
        "schema_version": event["schema_version"],
        "data": event["data"],
        "metadata": event["metadata"],
        "occurred_at": event["occurred_at"],
        "recorded_at": event["recorded_at"],
    }
    prev = bytes.fromhex(event["prev_hash"])
    return hashlib.sha256(prev + canonical_json(content, strict=False)).digest()


def load_files(source: Path) -> dict[str, bytes]:
    if source.is_dir():
        return {p.name: p.read_bytes() for p in source.iterdir() if p.is_file()}
    with zipfile.ZipFile(io.BytesIO(source.read_bytes())) as archive:
        return {
            Path(name).name: archive.read(name)
            for name in archive.namelist()
            if not name.endswith("/")
        }


@dataclass
class Report:
    """What a run found: problems (empty when everything verified) and, for each signature,
    the id of the key that verified it."""

    problems: list[str] = field(default_factory=list)
    signers: dict[str, str] = field(default_factory=dict)
    streams: dict[str, tuple[int, str]] = field(default_factory=dict)
    checkpoint: dict = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)


def key_id(public: bytes) -> str:
    """The ledger's key id: the first 16 hex digits of the raw public key's SHA-256."""
    return hashlib.sha256(public).hexdigest()[:16]


def decode_key(text: str) -> bytes:
    """A pinned key as the ledger publishes it: base64 of the raw 32-byte Ed25519 key."""
    raw = base64.b64decode(text.strip(), validate=True)
    if not is_public_key(raw):
        raise ValueError("not a base64 Ed25519 public key")
    return raw


def signer(keys: Iterable[bytes], message: bytes, signature: bytes) -> bytes | None:
    """The first of `keys` under which `signature` of `message` verifies, else None."""
    return next((key for key in keys if ed25519_verify(key, message, signature)), None)


def bundle_keys(checkpoint: dict, manifest: dict) -> list[bytes]:
    """The keys the bundle names for itself; trusting them proves nothing about the signer."""
    keys = []
    signed_by = manifest.get("signed_by")
    stated_keys = [checkpoint.get("public_key")]
    if isinstance(signed_by, dict):
        stated_keys.append(signed_by.get("public_key"))
    for stated in stated_keys:
        try:
            key = decode_key(stated) if isinstance(stated, str) else None
        except ValueError:
            key = None
        if key is not None and key not in keys:
            keys.append(key)
    return keys


def verify(
    files: dict[str, bytes],
    keys: Sequence[bytes] | None = None,
    *,
    trust_bundle_key: bool = False,
) -> list[str]:
    """Every problem found, in the order checked; an empty list means the bundle is intact and
    signed by one of `keys` (the pinned keys), or by the key the bundle names when
    `trust_bundle_key`, which proves nothing about who signed it."""
    return check(files, keys, trust_bundle_key=trust_bundle_key).problems


def check(
    files: dict[str, bytes],
    keys: Sequence[bytes] | None = None,
    *,
    trust_bundle_key: bool = False,
) -> Report:
    if not keys and not trust_bundle_key:
        raise ValueError("pin the ledger's public key, or trust the bundle's key explicitly")
    report = Report()
    problems = report.problems
    for name in (
        "manifest.json",
        "manifest.sig",
        "checkpoint.json",
        "events.jsonl",
        "proofs.jsonl",
    ):
        if name not in files:
            problems.append(f"{name} is missing")
    if problems:
        return report
    try:
        manifest = json.loads(files["manifest.json"])
        checkpoint = json.loads(files["checkpoint.json"])
        if not isinstance(manifest, dict) or not isinstance(checkpoint, dict):
            raise TypeError("not a JSON object")
    except (ValueError, TypeError) as exc:
        problems.append(f"manifest.json or checkpoint.json cannot be read: {exc}")
        return report
    report.manifest, report.checkpoint = manifest, checkpoint
    whose = "any pinned key" if keys else "the key the bundle names"
    candidates = list(keys) if keys else bundle_keys(checkpoint, manifest)
    if manifest.get("format") != BUNDLE_FORMAT:
        problems.append(f"unknown bundle format {manifest.get('format')!r}")
    try:
        manifest_sig = base64.b64decode(files["manifest.sig"].strip(), validate=True)
    except ValueError:
        manifest_sig = b""
    key = signer(candidates, files["manifest.json"], manifest_sig)
    if key is None:
        problems.append(f"manifest.json: the signature does not verify with {whose}")
    else:
        report.signers["manifest.json"] = key_id(key)

    listed = manifest.get("files", {})
    for name, entry in sorted(listed.items()):
        body = files.get(name)
        if body is None:
            problems.append(f"{name}: listed in the manifest but missing")
        elif hashlib.sha256(body).hexdigest() != entry.get("sha256") or len(body) != entry.get(
            "bytes"
        ):
            problems.append(f"{name}: SHA-256 or size differs from the manifest")
    for name in sorted(set(files) - set(listed) - set(SIGNED_FILES)):
        problems.append(f"{name}: not listed in the manifest")

    checkpoint_problems, key = check_checkpoint(checkpoint, candidates, manifest)
    problems.extend(checkpoint_problems)
    if key is None:
        problems.append(f"checkpoint.json: the checkpoint signature does not verify with {whose}")
    elif key is not None:
        report.signers["checkpoint.json"] = key_id(key)
    root = bytes.fromhex(checkpoint.get("root", "")) if _hex32(checkpoint.get("root")) else b""
    tree_size = checkpoint.get("tree_size")
    events, heads, event_problems = _check_events(files["events.jsonl"], manifest)
    report.streams = heads
    problems.extend(event_problems)
    problems.extend(_check_proofs(files["proofs.jsonl"], events, root, tree_size))
    problems.extend(_check_closure(events, manifest))
    return report


NUMBERED = "registry.ModelVersionNumbered"
LINKED = "registry.StreamLinked"


def _check_closure(events: dict[int, dict], manifest: dict) -> list[str]:
    """Each subject stream (manifest "subject_streams", a model) must be in the bundle, with
    every version its ModelVersionNumbered events name and every stream a StreamLinked event
    of the model or of those versions names."""
    by_stream: dict[str, list[dict]] = {}
    for position in sorted(events):
        event = events[position]
        by_stream.setdefault(event["stream_id"], []).append(event)
    subjects = manifest.get("subject_streams", [])
    if not isinstance(subjects, list):
        return ["manifest.json: subject_streams is malformed"]
    problems: list[str] = []
    wanted: dict[str, str] = {}
    for root in subjects:
        wanted.setdefault(root, "the bundle's subject")
        versions = []
        for event in by_stream.get(root, []):
            data = event.get("data", {})
            if event.get("type") == NUMBERED:
                versions.append(data.get("version_id"))
                wanted.setdefault(data.get("version_id"), f"version {data.get('number')} of {root}")
        for stream in (root, *versions):
            for event in by_stream.get(stream, []):
                data = event.get("data", {})
                if event.get("type") == LINKED:
                    wanted.setdefault(
                        data.get("stream_id"),
                        f"the {data.get('kind')} ({data.get('stream_type')}) linked by"
                        f" {stream} at version {event.get('version')}",
                    )
    for stream, why in wanted.items():
        if stream not in by_stream:
            problems.append(f"stream {stream}: {why}, is missing from the bundle")
    return problems


def _hex32(value: object) -> bool:
    return (
        isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    )


def check_checkpoint(
    checkpoint: dict, keys: Sequence[bytes], manifest: dict
) -> tuple[list[str], bytes | None]:
    """Problems with the signed note "<origin>\\n<size>\\n<base64 root>\\n" (exactly these three
    lines, the form every ledger checkpoint has had) and the key of `keys` that signed it."""
    problems = []
    root = checkpoint.get("root")
    size = checkpoint.get("tree_size")
    if not _hex32(root) or not isinstance(size, int):
        return ["checkpoint.json: root or tree_size is malformed"], None
    note = f"{checkpoint.get('origin')}\n{size}\n{base64.b64encode(bytes.fromhex(root)).decode()}\n"
    if checkpoint.get("note") != note:
        problems.append("checkpoint.json: the note does not state this origin, size and root")
    try:
        signature = base64.b64decode(checkpoint.get("signature", ""), validate=True)
    except (ValueError, TypeError):
        signature = b""
    # The key the checkpoint names first, so the report says which of several pinned keys.
    named = [k for k in keys if key_id(k) == checkpoint.get("key_id")]
    key = signer(named + [k for k in keys if k not in named], note.encode(), signature)
    stated = manifest.get("checkpoint", {})
    if stated.get("root") != root or stated.get("tree_size") != size:
        problems.append("checkpoint.json: not the checkpoint the manifest names")
    return problems, key


def _check_events(
    body: bytes, manifest: dict
) -> tuple[dict[int, dict], dict[str, tuple[int, str]], list[str]]:
    problems: list[str] = []
    events: dict[int, dict] = {}
    heads: dict[str, tuple[int, str]] = {}
    last_position = 0
    for number, line in enumerate(body.splitlines(), start=1):
        try:
            event = json.loads(line)
            position, stream, version = event["position"], event["stream_id"], event["version"]
        except (ValueError, KeyError, TypeError):
            problems.append(f"events.jsonl line {number}: not an event")
            continue
        where = f"event {position} (stream {stream} version {version})"
        if not isinstance(position, int) or position <= last_position:
            problems.append(f"{where}: out of log order (after position {last_position})")
        else:
            last_position = position
        if not (timestamp_ok(event.get("occurred_at")) and timestamp_ok(event.get("recorded_at"))):
            problems.append(f"{where}: malformed timestamps")
            continue
        try:
            recomputed = event_hash(event).hex()
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"{where}: cannot be hashed ({exc})")
            continue
        if recomputed != event.get("hash"):
            problems.append(f"{where}: content does not match its hash")
        prev_version, prev_hash = heads.get(stream, (0, GENESIS_HEX))
        if version != prev_version + 1:
            problems.append(
                f"{where}: expected version {prev_version + 1} of the stream (missing or moved)"
            )
        if event.get("prev_hash") != prev_hash:
            problems.append(f"{where}: prev_hash does not link to the stream's previous event")
        heads[stream] = (version, event.get("hash", ""))
        events[position] = event
    stated = manifest.get("streams", {})
    for stream in sorted(set(stated) | set(heads)):
        want = stated.get(stream)
        have = heads.get(stream)
        if want is None:
            problems.append(f"stream {stream}: not named in the manifest")
        elif have is None or [have[0], have[1]] != [want.get("version"), want.get("hash")]:
            problems.append(
                f"stream {stream}: ends at version {have[0] if have else 0},"
                f" the manifest says {want.get('version')}"
            )
    if manifest.get("events") != len(events):
        problems.append(
            f"events.jsonl holds {len(events)} events, the manifest says {manifest.get('events')}"
        )
    return events, heads, problems


def _check_proofs(
    body: bytes, events: dict[int, dict], root: bytes, tree_size: object
) -> list[str]:
    problems = []
    proven: set[int] = set()
    for number, line in enumerate(body.splitlines(), start=1):
        try:
            proof = json.loads(line)
            position = proof["position"]
            path = [bytes.fromhex(h) for h in proof["path"]]
            index = proof["leaf_index"]
        except (ValueError, KeyError, TypeError):
            problems.append(f"proofs.jsonl line {number}: not a proof")
            continue
        event = events.get(position)
        if event is None:
            continue
        try:
            leaf = leaf_hash(bytes.fromhex(event["hash"]))
        except (ValueError, TypeError):
            continue
        if not isinstance(tree_size, int) or not verify_inclusion(
            leaf, index, tree_size, path, root
        ):
            problems.append(f"event {position}: not included in the signed checkpoint")
            continue
        proven.add(position)
    for position in sorted(set(events) - proven):
        if not any(p.startswith(f"event {position}:") for p in problems):
            problems.append(f"event {position}: no inclusion proof")
    return problems


REFUSAL = """verify.py: refusing to verify without a pinned key.
The bundle names its own signing key, and anyone can make a bundle that verifies against a
key of their own. Pass the ledger's key, obtained from somewhere other than this bundle:
    python3 verify.py BUNDLE --public-key KEY
(KEY: base64, from GET /api/v1/checkpoints/latest/ or `manage.py ledger_public_key --all` on the
ledger; give --public-key once per key if the signing key was rotated.) To check only that the
bundle is consistent with the key it carries, proving nothing about who signed it, pass
--trust-bundle-key."""

UNPINNED = (
    "WARNING: --trust-bundle-key: checked against the key the bundle names for itself. Nothing"
    " is proven about who signed this bundle: anyone with a key of their own can make a bundle"
    " that passes this check. Pin the ledger's key with --public-key."
)


def proven_lines(report: Report, pinned: bool) -> list[str]:
    """What a clean run proved, one line each, then what this bundle format does not prove."""
    checkpoint, manifest = report.checkpoint, report.manifest
    how = "pinned key" if pinned else "UNPINNED bundle key"
    size, root = checkpoint.get("tree_size"), checkpoint.get("root")
    events = manifest.get("events")
    lines = [
        f"signature: checkpoint {checkpoint.get('origin')} tree size {size} root {root}"
        f" verified with {how} {report.signers.get('checkpoint.json')}",
        f"signature: manifest.json verified with {how} {report.signers.get('manifest.json')}",
        "files: every file's SHA-256 and size match the signed manifest",
    ]
    for stream, (version, head) in sorted(report.streams.items()):
        lines.append(
            f"chain: stream {stream}: versions 1..{version} link by prev_hash from genesis"
            f" to head {head[:16]}, the head the signed manifest names"
        )
    lines += [
        f"inclusion: all {events} events are leaves of the signed tree of size {size}",
        "closure: every version the subject's models number and every stream linked to them"
        " (registry.StreamLinked) is in the bundle",
        "consistency: not checked: the bundle holds one checkpoint; to show the log only grew"
        " since a checkpoint you hold, ask the ledger for a consistency proof",
        "NOT PROVEN stream completeness: not proven by this bundle format (that no stream has"
        " events after the head the manifest names, and that streams opened before links were"
        " recorded are all here, rests on the signer's word)",
    ]
    pending = manifest.get("not_yet_checkpointed")
    if pending:
        lines.append(
            f"NOT PROVEN newer events: {pending} events of these streams were not yet in a"
            " signed checkpoint and are not in this bundle"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a Model Ledger audit bundle offline.")
    parser.add_argument("bundle", nargs="?", default=str(Path(__file__).resolve().parent))
    trust = parser.add_mutually_exclusive_group()
    trust.add_argument(
        "--public-key",
        action="append",
        default=[],
        metavar="KEY",
        help="the ledger's Ed25519 public key, base64, as the ledger publishes it; repeat it"
        " for the retired keys of a rotation",
    )
    trust.add_argument(
        "--trust-bundle-key",
        action="store_true",
        help="check against the key the bundle names for itself (proves nothing about the signer)",
    )
    args = parser.parse_args(argv)
    if not args.public_key and not args.trust_bundle_key:
        print(REFUSAL, file=sys.stderr)
        return 2
    try:
        pinned = [decode_key(text) for text in args.public_key]
    except ValueError as exc:
        parser.error(f"--public-key: {exc}")
    files = load_files(Path(args.bundle))
    report = check(files, pinned, trust_bundle_key=args.trust_bundle_key)
    if not pinned:
        print(UNPINNED)
        print(UNPINNED, file=sys.stderr)
    else:
        print("pinned keys: " + ", ".join(key_id(key) for key in pinned))
    checkpoint, manifest = report.checkpoint, report.manifest
    if checkpoint:
        print(
            f"bundle names key {checkpoint.get('key_id')} ({checkpoint.get('public_key')});"
            f" checkpoint {checkpoint.get('origin')} size {checkpoint.get('tree_size')}"
        )
    if manifest:
        print(f"subject: {manifest.get('subject')}; events: {manifest.get('events')}")
    if report.problems:
        for problem in report.problems:
            print(f"FAIL {problem}")
        print(f"FAILED: {len(report.problems)} problems; nothing in this bundle is proven")
        return 1
    for line in proven_lines(report, bool(pinned)):
        print(line)
    if pinned:
        print("OK: the lines above are proven against the pinned keys")
    else:
        print("OK, UNPINNED: consistent with its own key only; who signed it is NOT proven")
    return 0


if __name__ == "__main__":
    sys.exit(main())
