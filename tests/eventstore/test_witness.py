"""The witness keeps the checkpoints it saw and accepts a newer one only with a proof that it
extends them: against the API (its HTTP fetch given the test client, or real HTTP to the live
server), and against a ledger whose history was rewritten and re-signed with the same key."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.db import connection
from rest_framework.authtoken.models import Token

from eventstore import checkpoints, merkle, store
from eventstore.audit import witness
from eventstore.canonical import canonical_json
from eventstore.types import NO_STREAM
from tests.api.conftest import client_for
from tests.conftest import events, ledger_public_key, new_stream, without_append_only

BASE = "http://testserver"


def _grow(meta, streams: int = 2):
    for _ in range(streams):
        store.append(new_stream(), NO_STREAM, events("A", "B", "C"), meta)
    return checkpoints.write_checkpoint()


def _api_fetch(user):
    """The witness's fetch over the test client: the same views, authentication and problems
    as over HTTP."""
    api = client_for(user)

    def fetch(url: str):
        response = api.get(url.removeprefix(BASE))
        if response.status_code != 200:
            raise witness.HttpError(response.status_code, f"{url}: HTTP {response.status_code}")
        return response.json()

    return fetch


def _keys() -> list[bytes]:
    return [witness.decode_key(ledger_public_key())]


def _forge_checkpoint_over_a_rewritten_log(meta) -> int:
    """An attacker holding the signing key: change an old leaf, let the log grow, and sign a
    checkpoint over the changed tree as the writer would."""
    without_append_only(
        "UPDATE eventstore_leaf SET leaf_hash = sha256(leaf_hash) WHERE leaf_index = 1"
    )
    for _ in range(2):
        store.append(new_stream(), NO_STREAM, events("A", "B", "C"), meta)
    size = checkpoints.sequence()
    compact = merkle.CompactRange()
    for leaf in checkpoints.leaf_hashes(0, size):
        compact.append(leaf)
    note = checkpoints.note_text(checkpoints.latest().origin, size, compact.root())
    key = checkpoints.signing_key()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO eventstore_checkpoint (tree_size, root_hash, frontier, origin, key_id,"
            " signature, note, created_at) SELECT %s, %s, %s::jsonb, origin, key_id, %s, %s,"
            " now() FROM eventstore_checkpoint ORDER BY tree_size DESC LIMIT 1",
            (
                size,
                compact.root(),
                canonical_json([h.hex() for h in compact.frontier]).decode(),
                key.sign(note.encode()),
                note,
            ),
        )
    return size


def test_witness_keeps_each_checkpoint_that_extends_the_last_one_kept(
    pristine_ledger, meta, owner, tmp_path
):
    state = tmp_path / "witness.json"
    fetch = _api_fetch(owner)
    first = _grow(meta)
    outcome = witness.witness_once(BASE, _keys(), state, fetch)
    assert (outcome.outcome, outcome.tree_size) == ("first", first.tree_size)
    assert witness.witness_once(BASE, _keys(), state, fetch).outcome == "unchanged"
    second = _grow(meta, 3)
    third = _grow(meta, 1)
    outcome = witness.witness_once(BASE, _keys(), state, fetch)
    assert (outcome.outcome, outcome.previous_size) == ("extended", first.tree_size)
    kept = json.loads(state.read_text())["checkpoints"]
    assert [k["tree_size"] for k in kept] == [first.tree_size, third.tree_size]
    assert [k["note"] for k in kept] == [first.note, third.note]
    assert kept[1]["root"] == bytes(third.root_hash).hex()
    assert second.tree_size < third.tree_size


def test_witness_refuses_a_checkpoint_over_rewritten_history_signed_with_the_same_key(
    pristine_ledger, meta, owner, tmp_path
):
    state = tmp_path / "witness.json"
    fetch = _api_fetch(owner)
    kept = _grow(meta)
    witness.witness_once(BASE, _keys(), state, fetch)
    before = state.read_bytes()
    forged_size = _forge_checkpoint_over_a_rewritten_log(meta)
    newest = fetch(BASE + witness.LATEST)
    assert newest["tree_size"] == forged_size > kept.tree_size
    assert witness.signed_checkpoint(newest, _keys())  # a valid signature of the real key
    with pytest.raises(witness.Alarm, match="does not extend"):
        witness.witness_once(BASE, _keys(), state, fetch)
    assert state.read_bytes() == before
    out, err = io.StringIO(), io.StringIO()
    status = witness.watch(BASE, _keys(), state, fetch, interval=None, out=out, err=err)
    assert status == witness.ALARM_EXIT
    assert "ALARM" in err.getvalue() and f"\n{forged_size}\n" in err.getvalue()
    assert state.read_bytes() == before


class FakeLedger:
    """A ledger answering with checkpoints signed by a key of the test's own."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.public = self.key.public_key().public_bytes_raw()
        self.leaves = [merkle.leaf_hash(bytes([i])) for i in range(40)]
        self.latest: dict = {}
        self.served: dict[int, dict] = {}

    def sign(self, size: int, extensions: str = "", root: bytes | None = None) -> dict:
        root = root or merkle.root_from_leaf_hashes(self.leaves[:size])
        note = f"ledger.example/log\n{size}\n{base64.b64encode(root).decode()}\n{extensions}"
        body = {"note": note, "signature": base64.b64encode(self.key.sign(note.encode())).decode()}
        self.latest = body
        self.served.setdefault(size, body)
        return body

    def fetch(self, url: str):
        if url.endswith(witness.LATEST):
            return self.latest
        query = dict(part.split("=") for part in url.split("?")[1].split("&"))
        first, second = int(query["first"]), int(query["second"])
        if first not in self.served:
            raise witness.HttpError(404, "no such checkpoint")
        proof = merkle.consistency_proof(self.leaves, first, second)
        return {
            "first": self.served[first],
            "second": self.served[second],
            "proof": [h.hex() for h in proof],
        }


