"""Reads about boards and the parties separation of duties keeps apart: boards by name, their
members and chairs, who sits on which board, a model's owners and a version's authors."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from guardian.models import GroupObjectPermission, UserObjectPermission

from boards.errors import BoardNotFound
from boards.models import Board
from boards.rules import VERSION_AUTHORING, Parties, user_id_of
from boards.state import BoardState
from boards.streams import load_board
from eventstore.models import Event
from registry.models import RegisteredModel
from registry.permissions import MODEL_PERMS


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


def members_by_board(boards: Iterable[str]) -> dict[str, frozenset[int]]:
    """Each named board's members as of now (a board that does not exist has none)."""
    names = list(boards)
    found = dict(Board.objects.filter(name__in=names).values_list("name", "members"))
    return {name: frozenset(found.get(name) or ()) for name in names}


# The grant that makes a group a model's owner: the change permission on the model.
CHANGE_MODEL = MODEL_PERMS[0].split(".", 1)[1]


def owner_group_ids(model_id: str | uuid.UUID) -> list[int]:
    """Ids of the groups holding the change grant on the model (its owning team), by id: a
    group's name can change in the admin, its grants stay with its id."""
    grants = GroupObjectPermission.objects.filter(
        content_type__app_label=RegisteredModel._meta.app_label,
        content_type__model=RegisteredModel._meta.model_name,
        permission__codename=CHANGE_MODEL,
        object_pk=str(model_id),
    )
    return sorted(set(grants.values_list("group_id", flat=True)))


def owner_ids(model_id: str | uuid.UUID) -> list[int]:
    """Ids of a model's owners as of now: the members of the groups holding its change grant,
    and anyone granted it directly. Memberships changed in the admin (no event) count."""
    direct = UserObjectPermission.objects.filter(
        content_type__app_label=RegisteredModel._meta.app_label,
        content_type__model=RegisteredModel._meta.model_name,
        permission__codename=CHANGE_MODEL,
        object_pk=str(model_id),
    ).values("user_id")
    users = get_user_model().objects.filter(
        Q(groups__in=owner_group_ids(model_id)) | Q(pk__in=direct)
    )
    return sorted(set(users.values_list("pk", flat=True)))


def stream_authors(
    stream_ids: Iterable[str | uuid.UUID], types: Iterable[str] = VERSION_AUTHORING
) -> list[int]:
    """The users who appended events of `types` to any of the streams (their actors)."""
    ids = [uuid.UUID(str(s)) for s in stream_ids]
    if not ids:
        return []
    actors = (
        Event.objects.filter(stream_id__in=ids, type__in=list(types))
        .values_list("metadata__actor", flat=True)
        .distinct()
    )
    return sorted({user for user in map(user_id_of, actors) if user is not None})


# The kind registry's StreamLinked gives an approval request's stream on its version's stream.
APPROVAL_REQUEST_LINK = "approval_request"


def requester_ids(version_ids: Iterable[str | uuid.UUID]) -> list[int]:
    """Who asked for an approval of the versions, on any of their requests (each request's
    stream is linked on its version's stream; its opening event names the requester)."""
    linked = Event.objects.filter(
        stream_id__in=[uuid.UUID(str(v)) for v in version_ids],
        type="registry.StreamLinked",
        data__kind=APPROVAL_REQUEST_LINK,
    ).values_list("data__stream_id", flat=True)
    requests = [uuid.UUID(s) for s in linked]
    if not requests:
        return []
    opened = Event.objects.filter(stream_id__in=requests, version=1).values_list(
        "data__requester_id", flat=True
    )
    return sorted({int(r) for r in opened if isinstance(r, int)})


def last_actor(stream_id: str | uuid.UUID, event_type: str) -> int | None:
    """The user who appended the stream's newest event of `event_type` (None: the system)."""
    ref = (
        Event.objects.filter(stream_id=uuid.UUID(str(stream_id)), type=event_type)
        .order_by("-version")
        .values_list("metadata__actor", flat=True)
        .first()
    )
    return user_id_of(ref)


def parties(
    model_id: str | uuid.UUID,
    *,
    author_streams: Iterable[str | uuid.UUID] = (),
    author_types: Iterable[str] = VERSION_AUTHORING,
    requesters: Iterable[int] = (),
) -> Parties:
    """Who is not independent of the model, as of now: `requesters`, the owners (by the group
    id holding the change grant) and the authors of `author_streams` (events of
    `author_types`). governance.queries names the streams of a version or a model."""
    return Parties(
        requesters=frozenset(requesters),
        owners=frozenset(owner_ids(model_id)),
        authors=frozenset(stream_authors(author_streams, author_types)),
    )
