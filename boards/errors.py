"""Board errors: each a DomainError with a stable code and HTTP status."""

from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class BoardNotFound(NotFound):
    code = "board_not_found"
    title = "No such review board"


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
