"""Pure rules of boards: the boards every installation has, and separation of duties (who may
not review because they asked, own the model or wrote the version). Nothing here imports
Django."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.shapes import PATTERN, TEXT, Shape

# A board's name: what create_board accepts and the API's board names (bodies, paths) match.
BOARD_NAME = re.compile(r"^[a-z][a-z0-9-]{1,49}$")
# The boards seeded everywhere; a risk-tier policy names its boards from these.
BOARDS = ("model-risk", "legal", "ethics", "security")
# The board that suspends and reinstates approvals; its chair grants evidence waivers.
REVIEW_BOARD = "model-risk"


def separation_of_duties(
    reviewer_id: int, *, requester_id: int, owner_ids: Iterable[int], author_ids: Iterable[int]
) -> str | None:
    """The stable code of the first rule the reviewer breaks, or None."""
    if reviewer_id == requester_id:
        return "sod_requester"
    if reviewer_id in set(owner_ids):
        return "sod_owner"
    if reviewer_id in set(author_ids):
        return "sod_author"
    return None


# The events that make their actor an author of a model version: whoever wrote the version, its
# artifact or its evidence. Stored type names (boards imports neither registry's events nor
# governance's). A waiver is the chair's, not the version's author's: it is not here.
VERSION_AUTHORING = (
    "registry.ModelVersionCreated",
    "registry.ModelVersionUpdated",
    "registry.ArtifactUploadAuthorized",
    "registry.ArtifactVerified",
    "governance.EvidenceAttached",
)
# The events that make their actor an author of a model's risk tier: the intake answers.
TIER_AUTHORING = ("governance.IntakeRecorded",)

SOD_REQUESTER = "sod_requester"
SOD_OWNER = "sod_owner"
SOD_AUTHOR = "sod_author"
SOD_SUSPENDER = "sod_suspender"
# What each rule says, for a refusal that names no more particular reason.
SOD_DETAILS = {
    SOD_REQUESTER: "the requester cannot decide on their own request",
    SOD_OWNER: "the model's owners cannot decide on it",
    SOD_AUTHOR: "the version's authors cannot decide on it",
    SOD_SUSPENDER: "a suspension is lifted by someone other than the one who suspended",
}


@dataclass(frozen=True)
class Parties:
    """The people who are not independent of a model (or one of its versions), as of now: the
    requesters of its approval, its owners (members of the group holding its change grants) and
    its authors (who wrote the version, its artifact or its evidence; for a model, any of its
    versions and its intake answers)."""

    requesters: frozenset[int] = frozenset()
    owners: frozenset[int] = frozenset()
    authors: frozenset[int] = frozenset()

    def violation(self, user_id: int | None) -> str | None:
        """The stable code of the first rule `user_id` breaks, or None if independent."""
        if user_id is None:
            return None
        if user_id in self.requesters:
            return SOD_REQUESTER
        if user_id in self.owners:
            return SOD_OWNER
        if user_id in self.authors:
            return SOD_AUTHOR
        return None

    def independent(self, user_id: int) -> bool:
        return self.violation(user_id) is None


def lift_violation(user_id: int, parties: Parties, suspended_by: int | None) -> str | None:
    """Who may not lift a suspension: the model's parties, and the one who suspended."""
    violated = parties.violation(user_id)
    if violated is None and suspended_by is not None and user_id == suspended_by:
        return SOD_SUSPENDER
    return violated


def user_id_of(actor_ref: str | None) -> int | None:
    """The user id an event's actor (`user:<id>`) names; None for the system or no one."""
    if not actor_ref or not actor_ref.startswith("user:"):
        return None
    number = actor_ref.removeprefix("user:")
    return int(number) if number.isdigit() else None


# The shapes of a board's fields that people send (core.shapes): declared on
# boards.events.BoardCreated, read by create_board and the API's input serializer.
NAME = Shape(PATTERN, pattern=BOARD_NAME.pattern, max_length=50, required=True)
TITLE = Shape(TEXT, max_length=200, blank=True)
