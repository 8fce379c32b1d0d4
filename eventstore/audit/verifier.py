"""Offline verifier of a Model Ledger audit bundle. Python standard library only.

Run it inside the unpacked bundle (or give the bundle's zip file), with the ledger's key:

    python3 verify.py [BUNDLE.zip | DIRECTORY] --public-key BASE64 [--public-key BASE64 ...]
                      [--since KEPT_CHECKPOINT.json [--consistency-proof PROOF.json]]

The key comes from the ledger (GET /api/v1/checkpoints/latest/, or `manage.py ledger_public_key
--all`), never from the bundle: a bundle names its own key, and anyone can sign a bundle with a
key of their own. Give --public-key once per key when the signing key was rotated. Without a
key it refuses (exit status 2); --trust-bundle-key checks against the key the bundle names and
warns that nothing is then proven about who signed it.

Everything rests on the signed checkpoint; the table of contents (manifest.json) is no claim.
It checks, independently of the service that produced the bundle:
  1. signature: checkpoint.json's note is signed (Ed25519, verified here in pure Python,
     RFC 8032) by a pinned key, and states the checkpoint's origin, tree size and root;
  2. chains: every event's hash is SHA-256(prev_hash || RFC 8785 JSON of its content) and the
     versions of each stream run 1, 2, 3 ... each prev_hash the previous event's hash;
  3. completeness: each stream ends exactly at the head the note's stream-heads tree holds for
     it (heads.jsonl: inclusion proofs in that tree), and a stream with events in the signed
     checkpoint is not left out; checkpoints signed before stream heads cannot prove this;
  4. inclusion: every event is leaf `leaf_index` of the checkpoint's RFC 6962 Merkle tree;
  5. closure: every stream the events name (the versions a model numbers, a version's model,
     every stream a registry.StreamLinked event links) is in the bundle;
  6. consistency: the checkpoint's tree extends the previous checkpoint its note names
     (consistency.json), and with --since, a checkpoint you kept and the bundle's are one
     history (the ledger's consistency proof, --consistency-proof, unless the kept one is the
     bundle's previous or the same);
  7. files: every file matches the table of contents, which is written last, so a bundle cut
     short fails.
On success it prints what it proved, one line each, and exits 0. Any failure prints the
problems and exits 1.

In the bundle this file follows the ledger's own canonical JSON encoder, Merkle, heads-tree,
Ed25519 and note modules, which are copied into it verbatim; in the service's source tree it
imports them."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from eventstore.audit.ed25519 import ed25519_verify  # bundled
from eventstore.audit.notes import Note, decode_key, key_id, note_signer, parse_note  # bundled
from eventstore.canonical import canonical_json  # bundled
from eventstore.heads import HeadProof, verify_absent  # bundled
from eventstore.merkle import leaf_hash, verify_consistency, verify_inclusion  # bundled

GENESIS_HEX = "00" * 32
BUNDLE_FORMAT = "model-ledger-audit-bundle/2"
REQUIRED = ("manifest.json", "checkpoint.json", "events.jsonl", "proofs.jsonl")

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
    note: Note | None = None
    complete: set[str] = field(default_factory=set)
    roots: set[str] = field(default_factory=set)
    closure: int = 0
    consistency: list[str] = field(default_factory=list)
    events: int = 0


def signer(keys: Iterable[bytes], message: bytes, signature: bytes) -> bytes | None:
    """The first of `keys` under which `signature` of `message` verifies, else None."""
    return next((key for key in keys if ed25519_verify(key, message, signature)), None)


def bundle_keys(checkpoint: dict, manifest: dict) -> list[bytes]:
    """The keys the bundle names for itself; trusting them proves nothing about the signer."""
    keys = []
    for stated in [checkpoint.get("public_key")]:
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
    since: dict | None = None,
    since_proof: dict | None = None,
) -> list[str]:
    """Every problem found, in the order checked; an empty list means the bundle is intact and
    signed by one of `keys` (the pinned keys), or by the key the bundle names when
    `trust_bundle_key`, which proves nothing about who signed it."""
    return check(
        files, keys, trust_bundle_key=trust_bundle_key, since=since, since_proof=since_proof
    ).problems


def check(
    files: dict[str, bytes],
    keys: Sequence[bytes] | None = None,
    *,
    trust_bundle_key: bool = False,
    since: dict | None = None,
    since_proof: dict | None = None,
) -> Report:
    """Check the bundle; `since` is a checkpoint the auditor kept (as the ledger serves it:
    note, signature, key_id) and `since_proof` the ledger's consistency proof between it and
    the bundle's checkpoint when that is not the checkpoint before the bundle's."""
    if not keys and not trust_bundle_key:
        raise ValueError("pin the ledger's public key, or trust the bundle's key explicitly")
    report = Report()
    problems = report.problems
    for name in REQUIRED:
        if name not in files:
            problems.append(f"{name} is missing (a bundle cut short, or one taken apart)")
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
    if manifest.get("format") != BUNDLE_FORMAT:
        problems.append(
            f"unknown bundle format {manifest.get('format')!r}: a bundle made by another"
            " version of the ledger is verified by the verify.py inside it"
        )
        return report
    problems.extend(_check_table_of_contents(files, manifest))
    whose = "any pinned key" if keys else "the key the bundle names"
    candidates = list(keys) if keys else bundle_keys(checkpoint, manifest)
    checkpoint_problems, key, note = check_checkpoint(checkpoint, candidates)
    problems.extend(checkpoint_problems)
    if note is None:
        return report
    report.note = note
    if key is None:
        problems.append(f"checkpoint.json: the checkpoint signature does not verify with {whose}")
    else:
        report.signers["checkpoint.json"] = key_id(key)
    events, heads, event_problems = _check_events(files["events.jsonl"])
    report.streams, report.events = heads, len(events)
    problems.extend(event_problems)
    problems.extend(_check_proofs(files["proofs.jsonl"], events, note.root, note.tree_size))
    absent: set[str] = set()
    if note.heads is not None:
        problems.extend(_check_heads(files.get("heads.jsonl"), heads, note.heads, report, absent))
    problems.extend(_check_closure(events, absent, report))
    problems.extend(_check_consistency(files.get("consistency.json"), note, report))
    if since is not None:
        problems.extend(_check_since(since, since_proof, note, candidates, report))
    return report


def check_checkpoint(
    checkpoint: dict, keys: Sequence[bytes]
) -> tuple[list[str], bytes | None, Note | None]:
    """Problems with a checkpoint as the ledger serves it (origin, tree_size, root, note,
    signature, key_id), the key of `keys` that signed its note, and the note read. Any note
    form the ledger has signed verifies: the three lines alone, or with extension lines."""
    try:
        note = parse_note(checkpoint.get("note"))
    except ValueError as exc:
        return [f"checkpoint.json: the note is malformed: {exc}"], None, None
    problems = []
    if (note.origin, note.tree_size, note.root.hex()) != (
        checkpoint.get("origin"),
        checkpoint.get("tree_size"),
        checkpoint.get("root"),
    ):
        problems.append("checkpoint.json: the note does not state this origin, size and root")
    key = note_signer(
        checkpoint["note"], checkpoint.get("signature"), list(keys), checkpoint.get("key_id")
    )
    return problems, key, note


def _check_table_of_contents(files: dict[str, bytes], manifest: dict) -> list[str]:
    """The table of contents is no signed claim, but a file that differs from it was changed
    or cut short after the bundle was written."""
    problems = []
    listed = manifest.get("files", {})
    if not isinstance(listed, dict):
        return ["manifest.json: files is malformed"]
    for name, entry in sorted(listed.items()):
        body = files.get(name)
        if body is None:
            problems.append(f"{name}: listed in the table of contents but missing")
        elif not isinstance(entry, dict) or (
            hashlib.sha256(body).hexdigest() != entry.get("sha256")
            or len(body) != entry.get("bytes")
        ):
            problems.append(f"{name}: SHA-256 or size differs from the table of contents")
    for name in sorted(set(files) - set(listed) - {"manifest.json"}):
        problems.append(f"{name}: not listed in the table of contents")
    return problems


def _check_heads(
    body: bytes | None,
    chains: dict[str, tuple[int, str]],
    signed: tuple[int, bytes],
    report: Report,
    absent: set[str],
) -> list[str]:
    """Each stream of the bundle runs from version 1 to exactly the head the signed heads tree
    holds for it; streams the bundle says have no events are proven absent from that tree."""
    if body is None:
        return ["heads.jsonl is missing: the checkpoint signs stream heads, the bundle has none"]
    size, root = signed
    problems: list[str] = []
    proven: dict[str, HeadProof] = {}
    for number, line in enumerate(body.splitlines(), start=1):
        try:
            doc = json.loads(line)
            if "absent" in doc:
                stream = str(uuid.UUID(doc["absent"]))
                before, after = (
                    HeadProof.from_json(doc[side]) if doc.get(side) else None
                    for side in ("before", "after")
                )
            else:
                proof = HeadProof.from_json(doc)
        except (ValueError, KeyError, TypeError, AttributeError):
            problems.append(f"heads.jsonl line {number}: not a head or absence proof")
            continue
        if "absent" in doc:
            if verify_absent(stream, before, after, size, root):
                absent.add(stream)
            else:
                problems.append(f"stream {stream}: the proof of its absence does not verify")
        elif proof.size != size or not proof.verify(root):
            problems.append(f"stream {proof.stream_id}: its head proof does not verify")
        else:
            proven[proof.stream_id] = proof
    for stream in sorted(set(chains) | set(proven)):
        proof, chain = proven.get(stream), chains.get(stream)
        if proof is None:
            problems.append(f"stream {stream}: no proof of its head in the signed checkpoint")
        elif chain is None:
            problems.append(
                f"stream {stream}: the signed checkpoint holds {proof.version} events of it;"
                " the bundle has none"
            )
        elif (chain[0], chain[1]) != (proof.version, proof.head.hex()):
            problems.append(
                f"stream {stream}: the bundle ends at version {chain[0]}; the signed"
                f" checkpoint's head of the stream is version {proof.version}"
                " (events left out, or a different history)"
            )
        else:
            report.complete.add(stream)
    return problems


NUMBERED = "registry.ModelVersionNumbered"
CREATED = "registry.ModelVersionCreated"
LINKED = "registry.StreamLinked"


def _check_closure(events: dict[int, dict], absent: set[str], report: Report) -> list[str]:
    """Every stream the bundle's events name must be in the bundle (or proven to have no
    events): the versions a model numbers, the model a version belongs to, and every stream a
    registry.StreamLinked event links to a model or a version."""
    present = {event["stream_id"] for event in events.values()}
    wanted: dict[str, str] = {}
    for position in sorted(events):
        event = events[position]
        data = event.get("data")
        if not isinstance(data, dict):
            continue
        where = f"{event['stream_id']} at version {event.get('version')}"
        kind = event.get("type")
        if kind == NUMBERED:
            report.roots.add(event["stream_id"])
            wanted.setdefault(
                str(data.get("version_id")), f"version {data.get('number')} of {where}"
            )
        elif kind == CREATED:
            wanted.setdefault(str(data.get("model_id")), f"the model of version {where}")
        elif kind == LINKED:
            wanted.setdefault(
                str(data.get("stream_id")),
                f"the {data.get('kind')} ({data.get('stream_type')}) linked by {where}",
            )
    report.closure = len(wanted)
    return [
        f"stream {stream}: {why}, is missing from the bundle"
        for stream, why in wanted.items()
        if stream not in present and stream not in absent
    ]


def _check_consistency(body: bytes | None, note: Note, report: Report) -> list[str]:
    """The checkpoint extends the one its note names as previous."""
    if note.previous is None:
        return []
    if body is None:
        return ["consistency.json is missing: no proof the checkpoint extends its previous one"]
    try:
        doc = json.loads(body)
        old = doc["from"]
        proof = [bytes.fromhex(node) for node in doc["proof"]]
        stated = (old["tree_size"], bytes.fromhex(old["root"]))
    except (ValueError, KeyError, TypeError):
        return ["consistency.json: not a consistency proof"]
    if stated != note.previous:
        return ["consistency.json: not a proof from the checkpoint the note names as previous"]
    if not verify_consistency(stated[0], note.tree_size, stated[1], note.root, proof):
        return [f"consistency: the checkpoint does not extend its previous one ({stated[0]})"]
    report.consistency.append(
        f"consistency: the signed tree of size {note.tree_size} extends the previous"
        f" checkpoint's tree of size {stated[0]} (root {stated[1].hex()[:16]})"
    )
    return []


def _check_since(
    kept: dict, proof_doc: dict | None, note: Note, keys: list[bytes], report: Report
) -> list[str]:
    """The bundle's checkpoint and a checkpoint the auditor kept are of one history: one
    extends the other (a consistency proof), or they are the same tree."""
    try:
        old = parse_note(kept.get("note"))
    except (ValueError, AttributeError) as exc:
        return [f"--since: not a checkpoint: {exc}"]
    if note_signer(kept["note"], kept.get("signature"), keys, kept.get("key_id")) is None:
        return ["--since: the kept checkpoint's signature does not verify with the keys given"]
    if old.origin != note.origin:
        return [f"--since: the kept checkpoint is of another log ({old.origin})"]
    small, large = sorted((old, note), key=lambda n: n.tree_size)
    proof: list[bytes] = []
    if small.tree_size == large.tree_size:
        pass
    elif note.previous == (old.tree_size, old.root) and report.consistency:
        report.consistency.append(
            f"consistency: the checkpoint you kept (size {old.tree_size}) is the one before"
            " the bundle's, which the bundle's proof shows it extends"
        )
        return []
    elif proof_doc is None:
        return [
            f"--since: no consistency proof between sizes {small.tree_size} and"
            f" {large.tree_size}; fetch it from the ledger (GET /api/v1/checkpoints/"
            f"consistency/?first={small.tree_size}&second={large.tree_size}) and pass it"
            " with --consistency-proof"
        ]
    else:
        try:
            proof = [bytes.fromhex(node) for node in proof_doc["proof"]]
        except (ValueError, KeyError, TypeError):
            return ["--consistency-proof: not a consistency proof"]
    if not verify_consistency(small.tree_size, large.tree_size, small.root, large.root, proof):
        return [
            f"--since: the trees of size {small.tree_size} and {large.tree_size} are not one"
            " history (a rewritten log, or a proof for other checkpoints)"
        ]
    report.consistency.append(
        f"consistency: the checkpoint you kept (size {old.tree_size}) and the bundle's"
        f" (size {note.tree_size}) are one history: the larger extends the smaller"
    )
    return []


def _hex32(value: object) -> bool:
    return (
        isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    )


def _check_events(body: bytes) -> tuple[dict[int, dict], dict[str, tuple[int, str]], list[str]]:
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
    return events, heads, problems


def _check_proofs(body: bytes, events: dict[int, dict], root: bytes, tree_size: int) -> list[str]:
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
        if not verify_inclusion(leaf, index, tree_size, path, root):
            problems.append(f"event {position}: not included in the signed checkpoint")
            continue
        proven.add(position)
    for position in sorted(set(events) - proven):
        if not any(p.startswith(f"event {position}:") for p in problems):
            problems.append(f"event {position}: no inclusion proof")
    return problems
