"""The checkpoint verification key published apart from any bundle: GET
/api/v1/checkpoints/latest/ and `manage.py ledger_public_key`, for auditors to pin."""

from __future__ import annotations

import base64
import io

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from eventstore import checkpoints
from eventstore.audit import verifier
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db
URL = "/api/v1/checkpoints/latest/"


def _current_key() -> str:
    return base64.b64encode(
        checkpoints.public_key_bytes(checkpoints.signing_key().public_key())
    ).decode()


def _retired_key() -> str:
    key = Ed25519PrivateKey.generate().public_key()
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def _schema_of(api, component: str) -> dict:
    document = api.get("/api/schema/?format=json").json()
    return {"$ref": f"#/components/schemas/{component}", "components": document["components"]}


def test_latest_checkpoint_answers_with_its_signature_and_the_keys_to_check_it(owner, settings):
    retired = _retired_key()
    settings.LEDGER_TRUSTED_KEYS = [retired]
    written = checkpoints.write_checkpoint()
    api = client_for(owner)
    response = api.get(URL)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["tree_size"] == written.tree_size
    assert body["root"] == bytes(written.root_hash).hex()
    assert body["note"] == written.note
    assert body["key_id"] == written.key_id
    assert body["public_key"] == _current_key()
    assert body["keys"] == [
        {"key_id": written.key_id, "public_key": _current_key(), "current": True},
        {
            "key_id": checkpoints.key_id(base64.b64decode(retired)),
            "public_key": retired,
            "current": False,
        },
    ]
    # An auditor checks the signed note with the published key alone.
    assert verifier.ed25519_verify(
        base64.b64decode(body["public_key"]),
        body["note"].encode(),
        base64.b64decode(body["signature"]),
    )
    schema = _schema_of(api, "CheckpointOutput")
    jsonschema.Draft202012Validator(schema).validate(body)
    properties = schema["components"]["schemas"]["CheckpointOutput"]["properties"]
    assert set(body) == set(properties)


def test_latest_checkpoint_is_a_problem_when_none_was_signed(owner):
    from eventstore.models import Checkpoint

    assert not Checkpoint.objects.exists()
    response = client_for(owner).get(URL)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "no_checkpoint"


def test_latest_checkpoint_needs_authentication():
    response = APIClient().get(URL)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")


def test_management_command_prints_the_key_verify_py_pins(settings):
    out = io.StringIO()
    call_command("ledger_public_key", stdout=out)
    assert out.getvalue().strip() == _current_key()
    retired = _retired_key()
    settings.LEDGER_TRUSTED_KEYS = [retired]
    out = io.StringIO()
    call_command("ledger_public_key", "--all", stdout=out)
    current_id = checkpoints.key_id(base64.b64decode(_current_key()))
    retired_id = checkpoints.key_id(base64.b64decode(retired))
    assert out.getvalue().splitlines() == [
        f"{current_id} {_current_key()} current",
        f"{retired_id} {retired} retired",
    ]


def test_a_process_without_the_signing_key_answers_with_the_keys_of_ledger_trusted_keys(
    owner, settings
):
    """Web and worker processes hold no private key: the signer's public key and the retired
    ones come from LEDGER_TRUSTED_KEYS, the current one being the newest checkpoint's."""
    written = checkpoints.write_checkpoint()  # by the signer, which holds the key
    current, retired = _current_key(), _retired_key()
    settings.LEDGER_SIGNING_KEY = ""
    settings.LEDGER_TRUSTED_KEYS = [retired, current]
    with pytest.raises(checkpoints.SigningKeyError, match="holds no checkpoint signing key"):
        checkpoints.signing_key()
    response = client_for(owner).get(URL)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["key_id"] == written.key_id
    assert body["public_key"] == current
    assert body["keys"] == [
        {"key_id": written.key_id, "public_key": current, "current": True},
        {
            "key_id": checkpoints.key_id(base64.b64decode(retired)),
            "public_key": retired,
            "current": False,
        },
    ]
    assert checkpoints.signature_valid(checkpoints.latest())


def test_management_command_prints_the_trusted_keys_in_a_process_without_the_signing_key(
    settings,
):
    current, retired = _current_key(), _retired_key()
    settings.LEDGER_SIGNING_KEY = ""
    settings.LEDGER_TRUSTED_KEYS = [current, retired]
    out = io.StringIO()
    call_command("ledger_public_key", stdout=out)
    # No checkpoint yet: the first of LEDGER_TRUSTED_KEYS is the current one.
    assert out.getvalue().strip() == current
    settings.LEDGER_TRUSTED_KEYS = []
    with pytest.raises(CommandError, match="LEDGER_TRUSTED_KEYS"):
        call_command("ledger_public_key", stdout=io.StringIO())
    with pytest.raises(CommandError, match="LEDGER_SIGNING_KEY is not set"):
        call_command("ledger_public_key", "--own", stdout=io.StringIO())


def test_management_command_prints_the_public_key_of_a_seed_for_ledger_trusted_keys(
    settings, tmp_path
):
    current = _current_key()
    out = io.StringIO()
    call_command("ledger_public_key", "--own", stdout=out)
    assert out.getvalue().strip() == current
    seed = tmp_path / "signing.key"
    seed.write_text(settings.LEDGER_SIGNING_KEY + "\n")
    settings.LEDGER_SIGNING_KEY = ""
    out = io.StringIO()
    call_command("ledger_public_key", "--seed-file", str(seed), stdout=out)
    assert out.getvalue().strip() == current
    seed.write_text("not a seed")
    with pytest.raises(CommandError, match="not base64"):
        call_command("ledger_public_key", "--seed-file", str(seed), stdout=io.StringIO())
