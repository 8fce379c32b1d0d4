"""Settings come from the environment and production refuses to run on development secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "LEDGER_ENV": "production",
    "DJANGO_SECRET_KEY": "x" * 64 + "-not-a-real-secret-but-long-and-random-enough-0123456789",
    "LEDGER_SIGNING_KEY": "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=",
    "LEDGER_PSEUDONYM_KEY": "another-long-random-value-for-hmac-0123456789",
    "DJANGO_ALLOWED_HOSTS": "ledger.example.org",
    "LEDGER_BASE_URL": "https://ledger.example.org",
}


def _django(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "LEDGER_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_when_a_secret_is_missing():
    for missing in ("DJANGO_SECRET_KEY", "LEDGER_PSEUDONYM_KEY", "LEDGER_BASE_URL"):
        env = {k: v for k, v in PRODUCTION.items() if k != missing}
        result = _django(env, "check")
        assert result.returncode != 0
        assert f"{missing} must be set when LEDGER_ENV=production" in result.stderr


def test_only_the_signer_needs_the_signing_key_when_in_production():
    """Web, worker, beat and relay run without LEDGER_SIGNING_KEY; the signer refuses to."""
    env = {k: v for k, v in PRODUCTION.items() if k != "LEDGER_SIGNING_KEY"}
    result = _django(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    result = _django(env, "run_signer")
    assert result.returncode != 0
    assert "holds no checkpoint signing key" in result.stderr


def test_deploy_check_is_clean_when_production_secrets_are_set():
    result = _django(PRODUCTION, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_unknown_environment_is_refused_when_misspelt():
    result = _django({"LEDGER_ENV": "prod"}, "check")
    assert result.returncode != 0
    assert "LEDGER_ENV must be development, test or production" in result.stderr
