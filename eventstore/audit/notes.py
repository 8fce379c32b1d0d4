"""Signed checkpoint notes as auditors read them (standard library only; verify.py bundles it).

A note is three lines, then extension lines, each line ending in a newline:

    <origin>
    <tree size>
    <base64 root>
    time <RFC 3339 UTC>                        (checkpoints signed since the extension lines)
    previous <tree size> <base64 root>         (the checkpoint before it)
    heads <number of streams> <base64 root>    (the stream-heads tree, eventstore/heads.py)

Checkpoints signed before the extension lines have the first three lines alone. Unknown
extension lines are kept and ignored, as in the transparency-log checkpoint format."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field

from eventstore.audit.ed25519 import ed25519_verify, is_public_key  # bundled


@dataclass(frozen=True)
class Note:
    origin: str
    tree_size: int
    root: bytes
    time: str | None = None
    previous: tuple[int, bytes] | None = None
    heads: tuple[int, bytes] | None = None
    other: tuple[str, ...] = field(default=())


def _size(text: str) -> int:
    if not text.isascii() or not text.isdigit() or (len(text) > 1 and text[0] == "0"):
        raise ValueError(f"not a tree size: {text!r}")
    return int(text)


def _hash(text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {text!r}") from exc
    if len(raw) != 32:
        raise ValueError("a root is 32 bytes")
    return raw


def parse_note(text: object) -> Note:
    """The note's fields; ValueError when it is not a well-formed checkpoint note."""
    if not isinstance(text, str) or not text.endswith("\n"):
        raise ValueError("a note is text ending in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not lines[0]:
        raise ValueError("a note has an origin, a tree size and a root")
    fields: dict = {}
    other = []
    for line in lines[3:]:
        word, _, rest = line.partition(" ")
        parts = rest.split(" ")
        if word in fields:
            raise ValueError(f"the note repeats its {word!r} line")
        if word == "time" and len(parts) == 1 and parts[0]:
            fields["time"] = parts[0]
        elif word in ("previous", "heads") and len(parts) == 2:
            fields[word] = (_size(parts[0]), _hash(parts[1]))
        elif line:
            other.append(line)
        else:
            raise ValueError("a note has no empty lines")
    return Note(lines[0], _size(lines[1]), _hash(lines[2]), other=tuple(other), **fields)


def key_id(public: bytes) -> str:
    """The ledger's key id: the first 16 hex digits of the raw public key's SHA-256."""
    return hashlib.sha256(public).hexdigest()[:16]


def note_signer(note: str, signature: object, keys: list[bytes], named: object) -> bytes | None:
    """The key of `keys` whose Ed25519 signature of the note `signature` (base64) is, trying
    the key the checkpoint names (`named`, a key id) first; None when none verifies."""
    try:
        raw = base64.b64decode(signature, validate=True) if isinstance(signature, str) else b""
    except binascii.Error:
        raw = b""
    ordered = sorted(keys, key=lambda key: key_id(key) != named)
    return next((key for key in ordered if ed25519_verify(key, note.encode(), raw)), None)


def decode_key(text: str) -> bytes:
    """A pinned key as the ledger publishes it: base64 of the raw 32-byte Ed25519 key."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not is_public_key(raw):
        raise ValueError(f"not a base64 Ed25519 public key: {text!r}")
    return raw
