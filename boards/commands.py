"""Board commands: load -> decide -> append. The only writers of boards: create them, add and
remove members, appoint a chair. Each board's members also join a Django group, which the
approvals app grants object permissions to."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from boards import events as ev
from boards import rules
from boards.errors import BoardExists, BoardNotFound, NotBoardMember, UserNotFound
from boards.models import Board
from boards.permissions import require_board_admin
from boards.queries import board_by_name, board_group_name
from boards.rules import BOARD_NAME, BOARDS
from boards.state import BoardState
from boards.streams import load_board
from core.actors import Actor
from core.errors import InvalidInput
from core.text import shaped_text
from eventstore import store
from eventstore.canonical import canonical_json
from eventstore.types import NO_STREAM, ConcurrencyConflict, StreamRef

# The system actor that seeds the default boards; its name predates the boards app and is
# recorded in the metadata of every seeded board.
SEED_ACTOR = "approvals.seed"


def _meta(actor: Actor, idempotency_key: str | None = None) -> dict[str, Any]:
    meta = actor.metadata(pseudonym_key=settings.LEDGER_PSEUDONYM_KEY)
    if idempotency_key is not None:
        meta["idempotency_key"] = idempotency_key
    return meta


def _user(user_id: Any) -> Any:
    if isinstance(user_id, bool) or not isinstance(user_id, int) or not 1 <= user_id < 2**31:
        raise UserNotFound("a user is named by its numeric id")
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise UserNotFound(f"no active user with id {user_id}")
    return user


def _append_board(
    actor: Actor,
    state: BoardState,
    expected: int | None,
    events: list,
    expected_versions: Mapping[uuid.UUID | str, int] | None = None,
) -> None:
    if expected is not None and expected != state.stream_version:
        raise ConcurrencyConflict(uuid.UUID(state.id), expected, state.stream_version)
    store.require_versions(expected_versions)
    store.append(
        StreamRef(uuid.UUID(state.id), ev.BOARD), state.stream_version, events, _meta(actor)
    )


def create_board(
    *, actor: Actor | None, name: str, title: str = "", idempotency_key: str | None = None
) -> BoardState:
    """A review board and the Django group its members join. A None actor is the system
    seeding the default boards."""
    if actor is not None:
        require_board_admin(actor)
    if not isinstance(name, str) or not BOARD_NAME.match(name):
        raise InvalidInput("a board name is 2-50 lowercase letters, digits or '-'")
    title = shaped_text(title, "title", rules.TITLE)
    if idempotency_key is None and Board.objects.filter(name__iexact=name).exists():
        raise BoardExists(f"a board named {name!r} exists")
    board_id = uuid.uuid4()
    who = actor or Actor.system(SEED_ACTOR)
    try:
        with transaction.atomic():
            result = store.append(
                StreamRef(board_id, ev.BOARD),
                NO_STREAM,
                [ev.BoardCreated(name=name, title=title)],
                _meta(who, idempotency_key),
                request_fingerprint=hashlib.sha256(
                    canonical_json({"board": name, "title": title})
                ).digest(),
            )
            Group.objects.get_or_create(name=board_group_name(name))
    except (IntegrityError, psycopg.errors.UniqueViolation):
        raise BoardExists(f"a board named {name!r} exists") from None
    return load_board(result.stream_id)


def ensure_default_boards() -> list[BoardState]:
    """The boards the default policy names, created (without members) where missing."""
    boards = []
    for name in BOARDS:
        try:
            boards.append(board_by_name(name))
        except BoardNotFound:
            try:
                boards.append(create_board(actor=None, name=name, title=f"{name} board"))
            except BoardExists:
                boards.append(board_by_name(name))
    return boards


def add_board_member(
    *,
    actor: Actor,
    board: str,
    user_id: int,
    expected_version: int | None = None,
    expected_versions: Mapping[uuid.UUID | str, int] | None = None,
) -> BoardState:
    require_board_admin(actor)
    state = board_by_name(board)
    user = _user(user_id)
    if user.pk in state.members:
        return state
    with transaction.atomic():
        _append_board(
            actor,
            state,
            expected_version,
            [ev.BoardMemberAdded(user_id=user.pk)],
            expected_versions,
        )
        group, _ = Group.objects.get_or_create(name=board_group_name(state.name))
        user.groups.add(group)
    return load_board(state.id)


def remove_board_member(
    *,
    actor: Actor,
    board: str,
    user_id: int,
    expected_version: int | None = None,
    expected_versions: Mapping[uuid.UUID | str, int] | None = None,
) -> BoardState:
    require_board_admin(actor)
    state = board_by_name(board)
    if user_id not in state.members:
        raise NotBoardMember(f"user {user_id} is not a member of {state.name}")
    with transaction.atomic():
        _append_board(
            actor,
            state,
            expected_version,
            [ev.BoardMemberRemoved(user_id=user_id)],
            expected_versions,
        )
        group = Group.objects.filter(name=board_group_name(state.name)).first()
        if group is not None:
            group.user_set.remove(user_id)
    return load_board(state.id)


def appoint_chair(
    *,
    actor: Actor,
    board: str,
    user_id: int,
    expected_version: int | None = None,
    expected_versions: Mapping[uuid.UUID | str, int] | None = None,
) -> BoardState:
    require_board_admin(actor)
    state = board_by_name(board)
    user = _user(user_id)
    if user.pk not in state.members:
        raise NotBoardMember("the chair must be a member of the board")
    if state.chair_id == user.pk:
        return state
    _append_board(
        actor,
        state,
        expected_version,
        [ev.BoardChairAppointed(user_id=user.pk, previous_user_id=state.chair_id)],
        expected_versions,
    )
    return load_board(state.id)
