"""Who may change boards and act for the review board: board administrators, and the
model-risk board's members and its chair."""

from __future__ import annotations

from typing import Any

from boards.errors import NotBoardAdmin, NotBoardChair, NotBoardMember
from boards.queries import board_by_name
from boards.rules import REVIEW_BOARD
from boards.state import BoardState
from core.actors import Actor

# The permission keeps the name it had before boards left approvals: grants of it exist, and it
# is still declared there (on approvals' Board proxy, see approvals/models.py).
MANAGE_BOARD = "approvals.manage_board"


def is_board_admin(user: Any) -> bool:
    return user is not None and (user.is_superuser or user.has_perm(MANAGE_BOARD))


def require_board_admin(actor: Actor) -> None:
    if not is_board_admin(actor.account):
        raise NotBoardAdmin(f"changing boards needs {MANAGE_BOARD}")


def require_review_board(actor: Actor, *, chair: bool = False) -> BoardState:
    """The model-risk board, if the actor sits on it (superusers too), or chairs it when
    `chair` (superusers not excepted)."""
    board = board_by_name(REVIEW_BOARD)
    user = actor.account
    if user is None:
        raise NotBoardMember(f"only the {REVIEW_BOARD} board may do this")
    if chair and board.chair_id != user.pk:
        raise NotBoardChair(f"only the chair of the {REVIEW_BOARD} board may do this")
    if not chair and user.pk not in board.members and not user.is_superuser:
        raise NotBoardMember(f"only members of the {REVIEW_BOARD} board may do this")
    return board
