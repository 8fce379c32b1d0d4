"""Reads about boards and the parties separation of duties keeps apart: boards by name, their
members and chairs, who sits on which board, a model's owners and a version's authors."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model

from boards.errors import BoardNotFound
from boards.models import Board
from boards.state import BoardState
from boards.streams import load_board


def board_group_name(board: str) -> str:
    """The Django group holding a board's members (object permissions go to it)."""
    return f"board:{board}"


def board_by_name(name: str) -> BoardState:
    row = Board.objects.filter(name__iexact=name).values_list("id", flat=True).first()
    if row is None:
        raise BoardNotFound(f"no board named {name!r}")
    return load_board(row)


def get_board(name: str) -> BoardState:
    return board_by_name(name)


def board_members(boards: Iterable[str]) -> list[int]:
    """Ids of the members of any of the named boards, each once, in order."""
    ids: set[int] = set()
    for members in Board.objects.filter(name__in=list(boards)).values_list("members", flat=True):
        ids.update(members)
    return sorted(ids)


def board_chairs(boards: Iterable[str]) -> list[int]:
    """Ids of the chairs of the named boards (boards without a chair have none)."""
    chairs = Board.objects.filter(name__in=list(boards), chair_id__isnull=False)
    return sorted(set(chairs.values_list("chair_id", flat=True)))


def boards_of(user: Any) -> list[str]:
    """Names of the boards the user sits on, by name."""
    if user is None or user.pk is None:
        return []
    return list(Board.objects.filter(members__contains=[user.pk]).values_list("name", flat=True))


def is_member(user: Any, boards: Iterable[str] | None = None) -> bool:
    """Whether the user sits on any of the named boards (on any board at all without names)."""
    if user is None or user.pk is None:
        return False
    rows = Board.objects.filter(members__contains=[user.pk])
    if boards is not None:
        rows = rows.filter(name__in=list(boards))
    return rows.exists()


def owner_ids(team: str) -> list[int]:
    """Ids of the members of a team: a model's owners, when it is the model's team."""
    return list(get_user_model().objects.filter(groups__name=team).values_list("pk", flat=True))


def author_ids(version: Any) -> list[int]:
    """The version's author as a user id; none when the system created it."""
    ref = version.created_by or ""
    return [int(ref.removeprefix("user:"))] if ref.startswith("user:") else []
