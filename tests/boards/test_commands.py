"""Board commands against the real event store: creating boards (names, duplicates, repeats
with an idempotency key), adding and removing members, appointing a chair, who may change
boards, and the versions a change may be bound to."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Group

from boards import commands as board_commands
from boards import events as ev
from boards import queries as board_queries
from boards.errors import (
    BoardExists,
    BoardNotFound,
    NotBoardAdmin,
    NotBoardMember,
    UserNotFound,
)
from boards.models import Board
from boards.rules import BOARDS
from core.actors import Actor
from core.errors import InvalidInput
from eventstore import store
from eventstore.models import Event
from eventstore.types import ConcurrencyConflict, IdempotencyKeyReused
from tests.conftest import make_user, seed_ledger

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin() -> Actor:
    seed_ledger()  # a no-op unless the test emptied the log
    return Actor.user(make_user("ada-admin", superuser=True), auth_method="session")


def event_types(board_id: str) -> list[str]:
    return [e.type for e in store.read_stream(uuid.UUID(board_id))]


def group_members(board: str) -> set[int]:
    group = Group.objects.get(name=board_queries.board_group_name(board))
    return set(group.user_set.values_list("pk", flat=True))


# -- creating boards -----------------------------------------------------------------------


def test_create_board_records_the_board_and_makes_its_group(admin):
    board = board_commands.create_board(actor=admin, name="audit-2", title="Audit board")
    assert (board.name, board.title, board.members, board.chair_id) == (
        "audit-2",
        "Audit board",
        frozenset(),
        None,
    )
    assert event_types(board.id) == [ev.BoardCreated.event_type]
    assert board_queries.board_by_name("AUDIT-2").id == board.id
    assert group_members("audit-2") == set()


@pytest.mark.parametrize("name", ["a", "Has-Caps", "9lives", "with space", "x" * 51, "", None, 7])
def test_create_board_refuses_a_malformed_name_and_appends_nothing(admin, name):
    before = Event.objects.count()
    with pytest.raises(InvalidInput):
        board_commands.create_board(actor=admin, name=name)
    assert Event.objects.count() == before


def test_create_board_refuses_a_title_that_is_not_short_text(admin):
    before = Event.objects.count()
    for title in ("t" * 201, 42):
        with pytest.raises(InvalidInput):
            board_commands.create_board(actor=admin, name="titled", title=title)
    assert Event.objects.count() == before


def test_a_second_board_of_a_name_is_refused_whatever_its_case(admin):
    board_commands.create_board(actor=admin, name="ethics-two")
    before = Event.objects.count()
    with pytest.raises(BoardExists):
        board_commands.create_board(actor=admin, name="ethics-two")
    with pytest.raises(BoardExists):
        board_commands.create_board(actor=admin, name="model-risk")  # seeded
    assert Event.objects.count() == before


def test_a_repeat_with_the_same_idempotency_key_returns_the_same_board(admin):
    first = board_commands.create_board(actor=admin, name="repeat", title="R", idempotency_key="k1")
    again = board_commands.create_board(actor=admin, name="repeat", title="R", idempotency_key="k1")
    assert again.id == first.id
    assert event_types(first.id) == [ev.BoardCreated.event_type]
    with pytest.raises(IdempotencyKeyReused):
        board_commands.create_board(actor=admin, name="repeat", title="S", idempotency_key="k1")


def test_a_new_idempotency_key_does_not_let_a_board_take_an_existing_name(admin):
    board_commands.create_board(actor=admin, name="taken")
    with pytest.raises(BoardExists):
        board_commands.create_board(actor=admin, name="taken", idempotency_key="fresh")
    assert list(Board.objects.filter(name="taken").values_list("name")) == [("taken",)]


def test_only_board_administrators_change_boards(admin, outsider):
    someone = Actor.user(outsider, auth_method="token")
    keeper = Actor.user(
        make_user("kim-keeper", perms=("approvals.manage_board",)), auth_method="token"
    )
    before = Event.objects.count()
    with pytest.raises(NotBoardAdmin):
        board_commands.create_board(actor=someone, name="rogue")
    for command in (
        board_commands.add_board_member,
        board_commands.remove_board_member,
        board_commands.appoint_chair,
    ):
        with pytest.raises(NotBoardAdmin):
            command(actor=someone, board="legal", user_id=outsider.pk)
    assert Event.objects.count() == before

    board_commands.create_board(actor=keeper, name="kept")
    state = board_commands.add_board_member(actor=keeper, board="kept", user_id=outsider.pk)
    assert state.members == {outsider.pk}


def test_ensure_default_boards_returns_the_seeded_boards_and_appends_nothing(admin):
    before = Event.objects.count()
    boards = board_commands.ensure_default_boards()
    assert [b.name for b in boards] == list(BOARDS)
    assert Event.objects.count() == before


# -- members and chairs --------------------------------------------------------------------


def test_members_join_and_leave_the_board_and_its_group(admin):
    board_commands.create_board(actor=admin, name="crew")
    ann, ben = make_user("ann-crew"), make_user("ben-crew")
    board_commands.add_board_member(actor=admin, board="crew", user_id=ann.pk)
    state = board_commands.add_board_member(actor=admin, board="crew", user_id=ben.pk)
    assert state.members == {ann.pk, ben.pk}
    assert group_members("crew") == {ann.pk, ben.pk}

    state = board_commands.remove_board_member(actor=admin, board="crew", user_id=ann.pk)
    assert state.members == {ben.pk}
    assert group_members("crew") == {ben.pk}
    assert event_types(state.id) == [
        ev.BoardCreated.event_type,
        ev.BoardMemberAdded.event_type,
        ev.BoardMemberAdded.event_type,
        ev.BoardMemberRemoved.event_type,
    ]


def test_adding_a_member_twice_appends_nothing(admin):
    ann = make_user("ann-twice")
    first = board_commands.add_board_member(actor=admin, board="legal", user_id=ann.pk)
    again = board_commands.add_board_member(actor=admin, board="legal", user_id=ann.pk)
    assert again.stream_version == first.stream_version
    assert again.members == first.members


def test_a_member_must_be_an_active_user_named_by_id(admin):
    gone = make_user("gone-user")
    gone.is_active = False
    gone.save()
    before = Event.objects.count()
    for user_id in (gone.pk, 10**8, "1", True, 0, 2**31):
        with pytest.raises(UserNotFound):
            board_commands.add_board_member(actor=admin, board="legal", user_id=user_id)
    assert Event.objects.count() == before


def test_changes_to_an_unknown_board_are_refused(admin, outsider):
    for command in (
        board_commands.add_board_member,
        board_commands.remove_board_member,
        board_commands.appoint_chair,
    ):
        with pytest.raises(BoardNotFound):
            command(actor=admin, board="no-such-board", user_id=outsider.pk)


def test_removing_someone_who_is_not_a_member_is_refused(admin, outsider):
    before = Event.objects.count()
    with pytest.raises(NotBoardMember):
        board_commands.remove_board_member(actor=admin, board="legal", user_id=outsider.pk)
    assert Event.objects.count() == before


def test_the_chair_must_be_a_member_and_appointing_the_chair_again_appends_nothing(admin):
    ann, ben = make_user("ann-chair"), make_user("ben-chair")
    with pytest.raises(NotBoardMember):
        board_commands.appoint_chair(actor=admin, board="ethics", user_id=ann.pk)
    for user in (ann, ben):
        board_commands.add_board_member(actor=admin, board="ethics", user_id=user.pk)
    first = board_commands.appoint_chair(actor=admin, board="ethics", user_id=ann.pk)
    again = board_commands.appoint_chair(actor=admin, board="ethics", user_id=ann.pk)
    assert (again.chair_id, again.stream_version) == (ann.pk, first.stream_version)

    moved = board_commands.appoint_chair(actor=admin, board="ethics", user_id=ben.pk)
    assert moved.chair_id == ben.pk
    last = list(store.read_stream(uuid.UUID(moved.id)))[-1]
    assert last.type == ev.BoardChairAppointed.event_type
    assert (last.data["user_id"], last.data["previous_user_id"]) == (ben.pk, ann.pk)


def test_removing_the_chair_leaves_the_board_without_one(admin):
    ann = make_user("ann-leaves")
    board_commands.add_board_member(actor=admin, board="security", user_id=ann.pk)
    board_commands.appoint_chair(actor=admin, board="security", user_id=ann.pk)
    state = board_commands.remove_board_member(actor=admin, board="security", user_id=ann.pk)
    assert (state.chair_id, ann.pk in state.members) == (None, False)
    assert board_queries.board_chairs(["security"]) == []


# -- versions a change is bound to ---------------------------------------------------------


def test_a_board_change_at_a_stale_expected_version_is_refused(admin):
    ann, ben = make_user("ann-stale"), make_user("ben-stale")
    board = board_queries.board_by_name("legal")
    seen = board.stream_version
    board_commands.add_board_member(
        actor=admin, board="legal", user_id=ann.pk, expected_version=seen
    )
    before = Event.objects.count()
    with pytest.raises(ConcurrencyConflict) as caught:
        board_commands.add_board_member(
            actor=admin, board="legal", user_id=ben.pk, expected_version=seen
        )
    assert (caught.value.expected, caught.value.actual) == (seen, seen + 1)
    assert Event.objects.count() == before


def test_board_change_is_refused_when_the_board_moved_since_it_was_seen(admin):
    board = board_queries.board_by_name("ethics")
    seen = {board.id: board.stream_version}
    first, second = make_user("nina-new"), make_user("noah-new")
    board_commands.add_board_member(actor=admin, board="ethics", user_id=first.pk)
    before = Event.objects.count()
    for command, user in (
        (board_commands.add_board_member, second),
        (board_commands.appoint_chair, first),
        (board_commands.remove_board_member, first),
    ):
        with pytest.raises(ConcurrencyConflict):
            command(actor=admin, board="ethics", user_id=user.pk, expected_versions=seen)
    assert Event.objects.count() == before
