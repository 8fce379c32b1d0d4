"""verify.py's command line: what it refuses without a pinned key, and the lines it prints
of what a clean run proved (standard library only; the bundle copies it last into verify.py,
see eventstore/audit/verifier.py for what is checked)."""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

from eventstore.audit.notes import decode_key, key_id  # bundled
from eventstore.audit.verifier import Report, check, load_files  # bundled

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
    """What a clean run proved, one line each, then what it could not prove."""
    note, checkpoint = report.note, report.checkpoint
    how = "pinned key" if pinned else "UNPINNED bundle key"
    size, root = note.tree_size, note.root.hex()
    lines = [
        f"signature: checkpoint {note.origin} tree size {size} root {root[:16]}"
        f"{' signed at ' + note.time if note.time else ''}"
        f" verified with {how} {report.signers.get('checkpoint.json')}",
    ]
    for stream, (version, head) in sorted(report.streams.items()):
        lines.append(
            f"chain: stream {stream}: versions 1..{version} link by prev_hash from genesis"
            f" to head {head[:16]}"
        )
    if note.heads is not None:
        lines.append(
            f"completeness: each of the {len(report.complete)} streams ends at the head the"
            f" signed checkpoint commits to (heads tree of {note.heads[0]} streams): no event"
            " of them up to the checkpoint is left out"
        )
    else:
        lines.append(
            "NOT PROVEN completeness: this checkpoint was signed before checkpoints named the"
            " streams' heads; that no stream has events after its last one here rests on the"
            " ledger's word"
        )
    lines += [
        f"inclusion: all {report.events} events are leaves of the signed tree of size {size}",
        f"closure: every one of the {report.closure} streams the events name (versions,"
        " models, linked streams) is in the bundle",
    ]
    lines += report.consistency or [
        "NOT PROVEN consistency: the checkpoint names no previous checkpoint; pass --since"
        " with one you kept"
    ]
    pending = report.manifest.get("not_yet_checkpointed")
    if pending:
        lines.append(
            f"newer events: the ledger says {pending} events of these streams came after the"
            f" checkpoint (signed {checkpoint.get('created_at')}) and are not in this bundle"
        )
    return lines


def _load_json(path: str, what: str) -> dict:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"verify.py: {what} {path}: {exc}") from exc
    if not isinstance(doc, dict):
        raise SystemExit(f"verify.py: {what} {path}: not a JSON object")
    return doc


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
    parser.add_argument(
        "--since",
        metavar="CHECKPOINT.json",
        help="a checkpoint you kept (GET /api/v1/checkpoints/latest/, a witness's state entry or"
        " an earlier bundle's checkpoint.json): prove the bundle's log extends it",
    )
    parser.add_argument(
        "--consistency-proof",
        metavar="PROOF.json",
        help="the ledger's consistency proof between the kept checkpoint and the bundle's"
        " (GET /api/v1/checkpoints/consistency/?first=SIZE&second=SIZE)",
    )
    args = parser.parse_args(argv)
    if not args.public_key and not args.trust_bundle_key:
        print(REFUSAL, file=sys.stderr)
        return 2
    try:
        pinned = [decode_key(text) for text in args.public_key]
    except ValueError as exc:
        parser.error(f"--public-key: {exc}")
    since = _load_json(args.since, "--since") if args.since else None
    proof = None
    if args.consistency_proof:
        proof = _load_json(args.consistency_proof, "--consistency-proof")
    try:
        files = load_files(Path(args.bundle))
    except (OSError, zipfile.BadZipFile) as exc:
        print(f"FAIL {args.bundle}: not a whole bundle ({exc}); a download cut short?")
        print("FAILED: nothing in this bundle is proven")
        return 1
    report = check(
        files, pinned, trust_bundle_key=args.trust_bundle_key, since=since, since_proof=proof
    )
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
