"""The audit bundle of a set of streams: a zip of their events, the events' Merkle inclusion
proofs against a freshly signed checkpoint, the checkpoint, a signed manifest of SHA-256 digests
and the standalone offline verifier (verify.py), streamed as byte chunks. The caller chooses the
streams and names the subject the bundle describes."""

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

from django.conf import settings
from django.db import connection

from eventstore import checkpoints
from eventstore.audit.trail import EVENT_SQL, Counter, event_rows, jsonl_line
from eventstore.canonical import canonical_json

BUNDLE_FORMAT = "model-ledger-audit-bundle/1"
_BUNDLED = (
    "eventstore/canonical.py",
    "eventstore/merkle.py",
    "eventstore/audit/ed25519.py",
    "eventstore/audit/verifier.py",
)
README = """Model Ledger audit bundle
=========================

subject: {subject}
checkpoint: {origin}, tree size {tree_size}, root {root}, signed by key {checkpoint_key_id}
manifest signed by key {key_id}
the bundle names these keys (base64 Ed25519 public keys): {public_key} (manifest);
checkpoint: {checkpoint_key}

Verify it offline with nothing but Python 3.11 or newer, pinning the ledger's key:

    python3 verify.py bundle.zip --public-key KEY
    python3 verify.py --public-key KEY            (inside the unpacked folder)

Take KEY from the ledger, not from this file: GET /api/v1/checkpoints/latest/ (`keys`), or
`manage.py ledger_public_key --all` on the server; pass --public-key once per key if the
signing key was rotated. The keys named above are the bundle's own claim: anyone can make a
bundle that verifies against a key of their own, so verify.py refuses to run without
--public-key (--trust-bundle-key checks against the bundle's own key and proves nothing about
who signed it). The verifier prints what it proved (which key verified which signature, each
stream's hash chain, every event's inclusion in the signed tree) and what it did not.

Files: events.jsonl (one event per line, with prev_hash and hash), proofs.jsonl (RFC 6962
inclusion proof of each event), checkpoint.json (the signed tree head), manifest.json (SHA-256
of every file; signed in manifest.sig), verify.py (the verifier).
"""


def verifier_source() -> str:
    """verify.py: the ledger's canonical JSON and Merkle modules verbatim, then the verifier."""
    root = Path(__file__).resolve().parents[2]
    parts = [
        '"""Model Ledger offline audit-bundle verifier (standard library only)."""\n',
        "from __future__ import annotations\n",
    ]
    for name in _BUNDLED:
        lines = (root / name).read_text().splitlines()
        kept = [
            line
            for line in lines
            if not line.startswith("from __future__") and not line.endswith("# bundled")
        ]
        parts.append(f"\n# ---- {name} ----\n" + "\n".join(kept) + "\n")
    return "".join(parts)


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


def audit_bundle(
    streams: list[uuid.UUID],
    subject: str,
    counter: Counter | None = None,
    *,
    roots: list[uuid.UUID] | tuple[uuid.UUID, ...] = (),
) -> Iterator[bytes]:
    """The zip, streamed: events and proofs first (hashed as they go), the manifest last.
    `roots` are the subject's own streams (a model's): the manifest names them, and verify.py
    requires every stream their events name (versions, linked streams) to be in the bundle."""
    checkpoint = checkpoints.write_checkpoint()
    size = checkpoint.tree_size
    root = bytes(checkpoint.root_hash)
    public = checkpoints.public_key_bytes(checkpoints.signing_key().public_key())
    public_b64 = base64.b64encode(public).decode()
    # An unchanged tree keeps its checkpoint, which a retired key may have signed.
    signer = checkpoints.trusted_keys().get(checkpoint.key_id)
    signer_b64 = base64.b64encode(checkpoints.public_key_bytes(signer)).decode() if signer else None
    # One streamed pass over the log's leaves keeps only the nodes these events' paths need.
    paths = checkpoints.audit_paths(_leaf_indices(streams, size), size)
    if paths.root != root:
        raise checkpoints.ProofUnavailable("the stored leaves do not make the checkpoint's root")
    sink = _Sink()
    archive = zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED)
    files: dict[str, dict[str, Any]] = {}
    heads: dict[str, dict[str, Any]] = {}
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
                heads[row[1]] = {"version": row[3], "hash": row[11]}
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
    files["proofs.jsonl"] = {"sha256": proofs_digest.hexdigest(), "bytes": proofs.tell()}
    proofs.seek(0)
    with proofs, archive.open("proofs.jsonl", "w") as out:
        while chunk := proofs.read(1 << 20):
            out.write(chunk)
            yield sink.drain()
    checkpoint_doc = {
        "origin": checkpoint.origin,
        "tree_size": size,
        "root": root.hex(),
        "key_id": checkpoint.key_id,
        "public_key": signer_b64,
        "signature": base64.b64encode(bytes(checkpoint.signature)).decode(),
        "note": checkpoint.note,
    }
    readme = README.format(
        subject=subject,
        origin=checkpoint.origin,
        tree_size=size,
        root=root.hex(),
        public_key=public_b64,
        checkpoint_key=signer_b64 if signer_b64 != public_b64 else "the same key",
        key_id=checkpoints.key_id(public),
        checkpoint_key_id=checkpoint.key_id,
    )
    for name, body in (
        ("checkpoint.json", json.dumps(checkpoint_doc, indent=2).encode()),
        ("verify.py", verifier_source().encode()),
        ("README.txt", readme.encode()),
    ):
        files[name] = {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
        archive.writestr(name, body)
    with connection.cursor() as cursor:
        # Events newer than the checkpoint cannot be proven yet: say how many were left out.
        cursor.execute(
            "SELECT count(*) FROM eventstore_event e LEFT JOIN eventstore_leaf l"
            " ON l.position = e.position WHERE e.stream_id = ANY(%s)"
            " AND (l.leaf_index IS NULL OR l.leaf_index >= %s)",
            [streams, size],
        )
        pending = cursor.fetchone()[0]
    manifest = canonical_json(
        {
            "format": BUNDLE_FORMAT,
            "not_yet_checkpointed": pending,
            "subject": subject,
            "subject_streams": sorted(str(root) for root in roots),
            "origin": settings.LEDGER_ORIGIN,
            "checkpoint": {"tree_size": size, "root": root.hex()},
            "events": count,
            "streams": heads,
            "files": files,
            "signed_by": {"key_id": checkpoints.key_id(public), "public_key": public_b64},
        }
    )
    archive.writestr("manifest.json", manifest)
    archive.writestr("manifest.sig", base64.b64encode(checkpoints.signing_key().sign(manifest)))
    archive.close()
    yield sink.drain()
