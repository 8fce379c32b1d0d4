"""Approval errors: each a DomainError with a stable code and HTTP status."""

from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class BoardNotFound(NotFound):
    code = "board_not_found"
    title = "No such review board"


class RequestNotFound(NotFound):
    code = "approval_request_not_found"
    title = "No such approval request"


class UserNotFound(InvalidInput):
    code = "unknown_user"
    status = 422
    title = "No such user"


class BoardExists(Conflict):
    code = "board_exists"
    title = "A board with that name exists"


class NotBoardAdmin(PermissionDenied):
    code = "not_board_admin"
    title = "Only board administrators may change boards"


class NotBoardMember(PermissionDenied):
    code = "not_board_member"
    title = "Only members of the board may decide for it"


class NotBoardChair(PermissionDenied):
    code = "not_board_chair"
    title = "Only the chair of the board may do this"


class SeparationOfDuties(PermissionDenied):
    """Raised with the rule's own stable code (sod_requester, sod_owner, sod_author)."""

    code = "sod_violation"
    title = "Separation of duties forbids this"

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code  # type: ignore[misc]


class NotRequester(PermissionDenied):
    code = "not_requester"
    title = "Only the requester or the model's owners may do this"


class RequestAlreadyOpen(Conflict):
    code = "request_already_open"
    title = "An approval request for this version and target is already open"


class RequestClosed(Conflict):
    code = "request_closed"
    title = "The approval request is closed"


class AlreadyDecided(Conflict):
    code = "already_decided"
    title = "This reviewer already gave this decision on the current evidence"


class NotSuspended(Conflict):
    code = "not_suspended"
    title = "The approval is not suspended"


class AlreadySuspended(Conflict):
    code = "already_suspended"
    title = "The approval is already suspended"


class PromotionBlocked(Conflict):
    code = "promotion_blocked"
    title = "The promotion gate refused: the approval is not complete"
