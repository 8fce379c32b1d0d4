"""Reads about boards after changes through the board commands: boards by name, members and
chairs of named boards, the boards a user sits on, a model's owners (by the group holding its
change grant) and a version's authors."""

from __future__ import annotations

import pytest

from boards import commands as board_commands
from boards import queries
from boards.errors import BoardNotFound
from boards.rules import BOARDS
from core.actors import Actor
from registry import commands as registry
from registry.commands import VersionInput
from tests.conftest import make_user, seed_ledger

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin() -> Actor:
    seed_ledger()  # a no-op unless the test emptied the log
    return Actor.user(make_user("ada-admin", superuser=True), auth_method="session")


@pytest.fixture
def crew(admin):
    """ann and ben on legal, ben and cat on ethics; ann chairs legal, ethics has no chair."""
    ann, ben, cat = make_user("ann-q"), make_user("ben-q"), make_user("cat-q")
    for board, users in (("legal", (ann, ben)), ("ethics", (ben, cat))):
        for user in users:
            board_commands.add_board_member(actor=admin, board=board, user_id=user.pk)
    board_commands.appoint_chair(actor=admin, board="legal", user_id=ann.pk)
    return ann, ben, cat


def test_board_by_name_ignores_case_and_knows_only_recorded_boards(admin):
    for name in BOARDS:
        assert queries.board_by_name(name.upper()).name == name
        assert queries.get_board(name) == queries.board_by_name(name)
    with pytest.raises(BoardNotFound):
        queries.board_by_name("no-such-board")
    made = board_commands.create_board(actor=admin, name="fresh", title="Fresh")
    assert queries.board_by_name("Fresh") == made


def test_board_members_are_the_members_of_any_named_board_each_once(crew):
    ann, ben, cat = crew
    assert queries.board_members(["legal"]) == sorted([ann.pk, ben.pk])
    assert queries.board_members(["legal", "ethics"]) == sorted([ann.pk, ben.pk, cat.pk])
    assert queries.board_members(["ethics", "no-such-board"]) == sorted([ben.pk, cat.pk])
    assert queries.board_members([]) == []


def test_board_chairs_are_the_chairs_of_the_named_boards_that_have_one(admin, crew):
    ann, ben, cat = crew
    assert queries.board_chairs(["legal", "ethics"]) == [ann.pk]
    board_commands.appoint_chair(actor=admin, board="ethics", user_id=cat.pk)
    assert queries.board_chairs(["legal", "ethics"]) == sorted([ann.pk, cat.pk])
    assert queries.board_chairs(["ethics"]) == [cat.pk]

    board_commands.appoint_chair(actor=admin, board="legal", user_id=ben.pk)
    assert queries.board_chairs(["legal"]) == [ben.pk]
    board_commands.remove_board_member(actor=admin, board="legal", user_id=ben.pk)
    assert queries.board_chairs(["legal", "ethics"]) == [cat.pk]


def test_boards_of_and_is_member_follow_members_joining_and_leaving(admin, crew, outsider):
    ann, ben, cat = crew
    assert queries.boards_of(ben) == ["ethics", "legal"]
    assert queries.boards_of(ann) == ["legal"]
    assert queries.boards_of(outsider) == []
    assert queries.boards_of(None) == []

    assert queries.is_member(ann) and queries.is_member(ann, ["legal"])
    assert not queries.is_member(ann, ["ethics", "security"])
    assert not queries.is_member(outsider)
    assert not queries.is_member(None)
    assert not queries.is_member(ann, [])

    board_commands.remove_board_member(actor=admin, board="ethics", user_id=ben.pk)
    board_commands.add_board_member(actor=admin, board="security", user_id=outsider.pk)
    assert queries.boards_of(ben) == ["legal"]
    assert not queries.is_member(ben, ["ethics"])
    assert queries.boards_of(outsider) == ["security"]
    assert queries.is_member(outsider, ["security"])
    assert queries.board_members(["ethics"]) == [cat.pk]


def test_owner_ids_are_the_members_of_the_group_holding_the_models_change_grant(
    owner, team, outsider
):
    from django.contrib.auth.models import Group

    actor = Actor.user(owner, auth_method="token")
    model = registry.register_model(actor=actor, name="owned", team="fraud-ml")
    second = make_user("otto-owner", team)
    assert queries.owner_ids(model.id) == sorted([owner.pk, second.pk])
    assert queries.owner_group_ids(model.id) == [team.pk]
    assert outsider.pk not in queries.owner_ids(model.id)
    team.name = "renamed-in-the-admin"
    team.save()
    assert queries.owner_ids(model.id) == sorted([owner.pk, second.pk])
    unrelated = Group.objects.create(name="fraud-ml")
    outsider.groups.add(unrelated)
    assert outsider.pk not in queries.owner_ids(model.id)


def test_stream_authors_are_the_users_who_wrote_the_version_and_no_one_for_the_system(owner):
    actor = Actor.user(owner, auth_method="token")
    model = registry.register_model(actor=actor, name="authored", team="fraud-ml")
    made = registry.create_model_version(actor=actor, model_id=model.id, data=VersionInput())
    assert queries.stream_authors([made.id]) == [owner.pk]
    assert queries.stream_authors([made.id], types=("registry.ModelVersionNumbered",)) == []
    assert queries.stream_authors([]) == []


def test_parties_name_the_rule_each_person_breaks(owner, team, outsider):
    actor = Actor.user(owner, auth_method="token")
    model = registry.register_model(actor=actor, name="partied", team="fraud-ml")
    made = registry.create_model_version(actor=actor, model_id=model.id, data=VersionInput())
    writer = make_user("wes-writer")
    parties = queries.parties(model.id, author_streams=[made.id], requesters=[writer.pk])
    assert parties.violation(writer.pk) == "sod_requester"
    assert parties.violation(owner.pk) == "sod_owner"
    assert parties.violation(outsider.pk) is None
    assert queries.last_actor(made.id, "registry.ModelVersionCreated") == owner.pk
    assert queries.last_actor(made.id, "registry.ArtifactVerified") is None
