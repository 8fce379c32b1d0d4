"""Health probes answer without authentication and say what is not ready."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_when_the_process_runs(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_readyz_reports_database_and_migrations_when_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok"}


def test_probes_refuse_other_methods_when_posted_to(client):
    assert client.post("/healthz").status_code == 405
