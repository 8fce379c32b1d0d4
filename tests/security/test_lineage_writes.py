"""The attacker's side of lineage writes: another team linking its dataset into the upstream
lineage of a model it does not own (directly and through a `run:` node, by the REST API and by
OpenLineage), a flood of edges from one user, datasets first seen in OpenLineage registered for
a role group, squatting a claimed dataset name prefix, an oversized RunEvent. Each is refused,
and each test says what the attacker sees."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from core.actors import Actor
from lineage import queries
from lineage.models import LineageEdge
from registry import commands
from registry.commands import DatasetVersionInput, VersionInput
from registry.models import Dataset
from tests.api.conftest import client_for
from tests.conftest import make_user

EDGES = "/api/v1/lineage/edges/"
OPENLINEAGE = "/api/v1/lineage"
VICTIM_RUN = "train-fraud-2026-11"


@pytest.fixture
def world(db, owner, team):
    """fraud-ml owns a model trained by a run it reported and a dataset; growth is another team
    whose member, mallory, has a dataset of her own."""
    victim = Actor.user(owner, auth_method="token")
    commands.choose_default_team(actor=victim, user_id=owner.pk, team="fraud-ml")
    model = commands.register_model(actor=victim, name="fraud-detector", team="fraud-ml")
    commands.create_model_version(
        actor=victim, model_id=model.id, data=VersionInput(run_id=VICTIM_RUN)
    )
    data = commands.register_dataset(
        actor=victim, name="s3://lake/customers/2026-11", team="fraud-ml"
    )
    commands.create_dataset_version(
        actor=victim, dataset_id=data.id, data=DatasetVersionInput(uri="s3://lake/customers/1")
    )
    growth = Group.objects.create(name="growth")
    mallory = make_user("mallory", growth)
    attacker = Actor.user(mallory, auth_method="token")
    commands.choose_default_team(actor=attacker, user_id=mallory.pk, team="growth")
    evil = commands.register_dataset(actor=attacker, name="evil-clicks", team="growth")
    commands.create_dataset_version(
        actor=attacker, dataset_id=evil.id, data=DatasetVersionInput(uri="s3://growth/evil")
    )

    class World:
        pass

    w = World()
    w.owner, w.mallory, w.growth = owner, mallory, growth
    w.victim_api, w.api = client_for(owner), client_for(mallory)
    return w


def _upstream(node: str) -> set[str]:
    start = queries.get_node(node)
    walk = queries.closure(start.id, direction=queries.UPSTREAM, depth=10)
    return {n.key for n in queries.nodes(walk.nodes).values()}


def _edge(api, source, target, edge_type):
    return api.post(EDGES, {"source": source, "target": target, "type": edge_type}, format="json")


def _run_event(run_id, state="START", inputs=(), outputs=()):
    def dataset(full):
        namespace, name = full.split("/", 1) if "/" in full else ("ns", full)
        return {"namespace": namespace, "name": name}

    return {
        "eventType": state,
        "eventTime": "2026-11-23T12:00:00+00:00",
        "run": {"runId": run_id},
        "job": {"namespace": "spark", "name": "job"},
        "producer": "https://example.test/producer",
        "inputs": [dataset(d) for d in inputs],
        "outputs": [dataset(d) for d in outputs],
    }


# -- another team writing into a model's upstream lineage ----------------------------------


def test_another_team_cannot_link_its_dataset_into_a_model_it_does_not_own(world):
    response = _edge(world.api, "dataset:evil-clicks@1", "model:fraud-detector@1", "trained_on")
    assert response.status_code == 403
    assert response.json()["code"] == "not_owner"
    assert "dataset:evil-clicks@1" not in _upstream("model:fraud-detector@1")


def test_another_team_cannot_feed_the_run_that_trained_a_model_it_does_not_own(world):
    # The run is fraud-ml's: it reported it first, when its model version named it.
    response = _edge(world.api, "dataset:evil-clicks@1", f"run:{VICTIM_RUN}", "consumed")
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "not_run_owner"
    assert "fraud-ml" not in response.json()["detail"]  # who owns it is not told
    assert "dataset:evil-clicks@1" not in _upstream("model:fraud-detector@1")


def test_another_team_cannot_make_its_own_run_produce_a_model_it_does_not_own(world):
    assert (
        _edge(world.api, "dataset:evil-clicks@1", "run:growth-run", "consumed").status_code == 201
    )
    response = _edge(world.api, "run:growth-run", "model:fraud-detector@1", "produced")
    assert response.status_code == 403
    assert response.json()["code"] == "not_owner"
    assert "dataset:evil-clicks@1" not in _upstream("model:fraud-detector@1")


def test_another_team_cannot_make_its_run_produce_a_dataset_it_does_not_own(world):
    response = _edge(
        world.api, "run:growth-run", "dataset:s3://lake/customers/2026-11@1", "produced"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_owner"
    target = queries.get_node("dataset:s3://lake/customers/2026-11@1")
    assert not LineageEdge.objects.filter(target_id=target.id).exists()


def test_other_teams_datasets_stay_usable_as_inputs(world):
    # Read rights suffice for a source: growth trains on fraud-ml's dataset in its own run.
    response = _edge(
        world.api, "dataset:s3://lake/customers/2026-11@1", "run:growth-run", "consumed"
    )
    assert response.status_code == 201, response.content


def test_another_team_cannot_feed_the_victims_run_through_openlineage(world):
    response = world.api.post(
        OPENLINEAGE, _run_event(VICTIM_RUN, inputs=["evil-clicks"]), format="json"
    )
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "not_run_owner"
    assert "dataset:evil-clicks" not in _upstream("model:fraud-detector@1")


def test_a_run_first_reported_over_openlineage_belongs_to_the_senders_team(world):
    ok = world.victim_api.post(OPENLINEAGE, _run_event("etl-42"), format="json")
    assert ok.status_code == 201, ok.content
    response = world.api.post(
        OPENLINEAGE, _run_event("etl-42", "COMPLETE", outputs=["s3://growth/out"]), format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_run_owner"
    assert not Dataset.objects.filter(name="s3://growth/out").exists()  # nothing of it stayed
    rest = _edge(world.api, "dataset:evil-clicks@1", "run:etl-42", "consumed")
    assert rest.status_code == 403


def test_another_teams_completed_run_cannot_write_a_version_of_the_victims_dataset(world):
    event = _run_event("growth-etl", "COMPLETE", outputs=["s3://lake/customers/2026-11"])
    response = world.api.post(OPENLINEAGE, event, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "not_owner"


# -- a flood of edges ------------------------------------------------------------------------


def test_fifteen_hundred_edges_into_a_model_from_one_user_all_land_nowhere(world):
    refused = {
        _edge(world.api, f"run:flood-{i}", "model:fraud-detector@1", "produced").status_code
        for i in range(1500)
    }
    assert refused == {403}
    model = queries.get_node("model:fraud-detector@1")
    assert LineageEdge.objects.filter(target_id=model.id).count() == 1  # its own run's


def test_a_node_with_fifteen_hundred_edges_is_read_a_bounded_page_at_a_time(world):
    for i in range(1500):
        assert (
            _edge(world.api, "dataset:evil-clicks@1", f"run:flood-{i}", "consumed").status_code
            == 201
        )
    page = world.api.get(EDGES, {"node": "dataset:evil-clicks@1"})
    assert page.status_code == 200
    body = page.json()
    assert len(body["results"]) == 50 and body["next"]
    assert (
        world.api.get(EDGES, {"node": "dataset:evil-clicks@1", "page_size": 1000}).status_code
        == 400
    )
    seen, url = 0, EDGES + "?node=dataset:evil-clicks@1&page_size=200"
    while url:
        body = world.api.get(url).json()
        seen += len(body["results"])
        url = body["next"]
    assert seen == 1500
    walk = world.api.get("/api/v1/lineage/downstream/", {"node": "dataset:evil-clicks@1"})
    assert walk.status_code == 200
    assert len(walk.json()["nodes"]) == 1000 and walk.json()["truncated"] is True
    too_many = world.api.get(
        "/api/v1/lineage/downstream/", {"node": "dataset:evil-clicks@1", "limit": 100001}
    )
    assert too_many.status_code == 400


# -- datasets first seen in OpenLineage ---------------------------------------------------------


def test_a_dataset_first_seen_in_openlineage_is_never_registered_for_a_role_group(db):
    auditors, _ = Group.objects.get_or_create(name="auditors")
    board, _ = Group.objects.get_or_create(name="board:model-risk")
    officers = Group.objects.create(name="aaa-risk-officers")
    officers.permissions.add(Permission.objects.get(codename="assign_risk_tier"))
    # Alphabetically first is the officers' group: that was the team datasets went to.
    mixed = make_user("rory", auditors, board, officers)
    api = client_for(mixed)
    response = api.post(OPENLINEAGE, _run_event("r1", inputs=["s3://x/new"]), format="json")
    assert response.status_code == 422
    assert response.json()["code"] == "no_team"
    assert not Dataset.objects.filter(name="s3://x/new").exists()
    for role in ("auditors", "board:model-risk", "aaa-risk-officers"):
        chosen = api.put("/api/v1/users/me/default-team/", {"team": role}, format="json")
        assert chosen.status_code == 422, role
        assert chosen.json()["code"] == "not_a_team"


def test_a_user_cannot_choose_a_team_they_are_not_in_and_only_admins_choose_for_others(world):
    chosen = world.api.put("/api/v1/users/me/default-team/", {"team": "fraud-ml"}, format="json")
    assert chosen.status_code == 422
    assert chosen.json()["code"] == "not_a_member"
    other = world.api.put(
        f"/api/v1/users/{world.owner.username}/default-team/", {"team": "growth"}, format="json"
    )
    assert other.status_code == 403
    assert world.api.get("/api/v1/users/me/default-team/").json()["team"] == "growth"


def test_a_default_team_the_user_has_left_registers_nothing(world):
    world.mallory.groups.remove(world.growth)  # a group change that records no event
    response = world.api.post(OPENLINEAGE, _run_event("r2", inputs=["s3://x/new"]), format="json")
    assert response.status_code == 422
    assert response.json()["code"] == "no_team"


# -- squatting a claimed prefix ---------------------------------------------------------------


@pytest.fixture
def claimed(world):
    admin = make_user("root", superuser=True)
    response = client_for(admin).post(
        "/api/v1/lineage/dataset-prefixes/",
        {"prefix": "s3://lake/", "team": "fraud-ml"},
        format="json",
    )
    assert response.status_code == 201, response.content
    world.admin_api = client_for(admin)
    return world


@pytest.mark.parametrize("name", ["s3://lake/customers/2026-12", "S3://LAKE/customers/2026-12"])
def test_another_team_cannot_squat_a_claimed_prefix_through_the_api(claimed, name):
    response = claimed.api.post(
        "/api/v1/datasets/", {"name": name, "team": "growth"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "prefix_claimed"
    assert not Dataset.objects.filter(name__iexact=name).exists()


def test_another_team_cannot_squat_a_claimed_prefix_through_openlineage(claimed):
    event = _run_event("growth-etl", inputs=["s3://lake/customers/2026-12"])
    response = claimed.api.post(OPENLINEAGE, event, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "prefix_claimed"
    # The owner's own events go through.
    ok = claimed.victim_api.post(
        OPENLINEAGE,
        _run_event("etl-7", "COMPLETE", outputs=["s3://lake/customers/2026-12"]),
        format="json",
    )
    assert ok.status_code == 201, ok.content


def test_only_admins_claim_prefixes_and_overlapping_claims_are_refused(claimed):
    mine = claimed.api.post(
        "/api/v1/lineage/dataset-prefixes/",
        {"prefix": "s3://lake/x/", "team": "growth"},
        format="json",
    )
    assert mine.status_code == 403
    for prefix in ("s3://", "s3://lake/customers/", "S3://Lake/"):
        overlap = claimed.admin_api.post(
            "/api/v1/lineage/dataset-prefixes/", {"prefix": prefix, "team": "growth"}, format="json"
        )
        assert overlap.status_code == 409, prefix
        assert overlap.json()["code"] == "prefix_conflict"
    # A prefix under which another team already holds datasets is not claimed over them.
    taken = claimed.admin_api.post(
        "/api/v1/lineage/dataset-prefixes/", {"prefix": "evil", "team": "fraud-ml"}, format="json"
    )
    assert taken.status_code == 409
    # A claim for a role group is no team's claim.
    role = claimed.admin_api.post(
        "/api/v1/lineage/dataset-prefixes/", {"prefix": "gs://", "team": "auditors"}, format="json"
    )
    assert role.status_code == 422
    assert role.json()["code"] == "not_a_team"


# -- an oversized event ------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["inputs", "outputs"])
def test_an_event_with_more_than_a_hundred_datasets_a_side_is_refused(world, side):
    names = [f"s3://growth/part-{i}" for i in range(101)]
    event = _run_event("big", "COMPLETE", **{side: names})
    response = world.api.post(OPENLINEAGE, event, format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [side]
    assert not Dataset.objects.filter(name__startswith="s3://growth/part-").exists()
