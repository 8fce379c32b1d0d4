"""An attacker's view of retries and reads.

Retries: every command of the API repeated with the same Idempotency-Key by the same caller
answers with the first result (status and body), even where the command would now refuse the
transition; the same key for a different request is refused.

Reads: a user with no part in a model (another team, on no board) reads the model and its
versions, but not its evidence, storage paths, approval requests or findings: 404 on every
door, and nothing of them in the payloads they may read."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import resolve

from api.idempotency import IdempotentCommands
from core import clock
from governance.models import Evidence
from tests.api.conftest import client_for
from tests.approvals.conftest import governed_version, unique_name
from tests.conftest import make_user
from tests.governance.helpers import SPEC, approved_version, model_of_tier, rows
from tests.helpers.admin import staff_client

pytestmark = pytest.mark.django_db
COMMAND_METHODS = ("post", "put", "patch")


@pytest.fixture
def stranger(db):
    """A member of another team, on no board, with no global permission."""
    return make_user("mallory-other", Group.objects.create(name="other-team"))


def _same(first, again) -> None:
    assert 200 <= first.status_code < 300, first.content
    assert again.status_code == first.status_code, again.content
    assert again.content == first.content
    assert again.get("ETag") == first.get("ETag")


def _twice(client, url: str, body: dict, key: str):
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    _same(first, again)
    return first


# -- retries -----------------------------------------------------------------------------------


def test_every_command_operation_of_the_schema_goes_through_the_idempotency_layer(cast):
    schema = client_for(cast.admin).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    checked = []
    for path, operations in paths.items():
        for method in COMMAND_METHODS:
            if method not in operations:
                continue
            sample = path
            for name in ("name", "board", "alias", "filename"):
                sample = sample.replace("{" + name + "}", "x")
            for name in ("number", "user_id"):
                sample = sample.replace("{" + name + "}", "1")
            for name in ("request_id", "audit_id", "finding_id", "incident_id", "review_id"):
                sample = sample.replace("{" + name + "}", "00000000-0000-0000-0000-000000000001")
            view = resolve(sample).func.cls
            assert issubclass(view, IdempotentCommands), f"{method.upper()} {path}"
            headers = [p["name"] for p in operations[method].get("parameters", [])]
            assert "Idempotency-Key" in headers, f"{method.upper()} {path}"
            checked.append((method, path))
    assert len(checked) >= 30


def test_a_repeated_decision_withdrawal_suspension_and_reinstatement_return_the_first_result(
    cast, evidence_store
):
    model, _ = governed_version(cast, evidence_store, "low", unique_name("retry"))
    owner = client_for(cast.owner)
    created = _twice(
        owner, "/api/v1/approvals/", {"model": model.name, "version": 1}, "request-1"
    ).json()
    url = f"/api/v1/approvals/{created['id']}/"
    reviewer = client_for(cast.reviewer("model-risk", 1))
    decision = {"board": "model-risk", "decision": "approve", "rationale": "read the card"}
    approved = _twice(reviewer, f"{url}decisions/", decision, "decision-1")
    assert approved.json()["status"] == "approved"
    chair = client_for(cast.officer)
    reason = {"reason": "drift seen in production"}
    _twice(chair, f"{url}suspension/", reason, "suspend-1")
    _twice(client_for(cast.reviewer("model-risk", 2)), f"{url}reinstatement/", reason, "lift-1")

    model2, _ = governed_version(cast, evidence_store, "low", unique_name("withdrawn"))
    request2 = owner.post(
        "/api/v1/approvals/", {"model": model2.name, "version": 1}, format="json"
    ).json()
    _twice(owner, f"/api/v1/approvals/{request2['id']}/withdraw/", {"reason": "not yet"}, "w-1")


def test_a_repeated_waiver_board_member_finding_closure_and_incident_return_the_first_result(
    cast, evidence_store
):
    model, _ = governed_version(cast, evidence_store, "high", unique_name("waived"), skip=("dpia",))
    waiver = {
        "kind": "dpia",
        "reason": "legal review pending",
        "expires_at": (clock.now() + timedelta(days=30)).isoformat(),
    }
    chair = client_for(cast.officer)
    _twice(chair, f"/api/v1/models/{model.name}/versions/1/waivers/", waiver, "waive-1")

    newcomer = make_user("nina-new")
    admin = client_for(cast.admin)
    _twice(admin, "/api/v1/boards/ethics/members/", {"user_id": newcomer.pk}, "member-1")

    audited, _, _ = approved_version(cast, evidence_store, "high")
    audit = client_for(cast.owner).post(
        f"/api/v1/models/{audited.name}/versions/1/bias-audits/",
        {"spec": SPEC, "rows": rows(0.8, 0.3)},
        format="json",
    )
    assert audit.status_code == 201, audit.content
    finding = audit.json()["finding_id"]
    closure = {"resolution": "retrained with reweighting", "evidence": "audit 2 passed"}
    ethics = client_for(cast.reviewer("ethics"))
    _twice(ethics, f"/api/v1/findings/{finding}/closure/", closure, "close-1")

    incident_model = model_of_tier(cast, "high")
    aware = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    body = {
        "title": "limits zeroed",
        "description": "a pipeline fault",
        "occurred_at": (aware - timedelta(hours=2)).isoformat(),
        "became_aware_at": aware.isoformat(),
        "classes": ["serious"],
    }
    with clock.frozen(aware + timedelta(hours=1)):
        _twice(
            client_for(cast.owner), f"/api/v1/models/{incident_model.name}/incidents/", body, "i-1"
        )


def test_the_same_key_for_a_different_request_is_refused(cast, evidence_store):
    model, _ = governed_version(cast, evidence_store, "low", unique_name("reuse"))
    owner = client_for(cast.owner)
    created = owner.post(
        "/api/v1/approvals/",
        {"model": model.name, "version": 1},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert created.status_code == 201
    url = f"/api/v1/approvals/{created.json()['id']}/withdraw/"
    for body in ({"reason": "other"},):
        refused = owner.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert refused.status_code == 422, refused.content
        assert refused.json()["code"] == "idempotency_key_reused"
    other_body = owner.post(
        "/api/v1/approvals/",
        {"model": model.name, "version": 1, "notes": "changed"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert other_body.status_code == 422 and other_body.json()["code"] == "idempotency_key_reused"
    # Another caller's key is its own: the same key names nothing of the owner's.
    stranger = make_user("sid-stranger")
    theirs = client_for(stranger).post(
        url, {"reason": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert theirs.status_code == 404


# -- reads -------------------------------------------------------------------------------------


@pytest.fixture
def record(cast, evidence_store):
    """A high-tier model with evidence, an approved request and an open finding."""
    model, version, request = approved_version(cast, evidence_store, "high")
    audit = client_for(cast.owner).post(
        f"/api/v1/models/{model.name}/versions/1/bias-audits/",
        {"spec": SPEC, "rows": rows(0.8, 0.3)},
        format="json",
    )
    assert audit.status_code == 201, audit.content
    return model, version, request, audit.json()


def test_a_stranger_reads_the_model_and_version_but_none_of_its_record(record, stranger):
    model, _version, request, audit = record
    api = client_for(stranger)
    base = f"/api/v1/models/{model.name}"
    assert api.get(f"{base}/").status_code == 200
    shown = api.get(f"{base}/versions/1/")
    assert shown.status_code == 200
    assert shown.json()["artifact_uri"] == ""
    listed = api.get(f"{base}/versions/")
    assert all(v["artifact_uri"] == "" for v in listed.json()["results"])
    for url in (
        f"{base}/versions/1/evidence/",
        f"{base}/versions/1/artifact/",
        f"/api/v1/approvals/{request.id}/",
        f"/api/v1/approvals/{request.id}/history/",
        f"/api/v1/findings/{audit['finding_id']}/",
        f"/api/v1/bias-audits/{audit['id']}/",
    ):
        response = api.get(url)
        assert response.status_code == 404, (url, response.content)
    assert api.get("/api/v1/approvals/").json()["results"] == []
    assert api.get("/api/v1/findings/").json()["results"] == []
    promotion = api.get(f"{base}/versions/1/promotion/")
    assert str(request.id) not in promotion.content.decode()


def _pages(api, url: str) -> list[dict]:
    """Every page of a history, followed through its `next` links."""
    pages = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, (url, response.content)
        pages.append(response.json())
        url = pages[-1]["next"]
    return pages


def _histories(model) -> tuple[str, str]:
    base = f"/api/v1/models/{model.name}"
    return f"{base}/history/", f"{base}/versions/1/history/"


def test_a_stranger_finds_no_request_ids_or_storage_paths_in_history(record, stranger):
    model, _version, request, _audit = record
    api = client_for(stranger)
    for url in _histories(model):
        response = api.get(url)
        assert response.status_code == 200, response.content
        text = response.content.decode()
        assert str(request.id) not in text, url
        assert "artifacts/" not in text and "evidence/" not in text, url


def test_a_strangers_history_names_what_it_withholds_and_keeps_the_chain(record, stranger, cast):
    model, _version, _request, _audit = record
    for url in _histories(model):
        entries = client_for(stranger).get(url).json()["results"]
        whole = client_for(cast.owner).get(url).json()["results"]
        assert [e["hash"] for e in entries] == [e["hash"] for e in whole]
        assert [e["prev_hash"] for e in entries] == [e["prev_hash"] for e in whole]
        for shown, full in zip(entries, whole, strict=True):
            assert full["redacted"] == []
            for path in shown["redacted"]:
                part, field = path.split(".")
                assert shown[part][field] is None and full[part][field] is not None
            for part in ("data", "metadata"):
                withheld = {p.split(".")[1] for p in shown["redacted"] if p.startswith(part)}
                kept = {k: v for k, v in shown[part].items() if k not in withheld}
                assert kept == {k: full[part][k] for k in kept}
        linked = [e for e in entries if e["type"] == "registry.StreamLinked"]
        assert linked and all("data.stream_id" in e["redacted"] for e in linked)
        assert all("metadata.causation_id" in e["redacted"] for e in linked)
    version_entries = client_for(stranger).get(_histories(model)[1]).json()["results"]
    verified = next(e for e in version_entries if e["type"] == "registry.ArtifactVerified")
    assert verified["redacted"] == ["data.uri"] and verified["data"]["uri"] is None


@pytest.mark.parametrize("query", ["?page_size=1", "?after_version=1", "?page_size=2&format=json"])
def test_no_page_of_a_strangers_history_names_the_record(record, stranger, query):
    model, _version, request, _audit = record
    api = client_for(stranger)
    for url in _histories(model):
        pages = _pages(api, url + query)
        text = json.dumps(pages)
        assert pages[0]["results"], url
        assert str(request.id) not in text, url
        assert "artifacts/" not in text and "evidence/" not in text, url


def test_a_stranger_reading_the_version_as_of_any_point_sees_no_storage_path(
    record, stranger, cast
):
    model, _version, request, _audit = record
    api = client_for(stranger)
    base = f"/api/v1/models/{model.name}"
    entries = client_for(cast.owner).get(f"{base}/versions/1/history/").json()["results"]
    for entry in entries:
        for point in (entry["position"], entry["recorded_at"]):
            for url in (f"{base}/versions/1/", f"{base}/", f"{base}/versions/"):
                response = api.get(url, {"as_of": point})
                assert response.status_code == 200, (url, response.content)
                text = response.content.decode()
                assert str(request.id) not in text and "artifacts/" not in text, (url, point)


def test_parties_read_the_history_whole(record, cast):
    model, _version, request, _audit = record
    auditor = make_user("aldo-auditor", perms=("approvals.view_approvalrequest",))
    for user in (cast.owner, cast.reviewer("legal"), cast.officer, auditor, cast.admin):
        api = client_for(user)
        model_history = api.get(_histories(model)[0]).content.decode()
        version_history = api.get(_histories(model)[1]).json()["results"]
        assert all(e["redacted"] == [] for e in version_history), user
        assert str(request.id) in model_history + json.dumps(version_history), user
        verified = next(e for e in version_history if e["type"] == "registry.ArtifactVerified")
        assert verified["data"]["uri"], user


def test_a_team_named_like_the_owning_team_after_a_rename_sees_nothing(record, cast, stranger):
    """Visibility follows the group holding the model's grants (by id), not its name: the
    owning team renamed, and another group given the old name, the newcomers see nothing."""
    model, _, request, _audit = record
    owning = Group.objects.get(name="fraud-ml")
    owning.name = "fraud-ml-renamed"
    owning.save()
    impostors = Group.objects.create(name="fraud-ml")
    stranger.groups.add(impostors)
    intruder = client_for(stranger)
    assert intruder.get(f"/api/v1/approvals/{request.id}/").status_code == 404
    assert intruder.get(f"/api/v1/models/{model.name}/versions/1/evidence/").status_code == 404
    api = client_for(cast.owner)
    assert api.get(f"/api/v1/approvals/{request.id}/").status_code == 200
    assert api.get(f"/api/v1/models/{model.name}/versions/1/evidence/").status_code == 200


def test_the_owning_team_boards_officers_and_auditors_still_read_the_record(record, cast):
    model, _, request, audit = record
    auditor = make_user(
        "audrey-auditor",
        perms=(
            "approvals.view_approvalrequest",
            "governance.view_finding",
            "governance.view_evidence",
        ),
    )
    for user in (cast.owner, cast.reviewer("legal"), cast.officer, auditor, cast.admin):
        api = client_for(user)
        assert api.get(f"/api/v1/approvals/{request.id}/").status_code == 200, user
        evidence = api.get(f"/api/v1/models/{model.name}/versions/1/evidence/")
        assert evidence.status_code == 200, user
        assert evidence.json()["results"], user
    ethics = client_for(cast.reviewer("ethics"))
    assert ethics.get(f"/api/v1/findings/{audit['finding_id']}/").status_code == 200


def _refused_in_the_admin(client, url: str, *secrets: str) -> None:
    response = client.get(url)
    assert response.status_code in (302, 403, 404), (url, response.status_code)
    text = response.content.decode()
    assert not any(secret in text for secret in secrets), url


def _admin_record_urls(record) -> dict[str, tuple[str, str]]:
    """(changelist, change page) of each admin holding a piece of the model's record."""
    model, _version, request, audit = record
    evidence = Evidence.objects.filter(model_id=model.id).first()
    return {
        "request": ("/admin/approvals/approvalrequest/", f"{request.id}"),
        "evidence": ("/admin/governance/evidence/", f"{evidence.pk}"),
        "finding": ("/admin/governance/finding/", audit["finding_id"]),
        "audit": ("/admin/governance/biasaudit/", audit["id"]),
    }


