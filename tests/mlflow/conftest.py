"""The MLflow client against the real service: gunicorn on a free port serving the test
database, users with API tokens committed once for the package, and MlflowClient pointed at the
service with MLFLOW_TRACKING_TOKEN set to the acting user's token.

Everything a test checks goes over HTTP (the MLflow paths, and /api/v1/ for the event
history); governance steps that have no MLflow call (a risk tier, evidence, a board's
decision) go through the commands, committed. The package leaves the database as the
migrations leave it (wiped, flushed, seeded)."""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from django.core.management import call_command
from django.db import connections
from django.test import override_settings
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from rest_framework.authtoken.models import Token

from core.actors import Actor
from tests.conftest import make_user, seed_ledger, wipe_ledger
from tests.helpers.gunicorn import serving

TEAM = "ml-team"
CLIENT_ENV = {
    # A refusal is an answer, not a transient failure: no retries, so a test sees it at once.
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
}


@dataclass
class World:
    url: str
    blocker: Any
    artifact_root: str
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)

    def run(self, work, *args, **kwargs):
        """Direct database work between HTTP calls, committed at once: on a connection of its
        own (a thread's), outside the test's transaction, so the server sees it."""
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                outcome["value"] = work(*args, **kwargs)
            except BaseException as exc:  # handed to the test's thread
                outcome["error"] = exc
            finally:
                connections.close_all()

        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    @contextmanager
    def client(self, who: str = "owner") -> Iterator[MlflowClient]:
        """MlflowClient acting as `who`: the token in MLFLOW_TRACKING_TOKEN, as teams set it."""
        before = os.environ.get("MLFLOW_TRACKING_TOKEN")
        os.environ["MLFLOW_TRACKING_TOKEN"] = self.tokens[who]
        try:
            yield MlflowClient(tracking_uri=self.url, registry_uri=self.url)
        finally:
            if before is None:
                os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
            else:
                os.environ["MLFLOW_TRACKING_TOKEN"] = before

    def api(self, method: str, path: str, who: str = "owner", **kwargs) -> requests.Response:
        headers = {"Authorization": f"Token {self.tokens[who]}", **kwargs.pop("headers", {})}
        return requests.request(method, self.url + path, headers=headers, timeout=60, **kwargs)

    def upload_artifact(self, name: str, number: int, body: bytes, who: str = "owner") -> dict:
        """The artifact stored and checksummed by the service (/api/v1/'s direct upload)."""
        digest = hashlib.sha256(body).hexdigest()
        response = self.api(
            "PUT",
            f"/api/v1/models/{name}/versions/{number}/artifact/content/model.bin?sha256={digest}",
            who,
            data=body,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert response.status_code in (200, 201), response.text
        return response.json()

    def history(self, name: str, number: int | None = None) -> list[dict]:
        path = f"/api/v1/models/{name}/"
        path += f"versions/{number}/history/" if number else "history/"
        found, url = [], path
        while url:
            response = self.api("GET", url)
            assert response.status_code == 200, response.text
            body = response.json()
            found += body["results"]
            url = body.get("next") or ""
            url = url.replace(self.url, "") if url else ""
        return found


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def refused(call, code: str) -> MlflowException:
    """The client's exception for a refusal, with MLflow's error code."""
    with pytest.raises(MlflowException) as caught:
        call()
    assert caught.value.error_code == code, caught.value
    return caught.value


def _populate() -> dict[str, Any]:
    from django.contrib.auth.models import Group

    from boards import commands as boards
    from registry import commands as registry

    team = Group.objects.create(name=TEAM)
    users = {
        "owner": make_user("mlflow-owner", team),
        "colleague": make_user("mlflow-colleague", team),
        "outsider": make_user("mlflow-outsider"),
        "no-default": make_user("mlflow-no-default", team),
        "reviewer": make_user("mlflow-reviewer", perms=("governance.assign_risk_tier",)),
        "admin": make_user("mlflow-admin", superuser=True),
    }
    for who in ("owner", "colleague"):
        user = users[who]
        registry.choose_default_team(
            actor=Actor.user(user, auth_method="session"), user_id=user.pk, team=TEAM
        )
    boards.add_board_member(
        actor=Actor.user(users["admin"], auth_method="session"),
        board="model-risk",
        user_id=users["reviewer"].pk,
    )
    return users


@contextmanager
def running_ledger(django_db_blocker, tmp_path_factory) -> Iterator[World]:
    artifact_root = str(tmp_path_factory.mktemp("artifacts"))
    saved = {k: os.environ.get(k) for k in [*CLIENT_ENV, "ARTIFACT_ROOT"]}
    os.environ.update(CLIENT_ENV, ARTIFACT_ROOT=artifact_root)
    artifacts_here = override_settings(ARTIFACT_ROOT=artifact_root)
    artifacts_here.enable()
    try:
        with django_db_blocker.unblock():
            seed_ledger()
            users = _populate()
            tokens = {who: Token.objects.create(user=u).key for who, u in users.items()}
        log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
        with serving(django_db_blocker, log_path) as port:
            yield World(
                url=f"http://127.0.0.1:{port}",
                blocker=django_db_blocker,
                artifact_root=artifact_root,
                tokens=tokens,
                users=users,
            )
    finally:
        artifacts_here.disable()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        with django_db_blocker.unblock():
            wipe_ledger()
            call_command("flush", interactive=False, verbosity=0)
            seed_ledger()


@pytest.fixture(scope="package")
def ledger(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    with running_ledger(django_db_blocker, tmp_path_factory) as world:
        yield world


# -- governance steps that have no MLflow call, through the commands --------------------

LOW = {
    "use_case": "internal search ranking",
    "affected_people": "internal",
    "automated_decisions": False,
    "significant_effects": False,
    "personal_data": False,
    "special_category_data": False,
    "regulated_domain": "none",
    "safety_component": False,
}


def tier_low(ledger, name: str) -> None:
    """The owner answers the intake and the model-risk officer confirms the low tier."""
    from governance import commands as governance
    from registry.queries import model_id_for

    def work():
        model_id = str(model_id_for(name))
        governance.record_intake(
            actor=Actor.user(ledger.users["owner"], auth_method="token"),
            model_id=model_id,
            answers=LOW,
        )
        governance.assign_risk_tier(
            actor=Actor.user(ledger.users["reviewer"], auth_method="token"), model_id=model_id
        )

    ledger.run(work)


def attach_model_card(ledger, name: str, number: int, revision: str = "") -> None:
    from governance import commands as governance
    from governance.policy import MODEL_CARD_FIELDS
    from registry import artifacts
    from registry.queries import get_version, model_id_for

    def work():
        version = get_version(name, number)
        body = f"model card of {name} v{number} {revision}".encode()
        sha256 = hashlib.sha256(body).hexdigest()
        key = governance.evidence_key(version, "model_card", "card.pdf", sha256)
        artifacts.get_store().put(key, body, size=len(body), sha256=sha256)
        card = {field: f"{field} of {name}" for field in MODEL_CARD_FIELDS}
        card.update(name=name, version=str(number), metrics={"auc": 0.9})
        governance.attach_evidence(
            actor=Actor.user(ledger.users["owner"], auth_method="token"),
            model_id=str(model_id_for(name)),
            number=number,
            kind="model_card",
            filename="card.pdf",
            size=len(body),
            sha256=sha256,
            summary=card,
        )

    ledger.run(work)


def approve(ledger, name: str, number: int) -> None:
    from approvals import commands as approvals
    from approvals.models import ApprovalRequest
    from registry.queries import get_version

    def work():
        version = get_version(name, number)
        request = ApprovalRequest.objects.get(version_id=version.id, status="open")
        approvals.record_decision(
            actor=Actor.user(ledger.users["reviewer"], auth_method="token"),
            request_id=str(request.id),
            board="model-risk",
            decision="approve",
            rationale="reviewed the model card",
        )

    ledger.run(work)
