"""A witness of the ledger's log: it keeps the signed checkpoints it has seen and accepts a newer
one only with a proof that its tree extends the last one kept. Python standard library only.

Each run fetches the newest checkpoint (GET /api/v1/checkpoints/latest/, with an API token as
`Authorization: Bearer <token>`), checks its Ed25519 signature over the note as served with
the pinned keys (never a key the ledger names), then asks for the consistency proof from the
last checkpoint it kept (GET /api/v1/checkpoints/consistency/?first=KEPT&second=NEWEST) and
checks it (RFC 9162 section 2.1.4.2) against the two signed roots. Only then is the checkpoint
appended to the state file, a JSON document whose list of checkpoints only ever grows.

The signed note starts with three lines, "<origin>\\n<tree size>\\n<base64 root>\\n"; lines
after them (time, previous, heads, ...) are extensions: signed, kept, not needed here.

A failure to check (network, an HTTP error, a malformed answer) is a WitnessError, and the next
run tries again. Evidence that the ledger forked or rewrote its log is an Alarm: a newer
checkpoint that is not signed by a pinned key, that is smaller than or differs at the size of
one kept, whose proof does not verify, or a kept checkpoint the ledger no longer serves. The
state is then left as it was, and the command exits with status 2.

In the offline verifier this module follows the ledger's Ed25519 and Merkle modules, which are
copied into it verbatim; in the service's source tree it imports them."""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from eventstore.audit.ed25519 import ed25519_verify  # bundled
from eventstore.audit.notes import decode_key, key_id  # bundled
from eventstore.merkle import verify_consistency  # bundled

STATE_FORMAT = "model-ledger-witness/1"
LATEST = "/api/v1/checkpoints/latest/"
CONSISTENCY = "/api/v1/checkpoints/consistency/"
ALARM_EXIT = 2

Fetch = Callable[[str], Any]  # an absolute URL -> the JSON body of a 200 answer


class WitnessError(Exception):
    """The witness could not check the ledger this time."""


