"""Approval errors: each a DomainError with a stable code and HTTP status."""

from core.errors import Conflict, NotFound, PermissionDenied


class RequestNotFound(NotFound):
    code = "approval_request_not_found"
    title = "No such approval request"


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


class ArtifactNotVerified(Conflict):
    code = "artifact_not_verified"
    title = "The version has no verified artifact: an approval binds the artifact's digest"


class ReviewedFactsChanged(Conflict):
    code = "reviewed_facts_changed"
    title = "The version's facts differ from those the request was made on"
