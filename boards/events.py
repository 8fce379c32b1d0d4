"""Board events: review boards, their members and chairs.

Stream: each board. Boards were first part of approvals, so their stored type names and the
stream type keep the "approvals." prefix: a stored type is never renamed. People are user ids;
names and addresses stay out of the log."""

from __future__ import annotations

from boards import rules
from eventstore.catalog import DomainEvent, event

BOARD = "approvals.Board"


@event("approvals.BoardCreated")
class BoardCreated(DomainEvent):
    name: str = rules.NAME.field()
    title: str = rules.TITLE.field()


@event("approvals.BoardMemberAdded")
class BoardMemberAdded(DomainEvent):
    user_id: int


@event("approvals.BoardMemberRemoved")
class BoardMemberRemoved(DomainEvent):
    user_id: int


@event("approvals.BoardChairAppointed")
class BoardChairAppointed(DomainEvent):
    user_id: int
    previous_user_id: int | None
