"""Models over HTTP: register, read with an ETag, change, rename and archive with If-Match,
search and filter the list, bad bodies, and time travel."""

from __future__ import annotations

import pytest

from eventstore.models import Event
from tests.api.helpers import assert_problem
from tests.approvals.conftest import INTAKE

pytestmark = pytest.mark.django_db


def test_model_is_created_and_read_back_with_an_etag_when_registered(owner_api, model):
    assert model["name"] == "fraud-detector"
    assert model["version"] == 1
    response = owner_api.get("/api/v1/models/fraud-detector/")
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    assert response.json()["description"] == "Scores transactions"


def test_token_scheme_works_as_well_as_bearer_when_reading(outsider_api, model):
    response = outsider_api.get("/api/v1/models/fraud-detector/")
    assert response.status_code == 200


def test_stale_if_match_gets_412_and_changes_nothing(owner_api, model):
    ok = owner_api.patch(
        "/api/v1/models/fraud-detector/", {"description": "v2"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert ok.status_code == 200
    assert ok["ETag"] == '"2"'
    stale = owner_api.patch(
        "/api/v1/models/fraud-detector/", {"description": "v3"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert_problem(stale, 412, "precondition_failed")
    assert owner_api.get("/api/v1/models/fraud-detector/").json()["description"] == "v2"


@pytest.mark.parametrize("header", ["0", "1", '"abc"', "W/", '"1", "2"'])
def test_malformed_if_match_matches_nothing_and_changes_nothing(owner_api, model, header):
    response = owner_api.patch(
        "/api/v1/models/fraud-detector/", {"description": "v2"}, format="json", HTTP_IF_MATCH=header
    )
    assert_problem(response, 412, "precondition_failed")
    assert owner_api.get("/api/v1/models/fraud-detector/").json()["version"] == 1


def test_model_can_be_renamed_and_archived_when_patched(owner_api, model):
    response = owner_api.patch(
        "/api/v1/models/fraud-detector/",
        {"name": "fraud-v2", "archived": True, "reason": "replaced"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["archived"]) == ("fraud-v2", True)
    assert owner_api.get("/api/v1/models/fraud-detector/").status_code == 404
    refused = owner_api.post("/api/v1/models/fraud-v2/versions/", {}, format="json")
    assert_problem(refused, 409, "model_archived")


def _model_events(name: str) -> list[tuple[int, str]]:
    from registry.models import RegisteredModel

    model_id = RegisteredModel.objects.get(name=name).id
    return list(
        Event.objects.filter(stream_id=model_id).order_by("version").values_list("version", "type")
    )


@pytest.fixture
def appends(monkeypatch) -> list[list[str]]:
    """The event types of each call to the event store's append (which still runs)."""
    from eventstore import store

    calls: list[list[str]] = []
    real = store.append

    def counting(stream, expected_version, events, *args, **kwargs):
        result = real(stream, expected_version, events, *args, **kwargs)
        calls.append([getattr(e, "event_type", getattr(e, "type", "")) for e in events])
        return result

    monkeypatch.setattr(store, "append", counting)
    return calls


def test_combined_patch_changes_nothing_when_the_new_name_is_taken(owner_api, model, appends):
    owner_api.post("/api/v1/models/", {"name": "churn", "team": "fraud-ml"}, format="json")
    before = _model_events("fraud-detector")
    appends.clear()
    response = owner_api.patch(
        "/api/v1/models/fraud-detector/",
        {"description": "changed", "tags": {"k": "v"}, "name": "Churn", "archived": True},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert_problem(response, 409, "name_taken")
    assert appends == []
    assert _model_events("fraud-detector") == before
    after = owner_api.get("/api/v1/models/fraud-detector/")
    assert after["ETag"] == '"1"'
    assert (after.json()["description"], after.json()["archived"]) == ("Scores transactions", False)


def test_combined_patch_changes_nothing_when_the_new_team_is_not_the_actors(owner_api, model):
    from django.contrib.auth.models import Group

    Group.objects.create(name="other-team")
    response = owner_api.patch(
        "/api/v1/models/fraud-detector/",
        {"description": "changed", "team": "other-team", "archived": True},
        format="json",
    )
    assert response.status_code == 403, response.content
    assert [t for _, t in _model_events("fraud-detector")] == ["registry.ModelRegistered"]


def test_combined_patch_appends_all_its_events_in_one_append(owner_api, model, appends):
    response = owner_api.patch(
        "/api/v1/models/fraud-detector/",
        {"description": "changed", "name": "fraud-v2", "archived": True, "reason": "replaced"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"4"'
    body = response.json()
    assert (body["name"], body["description"], body["archived"]) == ("fraud-v2", "changed", True)
    events = _model_events("fraud-v2")
    assert events == [
        (1, "registry.ModelRegistered"),
        (2, "registry.ModelUpdated"),
        (3, "registry.ModelRenamed"),
        (4, "registry.ModelArchived"),
    ]
    assert appends == [["registry.ModelUpdated", "registry.ModelRenamed", "registry.ModelArchived"]]


def test_model_list_searches_filters_and_orders(owner_api, model):
    owner_api.post("/api/v1/models/", {"name": "churn", "team": "fraud-ml"}, format="json")
    names = [m["name"] for m in owner_api.get("/api/v1/models/?ordering=name").json()["results"]]
    assert names == ["churn", "fraud-detector"]
    found = owner_api.get("/api/v1/models/?search=transactions").json()["results"]
    assert [m["name"] for m in found] == ["fraud-detector"]
    assert owner_api.get("/api/v1/models/?team=nobody").json()["results"] == []


def test_time_travel_returns_the_earlier_state_when_as_of_is_given(owner_api, model):
    first = Event.objects.filter(type="registry.ModelRegistered").latest("position").position
    owner_api.patch("/api/v1/models/fraud-detector/", {"description": "later"}, format="json")
    earlier = owner_api.get(f"/api/v1/models/fraud-detector/?as_of={first}").json()
    assert earlier["description"] == "Scores transactions"
    assert earlier["version"] == 1
    long_ago = owner_api.get("/api/v1/models/fraud-detector/?as_of=2001-01-01T00:00:00Z")
    assert_problem(long_ago, 404, "model_not_found")
    assert_problem(
        owner_api.get("/api/v1/models/fraud-detector/?as_of=yesterday"), 400, "validation_error"
    )


def test_outsiders_read_but_cannot_change_when_not_in_the_team(outsider_api, model):
    assert outsider_api.get("/api/v1/models/fraud-detector/versions/").status_code == 200
    denied = outsider_api.post("/api/v1/models/fraud-detector/versions/", {}, format="json")
    assert_problem(denied, 403, "not_owner")
    assert_problem(
        outsider_api.patch("/api/v1/models/fraud-detector/", {"description": "x"}, format="json"),
        403,
        "not_owner",
    )


BAD_MODEL_BODIES = [
    ({"team": "fraud-ml"}, "validation_error"),
    ({"name": "x", "team": "fraud-ml", "colour": "red"}, "validation_error"),
    ({"name": 5, "team": "fraud-ml"}, "validation_error"),
    ({"name": True, "team": "fraud-ml"}, "validation_error"),
    ({"name": ["x"], "team": "fraud-ml"}, "validation_error"),
    ({"name": "../../etc/passwd", "team": "fraud-ml"}, "validation_error"),
    ({"name": "a\u202eb", "team": "fraud-ml"}, "validation_error"),
    ({"name": "x", "team": "fraud-ml", "tags": {"k": 1}}, "validation_error"),
    ({"name": "x", "team": "fraud-ml", "tags": "nope"}, "validation_error"),
    ({"name": "x", "team": "fraud-ml", "description": "nul\x00byte"}, "validation_error"),
]


@pytest.mark.parametrize(("body", "code"), BAD_MODEL_BODIES)
def test_bad_model_bodies_get_400_problem_and_append_nothing(owner_api, team, body, code):
    before = Event.objects.count()
    response = owner_api.post("/api/v1/models/", body, format="json")
    assert_problem(response, 400, code)
    assert Event.objects.count() == before


LOW_RISK_INTAKE = INTAKE["low"]


def test_time_travel_reports_the_risk_tier_as_it_was(owner_api, owner_actor, model):
    from core.actors import Actor
    from governance import commands as governance
    from tests.conftest import make_user

    officer = Actor.user(make_user("rafa-risk", superuser=True), auth_method="session")
    governance.record_intake(actor=owner_actor, model_id=model["id"], answers=LOW_RISK_INTAKE)
    before_tier = Event.objects.order_by("-position").values_list("position", flat=True)[0]
    governance.assign_risk_tier(actor=officer, model_id=model["id"])
    confirmed_low = Event.objects.order_by("-position").values_list("position", flat=True)[0]
    governance.assign_risk_tier(
        actor=officer, model_id=model["id"], tier="high", reason="feeds credit decisions"
    )
    path = "/api/v1/models/fraud-detector/"
    assert owner_api.get(path).json()["risk_tier"] == "high"
    assert owner_api.get(f"{path}?as_of={confirmed_low}").json()["risk_tier"] == "low"
    assert owner_api.get(f"{path}?as_of={before_tier}").json()["risk_tier"] == ""
    moment = Event.objects.get(position=confirmed_low).recorded_at.isoformat()
    assert owner_api.get(path, {"as_of": moment}).json()["risk_tier"] == "low"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/models/", {"name": "churn-model", "team": "fraud-ml"}),
        ("/api/v1/datasets/", {"name": "s3://lake/churn", "team": "fraud-ml"}),
    ],
)
def test_repeated_registration_with_the_same_idempotency_key_registers_once(owner_api, path, body):
    first = owner_api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-1")
    assert first.status_code == 201, first.content
    appended = Event.objects.count()
    again = owner_api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-1")
    assert again.status_code == first.status_code, again.content
    assert again.json() == first.json()
    assert Event.objects.count() == appended
    changed = owner_api.post(
        path, {**body, "description": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="reg-1"
    )
    assert_problem(changed, 422, "idempotency_key_reused")
    assert Event.objects.count() == appended
