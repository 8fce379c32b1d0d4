"""scripts/launch.py (behind ./ledger): the signer alone gets the signing key; every process
gets the public keys it verifies with; none inherits the key from the caller's environment."""

from __future__ import annotations

import base64
import importlib.util
import stat
from pathlib import Path

import pytest

from eventstore import checkpoints

ROOT = Path(__file__).resolve().parent.parent
SEED = base64.b64encode(bytes(range(32))).decode()
OTHER_SEED = base64.b64encode(bytes(range(1, 33))).decode()


@pytest.fixture(scope="module")
def launch():
    spec = importlib.util.spec_from_file_location("ledger_launch", ROOT / "scripts" / "launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def caller(**extra: str) -> dict[str, str]:
    """What ./ledger hands on: the caller's environment, a signing key included."""
    return {
        "LEDGER_ENV": "development",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/model_ledger",
        "PATH": "/usr/bin",
        "LEDGER_SIGNING_KEY": OTHER_SEED,
        **extra,
    }


def test_only_the_signer_gets_the_signing_key_when_the_service_starts(launch):
    names = tuple(launch.service_commands(caller()))
    assert set(names) == {"web", "worker", "beat", "relay", "signer"}
    assert launch.service_commands(caller())["signer"][-2:] == ["manage.py", "run_signer"]
    environments = launch.process_environments(caller(), SEED, names)
    assert set(environments) == set(names)
    holders = {name for name, env in environments.items() if "LEDGER_SIGNING_KEY" in env}
    assert holders == {"signer"}
    assert environments["signer"]["LEDGER_SIGNING_KEY"] == SEED
    for env in environments.values():
        assert OTHER_SEED not in env.values()
        assert SEED not in "".join(v for k, v in env.items() if k != "LEDGER_SIGNING_KEY")
        assert env["DATABASE_URL"] == caller()["DATABASE_URL"]


def test_every_process_trusts_the_signers_public_key_first_and_keeps_retired_ones(launch):
    retired = checkpoints.public_key_of_seed(OTHER_SEED)
    env = caller(LEDGER_ENV="production", LEDGER_TRUSTED_KEYS=f" {retired} ,")
    environments = launch.process_environments(env, SEED, ("web", "worker", "beat", "relay"))
    current = checkpoints.public_key_of_seed(SEED)
    assert launch.public_key(SEED) == current
    for env in environments.values():
        assert env["LEDGER_TRUSTED_KEYS"].split(",") == [current, retired]


def test_development_also_trusts_the_former_development_key(launch, settings):
    environments = launch.process_environments(caller(), SEED, ("web",))
    trusted = environments["web"]["LEDGER_TRUSTED_KEYS"].split(",")
    # The seed the test settings sign with is the one development signed with before.
    former = checkpoints.public_key_of_seed(settings.LEDGER_SIGNING_KEY)
    assert trusted == [checkpoints.public_key_of_seed(SEED), former]


def test_one_off_commands_get_the_key_only_where_they_sign(launch, monkeypatch, tmp_path):
    monkeypatch.setattr(launch, "SIGNING_KEY_FILE", tmp_path / "signing.key")
    env = caller()
    assert launch.signer_environment(env, signs=True)["LEDGER_SIGNING_KEY"] == OTHER_SEED
    assert "LEDGER_SIGNING_KEY" not in launch.signer_environment(env, signs=False)
    assert {"run_signer", "write_checkpoint"} == set(launch.SIGNER_COMMANDS)


def test_development_generates_the_signing_key_once_readable_by_its_owner_only(
    launch, monkeypatch, tmp_path
):
    key_file = tmp_path / "state" / "signing.key"
    monkeypatch.setattr(launch, "SIGNING_KEY_FILE", key_file)
    env = caller()
    del env["LEDGER_SIGNING_KEY"]
    seed = launch.signing_seed(env)
    assert len(base64.b64decode(seed, validate=True)) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert launch.signing_seed(env) == seed
    key_file.chmod(0o644)
    assert launch.signing_seed(env) == seed
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # The caller's own key wins; production needs one.
    assert launch.signing_seed(caller()) == OTHER_SEED
    with pytest.raises(SystemExit, match="LEDGER_SIGNING_KEY must be set"):
        launch.signing_seed({"LEDGER_ENV": "production"})
