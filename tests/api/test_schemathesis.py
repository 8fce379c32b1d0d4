"""The whole OpenAPI schema fuzzed over real HTTP by schemathesis: no 5xx, no response that
breaks the schema, every check on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from core.actors import Actor
from registry import artifacts, commands, streams
from registry.commands import DatasetVersionInput, VersionInput
from tests.api.conftest import client_for

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


@pytest.fixture
def seeded(owner, settings, tmp_path):
    """Objects the generated requests can find, so not every case is a 404."""
    actor = Actor.user(owner, auth_method="token")
    model = commands.register_model(actor=actor, name="fraud-detector", team="fraud-ml")
    for _ in range(2):
        commands.create_model_version(actor=actor, model_id=model.id, data=VersionInput())
    dataset = commands.register_dataset(actor=actor, name="transactions", team="fraud-ml")
    commands.create_dataset_version(
        actor=actor, dataset_id=dataset.id, data=DatasetVersionInput(uri="s3://lake/t/1")
    )
    _seed_governance(owner, model, settings, tmp_path)
    return client_for(owner).credentials


def _seed_governance(owner, model, settings, tmp_path) -> None:
    """A confirmed tier, evidence, boards with members and an approval request with a
    decision, so the governance and approval endpoints meet real objects."""
    from approvals import commands as approvals
    from boards import commands as board_commands
    from governance import commands as governance
    from tests.approvals.conftest import INTAKE, model_card, upload, with_artifact
    from tests.conftest import make_user

    settings.S3_BUCKET = None
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    # Every operation is also tried without credentials; at the anonymous rate (60 a minute)
    # those would meet the throttle (429) instead of the 401 under test. Throttling has tests
    # of its own (tests/api/test_throttling.py).
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "1000000/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    # An approval binds the version's verified artifact: both versions have one.
    for number in (1, 2):
        version = streams.load_version_by_number(model.id, number)
        with_artifact(owner, version, f"weights of version {number}".encode())
    actor = Actor.user(owner, auth_method="token")
    admin = Actor.user(make_user("ada-admin", superuser=True), auth_method="session")
    board_commands.ensure_default_boards()
    officer = make_user("rosa-risk", perms=("governance.assign_risk_tier",))
    board_commands.add_board_member(actor=admin, board="model-risk", user_id=officer.pk)
    board_commands.appoint_chair(actor=admin, board="model-risk", user_id=officer.pk)
    governance.record_intake(actor=actor, model_id=model.id, answers=INTAKE["low"])
    governance.assign_risk_tier(actor=Actor.user(officer, auth_method="token"), model_id=model.id)
    version = streams.load_version_by_number(model.id, 1)
    document = upload(artifacts.get_store(), version, "model_card", b"model card")
    governance.attach_evidence(
        actor=actor,
        model_id=model.id,
        number=1,
        kind="model_card",
        summary=model_card("fraud-detector", 1),
        **document,
    )
    _seed_review(actor, officer, model)
    request = approvals.request_approval(actor=actor, model_id=model.id, number=2)
    approvals.record_decision(
        actor=Actor.user(officer, auth_method="token"),
        request_id=request.id,
        board="model-risk",
        decision="request_changes",
        rationale="the model card of version 2 is missing",
    )


def _seed_review(actor, officer, model) -> None:
    """Version 1 approved a year ago, so the scan opens its periodic review, a failed bias
    audit with its finding, and a serious incident."""
    from datetime import timedelta

    from approvals import commands as approvals
    from core import clock
    from governance.commands import reviews

    request = approvals.request_approval(actor=actor, model_id=model.id, number=1)
    approvals.record_decision(
        actor=Actor.user(officer, auth_method="token"),
        request_id=request.id,
        board="model-risk",
        decision="approve",
        rationale="the model card is complete",
    )
    with clock.frozen(clock.now() + timedelta(days=366)):
        assert reviews.scan_reviews(actor=Actor.system("tests")).opened == 1
    from governance.commands import audits
    from tests.governance.helpers import SPEC, rows

    failed = audits.run_bias_audit(
        actor=actor, model_id=model.id, number=1, spec=SPEC, rows=rows(0.8, 0.3)
    )
    assert failed.finding_id is not None
    from governance.commands import incidents

    incidents.report_incident(
        actor=actor,
        model_id=model.id,
        title="scores missing for an hour",
        description="a feature store outage left transactions unscored",
        occurred_at=clock.now() - timedelta(hours=3),
        became_aware_at=clock.now() - timedelta(hours=1),
        classes=["serious"],
        version_number=1,
    )


# Fuzzing every operation takes minutes on a busy machine; the run itself is bounded at 1400 s.
@pytest.mark.timeout(1500)
def test_api_has_no_server_errors_and_honours_its_schema_when_fuzzed(
    live_server, owner, seeded, tmp_path, settings
):
    settings.S3_BUCKET = None
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    # Every operation is also tried without credentials; at the anonymous rate (60 a minute)
    # those would meet the throttle (429) instead of the 401 under test. Throttling has tests
    # of its own (tests/api/test_throttling.py).
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "1000000/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    from rest_framework.authtoken.models import Token

    token = Token.objects.get(user=owner).key
    schema = tmp_path / "openapi.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(schema))
    report = tmp_path / "report.json"
    result = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(Path(__file__).with_name("schemathesis.toml")),
            "run",
            str(schema),
            "--url",
            live_server.url,
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
            "--max-examples",
            "25",
            "--workers",
            "1",
            "--generation-codec",
            "utf-8",
            "--seed",
            "1",
            "--generation-deterministic",
            "--report",
            "ndjson",
            "--report-ndjson-path",
            str(report),
            "--warnings",
            "off",
        ],
        capture_output=True,
        cwd=tmp_path,
        text=True,
        timeout=1400,
    )
    output = result.stdout + result.stderr
    (tmp_path / "schemathesis.txt").write_text(output)
    assert result.returncode == 0, output[-6000:]
    summary = _summary(report)
    print(f"schemathesis: {summary}")
    assert summary["operations"] == _operation_count(schema), summary
    assert summary["cases"] > summary["operations"], summary
    assert summary["failures"] == 0, summary


def _operation_count(schema: Path) -> int:
    methods = {"get", "put", "post", "patch", "delete"}
    paths = json.loads(schema.read_text())["paths"].values()
    return sum(1 for item in paths for method in item if method in methods)


def _summary(report: Path) -> dict[str, int]:
    """Operations tested, cases run and failures found, from schemathesis's NDJSON report."""
    operations: set[str] = set()
    cases = failures = 0
    for line in report.read_text().splitlines():
        event = json.loads(line)
        scenario = event.get("ScenarioFinished")
        if not scenario:
            continue
        label = scenario.get("recorder", {}).get("label")
        if label and not label.startswith("Stateful"):
            operations.add(label)
        recorder = scenario.get("recorder", {})
        cases += len(recorder.get("cases", {}))
        for checks in recorder.get("checks", {}).values():
            failures += sum(1 for check in checks if check.get("status") == "FAILURE")
    return {"operations": len(operations), "cases": cases, "failures": failures}
