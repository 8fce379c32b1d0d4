"""Lineage errors: each a DomainError with a stable code and HTTP status."""

from core.errors import InvalidInput, NotFound, PermissionDenied


class InvalidNode(InvalidInput):
    code = "invalid_node"
    title = "The lineage node is not valid"


class NodeNotFound(NotFound):
    code = "node_not_found"
    title = "No such lineage node"


class InvalidEdge(InvalidInput):
    code = "invalid_edge"
    status = 422
    title = "The lineage edge is not allowed"


class SelfLoop(InvalidEdge):
    code = "lineage_self_loop"
    title = "An edge cannot join a node to itself"


class CycleRefused(InvalidEdge):
    code = "lineage_cycle"
    title = "The edge would close a cycle its type does not allow"


class InvalidRunEvent(InvalidInput):
    code = "invalid_run_event"
    title = "The OpenLineage RunEvent is not valid"


class NoTeam(InvalidInput):
    code = "no_team"
    status = 422
    title = "Datasets and runs first seen need the sender's default team"


class NotRunOwner(PermissionDenied):
    code = "not_run_owner"
    title = "Only the team that first reported a run adds to it"


class NotAnAuditor(PermissionDenied):
    code = "not_auditor"
    title = "Exports are for auditors and administrators"


class NoCheckpoint(NotFound):
    code = "no_checkpoint"
    title = "No signed checkpoint has been written yet"
