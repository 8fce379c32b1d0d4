"""Who may change boards and act for the review board: board administrators, and the
model-risk board's members and its chair; and separation of duties, the refusal of anyone who
is not independent of the model decided on (boards.rules.Parties)."""

from __future__ import annotations

from typing import Any

from boards.errors import NotBoardAdmin, NotBoardChair, NotBoardMember, SeparationOfDuties
from boards.queries import board_by_name
from boards.rules import REVIEW_BOARD, SOD_DETAILS, Parties, lift_violation
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


def require_independent(user: Any, parties: Parties, detail: str | None = None) -> None:
    """SeparationOfDuties (403, the rule's sod_* code) unless the user is independent of the
    model: not a requester, an owner or an author. Superusers are no exception."""
    violated = parties.violation(getattr(user, "pk", None))
    if violated is not None:
        raise SeparationOfDuties(violated, detail or SOD_DETAILS[violated])


def require_lift(user: Any, parties: Parties, suspended_by: int | None) -> None:
    """Who lifts a suspension: someone independent of the model, other than its suspender."""
    violated = lift_violation(getattr(user, "pk", None), parties, suspended_by)
    if violated is not None:
        raise SeparationOfDuties(violated, f"lifting this suspension: {SOD_DETAILS[violated]}")
