"""Links in notifications point where the service is reached: LEDGER_BASE_URL, which
`./ledger serve` sets from HOST and PORT when the caller has not set it."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import pytest
from django.core import mail

import approvals.tasks
import governance.tasks
from tests.conftest import make_user

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def launch():
    spec = importlib.util.spec_from_file_location("ledger_launch", ROOT / "scripts" / "launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"PORT": "8123"}, "http://127.0.0.1:8123"),
        ({"HOST": "ledger.lan", "PORT": "9000"}, "http://ledger.lan:9000"),
        (
            {"HOST": "0.0.0.0", "PORT": "9000"},  # noqa: S104 - a value, bound nowhere
            "http://localhost:9000",
        ),
        ({"HOST": "::1", "PORT": "9000"}, "http://[::1]:9000"),
        (
            {"PORT": "9000", "LEDGER_BASE_URL": "https://ledger.example.org/"},
            "https://ledger.example.org",
        ),
    ],
)
def test_serve_sets_the_base_url_from_its_host_and_port_unless_given_one(launch, env, expected):
    assert launch.base_url(env) == expected


def test_the_demo_has_a_database_of_its_own_and_is_refused_in_production(launch):
    url, maintenance = launch.demo_database_url("postgres://u:p@db.lan:5432/ledger?sslmode=require")
    assert url == "postgres://u:p@db.lan:5432/ledger_demo?sslmode=require"
    assert maintenance == "postgres://u:p@db.lan:5432/postgres?sslmode=require"
    with pytest.raises(SystemExit, match="refused when LEDGER_ENV=production"):
        launch.refuse_demo_in_production({"LEDGER_ENV": "production"})
    launch.refuse_demo_in_production({"LEDGER_ENV": "development"})


@pytest.mark.django_db(transaction=True)
def test_notification_links_use_the_configured_base_url(settings):
    settings.LEDGER_BASE_URL = "http://ledger.test:8123"
    lena = make_user("lena-legal")
    lena.email = "lena@example.org"
    lena.save()
    request_id, finding_id = str(uuid.uuid4()), str(uuid.uuid4())
    mail.outbox.clear()
    approvals.tasks.notify.apply(
        kwargs={"event": "requested", "request_id": request_id, "user_ids": [lena.pk]}
    ).get()
    governance.tasks.notify_finding.apply(
        kwargs={"event": "opened", "finding_id": finding_id, "user_ids": [lena.pk]}
    ).get()
    bodies = [message.body for message in mail.outbox]
    assert len(bodies) == 2
    assert (
        f"http://ledger.test:8123/admin/approvals/approvalrequest/{request_id}/change/" in bodies[0]
    )
    assert f"http://ledger.test:8123/admin/governance/finding/{finding_id}/change/" in bodies[1]
    assert "localhost:8000" not in "".join(bodies)


def test_serve_takes_only_the_demo_option(launch, capsys):
    assert launch.serve(["--demo", "--bogus"]) == 2
    assert "unknown option --bogus" in capsys.readouterr().err