def test_witness_accepts_notes_with_extension_lines_it_does_not_know(tmp_path):
    ledger, state = FakeLedger(), tmp_path / "state.json"
    ledger.sign(5)
    witness.witness_once("https://l", [ledger.public], state, ledger.fetch)
    ledger.sign(
        17,
        "time 2026-12-03T02:10:00.123456Z\nprevious 5 AAAA\nheads 3 BBBB\nsomething new\n",
    )
    assert witness.witness_once("https://l", [ledger.public], state, ledger.fetch).tree_size == 17
    note = witness.parse_note(json.loads(state.read_text())["checkpoints"][1]["note"])
    assert note.tree_size == 17 and note.extensions[0].startswith("time ")
    assert len(note.extensions) == 4


@pytest.mark.parametrize("case", ["smaller", "same_size_other_root", "unknown_key", "dropped"])
def test_witness_raises_an_alarm_and_keeps_its_state_when_the_ledger_forks(tmp_path, case):
    ledger, state = FakeLedger(), tmp_path / "state.json"
    ledger.sign(9)
    witness.witness_once("https://l", [ledger.public], state, ledger.fetch)
    before = state.read_bytes()
    if case == "smaller":
        ledger.sign(4)
    elif case == "same_size_other_root":
        ledger.sign(9, root=merkle.leaf_hash(b"other"))
    elif case == "unknown_key":
        ledger.key = Ed25519PrivateKey.generate()
        ledger.sign(12)
    else:
        ledger.served.clear()
        ledger.sign(12)
    with pytest.raises(witness.Alarm):
        witness.witness_once("https://l", [ledger.public], state, ledger.fetch)
    assert state.read_bytes() == before


@pytest.mark.parametrize(
    "note",
    ["", "origin\n5\n", "origin\n05\nAAAA\n", "origin\nfive\n" + "A" * 44 + "\n", "o\n1\nA==\n"],
)
def test_notes_without_an_origin_a_size_and_a_root_are_refused(note):
    with pytest.raises(ValueError, match="checkpoint note"):
        witness.parse_note(note)


def test_the_witness_command_checks_the_live_server_over_http(
    pristine_ledger, meta, live_server, owner, tmp_path, monkeypatch
):
    monkeypatch.setenv("WITNESS_TOKEN", Token.objects.create(user=owner).key)
    state: Path = tmp_path / "witness.json"
    arguments = [
        "--url",
        live_server.url,
        "--token-env",
        "WITNESS_TOKEN",
        "--public-key",
        ledger_public_key(),
        "--state",
        str(state),
        "--once",
    ]
    _grow(meta)
    out = io.StringIO()
    call_command("witness", *arguments, stdout=out)
    assert "the first this witness saw" in out.getvalue()
    newest = _grow(meta)
    call_command("witness", *arguments, stdout=out)
    assert f"checkpoint {newest.tree_size} extends" in out.getvalue()
    before = state.read_bytes()
    _forge_checkpoint_over_a_rewritten_log(meta)
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("witness", *arguments, stdout=out, stderr=err)
    assert raised.value.returncode == witness.ALARM_EXIT
    assert "ALARM" in err.getvalue()
    assert state.read_bytes() == before
    monkeypatch.setenv("WITNESS_TOKEN", "not-a-token")
    with pytest.raises(CommandError) as raised:
        call_command("witness", *arguments, stdout=out, stderr=err)
    assert raised.value.returncode == 1 and "HTTP 401" in err.getvalue()
