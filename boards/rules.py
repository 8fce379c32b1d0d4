"""Pure rules of boards: the boards every installation has, and separation of duties (who may
not review because they asked, own the model or wrote the version). Nothing here imports
Django."""

from __future__ import annotations

import re
from collections.abc import Iterable

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


# The shapes of a board's fields that people send (core.shapes): declared on
# boards.events.BoardCreated, read by create_board and the API's input serializer.
NAME = Shape(PATTERN, pattern=BOARD_NAME.pattern, max_length=50, required=True)
TITLE = Shape(TEXT, max_length=200, blank=True)