def test_staff_with_no_role_neither_list_nor_open_a_models_record_in_the_admin(record, stranger):
    """A staff account of another team, on no board, neither officer nor auditor: every admin
    of the record refuses it, as the API answers 404."""
    admin_client = staff_client(stranger)
    _model, _version, request, _audit = record
    for changelist, pk in _admin_record_urls(record).values():
        _refused_in_the_admin(admin_client, changelist, pk, str(request.id))
        _refused_in_the_admin(admin_client, f"{changelist}{pk}/change/", pk, str(request.id))
    _refused_in_the_admin(admin_client, "/admin/approvals/reviewdecision/", str(request.id))


def test_a_board_member_not_involved_lists_none_of_the_record_in_the_admin(record, cast):
    """The security board is not asked about the model (high tier: model-risk, legal and
    ethics): its member lists no request, evidence or finding of it and opens none; the
    bias audit stays readable by every board member, as in the API."""
    member = cast.reviewer("security")
    admin_client = staff_client(member)
    urls = _admin_record_urls(record)
    for kind in ("request", "evidence", "finding"):
        changelist, pk = urls[kind]
        listed = admin_client.get(changelist)
        assert listed.status_code in (200, 403), (changelist, listed.status_code)
        assert pk not in listed.content.decode(), changelist
        _refused_in_the_admin(admin_client, f"{changelist}{pk}/change/", pk)
    api = client_for(member)
    _model, _version, request, audit = record
    assert api.get(f"/api/v1/approvals/{request.id}/").status_code == 404
    assert api.get(f"/api/v1/findings/{audit['finding_id']}/").status_code == 404