class HttpError(WitnessError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Alarm(WitnessError):
    """The ledger showed a checkpoint that does not extend the history the witness kept."""


@dataclass(frozen=True)
class Note:
    origin: str
    tree_size: int
    root: bytes
    extensions: tuple[str, ...]


def parse_note(text: object) -> Note:
    """The first three lines of a signed note; the lines after them are extensions."""
    if not isinstance(text, str) or not text.endswith("\n"):
        raise ValueError("a checkpoint note is text ending with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise ValueError("a checkpoint note has an origin, a tree size and a root")
    origin, size, root = lines[:3]
    if not origin or not size.isascii() or not size.isdigit() or (size != "0" and size[0] == "0"):
        raise ValueError("a checkpoint note's second line is its tree size")
    try:
        raw = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError("a checkpoint note's third line is the base64 of a 32-byte root")
    return Note(origin, int(size), raw, tuple(lines[3:]))


@dataclass(frozen=True)
class Signed:
    """A checkpoint whose note verified under a pinned key."""

    note: str
    signature: str
    key_id: str
    parsed: Note

    def kept(self) -> dict[str, Any]:
        return {
            "tree_size": self.parsed.tree_size,
            "root": self.parsed.root.hex(),
            "note": self.note,
            "signature": self.signature,
            "key_id": self.key_id,
            "witnessed_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }


def signed_checkpoint(body: object, keys: Sequence[bytes]) -> Signed:
    """The checkpoint of an answer (`note`, base64 `signature`) if a pinned key signed its note;
    raises Alarm otherwise."""
    if not isinstance(body, dict):
        raise WitnessError("the ledger's answer is not a checkpoint")
    note, signature = body.get("note"), body.get("signature")
    if not isinstance(note, str) or not isinstance(signature, str):
        raise Alarm("the ledger served a checkpoint without a note and a signature")
    try:
        parsed = parse_note(note)
        raw = base64.b64decode(signature, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise Alarm(f"the ledger served a malformed checkpoint: {exc}") from exc
    signer = next((k for k in keys if ed25519_verify(k, note.encode(), raw)), None)
    if signer is None:
        raise Alarm(f"checkpoint {parsed.tree_size} is not signed by a pinned key:\n{note}")
    return Signed(note, signature, key_id(signer), parsed)


# -- the state file -------------------------------------------------------------------------


def load_state(path: Path) -> dict[str, Any]:
    """The kept checkpoints, oldest first ({"format", "checkpoints"}); empty when new."""
    if not path.exists():
        return {"format": STATE_FORMAT, "checkpoints": []}
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise WitnessError(f"cannot read the witness state {path}: {exc}") from exc
    kept = state.get("checkpoints") if isinstance(state, dict) else None
    if state.get("format") != STATE_FORMAT or not isinstance(kept, list):
        raise WitnessError(f"{path} is not a witness state ({STATE_FORMAT})")
    for entry in kept:
        try:
            note = parse_note(entry["note"])
        except (KeyError, TypeError, ValueError) as exc:
            raise WitnessError(f"{path} holds a malformed checkpoint: {exc}") from exc
        if (note.tree_size, note.root.hex()) != (entry.get("tree_size"), entry.get("root")):
            raise WitnessError(f"{path} holds a checkpoint that differs from its note")
    return state


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Replace the state file whole (write, flush, rename), so a crash leaves the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(state, out, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# -- one check ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    outcome: str  # "first" (nothing kept before), "unchanged" or "extended"
    tree_size: int
    previous_size: int | None

    def describe(self) -> str:
        if self.outcome == "first":
            return f"kept checkpoint {self.tree_size}, the first this witness saw"
        if self.outcome == "unchanged":
            return f"checkpoint {self.tree_size} is still the newest"
        return f"checkpoint {self.tree_size} extends checkpoint {self.previous_size}: kept"


def _hashes(values: object) -> list[bytes]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError("a proof is a list of hex hashes")
    return [bytes.fromhex(v) for v in values]


def witness_once(base_url: str, keys: Sequence[bytes], state_path: Path, fetch: Fetch) -> Outcome:
    """Check the ledger's newest checkpoint against the last one kept; keep it if it extends."""
    if not keys:
        raise WitnessError("a witness needs at least one pinned public key")
    state = load_state(state_path)
    base = base_url.rstrip("/")
    newest = signed_checkpoint(fetch(base + LATEST), keys)
    kept = state["checkpoints"]
    if not kept:
        kept.append(newest.kept())
        save_state(state_path, state)
        return Outcome("first", newest.parsed.tree_size, None)
    last = kept[-1]
    old = parse_note(last["note"])
    new = newest.parsed
    evidence = f"kept:\n{last['note']}served:\n{newest.note}"
    if new.origin != old.origin:
        raise Alarm(f"the ledger's newest checkpoint names another log\n{evidence}")
    if new.tree_size < old.tree_size:
        raise Alarm(f"the ledger went back to a smaller tree (rolled back or forked)\n{evidence}")
    if new.tree_size == old.tree_size:
        if new.root != old.root:
            raise Alarm(f"two signed roots for tree size {new.tree_size}: a fork\n{evidence}")
        return Outcome("unchanged", new.tree_size, old.tree_size)
    query = urllib.parse.urlencode({"first": old.tree_size, "second": new.tree_size})
    try:
        body = fetch(f"{base}{CONSISTENCY}?{query}")
    except HttpError as exc:
        if exc.status == 404:
            raise Alarm(
                f"the ledger no longer serves checkpoint {old.tree_size}, which it signed\n"
                f"{evidence}"
            ) from exc
        raise
    try:
        proof = _hashes(body.get("proof") if isinstance(body, dict) else None)
    except ValueError as exc:
        raise Alarm(f"the ledger's consistency proof is malformed: {exc}\n{evidence}") from exc
    served_first = body.get("first")
    if isinstance(served_first, dict) and served_first.get("note") != last["note"]:
        other = signed_checkpoint(served_first, keys)  # raises if nobody pinned signed it
        if other.parsed.root != old.root:
            raise Alarm(
                f"two signed roots for tree size {old.tree_size}: a fork\n"
                f"kept:\n{last['note']}served now:\n{other.note}"
            )
    if not verify_consistency(old.tree_size, new.tree_size, old.root, new.root, proof):
        raise Alarm(
            f"checkpoint {new.tree_size} does not extend checkpoint {old.tree_size}: the log"
            f" was rewritten or forked\n{evidence}"
        )
    kept.append(newest.kept())
    save_state(state_path, state)
    return Outcome("extended", new.tree_size, old.tree_size)


# -- HTTP and the command line ---------------------------------------------------------------


def http_fetch(token: str, timeout: float = 30) -> Fetch:
    """GET with the API token; the JSON of a 200 answer, or an HttpError naming the problem."""

    def fetch(url: str) -> Any:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise WitnessError(f"{url}: the ledger is reached over http or https only")
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 (scheme checked)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read()).get("detail", "")
            except (ValueError, AttributeError, OSError):
                detail = ""
            raise HttpError(exc.code, f"{url}: HTTP {exc.code} {detail}".rstrip()) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise WitnessError(f"{url}: {exc}") from exc

    return fetch


def watch(
    url: str,
    keys: Sequence[bytes],
    state_path: Path,
    fetch: Fetch,
    *,
    interval: float | None,
    out: TextIO,
    err: TextIO,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Check once (interval None) or every `interval` seconds until an alarm; the exit status:
    0 checked, 1 could not check (once), 2 alarm."""
    while True:
        try:
            outcome = witness_once(url, keys, state_path, fetch)
        except Alarm as exc:
            err.write(f"ALARM: {exc}\nThe witness state was left unchanged.\n")
            return ALARM_EXIT
        except WitnessError as exc:
            err.write(f"witness: could not check the ledger: {exc}\n")
            if interval is None:
                return 1
        else:
            out.write(outcome.describe() + "\n")
            if interval is None:
                return 0
        out.flush()
        sleep(interval)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", required=True, help="the ledger's base URL")
    p.add_argument("--token-env", required=True, help="environment variable with the API token")
    p.add_argument("--public-key", action="append", required=True, help="pinned key (base64)")
    p.add_argument("--state", required=True, type=Path, help="the witness's JSON state file")
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--interval", type=float, help="check every SECONDS until an alarm")
    when.add_argument("--once", action="store_true", help="check once")


def run(args: argparse.Namespace, token: str | None, out: TextIO, err: TextIO) -> int:
    """The command line's run: pinned keys decoded, the token required, then `watch`."""
    try:
        keys = [decode_key(k) for k in args.public_key]
    except ValueError as exc:
        err.write(f"witness: {exc}\n")
        return 1
    if not token:
        err.write(f"witness: the environment variable {args.token_env} is not set\n")
        return 1
    if args.interval is not None and not args.interval > 0:
        err.write("witness: --interval is a number of seconds above 0\n")
        return 1
    interval = None if args.once else args.interval
    return watch(args.url, keys, args.state, http_fetch(token), interval=interval, out=out, err=err)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Witness a Model Ledger's signed checkpoints.")
    add_arguments(p)
    args = p.parse_args(argv)
    return run(args, os.environ.get(args.token_env), sys.stdout, sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
