"""The audit bundle of a set of streams: a zip of the offline verifier (verify.py), their
events, the newest signed checkpoint, each stream's head proof in the checkpoint's heads tree,
the consistency proof from the previous checkpoint, the events' Merkle inclusion proofs and a
table of contents, streamed as byte chunks. It signs nothing. The caller chooses the streams
and names the subject the bundle describes."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.db import connection

from eventstore import checkpoints, signer, stream_heads
from eventstore.audit.trail import EVENT_SQL, Counter, event_rows, jsonl_line
from eventstore.canonical import canonical_json
from eventstore.models import Checkpoint

BUNDLE_FORMAT = "model-ledger-audit-bundle/2"
_BUNDLED = (
    "eventstore/canonical.py",
    "eventstore/merkle.py",
    "eventstore/heads.py",
    "eventstore/audit/ed25519.py",
    "eventstore/audit/notes.py",
    "eventstore/audit/verifier.py",
    "eventstore/audit/verify_cli.py",
)
_WITNESS = (
    "eventstore/merkle.py",
    "eventstore/audit/ed25519.py",
    "eventstore/audit/notes.py",
    "eventstore/audit/witness.py",
)
README = """Model Ledger audit bundle
=========================

subject: {subject}
checkpoint: {origin}, tree size {tree_size}, root {root}, signed at {time} by key {key_id}
events of these streams newer than the checkpoint, not in this bundle: {pending}

Verify it offline with nothing but Python 3.11 or newer, pinning the ledger's key:

    python3 verify.py bundle.zip --public-key KEY
    python3 verify.py --public-key KEY            (inside the unpacked folder)
    python3 verify.py bundle.zip --public-key KEY --since KEPT_CHECKPOINT.json
                                 [--consistency-proof PROOF.json]

Take KEY from the ledger, not from this file: GET /api/v1/checkpoints/latest/ (`keys`), or
`manage.py ledger_public_key --all` on the server; pass --public-key once per key if the
signing key was rotated. verify.py refuses to run without --public-key (--trust-bundle-key
checks against the key the bundle names for itself and proves nothing about who signed it).

Everything rests on the signed checkpoint alone. Its note commits to the log's Merkle tree
and to a second tree of every stream's head (where each stream ends), so the verifier proves
each stream here complete up to that checkpoint, every event included in it, the subject's
closure (every stream its events name is here), and that the checkpoint extends the one
before it; with --since, that it extends (or is extended by) a checkpoint you kept.

To keep checkpoints yourself and be told when the ledger's history forks or is rewritten:

    python3 witness.py --url LEDGER_URL --token-env VAR --public-key KEY --state FILE --once

Files, in the order written: README.txt, verify.py, witness.py, events.jsonl (one event per
line, with prev_hash and hash), checkpoint.json (the signed note), heads.jsonl (each stream's
head and its proof in the heads tree), consistency.json (the proof from the previous
checkpoint), proofs.jsonl (RFC 6962 inclusion proof of each event), manifest.json (the table
of contents: SHA-256 and size of every file; written last, so a bundle cut short has none and
fails).
"""


def tool_source(title: str, modules: tuple[str, ...]) -> str:
    """A standalone tool: the ledger's modules named, copied verbatim, the last one's main."""
    root = Path(__file__).resolve().parents[2]
    parts = [f'"""{title} (standard library only)."""\n', "from __future__ import annotations\n"]
    for name in modules:
        lines = (root / name).read_text().splitlines()
        kept = [
            line
            for line in lines
            if not line.startswith("from __future__") and not line.endswith("# bundled")
        ]
        parts.append(f"\n# ---- {name} ----\n" + "\n".join(kept) + "\n")
    return "".join(parts)


def verifier_source() -> str:
    """verify.py: the canonical JSON, Merkle, heads-tree, Ed25519 and note modules, then the
    verifier and its command line."""
    return tool_source("Model Ledger offline audit-bundle verifier", _BUNDLED)


def witness_source() -> str:
    """witness.py: the Ed25519, Merkle and note modules, then the witness (manage.py witness
    without the service)."""
    return tool_source("Model Ledger checkpoint witness", _WITNESS)


class _Sink(io.RawIOBase):
    """A write-only, unseekable file that hands out what was written since the last drain."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._offset = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._offset += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._offset

    def drain(self) -> bytes:
        out, self._chunks = b"".join(self._chunks), []
        return out