def test_the_owning_team_and_the_boards_asked_open_the_record_in_the_admin(record, cast):
    """The admin reads through the API's predicate: the owners and the boards asked open the
    model's request and evidence (staff accounts, no global permission)."""
    urls = _admin_record_urls(record)
    for user in (cast.owner, cast.reviewer("legal")):
        admin_client = staff_client(user)
        for kind in ("request", "evidence"):
            changelist, pk = urls[kind]
            listed = admin_client.get(changelist)
            assert listed.status_code == 200, (user, changelist)
            assert pk in listed.content.decode(), (user, changelist)
            opened = admin_client.get(f"{changelist}{pk}/change/")
            assert opened.status_code == 200, (user, changelist)


def test_a_team_that_no_longer_owns_the_model_loses_its_record_in_the_admin(record, cast):
    """Moved to a team its old owners are not in, the model's evidence leaves their admin."""
    model, _version, _request, _audit = record
    owner = cast.owner
    movers = Group.objects.create(name="fraud-ml-platform")
    owner.groups.add(movers)
    moved = client_for(owner).patch(
        f"/api/v1/models/{model.name}/", {"team": movers.name}, format="json"
    )
    assert moved.status_code == 200, moved.content
    owner.groups.remove(movers)
    changelist, pk = _admin_record_urls(record)["evidence"]
    _refused_in_the_admin(staff_client(owner), changelist, pk)
    _refused_in_the_admin(staff_client(owner), f"{changelist}{pk}/change/", pk)
    evidence = client_for(owner).get(f"/api/v1/models/{model.name}/versions/1/evidence/")
    assert evidence.status_code == 404
