"""The README's quickstart, run as a newcomer runs it: its shell blocks in order, against a
live server on a fresh database (the migrations' seed and the demo superuser ./ledger serve
creates); the first block, `./ledger serve`, is what this server stands for."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import call_command
from django.db import connection

from approvals.models import ApprovalRequest
from governance.models import ModelRisk
from registry.models import ModelVersion, RegisteredModel

ROOT = Path(__file__).resolve().parent.parent
# Files the quickstart writes in the checkout's folder, as a newcomer's shell would.
WRITTEN = ("governance-setup.yaml", "model.bin")


def quickstart_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def test_the_quickstart_section_starts_the_service_first():
    blocks = quickstart_blocks()
    assert blocks[0].strip() == "./ledger serve"
    assert len(blocks) >= 4


@pytest.fixture
def fresh_server(live_server):
    call_command("ensure_demo_user", verbosity=0)  # as ./ledger serve does
    return live_server.url


@pytest.fixture
def checkout_folder():
    present = [name for name in WRITTEN if (ROOT / name).exists()]
    assert not present, f"the quickstart would overwrite {present}"
    yield ROOT
    for name in WRITTEN:
        (ROOT / name).unlink(missing_ok=True)


def test_the_readme_quickstart_runs_top_to_bottom_on_a_fresh_install(
    fresh_server, checkout_folder, django_db_blocker
):
    script = "set -euo pipefail\n" + "\n".join(quickstart_blocks()[1:])
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
    database = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))
    env = {
        **os.environ,
        "LEDGER": fresh_server,
        "DATABASE_URL": database,
        "LEDGER_ENV": "development",
    }
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=checkout_folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    model = RegisteredModel.objects.get(name="fraud-detector")
    version = ModelVersion.objects.get(model_id=model.id, number=1)
    assert version.artifact_verified
    risk = ModelRisk.objects.get(model_id=model.id)
    assert (risk.proposed_tier, risk.tier) == ("low", "low")
    # The gate's answer, printed last: evidence and the model-risk board's approval missing.
    assert '"allowed":false' in result.stdout.replace(" ", "")
    assert "model_card" in result.stdout
    assert not ApprovalRequest.objects.exists()
