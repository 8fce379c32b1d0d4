"""GET /api/v1/checkpoints/ (the signed checkpoints, newest first) and
GET /api/v1/checkpoints/consistency/ (the proof between two of them), for witnesses."""

from __future__ import annotations

import base64

import jsonschema
import pytest
from rest_framework.test import APIClient

from eventstore import checkpoints, merkle, store
from eventstore.audit import verifier
from eventstore.types import NO_STREAM
from tests.api.conftest import client_for
from tests.conftest import events, new_stream

pytestmark = pytest.mark.django_db
LIST = "/api/v1/checkpoints/"
PROOF = "/api/v1/checkpoints/consistency/"


def _grow(meta, streams: int) -> checkpoints.Checkpoint:
    for _ in range(streams):
        store.append(new_stream(), NO_STREAM, events("A", "B", "C"), meta)
    return checkpoints.write_checkpoint()


@pytest.fixture
def signed(pristine_ledger, meta):
    return [_grow(meta, n) for n in (1, 2, 4)]


def _schema_of(api, component: str) -> dict:
    document = api.get("/api/schema/?format=json").json()
    return {"$ref": f"#/components/schemas/{component}", "components": document["components"]}


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def test_checkpoints_are_listed_newest_first_a_page_at_a_time(signed, owner):
    api = client_for(owner)
    first = api.get(LIST, {"page_size": 2}).json()
    assert [c["tree_size"] for c in first["results"]] == [9 + 12, 9, 3][:2]
    rest = api.get(first["next"]).json()
    assert [c["tree_size"] for c in rest["results"]] == [3]
    newest = first["results"][0]
    assert newest == {
        "origin": signed[-1].origin,
        "tree_size": signed[-1].tree_size,
        "root": bytes(signed[-1].root_hash).hex(),
        "note": signed[-1].note,
        "signature": base64.b64encode(bytes(signed[-1].signature)).decode(),
        "key_id": signed[-1].key_id,
        "created_at": newest["created_at"],
    }
    jsonschema.Draft202012Validator(_schema_of(api, "SignedCheckpointOutput")).validate(newest)


def test_consistency_proof_between_stored_checkpoints_verifies_against_their_signed_roots(
    signed, owner
):
    api = client_for(owner)
    old, new = signed[0], signed[2]
    response = api.get(PROOF, {"first": old.tree_size, "second": new.tree_size})
    assert response.status_code == 200, response.content
    body = response.json()
    jsonschema.Draft202012Validator(_schema_of(api, "CheckpointConsistencyOutput")).validate(body)
    assert body["first"]["note"] == old.note and body["second"]["note"] == new.note
    key = base64.b64decode(checkpoints.published_keys()[0].public_key)
    for side in (body["first"], body["second"]):
        signature = base64.b64decode(side["signature"])
        assert verifier.ed25519_verify(key, side["note"].encode(), signature)
    proof = [bytes.fromhex(h) for h in body["proof"]]
    leaves = checkpoints.leaf_hashes(0, new.tree_size)
    assert proof == merkle.consistency_proof(leaves, old.tree_size, new.tree_size)
    assert merkle.verify_consistency(
        old.tree_size, new.tree_size, bytes(old.root_hash), bytes(new.root_hash), proof
    )
    same = api.get(PROOF, {"first": new.tree_size, "second": new.tree_size}).json()
    assert same["proof"] == []
    # Named the other way round, the proof still runs from the smaller tree to the larger.
    swapped = api.get(PROOF, {"first": new.tree_size, "second": old.tree_size}).json()
    assert swapped == body


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"first": "3"},
        {"second": "9"},
        {"first": "-1", "second": "3"},
        {"first": "3", "second": "x"},
        {"first": "3", "second": "9" * 40},
        {"first": "٣", "second": "9"},
        {"first": "3 ", "second": "9"},
    ],
)
def test_consistency_proof_is_refused_when_the_sizes_are_malformed(signed, owner, query):
    assert _problem(client_for(owner).get(PROOF, query), 400)


@pytest.mark.parametrize("query", [{"first": "4", "second": "9"}, {"first": "3", "second": "22"}])
def test_consistency_proof_is_not_found_when_a_size_is_no_stored_checkpoint(signed, owner, query):
    assert _problem(client_for(owner).get(PROOF, query), 404)["code"] == "no_checkpoint"


@pytest.mark.parametrize("url", [LIST, PROOF + "?first=3&second=9"])
def test_checkpoint_reads_need_authentication(url):
    _problem(APIClient().get(url), 401)