def _leaf_indices(streams: list[uuid.UUID], size: int) -> Iterator[int]:
    sql = (
        "SELECT l.leaf_index FROM eventstore_event e"
        " JOIN eventstore_leaf l ON l.position = e.position"
        " WHERE e.stream_id = ANY(%s) AND l.leaf_index < %s"
    )
    for rows in event_rows(sql, [streams, size]):
        for row in rows:
            yield row[0]


def _checkpoint_and_heads(streams: list[uuid.UUID]):
    """The newest checkpoint and, when it signs a heads root, the head proofs of `streams` in
    it, read together (the heads table describes exactly the newest checkpoint)."""
    signer.fresh_checkpoint()
    heads = stream_heads.proofs(streams)
    checkpoint = Checkpoint.objects.filter(tree_size=heads.tree_size).first()
    if checkpoint is None:
        raise signer.CheckpointUnavailable("no checkpoint has been signed yet")
    if checkpoint.heads_root is None:
        return checkpoint, None
    if heads.root != bytes(checkpoint.heads_root) or heads.size != checkpoint.heads_count:
        raise signer.CheckpointUnavailable(
            "the stored stream heads do not make the checkpoint's heads root"
        )
    return checkpoint, heads


def _heads_lines(heads) -> bytes:
    lines = [json.dumps(proof.as_json(), separators=(",", ":")) for proof in heads.proofs.values()]
    for stream, (before, after) in heads.absent.items():
        doc = {
            "absent": stream,
            "before": before.as_json() if before else None,
            "after": after.as_json() if after else None,
        }
        lines.append(json.dumps(doc, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode() if lines else b""


def _consistency(checkpoint: Checkpoint) -> dict[str, Any] | None:
    """The proof that `checkpoint` extends the one its note names as previous."""
    if checkpoint.previous_size is None:
        return None
    proof = checkpoints.consistency_proof(checkpoint.previous_size, checkpoint.tree_size)
    return {
        "from": {
            "tree_size": checkpoint.previous_size,
            "root": bytes(checkpoint.previous_root).hex(),
        },
        "to": {"tree_size": checkpoint.tree_size, "root": bytes(checkpoint.root_hash).hex()},
        "proof": [node.hex() for node in proof],
    }


def _pending(streams: list[uuid.UUID], size: int) -> int:
    """Events of `streams` newer than the checkpoint, which the bundle cannot prove yet."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM eventstore_event e LEFT JOIN eventstore_leaf l"
            " ON l.position = e.position WHERE e.stream_id = ANY(%s)"
            " AND (l.leaf_index IS NULL OR l.leaf_index >= %s)",
            [streams, size],
        )
        return cursor.fetchone()[0]


def audit_bundle(
    streams: list[uuid.UUID],
    subject: str,
    counter: Counter | None = None,
    *,
    roots: list[uuid.UUID] | tuple[uuid.UUID, ...] = (),
) -> Iterator[bytes]:
    """The zip, streamed: the events first, then the signed checkpoint, the heads and
    consistency proofs, the inclusion proofs, and the table of contents last. Signs nothing:
    the bundle rests on a fresh checkpoint the signer wrote, taken here, before the first
    byte, so that none available is a 503 and not a cut stream. `roots` are the subject's own
    streams (a model's), named in the table of contents."""
    checkpoint, heads = _checkpoint_and_heads(streams)
    return _chunks(streams, subject, counter, roots, checkpoint, heads)


def _chunks(streams, subject, counter, roots, checkpoint, heads) -> Iterator[bytes]:
    size = checkpoint.tree_size
    root = bytes(checkpoint.root_hash)
    signer = checkpoints.trusted_keys().get(checkpoint.key_id)
    signer_b64 = base64.b64encode(checkpoints.public_key_bytes(signer)).decode() if signer else None
    pending = _pending(streams, size)
    # One streamed pass over the log's leaves keeps only the nodes these events' paths need.
    paths = checkpoints.audit_paths(_leaf_indices(streams, size), size)
    if paths.root != root:
        raise checkpoints.ProofUnavailable("the stored leaves do not make the checkpoint's root")
    consistency = _consistency(checkpoint)
    sink = _Sink()
    archive = zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED)
    files: dict[str, dict[str, Any]] = {}
    stream_heads_seen: dict[str, dict[str, Any]] = {}

    def add(name: str, body: bytes) -> None:
        files[name] = {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
        archive.writestr(name, body)

    readme = README.format(
        subject=subject,
        origin=checkpoint.origin,
        tree_size=size,
        root=root.hex(),
        time=checkpoint.created_at.isoformat(),
        key_id=checkpoint.key_id,
        pending=pending,
    )
    add("README.txt", readme.encode())
    add("verify.py", verifier_source().encode())
    add("witness.py", witness_source().encode())
    yield sink.drain()
    count = 0
    sql = (
        f"{EVENT_SQL}, l.leaf_index FROM eventstore_event e"
        " JOIN eventstore_leaf l ON l.position = e.position"
        " WHERE e.stream_id = ANY(%s) AND l.leaf_index < %s ORDER BY e.position"
    )
    events_digest = hashlib.sha256()
    # Proofs go to the archive after the events; a spooled file keeps them off the heap.
    proofs = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115
    proofs_digest = hashlib.sha256()
    events_size = 0
    with archive.open("events.jsonl", "w") as out:
        for rows in event_rows(sql, [streams, size]):
            text = "".join(jsonl_line(row[:12]) for row in rows).encode()
            events_digest.update(text)
            events_size += len(text)
            out.write(text)
            lines = []
            for row in rows:
                stream_heads_seen[row[1]] = {"version": row[3], "hash": row[11]}
                lines.append(
                    json.dumps(
                        {
                            "position": row[0],
                            "leaf_index": row[12],
                            "path": [node.hex() for node in paths.path(row[12])],
                        },
                        separators=(",", ":"),
                    )
                )
            chunk = ("\n".join(lines) + "\n").encode()
            proofs_digest.update(chunk)
            proofs.write(chunk)
            count += len(rows)
            if counter is not None:
                counter.value = count
            yield sink.drain()
    files["events.jsonl"] = {"sha256": events_digest.hexdigest(), "bytes": events_size}
    del paths
    checkpoint_doc = {
        "origin": checkpoint.origin,
        "tree_size": size,
        "root": root.hex(),
        "key_id": checkpoint.key_id,
        "public_key": signer_b64,
        "signature": base64.b64encode(bytes(checkpoint.signature)).decode(),
        "note": checkpoint.note,
        "created_at": checkpoint.created_at.isoformat(),
    }
    add("checkpoint.json", json.dumps(checkpoint_doc, indent=2).encode())
    if heads is not None:
        add("heads.jsonl", _heads_lines(heads))
    if consistency is not None:
        add("consistency.json", json.dumps(consistency, indent=2).encode())
    yield sink.drain()
    files["proofs.jsonl"] = {"sha256": proofs_digest.hexdigest(), "bytes": proofs.tell()}
    proofs.seek(0)
    with proofs, archive.open("proofs.jsonl", "w") as out:
        while chunk := proofs.read(1 << 20):
            out.write(chunk)
            yield sink.drain()
    manifest = canonical_json(
        {
            "format": BUNDLE_FORMAT,
            "not_yet_checkpointed": pending,
            "subject": subject,
            "subject_streams": sorted(str(root) for root in roots),
            "origin": checkpoint.origin,
            "checkpoint": {"tree_size": size, "root": root.hex()},
            "events": count,
            "streams": stream_heads_seen,
            "files": files,
        }
    )
    archive.writestr("manifest.json", manifest)
    archive.close()
    yield sink.drain()
